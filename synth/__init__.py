"""Synthetic county with known truth: the departmental inbox and what really happened.

``generate_county(persons, seed, out)`` writes ``out/inbox/<source>/`` (mixed formats and
encodings, noisy values) and ``out/truth/`` (persons, base_map, links, findings,
injected_errors as CSV UTF-8, and summary.json). Rates live in ``configs/error_model.toml``
and ``configs/county.toml``.
"""

from __future__ import annotations

from .generate import GenerateSummary, generate_county

__all__ = ["GenerateSummary", "generate_county"]
