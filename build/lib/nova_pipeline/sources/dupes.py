"""Repeated keys inside one drop: the contract says one row per key, so a repeat is a rejected row.

A repeat with the very same values as an earlier row keeps the first row and rejects the others
("repeats line N"). When the rows of one key disagree, nothing says which is right, so every row
of that key is rejected with the lines involved: flagged, never guessed, never lost in silence.
"""
from __future__ import annotations

import duckdb


def reject_repeated_keys(con: duckdb.DuckDBPyConnection, table: str, key_sql: list[str], value_sql: list[str],
                         what: str) -> None:
    """Set `reason` on rows of `table` (columns line_number, reason) whose key repeats.

    key_sql/value_sql: SQL expressions over the table's columns; `what` names the key in the reason,
    e.g. "depot and item".
    """
    keys = ", ".join(f"({k})" for k in key_sql)
    values = "md5(concat_ws(chr(31), " + ", ".join(f"coalesce(({v})::VARCHAR, chr(30))" for v in value_sql) + "))"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _repeats AS
        WITH good AS (
            SELECT line_number, {values} AS vh, hash({keys}) AS kh FROM {table} WHERE reason IS NULL
        ), grouped AS (
            SELECT line_number, vh, kh,
                   count(*) OVER (PARTITION BY kh) AS n,
                   count(DISTINCT vh) OVER (PARTITION BY kh) AS variants,
                   min(line_number) OVER (PARTITION BY kh) AS first_line,
                   min(line_number) OVER (PARTITION BY kh, vh) AS first_same
            FROM good
        ), lines AS (
            SELECT kh, string_agg(line_number::VARCHAR, ', ' ORDER BY line_number) AS listed
            FROM (SELECT kh, line_number, row_number() OVER (PARTITION BY kh ORDER BY line_number) AS k FROM grouped
                  WHERE n > 1) WHERE k <= 10 GROUP BY kh
        )
        SELECT g.line_number,
               CASE WHEN g.variants > 1
                    THEN 'same {what} on ' || g.n || ' lines with different values (lines ' || l.listed
                         || CASE WHEN g.n > 10 THEN ', …' ELSE '' END
                         || '): one row per {what}; fix the export, none of them is loaded'
                    ELSE 'repeats line ' || g.first_same || ' (same {what}, same values): loaded once'
               END AS reason
        FROM grouped g JOIN lines l USING (kh)
        WHERE g.n > 1 AND (g.variants > 1 OR g.line_number <> g.first_same)
    """)
    con.execute(f"UPDATE {table} t SET reason = r.reason FROM _repeats r WHERE t.line_number = r.line_number")
    con.execute("DROP TABLE _repeats")
