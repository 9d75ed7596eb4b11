"""The silver tables and the per-partition summaries of silver.requisition: what each is made of (its
SELECT over the bronze columns), its key, which delivery wins, and its partition. `silver.py` keeps
them up to date in the lake.
"""
from __future__ import annotations

from dataclasses import dataclass

from .sources import SUPRIMENTOS
from .sources.erp_csv import parsed_columns

FORMAT = 7  # bump when a silver table's columns or rules change: the next build rebuilds silver

NEWEST = "ingested_at DESC, source_line DESC"  # the newest delivery wins (then the later line)


@dataclass(frozen=True)
class SilverTable:
    name: str          # silver.<name>
    kinds: tuple[str, ...]  # bronze kinds it is made from
    select: str        # SQL over `{bronze}` (bronze columns + file_name, sha256, ingested_at)
    key: str           # columns that identify a row
    winner: str        # ORDER BY giving the row that stays first
    partition: str     # SQL over the selected columns: the partition a row lives in
    unique_in_drop: bool = False  # no key repeats inside one drop (ingestion rejects repeats)
    # (column, SQL over the bronze text): parsed values the select reads; a supplies export's bronze file
    # holds them (the check parsed them), older bronze files get them from this SQL
    parsed: tuple[tuple[str, str], ...] = ()
    # The bronze column (a parsed DATE) whose month is the partition, as `partition` says. A table that
    # has one can be served by the bronze file of its one drop (see _merge_table): nothing is copied.
    bronze_date: str = ""


def month_part(date: str) -> str:
    """The partition of a dated row: its month ('2025-10'), or 'none' without a date."""
    return f"coalesce(strftime({date}, '%Y-%m'), 'none')"


def _series(name: str, columns: str, key: str, winner: str) -> SilverTable:
    """A public series: its kind's columns plus the fetch's lineage, one partition."""
    return SilverTable(name, (name,), f"SELECT {columns}, file_name AS source_file, ingested_at, "
                                      f"line_number AS source_line FROM {{bronze}}", key=key, winner=winner, partition="'all'")


TABLES: tuple[SilverTable, ...] = (
    # A line present in two exports is one line; identical lines inside one export stay separate:
    # the key is the line's content plus its occurrence number among identical lines of its file.
    SilverTable(
        "requisition", ("suprimentos",),
        """SELECT content_hash || '-' || occurrence AS requisition_key,
               clean_text(depot) AS depot, trim(item_id) AS item_id, clean_text(description) AS description,
               clean_text(family) AS family, clean_text(supplier) AS supplier, _p_quantity AS quantity,
               norm_unit(unit) AS unit, _p_required_date AS required_date,
               clean_text(request_no) AS request_no, _p_request_date AS request_date,
               _p_purchase_date AS purchase_date,
               file_name AS source_file, line_number AS source_line, ingested_at
           FROM {bronze}""",
        key="requisition_key", winner="ingested_at, source_file, source_line",
        partition=month_part("request_date"), unique_in_drop=True,
        parsed=parsed_columns(SUPRIMENTOS), bronze_date="_p_request_date"),
    # One row per snapshot date, depot and item; a snapshot delivered twice keeps its newest delivery.
    SilverTable(
        "stock", ("estoque",),
        """SELECT br_date(position_date) AS position_date, trim(depot) AS depot, trim(item_id) AS item_id,
               clean_text(description) AS description, norm_unit(unit) AS unit,
               br_number(on_hand) AS on_hand, coalesce(br_number(on_order), 0) AS on_order,
               file_name AS source_file, line_number AS source_line, ingested_at
           FROM {bronze}""",
        key="position_date, depot, item_id", winner=NEWEST,
        partition="strftime(position_date, '%Y-%m')", unique_in_drop=True),
    # Forecast rows as the ML environment delivered them, one per run, item and day.
    SilverTable(
        "forecast", ("forecast",),
        """SELECT trim(item_id) AS item_id, "date", forecast, forecast_lower, forecast_upper,
               model_version, generated_at, source, dataset_id,
               file_name AS source_file, sha256, ingested_at, line_number AS source_line
           FROM {bronze}""",
        key='model_version, generated_at, source, dataset_id, item_id, "date"', winner=NEWEST,
        partition="strftime(generated_at AT TIME ZONE 'UTC', '%Y-%m')", unique_in_drop=True),
    # The planner's sheets as delivered; gold uses the newest loaded sheet only (it is the whole sheet).
    SilverTable(
        "parameters", ("parametros",),
        """SELECT trim(item_id) AS item_id, br_number(pack_size) AS pack_size, br_number(min_order_qty) AS min_order_qty,
               br_number(service_level) AS service_level, br_number(lead_time_days) AS lead_time_days,
               file_name AS source_file, sha256, ingested_at, line_number AS source_line
           FROM {bronze}""",
        key="sha256, item_id", winner=NEWEST, partition="'all'", unique_in_drop=True),
    # Public series: fetches overlap by design, so one value per day (hour, bulletin, month): the newest
    # fetch wins, except that an hour the archive did not have yet never replaces one it had.
    *(_series(name, columns, key, winner) for name, columns, key, winner in (
        ("external_selic", '"date", selic_pct', '"date"', NEWEST),
        ("external_ptax", '"date", quoted_at, bulletin, buy AS buy_brl, sell AS sell_brl', "quoted_at, bulletin", NEWEST),
        ("external_ipca", '"date" AS "month", ipca_pct, month_name', '"month"', NEWEST),
        ("external_weather", 'time_utc, "date" AS local_date, temperature_c, humidity_pct, precipitation_mm, wind_kmh, '
                             "latitude, longitude", "time_utc", f"temperature_c IS NULL, {NEWEST}"),
    )),
)
BY_NAME = {t.name: t for t in TABLES}

# Per-partition summaries of silver.requisition, rewritten with the partitions they summarise, so gold's
# all-history figures (items, lead times, suppliers, monthly demand) read a few small files instead of
# every line. Each is exact per partition and adds up across partitions (counts, min/max, histograms).
# `{rows}` has the silver columns, `part`, and `svc` (is_service, computed once per line).
SUMMARIES: dict[str, str] = {
    # per item, family and unit: lines, services, request span, the newest description
    "req_item": """SELECT part, item_id, family, unit, count(*) AS lines, bool_and(svc) AS all_service,
                          min(request_date) AS first_d, max(request_date) AS last_d,
                          max({{'d': coalesce(request_date, DATE '1900-01-01'), 't': coalesce(description, '')}}) AS desc_key
                   FROM {rows} GROUP BY ALL""",
    # lead-time histogram: lines per item, family and request-to-purchase days (NULL when not computable)
    "req_lead_time": """SELECT part, item_id, family, purchase_date - request_date AS lt, purchase_date IS NOT NULL AS bought,
                               count(*) AS n, min(purchase_date) AS first_purchase, max(purchase_date) AS last_purchase
                        FROM {rows} GROUP BY ALL""",
    # suppliers and the items bought from them
    "req_supplier": """SELECT part, supplier, item_id, count(*) AS lines, min(purchase_date) AS first_purchase,
                              max(purchase_date) AS last_purchase
                       FROM {rows} WHERE supplier IS NOT NULL GROUP BY ALL""",
    "req_depot": """SELECT DISTINCT part, depot FROM {rows} WHERE depot IS NOT NULL""",
    # daily demand of goods (not services), and per month
    "req_demand": """SELECT part, item_id, request_date AS "date", sum(quantity) AS quantity, count(*) AS lines
                     FROM {rows} WHERE request_date IS NOT NULL AND NOT svc GROUP BY ALL""",
    # per month, from the daily summary just made ({demand}: one row per item and day), not the lines again
    "req_monthly": """SELECT part, item_id, date_trunc('month', "date")::DATE AS "month", sum(quantity) AS quantity,
                             sum(lines)::BIGINT AS lines, count(*) AS days_with_demand
                      FROM {demand} GROUP BY ALL""",
    # supplier lead-time histogram per family and request quarter (usable lines only: bought on or
    # after the request), with how many had a required date and were bought by it
    "req_supplier_lt": """SELECT part, supplier, family, purchase_date - request_date AS lt,
                                 date_trunc('quarter', request_date)::DATE AS quarter, count(*) AS n,
                                 count(*) FILTER (required_date IS NOT NULL) AS with_required,
                                 count(*) FILTER (purchase_date <= required_date) AS on_time
                          FROM {rows}
                          WHERE supplier IS NOT NULL AND purchase_date >= request_date GROUP BY ALL""",
}
