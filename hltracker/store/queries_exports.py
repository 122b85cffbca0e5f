"""Named read queries used only by the export file builders (`hltracker/exports/`).

Same conventions as `queries.py` (whose `QUERIES` includes these): `$name` parameters, a `--` comment
on the first line saying what the query returns, portable SQL for DuckDB and PostgreSQL.
"""

from __future__ import annotations

EXPORT_QUERIES: dict[str, str] = {}
