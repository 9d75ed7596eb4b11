"""The version's own tables: meta.build, meta.build_history, meta.checks, meta.sources, meta.tables,
and the holiday calendar gold's dates are marked with."""
from __future__ import annotations

import json

import duckdb

from . import __version__
from .catalog import catalog_rows
from .config import Config
from .db import insert_rows
from .sources.registry import SOURCES


def has_prev(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'prev'").fetchone()[0])


def holiday_calendar(con) -> None:
    """The temp table holiday_calendar (Bahia's holidays over the data's years, from `holidays`), kept in
    the version as meta.holiday_calendar with what it was made for (years and the library's version):
    the next build copies it when that is unchanged, instead of importing `holidays` and computing it
    again (0.28 s of every build)."""
    from importlib.metadata import version

    years = con.execute("SELECT min(year(d)), max(year(d)) FROM data_days").fetchone()  # temp table of silver.sql
    made_for = f"BR-BA {years[0]}-{years[1]} holidays {version('holidays')}"
    con.execute('CREATE TEMP TABLE holiday_calendar ("date" DATE, name VARCHAR)')
    con.execute('CREATE TABLE meta.holiday_calendar ("date" DATE, name VARCHAR, made_for VARCHAR)')
    if has_prev(con):
        try:
            kept = con.execute("SELECT count(*) FILTER (made_for = ?), count(*) FROM prev.meta.holiday_calendar",
                               [made_for]).fetchone()
        except duckdb.Error:  # a version from before the kept calendar
            kept = (0, 0)
        if kept[0] and kept[0] == kept[1]:
            con.execute('INSERT INTO meta.holiday_calendar SELECT * FROM prev.meta.holiday_calendar')
            con.execute('INSERT INTO holiday_calendar SELECT "date", name FROM meta.holiday_calendar')
            return
    rows = []
    if years[0] is not None:
        import holidays  # heavy import, only when the calendar is made

        cal = holidays.country_holidays("BR", subdiv="BA", years=range(years[0], years[1] + 1))
        rows = sorted(cal.items())
    if rows:
        insert_rows(con, "meta.holiday_calendar", [(d, n, made_for) for d, n in rows])
        con.execute('INSERT INTO holiday_calendar SELECT "date", name FROM meta.holiday_calendar')


def create_build_tables(con) -> None:
    """meta.build, meta.checks, meta.build_history and meta.tables, empty: the same in a plant's file
    and in the company file (nova_pipeline/company.py)."""
    con.execute("""CREATE TABLE meta.build (version INTEGER, built_at TIMESTAMPTZ, as_of DATE, code_version VARCHAR,
                   previous_version INTEGER, inputs INTEGER, new_inputs INTEGER, config VARCHAR, complete BOOLEAN,
                   rolled_back_from INTEGER, as_of_days INTEGER, as_of_critical_days INTEGER, site_id VARCHAR,
                   site_name VARCHAR, replay_inputs VARCHAR)""")
    con.execute("CREATE TABLE meta.checks (name VARCHAR, severity VARCHAR, passed BOOLEAN, detail VARCHAR)")
    con.execute("""CREATE TABLE meta.build_history (version INTEGER, built_at TIMESTAMPTZ, as_of DATE,
                   new_inputs INTEGER, checks_failed VARCHAR, outcome VARCHAR, stockouts INTEGER,
                   below_reorder INTEGER, ok INTEGER)""")
    con.execute("CREATE TABLE meta.tables (schema_name VARCHAR, table_name VARCHAR, column_name VARCHAR, data_type VARCHAR, description VARCHAR)")


def write_meta(con, cfg: Config, version: int, previous: int | None, n_new: int, replay_inputs: str | None = None) -> None:
    create_build_tables(con)
    f, site = cfg.values["freshness"], cfg.values["site"]
    con.execute(
        "INSERT INTO meta.build SELECT ?, now(), (SELECT as_of FROM as_of), ?, ?, (SELECT count(*) FROM meta.source_files), "
        "?, ?, false, NULL, ?, ?, ?, ?, ?",
        [version, __version__, previous, n_new, json.dumps(cfg.values["reorder"]), f["as_of_days"], f["as_of_critical_days"],
         site["id"] or None, site["name"] or None, replay_inputs])
    con.execute("CREATE TABLE meta.sources (kind VARCHAR, label VARCHAR, folder VARCHAR, pattern VARCHAR, freshness_hours INTEGER)")
    insert_rows(con, "meta.sources",
                [(s.kind, s.label, s.folder, s.pattern, cfg.values["freshness"][f"{s.kind}_hours"]) for s in SOURCES])
    con.execute("CREATE TABLE meta.build_stages (step INTEGER, stage VARCHAR, seconds DOUBLE)")  # write_stages
    insert_rows(con, "meta.tables", catalog_rows(con))


def write_stages(con, seconds: dict[str, float]) -> None:
    """meta.build_stages: the wall seconds of this build's stages up to its checks, in order (writing the
    file and publishing it come after; last_build.json has them)."""
    insert_rows(con, "meta.build_stages", [(i, k, v) for i, (k, v) in enumerate(seconds.items(), 1)])


def append_history(con, version: int, n_new: int, results) -> None:
    """This version's line in meta.build_history (as-of from meta.build, status counts from gold), after
    the serving version's last 49 when one is attached as `prev`."""
    failed = ", ".join(r[0] for r in results if not r[2]) or None
    if has_prev(con):
        try:
            # by name: files from before a column existed carry NULL in it
            con.execute("INSERT INTO meta.build_history BY NAME SELECT * FROM prev.meta.build_history "
                        "ORDER BY version DESC LIMIT 49")
        except duckdb.Error:
            pass  # an older file without history: start a new one
    con.execute("INSERT INTO meta.build_history SELECT ?, now(), (SELECT as_of FROM meta.build), ?, ?, 'published', "
                "count(*) FILTER (status = 'stockout'), count(*) FILTER (status = 'below_reorder'), "
                "count(*) FILTER (status = 'ok') FROM gold.reorder_status", [version, n_new, failed])
