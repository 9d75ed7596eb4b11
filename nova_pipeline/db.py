"""DuckDB connections: offline (no extension downloads) and with the project's SQL macros."""
from __future__ import annotations

import logging
import re
import time
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb

OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


@cache
def sql_text(name: str) -> str:
    """The text of nova_pipeline/sql/<name>.sql."""
    return resources.files("nova_pipeline").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def connect(path: str | Path = ":memory:", read_only: bool = False, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    config = dict(OFFLINE)
    if threads:
        config["threads"] = threads
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    con.execute("SET enable_progress_bar = false")  # it would be drawn into the service's log on a long statement
    if not read_only:
        con.execute(sql_text("macros"))
    return con


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether the file holds schema.table (files built by older releases lack newer tables)."""
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def drop_temp(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Drop temporary relations, each a view or a table, where they exist."""
    for name in names:
        if con.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = ?", [name]).fetchone()[0]:
            con.execute(f"DROP VIEW {name}")
        else:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows, row_sql: str | None = None) -> None:
    """INSERT many rows with one statement per 500 rows. `executemany` runs one statement per row,
    which cost 0.35 s of every build for the catalog alone. row_sql: one row's placeholders, e.g.
    "(?, ?::DATE)" (default: a plain ? per value)."""
    rows = [tuple(r) for r in rows]
    if not rows:
        return
    one = row_sql or "(" + ", ".join("?" * len(rows[0])) + ")"
    for start in range(0, len(rows), 500):
        chunk = rows[start:start + 500]
        con.execute(f"INSERT INTO {table} VALUES " + ", ".join([one] * len(chunk)), [v for r in chunk for v in r])


def size_bytes(text: str) -> int:
    """Bytes of a DuckDB size setting as it shows it ('488.2 MiB', '1.8 GiB', '512 bytes'), 0 if unreadable."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)(i?)B?(ytes)?\s*", text, re.IGNORECASE)
    if not m:
        return 0
    base = 1024 if m[3] or not m[2] else 1000
    return int(float(m[1]) * base ** " KMGT".index(m[2].upper() or " "))


def sql_path(path: str | Path) -> str:
    """A path inside a single-quoted SQL string literal."""
    return str(path).replace("'", "''")


log = logging.getLogger("nova.sql")


def run_script(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Run every statement of sql/<name>.sql; `$name` placeholders come from params."""
    timed = log.isEnabledFor(logging.DEBUG)  # [log] level = "debug": the cost of every statement
    for statement in split_statements(sql_text(name)):
        used = {k: v for k, v in (params or {}).items() if f"${k}" in statement}
        start = time.perf_counter()
        con.execute(statement, used) if used else con.execute(statement)
        if timed:
            head = " ".join(statement.split())[:80]
            log.debug("event=sql script=%s seconds=%.3f statement=%r", name, time.perf_counter() - start, head)


def split_statements(text: str) -> list[str]:
    # Our .sql files keep one statement per `;` at a line end; no string literal ends a line with `;`.
    parts, current = [], []
    for line in text.splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            parts.append("\n".join(current).strip())
            current = []
    tail = "\n".join(current).strip()
    if tail:
        parts.append(tail)
    return [p for p in parts if p.strip(" ;\n")]
