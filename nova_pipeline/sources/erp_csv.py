"""Reader for the ERP's CSV exports (supplies and stock position).

The file is transcoded to UTF-8, then DuckDB reads it as numbered whole lines (`WITH ORDINALITY`
is exact in parallel reads) and splits the fields set-based, so every row keeps its real line
number and its raw text, and loaded + rejected = rows read by construction.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

import duckdb

from ..errors import DropRejected
from . import Column, CsvKind
from .text import detect_encoding, read_header, transcode

LINE_DELIM = chr(31)  # never present: transcode() refuses control bytes
# A field after its ';' (the line gets a leading ';' so every match consumes at least one
# character): quoted ("" escapes a quote) or unquoted up to the next ';'.
FIELD_RE = r';("(?:[^"]|"")*"|[^;"]*)'


def _norm_header(name: str) -> str:
    return unicodedata.normalize("NFC", name.strip().strip('"').strip()).upper()


def map_header(kind: CsvKind, header: str) -> dict[str, int]:
    """Column name -> 1-based field position, by header name (so a reordered export still reads)."""
    found = [_norm_header(h) for h in header.split(";")]
    positions, missing = {}, []
    for col in kind.columns:
        wanted = _norm_header(col.header)
        if wanted in found:
            positions[col.name] = found.index(wanted) + 1
        else:
            missing.append(col.header)
    if missing:
        shown = ", ".join(h for h in header.split(";")[:12]) or "(nothing)"
        raise DropRejected(
            f"not a {kind.kind} export: missing column(s) {', '.join(missing)}; header read: {shown[:200]}"
        )
    return positions


def _reason_sql(col: Column) -> list[str]:
    """SQL CASE arms giving the reason a value is unusable, or nothing."""
    v = f'"{col.name}"'
    label = col.header
    arms = []
    if col.required:
        arms.append(f"WHEN clean_text({v}) IS NULL THEN '{label} is empty'")
    if col.type == "number":
        arms.append(
            f"WHEN clean_text({v}) IS NOT NULL AND br_number({v}) IS NULL "
            f"THEN '{label} ''' || {v} || ''' is not a number'"
        )
        if col.minimum is not None:
            op = "<=" if col.exclusive else "<"
            word = "greater than" if col.exclusive else "at least"
            arms.append(
                f"WHEN br_number({v}) {op} {col.minimum} OR isinf(br_number({v})) OR isnan(br_number({v})) "
                f"THEN '{label} must be {word} {col.minimum:g}, got ' || {v}"
            )
    if col.type == "date":
        arms.append(
            f"WHEN clean_text({v}) IS NOT NULL AND br_date({v}) IS NULL "
            f"THEN '{label} ''' || {v} || ''' is not a date (dd/mm/yyyy)'"
        )
        arms.append(
            f"WHEN br_date({v}) IS NOT NULL AND NOT plausible_date(br_date({v})) "
            f"THEN '{label} ' || {v} || ' is out of range (2000-2099)'"
        )
    return arms


def read_erp_csv(con: duckdb.DuckDBPyConnection, kind: CsvKind, path: Path, staging: Path) -> tuple[str, str]:
    """Stage the file as temp tables `<kind>_ok` (bronze columns, all text) and `<kind>_rejected`.

    Returns (ok_table, rejected_table). Raises DropRejected when the file cannot be read at all.
    """
    encoding = detect_encoding(path)
    utf8 = staging / (path.name + ".utf8")
    try:
        transcode(path, utf8, encoding)
        positions = map_header(kind, read_header(utf8))
        n_fields = len(read_header(utf8).split(";"))
        ok, rejected = f"{kind.kind}_ok", f"{kind.kind}_rejected"
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _lines AS
            SELECT ordinality::BIGINT AS line_number, rtrim(raw, chr(13)) AS raw
            FROM read_csv(?, columns={{'raw': 'VARCHAR'}}, header=false, delim='{LINE_DELIM}',
                          quote='', escape='', auto_detect=false, strict_mode=false) WITH ORDINALITY
            """,
            [str(utf8)],
        )
        # Quoted lines go through the regex; the rest (most) through a plain split.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _split AS
            SELECT line_number, raw, parts,
                   list_transform(parts, lambda p: CASE WHEN starts_with(p, '"')
                       THEN replace(p[2:-2], '""', '"') ELSE p END) AS f
            FROM (
                SELECT line_number, raw,
                       CASE WHEN strpos(raw, '"') = 0 THEN string_split(raw, ';')
                            ELSE regexp_extract_all(';' || raw, '{FIELD_RE}', 1) END AS parts
                FROM _lines
                WHERE line_number > 1 AND raw IS NOT NULL AND trim(raw) <> ''
            )
            """
        )
        select_cols = ", ".join(f'f[{positions[c.name]}] AS "{c.name}"' for c in kind.columns)
        arms = " ".join(a for c in kind.columns for a in _reason_sql(c))
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _typed AS
            SELECT line_number, raw, {select_cols},
                CASE
                    WHEN array_to_string(parts, ';') <> raw THEN 'malformed quoting (a quote is not closed or stray)'
                    WHEN len(parts) <> {n_fields} THEN 'expected {n_fields} fields, found ' || len(parts)
                    {arms}
                END AS reason
            FROM _split
            """
        )
        names = ", ".join(f'"{c.name}"' for c in kind.columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {ok} AS SELECT line_number, {names} FROM _typed WHERE reason IS NULL")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {rejected} AS "
            f"SELECT line_number, reason, raw AS raw_line FROM _typed WHERE reason IS NOT NULL"
        )
        total = con.execute("SELECT count(*) FROM _split").fetchone()[0]
        if total == 0:
            raise DropRejected("header only: the export has no data rows")
        return ok, rejected
    finally:
        utf8.unlink(missing_ok=True)
        con.execute("DROP TABLE IF EXISTS _lines; DROP TABLE IF EXISTS _split; DROP TABLE IF EXISTS _typed")
