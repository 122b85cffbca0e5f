"""Looking into a store from outside hltracker, for tests that compare whole databases.

A store is named by its URL (a DuckDB path or a postgresql:// URL), as `open_store` takes it. These read
and write with the database's own driver, never through the store under test.
"""

from __future__ import annotations

import duckdb
import polars as pl

WALL_CLOCK_COLUMNS = ("landed_at", "applied_at")


def is_postgres(url: str) -> bool:
    return str(url).startswith(("postgresql://", "postgres://"))


def table_contents(url: str, drop_wall_clock: bool = False) -> dict[str, pl.DataFrame]:
    """Every table's full contents, each sorted on all its columns."""
    frames = _postgres_tables(str(url)) if is_postgres(url) else _duckdb_tables(str(url))
    out = {}
    for name, frame in sorted(frames.items()):
        if drop_wall_clock:
            frame = frame.drop([c for c in WALL_CLOCK_COLUMNS if c in frame.columns])
        out[name] = frame.sort(frame.columns, nulls_last=True) if frame.height else frame
    return out


def assert_same_contents(before: dict[str, pl.DataFrame], after: dict[str, pl.DataFrame]) -> None:
    assert before.keys() == after.keys()
    for table in before:
        assert before[table].equals(after[table]), table


def execute(url: str, sql: str) -> None:
    """Run one statement on the database behind `url` (outside the store)."""
    if is_postgres(url):
        import psycopg

        with psycopg.connect(str(url), autocommit=True) as con:
            con.execute(sql)
    else:
        con = duckdb.connect(str(url))
        try:
            con.execute(sql)
        finally:
            con.close()


def _duckdb_tables(path: str) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(path, read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        names = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {t: pl.from_arrow(con.sql(f'SELECT * FROM "{t}"').to_arrow_table()) for t in names}
    finally:
        con.close()


def _postgres_tables(url: str) -> dict[str, pl.DataFrame]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SET TIME ZONE 'UTC'")
        names = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()]
        out = {}
        for name in names:
            cur = con.execute(f'SELECT * FROM "{name}"')
            columns = [d.name for d in cur.description]
            rows = cur.fetchall()
            out[name] = pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)
        return out
