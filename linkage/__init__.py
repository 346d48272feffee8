"""renkou: link departmental exports to a county population base (全员人口库).

The package is the domain: standardisation, contracts-driven ingest, Splink models,
findings, task lists and reports. Scheduling lives in ``flows/``.
"""

from __future__ import annotations

__version__ = "0.1.0"
