"""The county's report: one self-contained HTML page after every run (``renkou report``).

``quality``      data-quality figures of the base (coverage, completeness, consistency, IDs)
``night``        what tonight's run loaded, quarantined, linked and found
``fieldwork``    township feedback and field labels (from ``linkage.tasks``' tables)
``history``      ``report_snapshots``: the figures of every report, for trends and changes
``model_charts`` Splink's charts of every model, waterfalls, comparison viewers
``specs``        Vega-Lite specs of the report's own charts
``render``       HTML pieces and the page (``template.html``); refuses ID numbers
``sections``     the four sections' wording
``build``        ``build_report`` / ``nightly_report``: gather, snapshot, write
"""

from __future__ import annotations

from linkage.report.build import build_report, nightly_report, refresh_latest

__all__ = ["build_report", "nightly_report", "refresh_latest"]
