"""The analyst's review of the clerical band: ``renkou review export`` and ``import``.

``pairs``    the open clerical pairs, their stable keys, the order in which a decision
             changes the findings most, their two sides and waterfalls; the standing
             decisions the link stage and the labels read
``export``   the pairs as an offline HTML page or an Excel workbook (IDs masked, audited)
``imports``  the analyst's match / non-match / skip back, checked row by row (audited)

A decided match becomes a link (``decided_by = 'analyst'``), a non-match is excluded like a
field rejection, both are labels for m re-estimation, and a pair left undecided too long
becomes an ``uncertain_link`` finding (``linkage.findings.uncertain_link``).
"""

from linkage.review.export import export_review
from linkage.review.imports import import_review

__all__ = ["export_review", "import_review"]
