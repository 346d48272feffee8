"""Render the data contracts as a column reference (``renkou contracts``, docs/contracts.md).

Every column lists the other header names it is accepted under (``also accepted``); header
cells are compared after folding full-/half-width, brackets and spaces."""

from __future__ import annotations

from data_contracts import CONTRACTS
from data_contracts._base import column_meta
from linkage.errors import RenkouError


def render(source: str | None = None, *, markdown: bool = False) -> str:
    """The column reference of one or all contracts, Chinese header first."""
    if source is not None and source not in CONTRACTS:
        raise RenkouError(f"no source {source!r}. Fix: one of {', '.join(CONTRACTS)}")
    chosen = [CONTRACTS[source]] if source else list(CONTRACTS.values())
    out: list[str] = []
    for contract in chosen:
        out.append(
            f"## {contract.source} — {contract.title}"
            if markdown
            else f"{contract.source} — {contract.title}"
        )
        if markdown:
            out += [
                "",
                "| 表头 header | column | kind | required | 说明 | meaning | values "
                "| 也接受 also accepted |",
                "|---|---|---|---|---|---|---|---|",
            ]
        for name, col in contract.data_columns().items():
            m = column_meta(col)
            vocab = " / ".join(m["vocab"])
            req = "yes" if not col.nullable else ""
            aliases = "、".join(m.get("aliases", []))
            if markdown:
                out.append(
                    f"| {m['header']} | {name} | {m['kind']} | {req} | {m['zh']} | "
                    f"{m['en']} | {vocab} | {aliases} |"
                )
            else:
                out.append(
                    f"  {m['header']:<10}\t{name:<20} {m['kind']:<5} "
                    f"{'required' if req else '':<8} {m['zh']} / {m['en']}"
                    + (f"  [{vocab}]" if vocab else "")
                )
                if aliases:
                    out.append(f"  {'':<10}\t  also accepted: {aliases}")
        rules = (
            sorted(contract._schema_validation_rules())
            if hasattr(contract, "_schema_validation_rules")
            else []
        )
        soft = sorted(contract.soft_rules)
        if rules or soft:
            out.append(
                ("" if markdown else "  ")
                + "row rules: "
                + ", ".join(
                    [
                        *(f"{r} (hard)" for r in rules if r not in soft),
                        *(f"{r} (warn)" for r in soft),
                    ]
                )
            )
        out.append("")
    if not markdown:
        out.append(
            "Header cells are compared after folding full-/half-width characters, brackets "
            "and spaces: 乡镇（街道） and 乡镇 (街道) are 乡镇(街道)."
        )
    return "\n".join(out)
