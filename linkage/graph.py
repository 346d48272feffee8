"""Connected components of pairs (union-find): rows of one person, pairs found transitively."""

from __future__ import annotations

from collections.abc import Iterable


def components(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Map every id that appears in ``pairs`` to its component's smallest id."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in list(parent)}
