"""The SQL silver is read and written with: bronze files as silver reads them, the lake's Parquet files
by exact name, month partitions as date ranges, and the typed empty views that stand for a table with
no file yet. Plain functions of their arguments (no state), used by silver.py, build.py and replay.py."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import duckdb

from .db import OFFLINE, sql_path
from .silver_tables import SUMMARIES, TABLES, SilverTable
from .sources.erp_csv import NO_HASH, with_occurrence

# a held supplies line of the same item and request date as one of `like`'s (NULL dates alike)
SAME_ITEM_DAY = ("({item}, coalesce({day}, DATE '0001-01-01')) IN "
                 "(SELECT item_id, coalesce(request_date, DATE '0001-01-01') FROM {like})")


def bronze_sql(con: duckdb.DuckDBPyConnection, files: list[Path], parsed: tuple[tuple[str, str], ...] = (),
               names: dict[str, set[str]] | None = None, fields=()) -> str:
    """The rows of these bronze files as silver reads them, with the `parsed` columns. A supplies export
    checked straight into bronze (its file has a `reason` column and holds every line, the rejected ones
    too) is read for its loaded lines, numbered by with_occurrence per export (sha256) as ingestion
    numbers the others; files written by the other readers, or before this layout, hold loaded rows with
    their occurrence already. Files from before the parsed values were kept get them from their text.
    `names`: the files' columns (parquet_columns), when the caller read them already. `fields`: the kind's
    columns, from which a checked file without content hashes (HASH_IN_BRONZE) gets them."""
    names = names or parquet_columns(con, files)

    def has(f: Path, column: str) -> bool:
        return column in names[str(f)]

    adds = parsed_select(parsed)
    old = [f for f in files if not has(f, "reason")]
    # checked files, by what they lack: the parsed values (older files), the content hash (newer ones)
    checked: dict[str, list[Path]] = {}
    for f in files:
        if has(f, "reason"):
            lacks = ("" if parsed and has(f, parsed[0][0]) else adds) + ("" if has(f, "content_hash") else NO_HASH)
            checked.setdefault(lacks, []).append(f)
    parts = [f"SELECT *{adds} FROM {parquet_sql(old, union_by_name=True)}"] if old else []
    lines = [f"SELECT * EXCLUDE (raw, reason){extra} FROM {parquet_sql(group, union_by_name=True)} WHERE reason IS NULL"
             for extra, group in sorted(checked.items())]
    if lines:
        parts.append(f"SELECT * FROM {with_occurrence('(' + ' UNION ALL BY NAME '.join(lines) + ')', by='sha256', fields=fields)}")
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"


def no_hash(file: Path) -> str:
    """NO_HASH for a checked bronze file written without content hashes (HASH_IN_BRONZE), else ''."""
    st = file.stat()
    return "" if "content_hash" in _file_columns(str(file), st.st_size, st.st_mtime_ns) else NO_HASH


@lru_cache(maxsize=256)
def _file_columns(path: str, size: int, mtime_ns: int) -> frozenset[str]:
    """A Parquet file's column names, from its footer (bronze files never change once written)."""
    con = duckdb.connect(config=dict(OFFLINE))
    try:
        return frozenset(parquet_columns(con, [Path(path)])[str(Path(path))])
    finally:
        con.close()


def line_fields(table: SilverTable) -> list[str]:
    """The fields of a table's kind that make a line's content hash (its CSV columns), or [] for other kinds."""
    from .sources.registry import BY_KIND

    return [c for c, _ in BY_KIND[table.kinds[0]].columns if c not in ("content_hash", "occurrence")] \
        if table.bronze_date else []


def parsed_select(parsed: tuple[tuple[str, str], ...]) -> str:
    """', <sql> AS <name>' for each parsed column: what a SELECT * adds for a bronze file without them."""
    return "".join(f", {sql} AS {name}" for name, sql in parsed)


def parquet_columns(con: duckdb.DuckDBPyConnection, files: list[Path]) -> dict[str, set[str]]:
    """Each file's column names (from the footers), by str(file)."""
    names: dict[str, set[str]] = {str(f): set() for f in files}
    for file, name in con.execute(f"SELECT file_name, name FROM parquet_schema([{_listed(files)}])").fetchall():
        names.setdefault(file, set()).add(name)
    return names


def files_serving(held: dict[str, list[str]]) -> dict[str, list[str]]:
    """part -> its files, turned into file -> the parts it serves."""
    by_file: dict[str, list[str]] = {}
    for p, rels in sorted(held.items()):
        for r in rels:
            by_file.setdefault(r, []).append(p)
    return by_file


def served_by_bronze(rel: str) -> bool:
    """A manifest entry naming a drop's bronze file (outside silver), not a silver file (see _merge_table)."""
    return rel.startswith("../")


def month_filter(column: str, parts) -> str:
    """SQL true for the rows of these month partitions ('2025-10', or 'none' for no date): date ranges,
    which cost a comparison a row (strftime would cost a string) and let Parquet skip row groups."""
    months = sorted(p for p in parts if p != "none")
    ranges: list[list[date]] = []
    for m in months:
        first = date.fromisoformat(f"{m}-01")
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        if ranges and ranges[-1][1] == first:
            ranges[-1][1] = following
        else:
            ranges.append([first, following])
    terms = [f"({column} >= DATE '{a}' AND {column} < DATE '{b}')" for a, b in ranges]
    if "none" in parts:
        terms.append(f"{column} IS NULL")
    return " OR ".join(terms) or "false"


def in_list(values) -> str:
    return ", ".join(repr(v) for v in sorted(values))


def parquet_sql(files: list[Path], union_by_name: bool = False) -> str:
    """read_parquet over exact files (no hive columns from the part=... folders), or '' for none."""
    if not files:
        return ""
    union = ", union_by_name=true" if union_by_name else ""
    return f"read_parquet([{_listed(files)}], hive_partitioning=false{union})"


def _listed(files: list[Path]) -> str:
    """The files as the items of a SQL list literal (single-quoted: repr() would double-quote a path holding
    a quote, which SQL reads as an identifier)."""
    return ", ".join(f"'{sql_path(f)}'" for f in files)


def create_empty_views(con: duckdb.DuckDBPyConnection) -> None:
    """Typed, empty `_empty_<table>` views, for each silver table and summary with no file yet."""
    from .sources.registry import BY_KIND

    for table in TABLES:
        empty = BY_KIND[table.kinds[0]].empty_bronze_sql()
        if table.parsed:
            empty = f"SELECT *{parsed_select(table.parsed)} FROM ({empty})"
        con.execute(f"CREATE OR REPLACE TEMP VIEW _empty_{table.name} AS "
                    f"SELECT * FROM ({table.select.format(bronze=f'({empty})')}) WHERE false")
    rows = "(SELECT *, NULL::VARCHAR AS part, NULL::BOOLEAN AS svc FROM _empty_requisition)"
    demand = f"({SUMMARIES['req_demand'].format(rows=rows)})"
    for name, sql in SUMMARIES.items():
        con.execute(f"CREATE OR REPLACE TEMP VIEW _empty_{name} AS "
                    f"SELECT * EXCLUDE (part) FROM ({sql.format(rows=rows, demand=demand)}) WHERE false")
