"""Every kind of drop, in one place: where it arrives, what its files are called, its bronze columns,
which date says what period it covers, how a file is staged, and how old it may get.

Ingestion iterates SOURCES; the config's [freshness] defaults come from here; each build writes
the table into the file (meta.sources, with the limits in force), so the dashboard and `status`
read the limits there instead of keeping copies. Adding a kind means adding one Source here, its
reader, and its silver table (nova_pipeline/silver_tables.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from ..bronze import BronzeTarget
from . import CSV_KINDS, CsvKind
from . import external
from . import forecast as forecast_reader
from .erp_csv import read_erp_csv

# stage(con, path, staging folder, max_quantity, bronze target) -> (ok relation, rejected relation).
# A reader may write the bronze file itself (to the target's tmp); ingest writes it from `ok` otherwise.
Stager = Callable[[duckdb.DuckDBPyConnection, Path, Path, float | None, BronzeTarget], tuple[str, str]]


@dataclass(frozen=True)
class Source:
    kind: str
    label: str                 # what people call it
    folder: str                # "landing" (subfolders too) or "ml_drops"
    pattern: str               # file name pattern (lower case)
    columns: tuple[tuple[str, str], ...]  # bronze columns after line_number, with their types
    data_date: str             # SQL over the staged rows: the day a row is about
    freshness_hours: int       # default [freshness] <kind>_hours
    stage: Stager

    def empty_bronze_sql(self) -> str:
        """A typed, empty SELECT with the bronze columns (when no drop of the kind is loaded yet)."""
        cols = ", ".join(f'NULL::{t} AS "{c}"' for c, t in self.columns)
        meta = "NULL::VARCHAR AS file_name, NULL::VARCHAR AS sha256, NULL::TIMESTAMPTZ AS ingested_at"
        return f"SELECT NULL::BIGINT AS line_number, {cols}, {meta} WHERE false"


def _erp(kind: CsvKind) -> Stager:
    return lambda con, path, staging, max_quantity, bronze: read_erp_csv(con, kind, path, staging, max_quantity, bronze)


def _csv_columns(kind: CsvKind) -> tuple[tuple[str, str], ...]:
    return (*((c.name, "VARCHAR") for c in kind.columns), ("content_hash", "VARCHAR"), ("occurrence", "BIGINT"))


def _external(kind: str) -> Stager:
    return lambda con, path, staging, max_quantity, bronze: external.read_external(con, kind, path)


SUPPLIES, STOCK, PARAMETERS = CSV_KINDS
SOURCES: tuple[Source, ...] = (
    Source("suprimentos", "supplies export (ERP)", "landing", SUPPLIES.pattern, _csv_columns(SUPPLIES),
           "br_date(request_date)", 48, _erp(SUPPLIES)),
    Source("estoque", "stock position (ERP)", "landing", STOCK.pattern, _csv_columns(STOCK),
           "br_date(position_date)", 48, _erp(STOCK)),
    # the planner's sheet changes when the planner changes it: a year without a new one is the limit
    Source("parametros", "planner's item parameters", "landing", PARAMETERS.pattern, _csv_columns(PARAMETERS),
           "NULL::DATE", 8760, _erp(PARAMETERS)),
    Source("forecast", "ML forecast drop", "ml_drops", forecast_reader.PATTERN,
           tuple((c, forecast_reader.TYPES[c]) for c in forecast_reader.COLUMNS), '"date"', 192,
           lambda con, path, staging, max_quantity, bronze: forecast_reader.read_forecast(con, path)),
    *(Source(k.kind, k.provider, "landing", k.pattern, tuple(k.columns.items()),
             'last_day("date")' if k.kind == "external_ipca" else '"date"', 48, _external(k.kind))
      for k in external.KINDS.values()),
)
BY_KIND = {s.kind: s for s in SOURCES}
