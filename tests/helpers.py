from __future__ import annotations

from contextlib import contextmanager

import duckdb

from nova_pipeline.config import Config


@contextmanager
def warehouse(cfg: Config, file=None):
    """Open the published current version read-only (closed again on exit: DuckDB caches per path)."""
    con = duckdb.connect(str(file or cfg.warehouse / "current.duckdb"), read_only=True)
    try:
        yield con
    finally:
        con.close()


def one(con, sql, params=None):
    return con.execute(sql, params).fetchone()[0]


@contextmanager
def lake_lines(cfg: Config):
    """Every supplies line of all history (the lake's silver.requisition) as the view `lines`."""
    from nova_pipeline.silver import open_lines

    con = open_lines(cfg.lake)
    try:
        yield con
    finally:
        con.close()


def dict_rows(path, sql: str, params=None) -> list[dict]:
    """Rows of a query on a warehouse file as dicts, opened read-only the way the dashboard opens it
    (DuckDB refuses a second, differently configured, open of one file in one process)."""
    con = duckdb.connect(str(path), read_only=True, config={
        "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
