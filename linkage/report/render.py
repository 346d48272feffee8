"""HTML pieces of the report and the page itself: tables, charts, cards, one template.

No template engine: ``template.html`` is a ``string.Template`` and every piece here escapes its
text. Charts are placeholders (``<div id="chart-N">``) whose Vega-Lite specs go into one JSON
block; the page embeds vega, vega-lite and vega-embed once (the copies Splink ships), so the
file opens offline. A second JSON block (``#renkou-figures``) carries every figure shown, for
machines and tests.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from string import Template
from typing import Any

import polars as pl

from linkage.errors import RenkouError
from linkage.standardise.ids import check_char

#: (column, header, kind); kind: text, int, pct, num, bool
Column = tuple[str, str, str]

_ID_LIKE = re.compile(r"(?<![0-9A-Za-z.])(\d{17}[0-9X])(?![0-9A-Za-z])")


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def pct(value: float | None, digits: int = 1) -> str:
    """``97.8 %``; a share short of 1 never shows as 100 % (``99.96 %``, ``> 99.99 %``)."""
    if value is None:
        return "—"
    if value < 1 and round(value * 100, digits) >= 100:
        more, finer = round(value * 100, digits + 1), digits + 1
        return f"{more:.{finer}f} %" if more < 100 else f"> {100 - 10**-finer:.{finer}f} %"
    return f"{value * 100:.{digits}f} %"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _json_default(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def json_for_script(value: object) -> str:
    """JSON safe inside a ``<script>`` element (no ``<``, ``>``, ``&`` left raw)."""
    text = json.dumps(value, ensure_ascii=False, default=_json_default, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def no_nan(frame: pl.DataFrame) -> pl.DataFrame:
    """NaN (a 0/0 rate in polars) as null: shown as "—", JSON null."""
    return frame.with_columns(pl.col(pl.Float32, pl.Float64).fill_nan(None))


def records(frame: pl.DataFrame | None) -> list[dict[str, Any]] | None:
    """A frame as JSON-ready rows (None stays None)."""
    return (
        None
        if frame is None
        else json.loads(json.dumps(no_nan(frame).to_dicts(), default=_json_default))
    )


@dataclass
class Page:
    """Collects the charts of one page while its HTML is written."""

    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # key → chart id, for machines

    def chart(
        self, spec: dict[str, Any], *, note: str | None = None, key: str | None = None
    ) -> str:
        chart_id = f"chart-{len(self.specs) + 1}"
        self.specs[chart_id] = spec
        if key:
            self.ids[key] = chart_id
        note_html = f'<p class="note">{note}</p>' if note else ""
        return f'<div class="chart" id="{chart_id}"></div>{note_html}'

    def table(
        self,
        frame: pl.DataFrame,
        columns: Sequence[Column],
        *,
        caption: str | None = None,
        targets: dict[str, float] | None = None,
        empty: str = "（无 none）",
    ) -> str:
        """A sortable table; a rate below its ``targets[column]`` is marked red."""
        if frame.is_empty():
            return f'<p class="note">{caption + "：" if caption else ""}{empty}</p>'
        targets = targets or {}
        frame = no_nan(frame)
        head = "".join(f"<th>{h}</th>" for _, h, _ in columns)
        rows = []
        for row in frame.iter_rows(named=True):
            cells = []
            for name, _, kind in columns:
                cells.append(_cell(row.get(name), kind, targets.get(name)))
            rows.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{caption}</caption>" if caption else ""
        return (
            f'<div class="tablewrap"><table class="sortable">{cap}<thead><tr>{head}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )


def _cell(value: object, kind: str, target: float | None) -> str:
    if kind == "text":
        return f"<td>{esc(value)}</td>"
    if kind == "bool":
        text = "—" if value is None else ("是 yes" if value else "否 no")
        cls = "" if value is None else (' class="ok"' if value else ' class="bad"')
        return f"<td{cls}>{text}</td>"
    number = None if value is None else float(value)  # type: ignore[arg-type]
    sort_key = "" if number is None else repr(number)
    if kind == "pct":
        cls = "n"
        if target is not None and number is not None:
            cls += " ok" if number >= target else " bad"
        return f'<td class="{cls}" data-v="{sort_key}">{pct(number)}</td>'
    if kind == "signed":
        text = "—" if number is None else f"{number:+,.4g}"
        return f'<td class="n" data-v="{sort_key}">{text}</td>'
    if kind == "num":
        text = "—" if number is None else f"{number:,.2f}"
        return f'<td class="n" data-v="{sort_key}">{text}</td>'
    text = "—" if number is None else f"{int(number):,}"
    return f'<td class="n" data-v="{sort_key}">{text}</td>'


def card(label: str, value: float | None, target: float | None, detail: str) -> str:
    """A headline figure: big value, target, green/red."""
    cls = "" if value is None or target is None else (" ok" if value >= target else " bad")
    target_text = (
        f"目标 target ≥ {pct(target, 0)}" if target is not None else "无省定目标 no target"
    )
    return (
        f'<div class="card{cls}"><div class="label">{label}</div>'
        f'<div class="value">{pct(value)}</div>'
        f'<div class="target">{target_text} · {detail}</div></div>'
    )


def chart_libraries() -> dict[str, str]:
    """vega, vega-lite and vega-embed as Splink ships them (the versions its charts expect)."""
    from splink.internals.html_utils import load_chart_libraries

    libs = load_chart_libraries()
    return {"vega": libs["vega"], "vega_lite": libs["vega-lite"], "vega_embed": libs["vega-embed"]}


def page_html(
    *, title: str, meta: str, nav: str, body: str, footer: str, page: Page, figures: dict[str, Any]
) -> str:
    """The whole self-contained page."""
    template = Template(
        resources.files("linkage.report").joinpath("template.html").read_text("utf-8")
    )
    return template.substitute(
        title=esc(title),
        meta=meta,
        nav=nav,
        body=body,
        footer=footer,
        figures=json_for_script(figures),
        charts=json_for_script(page.specs),
        **chart_libraries(),
    )


def id_numbers_in(text: str) -> int:
    """How many valid 18-character 公民身份号码 appear in ``text`` (check digit verified)."""
    return sum(1 for m in _ID_LIKE.finditer(text) if check_char(m.group(1)[:17]) == m.group(1)[17])


def assert_no_id_numbers(text: str, what: str) -> None:
    """Refuse to write a page holding an ID number (the report goes around the office)."""
    found = id_numbers_in(text)
    if found:
        raise RenkouError(
            f"{what} would contain {found} unmasked ID number(s); nothing was "
            f"written. Fix: mask the column that carries them "
            f"(linkage.standardise.ids.mask_id) before it reaches the report"
        )
