"""gold.fact_requisition, the reorder window's lines, carried from one version to the next.

Writing 1.8 million lines into a fresh version took over a second of every build at 10,000,000 lines,
most of a small drop's cost. So a build starts from a copy of the serving version when it can, and
changes only the lines of the requisition partitions that changed since:

- `meta.fact_requisition_parts` records, per partition (request month, or `none`), the silver files
  the lines came from, the window's first day and the layout (a hash of the SQL below);
- a partition is reloaded when its files differ or it is new to the window; a partition that left
  the window is deleted; when the window's first day moves forward (a newer stock snapshot), the
  lines before it are deleted, and when it moves back, the months it reaches again are reloaded;
- everything else in the copy (meta, silver, the rest of gold) is dropped and rebuilt as before.

The copy is used only when the serving version's bytes match the sha256 recorded when it was
published (hashed while copying) and its layout equals this code's; otherwise, and for `--full`,
the table is written whole. `tests/test_incremental.py` holds both ways to a full rebuild.
"""
from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from . import publish
from .db import insert_rows
from .silver_tables import month_part

log = logging.getLogger("nova.facts")

SELECT = """SELECT requisition_key, item_id, description, depot, family, supplier, quantity, unit, request_date, purchase_date,
       required_date, request_no, purchase_date - request_date AS lead_time_days,
       coalesce(purchase_date < request_date, false) AS lead_time_negative,
       is_service(unit, family) AS is_service, source_file, source_line
FROM {rows} WHERE request_date >= $start OR request_date IS NULL"""
LAYOUT = hashlib.sha1(SELECT.encode()).hexdigest()[:16]
PART = month_part("request_date")
# In request-date order, so a month's lines share row groups: deleting a month, or the days before the
# window's new first day, rewrites a few row groups at the checkpoint instead of every one (0.4 s at 10M).
# One ordered statement, not one per month: 1.4 s faster and 50 MB smaller at 10,000,000 lines.
ORDER = "ORDER BY request_date NULLS LAST"
KEEP = ("gold", "fact_requisition")


@dataclass
class Previous:
    """What the copied version's lines were made from."""
    start: date | None
    parts: dict[str, str]  # partition -> its files, joined


def copy_previous(warehouse: Path, version: int | None, target: Path) -> Previous | None:
    """Copy the serving version to `target` when its lines can be carried over; None (and no file) if not."""
    if version is None:
        return None
    source = publish.version_file(warehouse, version)
    try:
        con = duckdb.connect(str(source), read_only=True)
        try:
            rows = con.execute("SELECT part, files, window_start, layout FROM meta.fact_requisition_parts").fetchall()
        finally:
            con.close()
    except duckdb.Error:
        return None  # an older version without the record, or unreadable: the table is written whole
    if not rows or any(r[3] != LAYOUT for r in rows):
        return None
    expected = publish.recorded_sha256(source)
    # The kernel copies (copy_file_range) while a thread hashes the source: 0.06 s for a 100 MB version
    # against 0.12-0.22 s for one loop that reads, hashes and writes. Published versions are never
    # rewritten, and the build lock is held, so the bytes hashed are the bytes copied.
    digest = hashlib.sha256()
    failed: list[OSError] = []

    def hash_source() -> None:
        try:
            with open(source, "rb") as src:
                while chunk := src.read(4 << 20):
                    digest.update(chunk)  # hashlib lets go of the GIL on big chunks
        except OSError as exc:
            failed.append(exc)

    hasher = threading.Thread(target=hash_source, name="hash-previous")
    hasher.start()
    try:
        shutil.copyfile(source, target)
    except OSError:
        target.unlink(missing_ok=True)
        raise
    finally:
        hasher.join()
    if failed:
        target.unlink(missing_ok=True)
        raise failed[0]
    if expected is None or digest.hexdigest() != expected:
        log.warning("event=previous_not_reused version=%d reason='bytes differ from the sha256 recorded at publish'",
                    version)
        target.unlink(missing_ok=True)
        return None
    return Previous(rows[0][2], {r[0]: r[1] for r in rows if r[0] is not None})


def clear_copy(con: duckdb.DuckDBPyConnection, keep: set[str] = frozenset()) -> None:
    """Drop everything of the copied version but its lines and the gold tables named in `keep`
    ('gold.name': carry.py decides which of them are made again)."""
    for schema, name, kind in con.execute(
            "SELECT schema_name, table_name, 'TABLE' FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database() "
            "UNION ALL SELECT schema_name, view_name, 'VIEW' FROM duckdb_views() WHERE NOT temporary AND NOT internal "
            "AND database_name = current_database()").fetchall():
        if (schema, name) != KEEP and f"{schema}.{name}".lower() not in keep:
            con.execute(f'DROP {kind} "{schema}"."{name}"')
    for (schema,) in con.execute("SELECT schema_name FROM duckdb_schemas() WHERE NOT internal AND database_name = current_database() "
                                 "AND schema_name NOT IN ('main', 'gold')").fetchall():
        con.execute(f'DROP SCHEMA "{schema}"')
    con.execute("CHECKPOINT")  # the dropped tables' blocks are free for this build's tables


def update(con: duckdb.DuckDBPyConnection, relation, window: dict[str, list[str]], start: date | None,
           previous: Previous | None, relation_of=None) -> str | None:
    """Make gold.fact_requisition the lines of `window` (partition -> silver files) from `start` on, plus
    undated lines; `relation(parts)` is the SQL of those partitions' rows, `relation_of({part: files})`
    that of the rows of some of their files. Records what it was made from. Returns, when the table
    started from the copied version, a condition on its rows that every row inserted here meets (and
    maybe some others): 'false' when nothing was inserted (a stock snapshot or an ML drop: the copy's
    lines, some deleted). None when the table was written whole."""
    files = {p: "\n".join(fs) for p, fs in window.items()}
    if previous is None:
        con.execute("CREATE SCHEMA IF NOT EXISTS gold")
        con.execute(f"CREATE TABLE gold.fact_requisition AS {SELECT.format(rows=relation(set(window)))} {ORDER}",
                    {"start": start})
        reloaded, deleted, appended = set(window), set(), {}
    else:
        # The window's first day moved forward (a newer snapshot): its lines before that day go, nothing
        # is reloaded for it. Backward (or from no data): the months it now reaches back into are reloaded.
        trim = start is not None and previous.start is not None and start > previous.start
        moved = set()
        if start is not None and (previous.start is None or start < previous.start):
            moved = {p for p in window if p != "none" and _month(start) <= p
                     and (previous.start is None or p <= _month(previous.start))}
        reloaded = {p for p in window if previous.parts.get(p) != files[p] or p in moved}
        # a partition whose new lines were appended as a file of their own (silver.py): only those go in
        appended = {p: window[p][len(previous.parts[p].split("\n")):] for p in reloaded
                    if relation_of is not None and p not in moved and previous.parts.get(p)
                    and files[p].startswith(previous.parts[p] + "\n")}
        reloaded -= set(appended)
        deleted = (set(previous.parts) - set(window)) | (reloaded & set(previous.parts))
        where = [f"{PART} IN ({', '.join(_quoted(deleted))})"] if deleted else []
        if trim:
            where.append("request_date < $start")
        if where:
            con.execute(f"DELETE FROM gold.fact_requisition WHERE {' OR '.join(where)}", {"start": start} if trim else None)
        if reloaded:
            con.execute(f"INSERT INTO gold.fact_requisition {SELECT.format(rows=relation(reloaded))} {ORDER}",
                        {"start": start})
        if appended:
            con.execute(f"INSERT INTO gold.fact_requisition {SELECT.format(rows=relation_of(appended))} {ORDER}",
                        {"start": start})
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute("CREATE OR REPLACE TABLE meta.fact_requisition_parts (part VARCHAR, files VARCHAR, window_start DATE, layout VARCHAR)")
    insert_rows(con, "meta.fact_requisition_parts",
                [(p, files[p], start, LAYOUT) for p in sorted(window)] or [(None, None, start, LAYOUT)])
    log.info("event=fact_requisition reused=%s reloaded=%d deleted=%d appended=%d", previous is not None, len(reloaded),
             len(deleted), len(appended))
    if previous is None:
        return None
    inserted = [f"{PART} IN ({', '.join(_quoted(reloaded))})"] if reloaded else []
    if appended:  # the appended files' lines, by the exports they came from (a name sent before: more rows)
        names = {r[0] for r in con.execute(f"SELECT DISTINCT source_file FROM {relation_of(appended)}").fetchall()}
        if names - {None}:
            inserted.append(f"source_file IN ({', '.join(_quoted(names - {None}))})")
        if None in names:
            inserted.append("source_file IS NULL")
    return " OR ".join(inserted) or "false"


def _month(d: date) -> str:
    return f"{d:%Y-%m}"


def _quoted(parts) -> list[str]:
    return ["'" + p.replace("'", "''") + "'" for p in sorted(parts)]
