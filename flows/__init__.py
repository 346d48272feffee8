"""Prefect flows of renkou: orchestration only; every task is a thin call into ``linkage``.

``nightly``   ingest → link → findings → task lists → report, as one all-or-nothing night
``ingest``, ``link``, ``findings``, ``outputs``  the stages, each also a flow of its own

Import ``flows.nightly`` only after ``PREFECT_HOME`` is set (``renkou run`` does it): Prefect
reads its settings when first imported. Tasks exchange paths, run ids and counts, never frames
of personal data, and persist no results.
"""
