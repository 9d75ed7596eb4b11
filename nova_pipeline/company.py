"""`nova-pipeline company-build`: one warehouse file for the whole company, from every site's gold
Delta tables in the remote store.

Published with a plant's rules (build lock, temp file, checks, versions, `current`), so `nova-tui`,
`verify`, retention and `pull` treat it like any version. Every gold table keeps the `site` column
the store partitions by; `meta.sites` says which version, as-of date and push time each site's rows
come from; `gold.transfer_candidates` lists, for an item below its reorder point at one plant, the
plants holding stock above theirs (a transfer before a purchase). Reading goes through delta-rs'
QueryBuilder into DuckDB as an Arrow stream (never `to_pyarrow_table()`, which aborts the process at
exit with this deltalake; see the issue's measurements).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from . import __version__, publish
from .build import validate_file
from .catalog import catalog_rows
from .config import Config
from .db import connect, insert_rows, sql_path
from .errors import ChecksFailed, NovaError
from .meta import append_history, create_build_tables
from .progress import Progress, silent
from .delta import delta_uri
from .remote import open_store, layer_tables, site_records

log = logging.getLogger("nova.company")

# What the dashboard needs from meta that only plants have: created empty in the company file.
SOURCE_FILES = ("drop_key VARCHAR, file_name VARCHAR, path VARCHAR, sha256 VARCHAR, kind VARCHAR, status VARCHAR, "
                "rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, reason VARCHAR, received_at TIMESTAMPTZ, "
                "data_from DATE, data_to DATE, bronze_path VARCHAR, size_bytes BIGINT")


@dataclass
class CompanyResult:
    version: int
    sites: list[dict]
    tables: int
    seconds: float


def company_build(cfg: Config, progress: Progress = silent) -> CompanyResult:
    started = time.monotonic()
    store = open_store(cfg)
    sites = site_records(store)
    if not sites:
        raise NovaError(f"no site has pushed its layers to {store.endpoint} yet: run `nova-pipeline push` on a plant")
    tables = layer_tables(store, "gold")
    known = [s["site"] for s in sites]
    cfg.warehouse.mkdir(parents=True, exist_ok=True)
    with publish.BuildLock(cfg.warehouse):
        publish.remove_orphans(cfg.warehouse)
        temp = publish.temp_file(cfg.warehouse)
        con = connect(temp)
        try:
            con.execute(f"SET temp_directory = '{sql_path(cfg.lake / 'tmp')}'")
            con.execute(f"SET memory_limit = '{cfg.values['build']['memory_limit']}'")
            con.execute("CREATE SCHEMA gold")
            con.execute("CREATE SCHEMA meta")
            for i, table in enumerate(tables):
                progress("company", i, len(tables))
                _copy_table(con, store, table, known)
            progress("company", len(tables), len(tables))
            _transfers(con)
            previous = publish.current_version(cfg.warehouse)
            version = publish.next_version(cfg.warehouse)
            _meta(con, cfg, version, previous, sites)
            results = _checks(con, known)
            insert_rows(con, "meta.checks", results)
            failed = [r[0] for r in results if r[1] == "error" and not r[2]]
            append_history(con, version, len(sites), results)
            insert_rows(con, "meta.tables", catalog_rows(con) + _company_rows(con))
            con.execute("UPDATE meta.build SET complete = true")
            con.execute("CHECKPOINT")
            con.close()
            if failed:
                raise ChecksFailed(f"company build blocked by checks: {', '.join(failed)}; v{previous} keeps serving")
            validate_file(temp)
            publish.finalize(temp, cfg.warehouse, version)
            publish.apply_retention(cfg.warehouse, cfg.get("publish", "retention"))
        finally:
            try:
                con.close()
            except Exception:
                pass
            if temp.exists():
                temp.unlink()
    seconds = time.monotonic() - started
    log.info("event=company_published version=%d sites=%d tables=%d seconds=%.2f", version, len(sites), len(tables),
             seconds)
    return CompanyResult(version, sites, len(tables), seconds)


def _copy_table(con, store, table: str, sites: list[str]) -> None:
    from deltalake import DeltaTable, QueryBuilder

    dt = DeltaTable(delta_uri("gold", table), storage_options=store.delta_options)
    listed = ", ".join(f"'{s}'" for s in sites)  # validated slugs
    reader = QueryBuilder().register("t", dt).execute(f"SELECT * FROM t WHERE site IN ({listed})")
    assert reader is not None  # DuckDB finds the Arrow stream by its variable name
    con.execute(f"CREATE TABLE gold.{table} AS SELECT * FROM reader")


def _transfers(con) -> None:
    """For an item below its reorder point (or out) at one plant: the plants holding stock above their
    own reorder point for it, and how much above — a transfer before a purchase."""
    con.execute("""
        CREATE TABLE gold.transfer_candidates AS
        SELECT need.site, need.item_id, need.status, have.site AS from_site,
               have.on_hand - have.reorder_point AS surplus, have.on_hand AS from_on_hand, have.unit
        FROM gold.reorder_status need JOIN gold.reorder_status have
             ON have.item_id = need.item_id AND have.site <> need.site
        WHERE need.status <> 'ok' AND have.on_hand > have.reorder_point
        ORDER BY need.site, need.item_id, surplus DESC""")


def _meta(con, cfg: Config, version: int, previous: int | None, sites: list[dict]) -> None:
    con.execute("CREATE TABLE meta.sites (site VARCHAR, name VARCHAR, version INTEGER, as_of DATE, built_at TIMESTAMPTZ, "
                "pushed_at TIMESTAMPTZ)")
    insert_rows(con, "meta.sites",
                [(s["site"], s.get("name") or None, s["version"], s.get("as_of"), s.get("built_at"), s["pushed_at"])
                 for s in sites], "(?, ?, ?, ?::DATE, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ)")
    f = cfg.values["freshness"]
    create_build_tables(con)
    con.execute("INSERT INTO meta.build SELECT ?, now(), (SELECT min(as_of) FROM meta.sites), ?, ?, ?, 0, ?, false, NULL, "
                "?, ?, 'company', 'company view', NULL",
                [version, __version__, previous, len(sites), json.dumps({"sites": [s["site"] for s in sites]}),
                 f["as_of_days"], f["as_of_critical_days"]])
    con.execute(f"CREATE TABLE meta.source_files ({SOURCE_FILES})")


def _checks(con, sites: list[str]) -> list[tuple[str, str, bool, str]]:
    out = []
    n = con.execute("SELECT count(*) FROM (SELECT site, item_id FROM gold.reorder_status GROUP BY ALL HAVING count(*) > 1)"
                    ).fetchone()[0]
    out.append(("reorder_status_key", "error", n == 0, f"{n} (site, item) pair(s) repeated" if n else
                "one row per site and item"))
    present = {r[0] for r in con.execute("SELECT DISTINCT site FROM gold.reorder_status").fetchall()}
    missing = [s for s in sites if s not in present]
    out.append(("every_site_present", "warn", not missing,
                f"no reorder rows for {', '.join(missing)}" if missing else f"{len(sites)} site(s)"))
    return out


def _company_rows(con) -> list[tuple]:
    rows = [("meta", "sites", None, None, "Every site in this company file: the version its rows come from, its as-of "
             "date, when it was built and pushed."),
            ("gold", "transfer_candidates", None, None, "For an item below its reorder point (or out) at one site, the "
             "sites holding stock above their own reorder point for it: a transfer before a purchase.")]
    words = {"site": "[site] id of the plant", "name": "[site] name", "version": "the site's version pushed",
             "as_of": "the site's as-of date", "built_at": "when the site built it", "pushed_at": "when it was pushed",
             "item_id": "ERP item code", "status": "status at the site in need", "from_site": "a site with stock to spare",
             "surplus": "on hand above the reorder point there", "from_on_hand": "on hand there", "unit": "unit"}
    for schema, table in (("meta", "sites"), ("gold", "transfer_candidates")):
        for name, dtype in con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                       "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                                       [schema, table]).fetchall():
            rows.append((schema, table, name, dtype, words.get(name, "")))
    site_rows = con.execute("SELECT table_schema, table_name, data_type FROM information_schema.columns "
                            "WHERE column_name = 'site' AND table_schema = 'gold' AND table_name <> 'transfer_candidates'"
                            ).fetchall()
    rows += [(s, t, "site", d, "[site] id of the plant the row comes from") for s, t, d in site_rows]
    return rows
