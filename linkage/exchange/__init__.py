"""Cross-county 协查: the files a county exchanges with the counties its people come from.

Plan 004 (流动人口信息交换) sets a monthly cycle: queries are submitted by the 20th (a query
raised later goes into next month's file), answers to the other side's queries are due by
the 27th, and each side must answer at least 95 % of the queries it receives. Plan 001 asks
that a birth's 协查 be finished within 15 working days. ``configs/exchange.toml`` holds
those numbers.

- :mod:`linkage.exchange.cycle`: which cycle a day belongs to, and when a query is due;
- :mod:`linkage.exchange.outgoing`: ``cross_county_query`` findings → one query file per
  destination county and cycle (``renkou exchange export``), and the status of what was
  sent (``renkou exchange status``).

The file layouts are fixed in docs/interfaces.md section 4; docs/exchange.md explains the
rules and the commands.
"""
