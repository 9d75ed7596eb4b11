"""`nova-pipeline export`: the gold tables for people without DuckDB, in exports/gold_vNNNNNN/.

Each table as Parquet (exact types) and as CSV the way Excel in Brazil opens it: `;` between
fields, decimal comma, UTF-8 with a byte-order mark, ISO dates. Text that Excel would run as a
formula (starting with = + - @, tab or CR) gets a leading `'`; numbers are written as numbers.
Everything is done by DuckDB's COPY (no Python loop over rows); the folder is written under a
temporary name and renamed, so a half-written export is never seen.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from .catalog import TABLES
from .config import Config
from .db import sql_path
from .progress import Progress, silent
from .status import open_warehouse

FORMULA_START = "^[=+@\\t\\r-]"  # RE2: a text starting with = + @ tab CR or -
NUMBER_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
BOM = b"\xef\xbb\xbf"


def excel_select(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A SELECT of the table with each column written the way Excel-BR reads it."""
    cols = []
    for name, dtype in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema || '.' || table_name = ? "
            "ORDER BY ordinal_position", [table]).fetchall():
        q = f'"{name}"'
        if dtype == "VARCHAR":
            cols.append(f"CASE WHEN regexp_matches({q}, '{FORMULA_START}') THEN chr(39) || {q} ELSE {q} END AS {q}")
        elif dtype.startswith(NUMBER_TYPES):
            cols.append(f"replace({q}::VARCHAR, '.', ',') AS {q}")
        else:
            cols.append(q)
    return f"SELECT {', '.join(cols)} FROM {table}"


def export(cfg: Config, progress: Progress = silent) -> tuple[Path, list[tuple[str, int]]]:
    con, _ = open_warehouse(cfg)
    try:
        version, built_at, as_of = con.execute("SELECT version, built_at, as_of FROM meta.build").fetchone()
        tables = [f"gold.{t}" for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'gold' ORDER BY table_name").fetchall()]
        final = cfg.exports / f"gold_v{version:06d}"
        tmp = cfg.exports / f".gold_v{version:06d}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        counts = []
        for i, table in enumerate(tables):
            progress("export", i, len(tables))
            name = table.split(".")[1]
            con.execute(f"COPY {table} TO '{sql_path(tmp / f'{name}.parquet')}' (FORMAT parquet, COMPRESSION zstd)")
            plain = tmp / f".{name}.csv.part"
            con.execute(f"COPY ({excel_select(con, table)}) TO '{sql_path(plain)}' "
                        "(FORMAT csv, HEADER, DELIMITER ';', QUOTE '\"', NEW_LINE '\\r\\n')")
            with open(tmp / f"{name}.csv", "wb") as out, open(plain, "rb") as src:
                out.write(BOM)
                shutil.copyfileobj(src, out, 1 << 20)
            plain.unlink()
            counts.append((name, con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]))
        progress("export", len(tables), len(tables))
    finally:
        con.close()
    (tmp / "README.md").write_text(readme(version, built_at, as_of, counts), encoding="utf-8")
    if final.exists():
        old = cfg.exports / f".gold_v{version:06d}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(tmp, final)
    return final, counts


def readme(version: int, built_at, as_of, counts: list[tuple[str, int]]) -> str:
    lines = [f"# Nova Corrente warehouse v{version}: gold tables", "",
             f"As of {as_of}; built {built_at:%Y-%m-%d %H:%M} UTC. Written by `nova-pipeline export`.", "",
             "Each table is here twice:", "",
             "- `<table>.parquet`: exact types, for Python, R, Power BI or DuckDB.",
             "- `<table>.csv`: for Excel in Brazil: `;` between fields, decimal comma, UTF-8 with BOM, dates as "
             "yyyy-mm-dd. Text that would start a formula (= + - @, tab, CR) begins with `'`. Excel reads codes "
             "such as item `010090` as numbers and drops the leading zero: use the Parquet file, or import the "
             "column as text, when codes matter.", "",
             "| table | rows | what it holds |", "| --- | ---: | --- |"]
    for name, n in counts:
        lines.append(f"| {name} | {n:,} | {TABLES.get(f'gold.{name}', ('',))[0]} |")
    lines += ["", "Every column is described in `docs/warehouse.md` of the pipeline and in the warehouse file's "
              "`meta.tables`."]
    for name, _ in counts:
        desc = TABLES.get(f"gold.{name}")
        if desc:
            lines += ["", f"## {name}", ""] + [f"- `{c}`: {d}" for c, d in desc[1].items()]
    return "\n".join(lines) + "\n"
