"""Vega-Lite specs of the report's own charts (Splink's charts come as specs from Splink).

Plain dicts, data inline: the page renders them with the vega / vega-lite / vega-embed copies
that Splink ships, embedded once per page. Rates are shares (0..1) shown as percentages;
every chart that has a province target draws it as a red rule.
"""

from __future__ import annotations

import json
import math
from typing import Any

import polars as pl

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
OK, BAD, TARGET = "#2f7d4f", "#c0392b", "#c0392b"
PALETTE = ["#1f5f8b", "#e08a1e", "#2f7d4f", "#8e44ad", "#c0392b", "#7f8c8d", "#16a085"]

Spec = dict[str, Any]


def _values(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dicts()
    ]


def _base(frame: pl.DataFrame, title: str, *, width: int = 520, height: int | None = None) -> Spec:
    spec: Spec = {
        "$schema": SCHEMA,
        "title": title,
        "width": width,
        "data": {"values": _values(frame)},
        "config": {"font": FONT, "view": {"stroke": None}},
    }
    if height is not None:
        spec["height"] = height
    return spec


def rate_bars(
    frame: pl.DataFrame,
    category: str,
    rate: str,
    *,
    title: str,
    target: float | None,
    category_title: str,
    sort_by_rate: bool = True,
    width: int = 420,
) -> Spec:
    """A rate per category as a lollipop (dot on a stem), green when it meets ``target``, red
    when not, the target as a dashed rule.

    The axis starts near the lowest rate (in steps of 5 %) rather than at 0, so that 96 % and
    99 % look different; dots, not bars, because a bar would mislead from a cut baseline.
    """
    height = max(60, 18 * frame.height)
    spec = _base(frame, title, width=width, height=height)
    rates = [v for v in frame[rate].to_list() if v is not None] if frame.height else []
    low = min([*rates, target if target is not None else 1.0, 1.0])
    lo = max(0.0, math.floor(low * 20 - 1) / 20)
    color: Any = {"value": PALETTE[0]}
    if target is not None:
        color = {"condition": {"test": f"datum['{rate}'] >= {target}", "value": OK}, "value": BAD}
    y = {
        "field": category,
        "type": "nominal",
        "title": category_title,
        "sort": {"field": rate, "order": "ascending"} if sort_by_rate else None,
        "axis": {"labelLimit": 240},
    }
    x = {
        "field": rate,
        "type": "quantitative",
        "title": "比率 rate",
        "axis": {"format": ".0%"},
        "scale": {"domain": [lo, 1], "clamp": True},
    }
    layers: list[Spec] = [
        {
            "mark": {"type": "rule", "color": "#c8ccd2"},
            "encoding": {"y": y, "x": x, "x2": {"datum": lo}},
        },
        {
            "mark": {"type": "point", "filled": True, "size": 90, "tooltip": True},
            "encoding": {"y": y, "x": x, "color": color, "opacity": {"value": 1}},
        },
    ]
    if target is not None:
        layers.append(
            {
                "mark": {"type": "rule", "color": TARGET, "strokeDash": [4, 3], "strokeWidth": 2},
                "encoding": {"x": {"datum": target, "type": "quantitative"}},
            }
        )
    spec["layer"] = layers
    return spec


def stacked_bars(
    frame: pl.DataFrame,
    category: str,
    value: str,
    color: str,
    *,
    title: str,
    category_title: str,
    value_title: str,
    color_title: str,
    horizontal: bool = True,
    normalize: bool = False,
    color_order: list[str] | None = None,
) -> Spec:
    """Stacked counts per category, one colour per ``color`` value (shares when
    ``normalize``)."""
    n = frame[category].n_unique() if frame.height else 1
    spec = _base(frame, title, height=max(60, 22 * n) if horizontal else 260)
    cat = {
        "field": category,
        "type": "nominal",
        "title": category_title,
        "sort": None if normalize else ("-x" if horizontal else None),
    }
    val: Spec = {
        "field": value,
        "type": "quantitative",
        "title": value_title,
        "stack": "normalize" if normalize else "zero",
    }
    if normalize:
        val["axis"] = {"format": ".0%"}
    scale: Spec = {"range": PALETTE}
    if color_order:
        scale["domain"] = color_order
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {
        "y" if horizontal else "x": cat,
        "x" if horizontal else "y": val,
        "color": {
            "field": color,
            "type": "nominal",
            "title": color_title,
            "scale": scale,
            "sort": color_order,
        },
    }
    if color_order:  # stack in the legend's order, first value at the axis
        spec["transform"] = [
            {"calculate": f"indexof({json.dumps(color_order)}, datum['{color}'])", "as": "_order"}
        ]
        spec["encoding"]["order"] = {"field": "_order", "type": "quantitative"}
    return spec


def heatmap(
    frame: pl.DataFrame,
    x: str,
    y: str,
    value: str,
    *,
    title: str,
    x_title: str,
    y_title: str,
    value_title: str,
) -> Spec:
    """A count per (x, y) cell, darker for more, the count written in the cell."""
    n = frame[y].n_unique() if frame.height else 1
    spec = _base(frame, title, width=520, height=max(60, 22 * n))
    enc = {
        "x": {"field": x, "type": "nominal", "title": x_title, "axis": {"labelAngle": -30}},
        "y": {"field": y, "type": "nominal", "title": y_title},
    }
    spec["encoding"] = enc
    spec["layer"] = [
        {
            "mark": {"type": "rect", "tooltip": True},
            "encoding": {
                "color": {
                    "field": value,
                    "type": "quantitative",
                    "title": value_title,
                    "scale": {"scheme": "oranges"},
                }
            },
        },
        {
            "mark": {"type": "text", "fontSize": 11},
            "encoding": {
                "text": {"field": value, "type": "quantitative"},
                "color": {"value": "#222"},
            },
        },
    ]
    return spec


def weight_histogram(
    frame: pl.DataFrame,
    *,
    title: str,
    threshold_weight: float | None,
    clerical_weight: float | None,
) -> Spec:
    """Histogram of ``match_weight`` coloured by ``decision``, with the decision thresholds."""
    spec = _base(frame, title, height=220)
    layers: list[Spec] = [
        {
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "x": {
                    "field": "match_weight",
                    "type": "quantitative",
                    "bin": {"maxbins": 40},
                    "title": "匹配权重 match weight",
                },
                "y": {"aggregate": "count", "type": "quantitative", "title": "配对数 pairs"},
                "color": {
                    "field": "decision",
                    "type": "nominal",
                    "title": "决定 decision",
                    "scale": {"range": PALETTE},
                },
            },
        }
    ]
    for weight, label in (
        (threshold_weight, "链接阈值 link threshold"),
        (clerical_weight, "人工复核阈值 clerical threshold"),
    ):
        if weight is not None:
            layers.append(
                {
                    "mark": {
                        "type": "rule",
                        "color": TARGET,
                        "strokeDash": [4, 3],
                        "strokeWidth": 2,
                        "tooltip": True,
                    },
                    "encoding": {
                        "x": {"datum": weight, "type": "quantitative"},
                        "description": {"datum": label},
                    },
                }
            )
    spec["layer"] = layers
    return spec


def trend_lines(frame: pl.DataFrame, *, title: str, targets: dict[str, float]) -> Spec:
    """One line per figure (``label``) across runs (``run``, in order), with the targets."""
    spec = _base(frame, title, height=220)
    layers: list[Spec] = [
        {
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {
                "x": {
                    "field": "run",
                    "type": "ordinal",
                    "title": "运行 run",
                    "sort": None,
                    "axis": {"labelAngle": -30},
                },
                "y": {
                    "field": "value",
                    "type": "quantitative",
                    "title": "比率 rate",
                    "axis": {"format": ".0%"},
                    "scale": {"zero": False},
                },
                "color": {
                    "field": "label",
                    "type": "nominal",
                    "title": "指标 figure",
                    "scale": {"range": PALETTE},
                },
            },
        }
    ]
    for label, target in targets.items():
        layers.append(
            {
                "mark": {"type": "rule", "color": TARGET, "strokeDash": [4, 3]},
                "encoding": {
                    "y": {"datum": target, "type": "quantitative"},
                    "description": {"datum": label},
                },
            }
        )
    spec["layer"] = layers
    return spec


def label_bands(frame: pl.DataFrame, *, title: str) -> Spec:
    """Field answers per match-probability band: confirmed vs rejected (vs unverifiable)."""
    long = frame.unpivot(
        index=["finding_type", "probability_band"],
        on=["confirmed", "rejected", "unverifiable"],
        variable_name="answer",
        value_name="n",
    )
    long = long.with_columns(
        pl.col("answer").replace_strict(
            {
                "confirmed": "属实 confirmed",
                "rejected": "不属实 rejected",
                "unverifiable": "无法核实 unverifiable",
            }
        )
    )
    spec = _base(long, title, width=420, height=200)
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {
        "x": {
            "field": "probability_band",
            "type": "ordinal",
            "title": "匹配概率 probability",
            "sort": ["<0.95", "0.95-0.99", "0.99-0.999", ">=0.999", "n/a"],
        },
        "y": {"field": "n", "aggregate": "sum", "type": "quantitative", "title": "答复数 answers"},
        "color": {
            "field": "answer",
            "type": "nominal",
            "title": "结果 answer",
            "scale": {
                "domain": ["属实 confirmed", "不属实 rejected", "无法核实 unverifiable"],
                "range": [OK, BAD, "#95a5a6"],
            },
        },
    }
    return spec


def probability_to_weight(p: float | None) -> float | None:
    """Splink's match weight for a match probability (log2 of the odds)."""
    if p is None or not 0 < p < 1:
        return None
    return math.log2(p / (1 - p))
