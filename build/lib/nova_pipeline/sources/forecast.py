"""Reader for the ML environment's forecast drops (Parquet, one file per run)."""
from __future__ import annotations

from pathlib import Path

import duckdb

from ..errors import DropRejected
from .dupes import reject_repeated_keys

KIND = "forecast"
PATTERN = "*.parquet"
REQUIRED = ("item_id", "date", "forecast", "model_version", "generated_at", "source", "dataset_id")
OPTIONAL = ("forecast_lower", "forecast_upper")
TYPES = {
    "item_id": "VARCHAR", "date": "DATE", "forecast": "DOUBLE", "forecast_lower": "DOUBLE",
    "forecast_upper": "DOUBLE", "model_version": "VARCHAR", "generated_at": "TIMESTAMPTZ",
    "source": "VARCHAR", "dataset_id": "VARCHAR",
}
COLUMNS = REQUIRED[:3] + OPTIONAL + REQUIRED[3:]


def _looks_complete(path: Path) -> None:
    size = path.stat().st_size
    if size == 0:
        raise DropRejected("empty file (0 bytes)")
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(max(0, size - 4))
        tail = fh.read(4)
    if head != b"PAR1":
        raise DropRejected("not a Parquet file (no PAR1 magic at the start)")
    if tail != b"PAR1" or size < 12:
        raise DropRejected("incomplete Parquet file (no footer): copied halfway? drop it again")


def read_forecast(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, str]:
    """Stage `forecast_ok` and `forecast_rejected`; raise DropRejected for an unusable file."""
    _looks_complete(path)
    try:
        schema = con.execute("SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?))", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise DropRejected(f"damaged Parquet file: {str(exc).splitlines()[0][:200]}") from None
    present = {name for (name,) in schema}
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise DropRejected(
            f"missing required column(s) {', '.join(missing)}: the ML drop must carry "
            f"{', '.join(REQUIRED)}; the whole drop is rejected"
        )
    cast = ", ".join(
        f'try_cast("{c}" AS {TYPES[c]}) AS "{c}"' if c in present else f'NULL::{TYPES[c]} AS "{c}"'
        for c in COLUMNS
    )
    raw = ", ".join(f'"{c}"' for c in sorted(present))
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _fc AS
            SELECT ordinality::BIGINT AS line_number, {cast},
                   to_json(struct_pack({raw}))::VARCHAR AS raw_line
            FROM read_parquet(?) WITH ORDINALITY
            """,
            [str(path)],
        )
    except duckdb.Error as exc:
        raise DropRejected(f"cannot read the Parquet data: {str(exc).splitlines()[0][:200]}") from None
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _fc_reason AS
        SELECT *, CASE
            WHEN item_id IS NULL OR trim(item_id) = '' THEN 'item_id is empty'
            WHEN "date" IS NULL THEN 'date is empty or not a date'
            WHEN forecast IS NULL THEN 'forecast is empty or not a number'
            WHEN isnan(forecast) OR isinf(forecast) OR forecast < 0 THEN 'forecast must be a number >= 0, got ' || forecast
            WHEN model_version IS NULL OR trim(model_version) = '' THEN 'model_version is empty'
            WHEN generated_at IS NULL THEN 'generated_at is empty or not a timestamp'
            WHEN source IS NULL OR trim(source) = '' THEN 'source is empty'
            WHEN dataset_id IS NULL OR trim(dataset_id) = '' THEN 'dataset_id is empty'
            WHEN forecast_lower > forecast_upper THEN 'forecast_lower is above forecast_upper'
        END AS reason
        FROM _fc
        """
    )
    reject_repeated_keys(con, "_fc_reason", ["model_version", "generated_at", "source", "dataset_id", "trim(item_id)", '"date"'],
                         ["forecast", "forecast_lower", "forecast_upper"], "run, item and date")
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE forecast_ok AS SELECT line_number, {names} FROM _fc_reason WHERE reason IS NULL")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE forecast_rejected AS "
        "SELECT line_number, reason, raw_line FROM _fc_reason WHERE reason IS NOT NULL"
    )
    con.execute("DROP TABLE _fc; DROP TABLE _fc_reason")
    if con.execute("SELECT count(*) FROM forecast_rejected").fetchone()[0] == 0 and \
            con.execute("SELECT count(*) FROM forecast_ok").fetchone()[0] == 0:
        raise DropRejected("no forecast rows in the file")
    return "forecast_ok", "forecast_rejected"
