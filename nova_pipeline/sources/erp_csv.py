"""Reader for the ERP's CSV exports (supplies and stock position).

The file is transcoded to UTF-8 when it must be, then DuckDB reads it as numbered whole lines
(`WITH ORDINALITY` is exact in parallel reads) and splits and checks the fields set-based: a supplies
export straight into its bronze file (its lines are written once), the other kinds into a temp table
(or, for a big file, a staging Parquet file, so no second in-memory copy of it is made). Every row
keeps its real line number and its raw text, and loaded + rejected = rows read by construction.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

import duckdb

from ..bronze import BronzeTarget
from ..db import drop_temp, size_bytes, sql_path
from ..errors import DropRejected
from . import Column, CsvKind
from .dupes import reject_repeated_keys
from .text import detect_encoding, excerpt, read_header, transcode

LINE_DELIM = chr(31)  # never present: transcode() refuses control bytes
# DuckDB refuses a whole file when one line passes its max_line_size (2 MB by default). We let it
# read lines up to READ_LINE_LIMIT and reject, as a row with its reason, any line over MAX_LINE_BYTES:
# no ERP line is that long, and the rest of the file loads.
MAX_LINE_BYTES = 64 << 10
READ_LINE_LIMIT = 32 << 20
READ_BUFFER = max(64 << 20, 2 * READ_LINE_LIMIT)  # DuckDB would size its buffer at 16 × the line limit
STAGED = "_staged.parquet"  # in the lake's temp folder: one drop is staged at a time (build lock held)
# A file under this size is staged in one in-memory table (1M lines, 116 MB: 0.3 s faster); a bigger one
# through the staging file, so a 10,000,000-line export is not held, and spilled, a second time.
IN_MEMORY_BYTES = 192 << 20
VALUE_EXCERPT = 40  # characters of a bad value quoted in its reason
RAW_EXCERPT = 500   # characters kept of an over-long line in meta.rejected_rows
# A field with its leading ';' (the line gets one too, so every match consumes at least one
# character): quoted ("" escapes a quote) or unquoted up to the next ';'. No capture group:
# RE2 is over twice as fast without one.
FIELD_RE = r';(?:"[^"]*(?:""[^"]*)*"|[^;"]*)'
# A supplies export's bronze file holds no content hash: silver computes it (line_hash_sql) for the lines
# it reads keyed, the reorder window's and a merged partition's. The md5 of every line and its 32 random
# hex characters cost 3.5 s of a 10,000,000-line check (15.3 -> 11.8 s) and half its bronze file (311 ->
# 145 MiB). Bronze files written before keep theirs, which equals what line_hash_sql computes.
HASH_IN_BRONZE = False
NO_HASH = ", NULL::VARCHAR AS content_hash"  # what a checked file without content hashes is read with


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
        shown = excerpt(", ".join(h for h in header.split(";")[:12])) or "(nothing)"
        raise DropRejected(
            f"not a {kind.kind} export: missing column(s) {', '.join(missing)}; header read: {shown}"
        )
    return positions


def parsed_columns(kind: CsvKind) -> tuple[tuple[str, str], ...]:
    """(`_p_<name>`, SQL over the text) for each typed column: every value is parsed once, by the check,
    and the supplies export's bronze file keeps the results for silver (silver_tables.TABLES' `parsed`)."""
    return tuple((f"_p_{c.name}", f'{"br_number" if c.type == "number" else "br_date"}("{c.name}")')
                 for c in kind.columns if c.type != "text")


def _reason_sql(col: Column, max_number: float | None = None) -> list[str]:
    """SQL CASE arms giving the reason a value is unusable, or nothing. A value is quoted in its
    reason only as a short excerpt (VALUE_EXCERPT characters, control characters replaced)."""
    v = f'"{col.name}"'
    shown = f"excerpt({v}, {VALUE_EXCERPT})"
    p = f'"_p_{col.name}"'
    label = col.header
    arms = []
    if col.required:
        arms.append(f"WHEN clean_text({v}) IS NULL THEN '{label} is empty'")
    if col.type == "number":
        arms.append(
            f"WHEN {p} IS NULL AND clean_text({v}) IS NOT NULL "
            f"THEN '{label} ''' || {shown} || ''' is not a number (write 1.234,5: ''.'' between groups of "
            f"three digits, '','' before the decimals)'"
        )
        if col.minimum is not None:
            op = "<=" if col.exclusive else "<"
            word = "greater than" if col.exclusive else "at least"
            arms.append(
                f"WHEN {p} {op} {col.minimum} OR isinf({p}) OR isnan({p}) "
                f"THEN '{label} must be {word} {col.minimum:g}, got ' || {shown}"
            )
        if col.maximum is not None:
            arms.append(
                f"WHEN {p} > {col.maximum} "
                f"THEN '{label} must be at most {col.maximum:g}, got ' || {shown}"
            )
        if max_number is not None:
            arms.append(
                f"WHEN {p} > {float(max_number)!r} "
                f"THEN '{label} ' || {shown} || ' is above the plausible maximum {max_number:,.0f} "
                f"([ingest] max_quantity)'"
            )
    if col.type == "date":
        arms.append(
            f"WHEN {p} IS NULL AND clean_text({v}) IS NOT NULL "
            f"THEN '{label} ''' || {shown} || ''' is not a date (dd/mm/yyyy)'"
        )
        arms.append(
            f"WHEN NOT plausible_date({p}) "
            f"THEN '{label} ' || {shown} || ' is out of range (2000-2099)'"
        )
    return arms


def line_hash_sql(columns, alias: str = "") -> str:
    """The content hash of a loaded line from its fields: the md5 of the trimmed fields joined by chr(31)
    (no loaded field holds a control character, so equal joins mean equal fields)."""
    return f"md5({_joined(columns, alias)})"


def _joined(columns, alias: str = "") -> str:
    return f"concat_ws(chr(31), {_trimmed(columns, alias)})"


def _trimmed(columns, alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    return ", ".join(f'trim({a}"{c}")' for c in columns)


def read_erp_csv(con: duckdb.DuckDBPyConnection, kind: CsvKind, path: Path, staging: Path,
                 max_number: float | None = None, bronze: BronzeTarget | None = None) -> tuple[str, str]:
    """Stage the file as `<kind>_ok` (a view with the bronze columns, all text) and the temp table `<kind>_rejected`.

    A kind without a unique key (the supplies export) is written to `bronze.tmp` in the same pass that
    checks it: every line with its number, fields, reason (NULL when loaded; the raw text kept for
    rejected lines only) and parsed values (`_p_<column>`: silver reads them instead of parsing the text
    again). Its content hashes and occurrence numbers are left to silver (`silver_sql.bronze_sql`,
    HASH_IN_BRONZE). The other kinds' staged rows carry their content hash.
    Returns (ok_table, rejected_table). Raises DropRejected when the file cannot be read at all.
    """
    encoding, bare_cr = detect_encoding(path)
    utf8 = staging / (path.name + ".utf8")
    ok, rejected = f"{kind.kind}_ok", f"{kind.kind}_rejected"
    try:
        # read with the file's own line end: CRLF, as the ERP writes, or LF
        header, crlf = read_header(path, "utf-8-sig" if encoding.startswith("utf-8") else encoding)
        source = path
        if encoding == "cp1252" or bare_cr:  # bytes 0x80-0x9F: DuckDB's latin-1 would refuse them; a lone CR
            transcode(path, utf8, encoding, ("\r\n" if crlf else "\n") if bare_cr else None)
            source, encoding = utf8, "utf-8"
        newline = "\\r\\n" if crlf else "\\n"
        positions = map_header(kind, header)
        n_fields = len(header.split(";"))
        # Quoted lines (few) go through the regex and unquoting; the rest through a plain split.
        select_cols = ", ".join(f'f[{positions[c.name]}] AS "{c.name}"' for c in kind.columns)
        parsed = ", ".join(f'{sql} AS "{name}"' for name, sql in parsed_columns(kind))
        arms = " ".join(a for c in kind.columns for a in _reason_sql(c, max_number))
        names = ", ".join(f'"{c.name}"' for c in kind.columns)
        # the parsed values are kept (bronze holds them next to the text, so silver does not parse again)
        kept = "".join(f', "{name}"' for name, _ in parsed_columns(kind))
        # The raw line is kept for rejected rows only (memory), unless repeated keys may reject more later.
        raw_kept = "raw" if kind.unique else "CASE WHEN reason IS NOT NULL THEN raw END AS raw"
        to_bronze = bronze is not None and not kind.unique
        hashed = not to_bronze or HASH_IN_BRONZE
        # the md5 of the trimmed fields joined by chr(31) (line_hash_sql); an unquoted line without spaces
        # around its fields is exactly those fields joined by ';', so it is hashed from the line itself
        content_hash = (f"""md5(CASE WHEN NOT quoted AND strpos(raw, ' ;') = 0 AND strpos(raw, '; ') = 0
                                      AND NOT starts_with(raw, ' ') AND NOT ends_with(raw, ' ')
                                 THEN replace(raw, ';', chr(31))
                                 ELSE {_joined(c.name for c in kind.columns)} END) AS content_hash,"""
                        if hashed else "")
        # Numbered lines: WITH ORDINALITY is exact in parallel reads (checked at 10,000,000 lines), but whatever
        # consumes it in the same pipeline runs on one thread. So the file is read once per thread, each read
        # keeping every k-th line by its number: k pipelines split and check side by side in one
        # statement, and no line is held or spilled. (Numbering the lines into a temp table first, then
        # checking them in parallel, cost 4.1 s at 10,000,000 lines, spilling: 17.4 -> 12.7 s.)
        k = readers(con)
        reader = (f"read_csv('{sql_path(source)}', columns={{'raw': 'VARCHAR'}}, header=false, delim='{LINE_DELIM}', "
                  f"new_line='{newline}', quote='', escape='', auto_detect=false, strict_mode=false, "
                  f"encoding='{encoding.removesuffix('-sig')}', max_line_size={READ_LINE_LIMIT}, "
                  f"buffer_size={READ_BUFFER}) WITH ORDINALITY")
        numbered = " UNION ALL ".join(
            f"SELECT ordinality::BIGINT AS line_number, raw FROM {reader}" + (f" WHERE ordinality % {k} = {i}" if k > 1 else "")
            for i in range(k))
        typed = f"""
            WITH lines AS (
                SELECT line_number, {"raw" if crlf else "rtrim(raw, chr(13)) AS raw"} FROM ({numbered})
            ), split AS (
                SELECT line_number, raw, quoted,
                       CASE WHEN quoted THEN regexp_extract_all(';' || raw, '{FIELD_RE}')
                            ELSE string_split(raw, ';') END AS parts
                FROM (SELECT *, strpos(raw, '"') > 0 AS quoted FROM lines)
                WHERE line_number > 1 AND raw IS NOT NULL AND (strlen(raw) > 8 OR trim(raw) <> '')
            ), fields AS (
                SELECT line_number, raw, parts, quoted,
                       CASE WHEN quoted THEN list_transform(parts, lambda p: CASE WHEN p[2:2] = '"'
                            THEN replace(p[3:-2], '""', '"') ELSE p[2:] END) ELSE parts END AS f
                FROM split
            ), cols AS (
                SELECT line_number, raw, parts, quoted, {select_cols} FROM fields
            ), checked AS (
                SELECT line_number, raw, {names}{kept}, {content_hash}
                    CASE
                        WHEN strlen(raw) > {MAX_LINE_BYTES}
                            THEN 'line is ' || strlen(raw) || ' bytes long, over the {MAX_LINE_BYTES} an ERP line can be (damaged export?)'
                        WHEN quoted AND array_to_string(parts, '') <> ';' || raw THEN 'malformed quoting (a quote is not closed or stray)'
                        WHEN len(parts) <> {n_fields} THEN 'expected {n_fields} fields, found ' || len(parts)
                        {arms}
                    END AS reason
                FROM (SELECT *, {parsed} FROM cols)
            )
            SELECT line_number, {raw_kept}, {names}, {"content_hash, " if hashed else ""}reason{kept} FROM checked
            """
        drop_temp(con, "_typed")
        if to_bronze:  # straight to bronze: the lines are written once
            bronze.tmp.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY (SELECT *, $file_name AS file_name, $sha AS sha256, $at::TIMESTAMPTZ AS ingested_at "
                        f"FROM ({typed})) TO '{sql_path(bronze.tmp)}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)",
                        {"file_name": bronze.file_name, "sha": bronze.sha256, "at": bronze.at})
            con.execute(f"CREATE OR REPLACE TEMP VIEW _typed AS SELECT * FROM read_parquet('{sql_path(bronze.tmp)}')")
        elif source.stat().st_size < IN_MEMORY_BYTES:  # small enough: one in-memory table, the fastest way
            con.execute(f"CREATE TEMP TABLE _typed AS {typed}")
        else:
            staged = staging / STAGED
            con.execute(f"COPY ({typed}) TO '{sql_path(staged)}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)")
            # repeated keys are marked in place (stock, the planner's sheet); exports are read from the file
            con.execute(f"CREATE OR REPLACE TEMP {'TABLE' if kind.unique else 'VIEW'} _typed AS "
                        f"SELECT * FROM read_parquet('{sql_path(staged)}')")
        if kind.unique:
            values = [f'br_number("{c.name}")' if c.type == "number" else f'clean_text("{c.name}")'
                      for c in kind.columns if c.name not in kind.unique]
            keys = [f'br_date("{n}")' if kind.column(n).type == "date" else f'trim("{n}")' for n in kind.unique]
            reject_repeated_keys(con, "_typed", keys, values, kind.unique_label)
        # A view, read once by the bronze write (the counts come from _typed): 10,000,000 rows are not copied.
        # (Not read when the export went to bronze above: silver numbers its lines with with_occurrence.)
        loaded = f"(SELECT *{'' if hashed else NO_HASH} FROM _typed WHERE reason IS NULL)"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {ok} AS SELECT line_number, {names}, content_hash, occurrence "
                    f"FROM {with_occurrence(loaded, fields=[c.name for c in kind.columns])}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {rejected} AS "
            f"SELECT line_number, reason, CASE WHEN strlen(raw) > {MAX_LINE_BYTES} THEN left(raw, {RAW_EXCERPT}) || '…' "
            f"ELSE raw END AS raw_line FROM _typed WHERE reason IS NOT NULL"
        )
        total = con.execute("SELECT count(*) FROM _typed").fetchone()[0]
        con.execute(f"CREATE OR REPLACE TEMP VIEW {ok}_summary AS SELECT * FROM _typed WHERE reason IS NULL")
        if total == 0:
            raise DropRejected("header only: the export has no data rows")
        return ok, rejected
    except BaseException:
        drop_temp(con, ok, f"{ok}_summary", rejected)
        drop_staging(con, staging)
        if bronze is not None:
            bronze.discard()
        raise
    finally:
        utf8.unlink(missing_ok=True)


def readers(con: duckdb.DuckDBPyConnection) -> int:
    """How many reads of an export side by side: one per DuckDB thread, as many as the memory limit holds
    (each read holds about two buffers of READ_BUFFER; 8 of them under 512 MB ran out of memory)."""
    threads, limit = con.execute("SELECT current_setting('threads'), current_setting('memory_limit')").fetchone()
    return max(1, min(int(threads), size_bytes(limit) // (2 * READ_BUFFER)))


def with_occurrence(rows: str, by: str | None = None, fields=()) -> str:
    """`rows` (a relation with line_number and content_hash) with `occurrence`: identical lines of one export
    (the same content hash) are separate lines, numbered 1, 2, ... by line order. Only the few repeated
    lines go through the window; every other line is occurrence 1. `by` names the column that tells
    exports apart when `rows` holds several (silver reads many bronze files at once). The relation is
    inlined three times, not a CTE, so it is never materialised (its scans read few columns).
    `fields` (the kind's columns): a line whose content_hash is NULL (bronze holds none, HASH_IN_BRONZE)
    gets it from them (line_hash_sql), computed once, in the result; its repeats are found by a 64-bit
    hash of the fields and numbered among equal joined fields, which equal content hashes mean."""
    k = f"{by}, " if by else ""
    if fields:
        group = f"CASE WHEN t.content_hash IS NULL THEN hash({_trimmed(fields, 't')}) ELSE hash(t.content_hash) END"
        same = f"coalesce(t.content_hash, {_joined(fields, 't')})"
        select = f"t.* REPLACE (coalesce(t.content_hash, {line_hash_sql(fields, 't')}) AS content_hash)"
    else:
        group, same, select = "hash(t.content_hash)", "t.content_hash", "t.*"
    return f"""(SELECT {select}, coalesce(n.occurrence, 1) AS occurrence FROM {rows} t LEFT JOIN (
                SELECT {k}line_number, row_number() OVER (PARTITION BY {k}{same} ORDER BY line_number) AS occurrence
                FROM {rows} t SEMI JOIN (  -- a 64-bit hash groups fast; a collision only numbers more lines
                    SELECT {k}{group} AS h FROM {rows} t GROUP BY ALL HAVING count(*) > 1
                ) r ON {f"t.{by} = r.{by} AND " if by else ""}{group} = r.h
            ) n ON {f"t.{by} = n.{by} AND " if by else ""}t.line_number = n.line_number)"""


def drop_staging(con: duckdb.DuckDBPyConnection, staging: Path) -> None:
    """The staged rows behind the `_ok` views (ingest calls this once the drop's bronze and rejects are
    written, after dropping the views), and their file."""
    drop_temp(con, "_typed")
    (staging / STAGED).unlink(missing_ok=True)
