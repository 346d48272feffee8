"""Probabilistic linkage of every source to the base, with Splink 5.

``model``   build / train / save / load one Splink model per source (and the base dedupe)
``decide``  pairwise scores → at most one base person per record and role, clerical band
``newborns`` children on birth certificates, through the mother's link
``run``     the whole link stage: dedupe, each source, newborns, the ``links`` table
"""

from __future__ import annotations

from linkage.link.run import LinkReport, link_all

__all__ = ["LinkReport", "link_all"]
