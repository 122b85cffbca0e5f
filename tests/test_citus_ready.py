"""The PostgreSQL schema is ready for Citus (hltracker/store/citus.py), checked on the real schema.

Citus itself is not available here (Debian does not package it), so these check its documented rules
against the catalogs of a database hltracker migrated, and run `distribution_sql()` on plain PostgreSQL
with `create_reference_table` and `create_distributed_table` stubbed by functions that check what
Citus would check (the table and column exist, each table is distributed once, colocated tables share
the distribution column's type and collation, a table is colocated only with one distributed before).
PostgreSQL only: these request `postgres_server` directly, not the `backend` parameter.
"""

from __future__ import annotations

import re
from datetime import timedelta

import psycopg
import pytest

from hltracker.ingest import Ingestor
from hltracker.sources.simulator import SimulatorSource
from hltracker.store import open_store
from hltracker.store.citus import COLOCATION_ANCHORS, DISTRIBUTION, distribution_sql
from hltracker.store.layout import REGISTER_COINS
from hltracker.store.queries import QUERIES

DISTRIBUTED = {t: c for t, c in DISTRIBUTION.items() if c is not None}
REFERENCE = {t for t, c in DISTRIBUTION.items() if c is None}


@pytest.fixture(scope="module")
def schema_url(postgres_server) -> str:
    """A fresh database that hltracker migrated (empty tables)."""
    url = postgres_server.create_database("citus_check_1")
    open_store(url).close()
    return url


@pytest.fixture
def con(schema_url):
    with psycopg.connect(schema_url) as connection:  # not autocommit: each test's transaction is rolled back
        yield connection
        connection.rollback()


def _rows(con, sql: str, *params) -> list[tuple]:
    return con.execute(sql, params or None).fetchall()


def _public_tables(con) -> set[str]:
    return {t for (t,) in _rows(con, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def _column(con, table: str, column: str) -> tuple[int, str, str, bool] | None:
    """(attnum, type, collation, not null) of a column, or None when the table has no such column."""
    rows = _rows(
        con,
        "SELECT a.attnum, format_type(a.atttypid, a.atttypmod), COALESCE(c.collname, ''), a.attnotnull "
        "FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation "
        "WHERE a.attrelid = %s::regclass AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped",
        f"public.{table}", column,
    )
    return rows[0] if rows else None


# --- the schema against DISTRIBUTION ---


def test_every_table_is_classified_and_every_classified_table_exists(con):
    tables = _public_tables(con)
    assert "schema_migrations" in tables and "open_positions" in tables
    assert tables - DISTRIBUTION.keys() == set(), "tables missing from citus.DISTRIBUTION"
    assert DISTRIBUTION.keys() - tables == set(), "citus.DISTRIBUTION names tables the schema lacks"


def test_distribution_columns_exist_and_colocated_tables_agree_on_their_type(con):
    by_column: dict[str, set[tuple[str, str]]] = {}
    for table, column in DISTRIBUTED.items():
        found = _column(con, table, column)
        assert found is not None, f"{table} has no column {column}"
        _, type_name, collation, _ = found
        by_column.setdefault(column, set()).add((type_name, collation))
    # Citus colocates only tables whose distribution columns have the same type and collation
    assert by_column == {"coin": {("text", "C")}, "address": {("text", "C")}}
    assert set(COLOCATION_ANCHORS) == set(by_column)
    assert all(DISTRIBUTION[anchor] == column for column, anchor in COLOCATION_ANCHORS.items())


def test_unique_constraints_of_distributed_tables_include_the_distribution_column(con):
    # pg_index covers primary keys, UNIQUE constraints and unique indexes; pg_constraint the EXCLUDE ones
    unique = _rows(
        con,
        "SELECT c.relname, i.indexrelid::regclass::text, "
        "ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey)) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND (i.indisunique OR i.indisprimary)",
    )
    assert {table for table, _, _ in unique} >= {"snapshots", "api_keys", "coins", "schema_migrations"}
    broken = [f"{index} on {table}{tuple(columns)} lacks {DISTRIBUTED[table]}"
              for table, index, columns in unique if table in DISTRIBUTED and DISTRIBUTED[table] not in columns]
    assert not broken, "Citus refuses these: " + "; ".join(broken)
    excluded = _rows(
        con,
        "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'x' "
        "AND connamespace = 'public'::regnamespace",
    )
    assert excluded == []
    # an index that is not unique never needs the distribution column (Citus builds it on every shard)
    expressions = _rows(
        con,
        "SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "WHERE c.relnamespace = 'public'::regnamespace AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)",
    )
    assert expressions == []


def test_no_foreign_key_crosses_the_distribution(con):
    keys = _rows(
        con,
        "SELECT conname, conrelid::regclass::text, confrelid::regclass::text, "
        "ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = conrelid AND attnum = ANY(conkey)), "
        "ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = confrelid AND attnum = ANY(confkey)) "
        "FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
    )
    broken = []
    for name, table, target, columns, target_columns in keys:
        if table in REFERENCE and target in DISTRIBUTED:
            broken.append(f"{name}: reference table {table} references distributed {target}")
        if table in DISTRIBUTED and target in DISTRIBUTED and not (
            DISTRIBUTED[table] == DISTRIBUTED[target]
            and DISTRIBUTED[table] in columns
            and columns.index(DISTRIBUTED[table]) == target_columns.index(DISTRIBUTED[target])
        ):
            broken.append(f"{name}: {table} -> {target} not on the distribution column")
    assert not broken
    # what holds today: no foreign keys at all, which distribution_sql()'s order relies on (a referenced
    # reference table would have to come before the table referencing it)
    assert keys == []


def test_landed_rows_never_hold_a_null_distribution_column(postgres_server):
    """Citus refuses a row whose distribution column is NULL (the whole landing would fail); the columns
    are nullable in the schema, so check what the engine writes: genesis and two hourly steps."""
    url = postgres_server.create_database("citus_landed_1")
    source = SimulatorSource(profile="small", seed=0, steps=2, step=timedelta(hours=1))
    with open_store(url) as store:
        report = Ingestor(store).ingest(source.snapshots())
    assert report.landed == 3 and not report.rejected
    with psycopg.connect(url, autocommit=True) as con:
        for table, column in DISTRIBUTED.items():
            rows, nulls = con.execute(f"SELECT COUNT(*), COUNT(*) - COUNT({column}) FROM {table}").fetchone()
            assert rows > 0, table
            assert nulls == 0, f"{table}: {nulls} of {rows} rows have a NULL {column}"


# --- the statements of distribution_sql() ---

_REFERENCE_CALL = re.compile(r"^SELECT create_reference_table\('([a-z_]+)'\);$")
_DISTRIBUTED_CALL = re.compile(
    r"^SELECT create_distributed_table\('([a-z_]+)', '([a-z_]+)', colocate_with => '([a-z_]+)'\);$"
)


def _statements() -> list[str]:
    lines = [line.strip() for line in distribution_sql().splitlines()]
    return [line for line in lines if line and not line.startswith("--")]


def test_distribution_sql_calls_citus_as_documented_and_names_every_table_once():
    sql = distribution_sql()
    assert sql.startswith("-- ") and "hltracker ingest" in sql and "create_distributed_table moves" in sql
    named: list[str] = []
    distributed_so_far: dict[str, str] = {}
    for statement in _statements():
        if match := _REFERENCE_CALL.match(statement):
            table = match[1]
            assert DISTRIBUTION[table] is None, statement
        elif match := _DISTRIBUTED_CALL.match(statement):
            table, column, group = match.groups()
            assert DISTRIBUTION[table] == column, statement
            # a group starts with colocate_with => 'none'; its other tables name a table distributed before
            if group == "none":
                assert column not in distributed_so_far.values(), f"second group for {column}: {statement}"
            else:
                assert distributed_so_far.get(group) == column, statement
            distributed_so_far[table] = column
        else:
            raise AssertionError(f"not a documented Citus call: {statement!r}")
        named.append(table)
    assert sorted(named) == sorted(DISTRIBUTION)
    assert len(named) == len(set(named))


_STUBS = """
CREATE TEMP TABLE citus_stub_calls (relation regclass PRIMARY KEY, dist_column text, colocated_with text);

CREATE FUNCTION public.create_reference_table(table_name regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO citus_stub_calls VALUES (table_name, NULL, NULL);  -- the primary key: once per table
END $$;

CREATE FUNCTION public.create_distributed_table(
    table_name regclass, distribution_column text, colocate_with text DEFAULT 'default'
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    this_type text;
    other_type text;
BEGIN
    SELECT format_type(atttypid, atttypmod) || ' ' || attcollation INTO this_type FROM pg_attribute
        WHERE attrelid = table_name AND attname = distribution_column AND attnum > 0 AND NOT attisdropped;
    IF this_type IS NULL THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', distribution_column, table_name;
    END IF;
    IF colocate_with NOT IN ('default', 'none') THEN
        SELECT format_type(a.atttypid, a.atttypmod) || ' ' || a.attcollation INTO other_type
            FROM citus_stub_calls s JOIN pg_attribute a
            ON a.attrelid = s.relation AND a.attname = s.dist_column
            WHERE s.relation = colocate_with::regclass;
        IF other_type IS NULL THEN
            RAISE EXCEPTION 'cannot colocate % with %: not a distributed table', table_name, colocate_with;
        END IF;
        IF other_type <> this_type THEN
            RAISE EXCEPTION 'cannot colocate % with %: % vs %', table_name, colocate_with, this_type, other_type;
        END IF;
    END IF;
    INSERT INTO citus_stub_calls VALUES (table_name, distribution_column, colocate_with);
END $$;
"""


def test_distribution_sql_runs_on_postgres_with_the_citus_functions_stubbed(con):
    with con.transaction(force_rollback=True):
        con.execute(_STUBS)
        con.execute(distribution_sql())  # the whole script, comments included, as psql would send it
        calls = dict(_rows(con, "SELECT relation::text, dist_column FROM citus_stub_calls"))
        assert calls == DISTRIBUTION
        groups = dict(_rows(con, "SELECT relation::text, colocated_with FROM citus_stub_calls "
                                 "WHERE dist_column IS NOT NULL"))
        for table, column in DISTRIBUTED.items():
            anchor = COLOCATION_ANCHORS[column]
            assert groups[table] == ("none" if table == anchor else anchor)
    assert "create_distributed_table" not in {
        name for (name,) in _rows(con, "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace")
    }


def test_the_stubs_refuse_what_citus_refuses(con):
    """The stubs above are a real check: a missing column, a second call and a bad colocation all fail."""
    bad = {
        "SELECT create_distributed_table('open_positions', 'wallet', colocate_with => 'none')": "does not exist",
        "SELECT create_distributed_table('coin_series', 'coin', colocate_with => 'markets')": "not a distributed",
        "SELECT create_reference_table('coins'); "
        "SELECT create_distributed_table('markets', 'coin', colocate_with => 'coins')": "not a distributed",
        "SELECT create_reference_table('snapshots'); SELECT create_reference_table('snapshots')": "duplicate key",
        "SELECT create_distributed_table('markets', 'coin', colocate_with => 'none'); "
        "SELECT create_distributed_table('wallets', 'snapshot_id', colocate_with => 'markets')": "bigint .* vs text",
        "SELECT create_distributed_table('no_such_table', 'coin')": "does not exist",
    }
    for statement, message in bad.items():
        with pytest.raises(psycopg.Error, match=message), con.transaction(force_rollback=True):
            con.execute(_STUBS)
            con.execute(statement)


# --- the named queries under Citus' planning rules ---

_TABLE_REF = re.compile(r"\b(?:FROM|JOIN|INTO)\s+([a-z_]+)\b")


def _all_queries() -> dict[str, str]:
    return {**QUERIES, "register_coins": REGISTER_COINS}


def test_every_query_reads_tables_of_one_colocation_group_at_most():
    """Joins and unions between distributed tables need them colocated (joined on the distribution
    column); reference tables go with anything."""
    for name, sql in _all_queries().items():
        tables = {t for t in _TABLE_REF.findall(sql) if t in DISTRIBUTION}
        assert tables, name
        groups = {DISTRIBUTED[t] for t in tables if t in DISTRIBUTED}
        assert len(groups) <= 1, f"{name} mixes colocation groups: {sorted(tables)}"


_OUTER_JOIN = re.compile(r"LEFT JOIN ([a-z_]+) ([a-z]\w*)\s+ON (.*?)(?=\n(?:WHERE|ORDER|LEFT|CROSS|GROUP)\b|\Z)", re.S)


def test_outer_joins_onto_distributed_tables_route_to_one_shard():
    """`<reference> LEFT JOIN <distributed>` over many shards needs Citus 11.2 or newer; pinning the
    distribution column to a parameter makes it a single-shard (router) query, which any Citus runs."""
    seen = 0
    for name, sql in _all_queries().items():
        for table, alias, condition in _OUTER_JOIN.findall(sql):
            if table in DISTRIBUTED:
                seen += 1
                pin = f"{alias}.{DISTRIBUTED[table]} = $"
                assert pin in condition, f"{name}: LEFT JOIN {table} does not pin {DISTRIBUTED[table]}"
    assert seen >= 6


_UNION_BRANCH = re.compile(r"SELECT ((?:(?!SELECT).)*?)\s+FROM ([a-z_]+)\b", re.S)  # one SELECT's own list


def test_unions_of_distributed_tables_keep_the_distribution_column_in_place():
    """Citus pushes a UNION ALL of colocated tables down to each shard pair only when every branch
    selects the distribution column at the same position; otherwise it pulls both tables whole."""
    unions = 0
    for name, sql in _all_queries().items():
        if "UNION ALL" not in sql:
            continue
        branches = [(t, [c.strip() for c in cols.split(",")]) for cols, t in _UNION_BRANCH.findall(sql)]
        positions = {
            columns.index(DISTRIBUTED[table]) if DISTRIBUTED[table] in columns else None
            for table, columns in branches if table in DISTRIBUTED
        }
        if positions:
            unions += 1
            assert len(positions) == 1 and None not in positions, f"{name}: {positions}"
    assert unions >= 12  # the positions_by_<column>_<order> family
