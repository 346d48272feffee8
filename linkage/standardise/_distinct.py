"""Compute once per distinct value, map back per row.

Delivered columns repeat a lot: a county base of ~1M people has tens of thousands of distinct
names and birth dates and a handful of distinct sex codes. Regexes, pinyin and calendar
conversion run on the distinct values only; a hash join maps the results back in row order.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

_KEY, _VALUE = "__distinct_key", "__distinct_value"


def _apply_distinct(values: pl.Series, function: Callable[[pl.Series], pl.Series]) -> pl.Series:
    distinct = values.unique()
    if len(distinct) == len(values) or values.dtype == pl.Null:
        return function(values).alias(values.name)
    lookup = pl.DataFrame({_KEY: distinct, _VALUE: function(distinct)})
    mapped = values.to_frame(_KEY).join(
        lookup, on=_KEY, how="left", nulls_equal=True, maintain_order="left"
    )
    return mapped.get_column(_VALUE).alias(values.name)


def map_distinct(
    expr: pl.Expr,
    function: Callable[[pl.Series], pl.Series],
    return_dtype: pl.DataType,
) -> pl.Expr:
    """``function`` applied to the distinct values of ``expr``, mapped back row by row.

    ``function`` must be elementwise (its output row ``i`` depends only on input row ``i``,
    null included) and return a series of ``return_dtype`` as long as its input.
    """
    # Not declared elementwise on purpose: the engines would then call it once per morsel
    # (~100k rows), each recomputing most distinct values. One call sees the whole column.
    return expr.map_batches(
        lambda values: _apply_distinct(values, function), return_dtype=return_dtype
    )
