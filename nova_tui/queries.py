"""Every SQL statement the dashboard runs. Read-only; set-based; results as plain rows.

Timestamps come back as epoch seconds (`epoch(...)`) so the dashboard needs neither the ICU
extension nor pytz to show them; `format.py` turns them into local times and ages.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .slot_rows import SlotRow, slot_rows

if TYPE_CHECKING:  # duckdb loads in the worker that opens the file, after the first frame
    import duckdb

Row = dict[str, Any]

# What the dashboard reads. A file without these is foreign or from an older pipeline.
REQUIRED: dict[str, tuple[str, ...]] = {
    "meta.build": ("version", "built_at", "as_of", "complete"),
    "meta.build_history": ("version", "built_at", "new_inputs", "checks_failed", "outcome"),
    "meta.checks": ("name", "severity", "passed", "detail"),
    "meta.source_files": ("kind", "file_name", "path", "status", "reason", "received_at", "data_to", "rows_loaded"),
    "gold.reorder_status": ("item_id", "description", "family", "on_hand", "on_order", "reorder_point",
                            "safety_stock", "days_of_cover", "suggested_order_qty", "lead_time_days", "basis",
                            "status", "previous_status", "newly_flagged", "unit", "runout_date", "order_by_date",
                            "runs_out_before_delivery", "supplier", "supplier_lines", "supplier_count", "basis_note",
                            "demand_class", "demand_days", "adi", "cv2", "lead_time_std", "lead_time_std_source",
                            "pack_size", "min_order_qty", "has_planner", "raw_order", "history_demand_over_lead_time",
                            "forecast_demand_over_lead_time", "forecast_history_disagree"),
    "gold.service_replay": ("demand_class", "items", "points", "points_kept", "share_kept", "service_level", "gap_points"),
    "gold.service_replay_item": ("item_id", "demand_class", "service_level", "points", "points_kept", "share_kept"),
    "gold.forecast_accuracy": ("model_version", "demand_class", "items", "actual_days", "wape", "bias", "mase"),
    "gold.reorder_changes": ("item_id", "description", "unit", "status", "change", "previous_value", "current_value",
                             "detail"),
    "gold.status_counts": ("status", "items", "previous_items", "worsened_into"),
    "gold.fact_forecast": ("item_id", "date", "forecast", "forecast_lower", "forecast_upper", "model_version",
                           "generated_at", "source", "dataset_id", "actual_demand"),
    "gold.demand_daily": ("item_id", "date", "quantity"),
    "gold.fact_stock": ("depot", "item_id", "on_hand", "on_order", "is_latest"),
    "gold.item_lead_time": ("item_id", "usable_lines", "negative_lines", "not_bought_lines", "median_days",
                            "min_days", "max_days", "last_purchase", "family_usable_lines", "family_median_days"),
}


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[Row]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _has_table(con, schema: str, table: str) -> bool:
    """Files built by older pipelines lack the newer meta tables; the dashboard reads them when present."""
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def missing_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables or columns the dashboard needs that this file lacks, as `schema.table.column`."""
    have = {(s, t, c) for s, t, c in con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns").fetchall()}
    tables = {(s, t) for s, t, _ in have}
    missing = []
    for qualified, columns in REQUIRED.items():
        schema, table = qualified.split(".")
        if (schema, table) not in tables:
            missing.append(qualified)
            continue
        missing += [f"{qualified}.{c}" for c in columns if (schema, table, c) not in have]
    return missing


def build_info(con) -> Row:
    # the as-of limits the build wrote (files from before they existed: the defaults)
    limits = ("as_of_days, as_of_critical_days" if _has_column(con, "meta", "build", "as_of_days")
              else "3 AS as_of_days, 14 AS as_of_critical_days")
    return rows(con, f"""
        SELECT version, epoch(built_at) AS built_at, as_of, code_version, previous_version,
               rolled_back_from, complete, {limits}
        FROM meta.build""")[0]


def _has_column(con, schema: str, table: str, column: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                       "AND column_name = ?", [schema, table, column]).fetchone()[0] > 0


# The columns the list, its filters and sorts, the overview and the exports read, for every item. The
# columns only the item screen shows (ITEM_DETAIL_COLUMNS) are read when it opens, one row: held for a
# 24,000-item list they cost about 7 MB of the dashboard's 150 MB idle budget (docs/dashboard.md).
REORDER_COLUMNS = """
    item_id, description, family, unit, on_hand, on_order, reorder_point, safety_stock, days_of_cover,
    suggested_order_qty, lead_time_days, basis, model_version, status, newly_flagged, service_level, as_of,
    runout_date, order_by_date, runs_out_before_delivery, supplier, supplier_lines, supplier_count, demand_class,
    has_planner, forecast_history_disagree"""
ITEM_DETAIL_COLUMNS = """
    basis_note, previous_status, avg_daily_demand, demand_std, demand_over_lead_time, z, review_days, history_days,
    lead_time_source, lead_time_std, lead_time_std_source, pack_size, min_order_qty, raw_order, demand_days, adi, cv2,
    history_demand_over_lead_time, forecast_demand_over_lead_time"""


def item_detail(con, item_id: str, site: str | None = None) -> Row:
    """The item's ITEM_DETAIL_COLUMNS (all None when the version no longer has the item)."""
    where, params = ("item_id = $1 AND site = $2", [item_id, site]) if site else ("item_id = $1", [item_id])
    found = rows(con, f"SELECT {ITEM_DETAIL_COLUMNS} FROM gold.reorder_status WHERE {where}", params)
    return found[0] if found else {c.strip(): None for c in ITEM_DETAIL_COLUMNS.split(",")}


# Urgency: stockouts first, then below reorder; within each, the items that run out before a purchase
# made today could arrive, then by order-by date (the soonest deadline first); the rest after.
REORDER_ORDER = """
    CASE status WHEN 'stockout' THEN 0 WHEN 'below_reorder' THEN 1 ELSE 2 END,
    runs_out_before_delivery DESC, order_by_date ASC NULLS LAST, item_id"""


def has_sites(con) -> bool:
    """A company file (nova-pipeline company-build): every gold table has a `site` column."""
    return _has_table(con, "meta", "sites")


def reorder(con) -> list[SlotRow]:
    site = "site, " if has_sites(con) else ""
    return slot_rows(con, f"SELECT {site}{REORDER_COLUMNS} FROM gold.reorder_status ORDER BY {REORDER_ORDER}")


def sites(con) -> list[Row]:
    if not has_sites(con):
        return []
    return rows(con, "SELECT site, name, version, as_of, epoch(pushed_at) AS pushed_at FROM meta.sites ORDER BY site")


def transfers(con, site: str, item_id: str) -> list[Row]:
    """Company files: the sites holding stock above their reorder point for an item short at `site`."""
    if not _has_table(con, "gold", "transfer_candidates"):
        return []
    return rows(con, """SELECT from_site, surplus, from_on_hand, unit FROM gold.transfer_candidates
                        WHERE site = $1 AND item_id = $2 ORDER BY surplus DESC""", [site, item_id])


def status_counts(con) -> dict[str, int]:
    return dict(con.execute("SELECT status, count(*) FROM gold.reorder_status GROUP BY status").fetchall())


def status_change_counts(con) -> list[Row]:
    """Per status: items now, in the previous version (None in the first), and how many got worse into it."""
    return rows(con, "SELECT status, items, previous_items, worsened_into FROM gold.status_counts")


CHANGE_ORDER = {"worse": 0, "better": 1, "order_moved": 2, "basis_switched": 3}


def changes(con) -> list[Row]:
    """What changed since the previous version (gold.reorder_changes), worse first."""
    site = "site, " if has_sites(con) else ""
    return rows(con, f"""
        SELECT {site}item_id, description, unit, status, change, previous_value, current_value, detail
        FROM gold.reorder_changes
        ORDER BY CASE change WHEN 'worse' THEN 0 WHEN 'better' THEN 1 WHEN 'order_moved' THEN 2 ELSE 3 END,
                 CASE status WHEN 'stockout' THEN 0 WHEN 'below_reorder' THEN 1 ELSE 2 END, item_id""")


def checks(con) -> list[Row]:
    return rows(con, """
        SELECT name, severity, passed, detail FROM meta.checks
        ORDER BY passed, CASE severity WHEN 'error' THEN 0 ELSE 1 END, name""")


def builds(con, limit: int = 10) -> list[Row]:
    return rows(con, """
        SELECT version, epoch(built_at) AS built_at, as_of, new_inputs, coalesce(checks_failed, '') AS checks_failed,
               outcome
        FROM meta.build_history ORDER BY version DESC LIMIT $1""", [limit])


def sources(con) -> list[Row]:
    """Per kind of source: its newest loaded file, plus whether its newest file of all was rejected.
    received_at is the newest delivery, a duplicate included: the source is alive, it had nothing new
    (IPCA is monthly, yet fetched daily)."""
    return rows(con, """
        WITH seen AS (
            SELECT kind, file_name, status, epoch(received_at) AS received_at, data_to, rows_loaded, reason
            FROM meta.source_files WHERE status <> 'duplicate'),
        delivered AS (
            SELECT kind, max(epoch(received_at)) AS delivered_at FROM meta.source_files
            WHERE status IN ('loaded', 'duplicate') GROUP BY kind),
        latest_loaded AS (
            SELECT kind, arg_max(file_name, received_at) AS file_name, max(d.delivered_at) AS received_at,
                   arg_max(data_to, received_at) AS data_through, arg_max(rows_loaded, received_at) AS rows
            FROM seen JOIN delivered d USING (kind) WHERE status = 'loaded' GROUP BY kind),
        latest_any AS (
            SELECT kind, arg_max(status, received_at) AS newest_status, count(*) FILTER (status = 'rejected') AS rejected
            FROM seen GROUP BY kind)
        SELECT a.kind, l.file_name, l.received_at, l.data_through, l.rows, a.newest_status, a.rejected{limits}
        FROM latest_any a LEFT JOIN latest_loaded l USING (kind){join}
        ORDER BY a.kind""".format(**_source_limits(con)))


def _source_limits(con) -> dict[str, str]:
    """The freshness limits the build wrote into the file (meta.sources); none in files built before it."""
    if _has_table(con, "meta", "sources"):
        return {"limits": ", m.freshness_hours AS limit_hours",
                "join": " LEFT JOIN meta.sources m USING (kind)"}
    return {"limits": ", NULL::INTEGER AS limit_hours", "join": ""}


def rejected_files(con) -> list[Row]:
    """Rejected drops, and first the drops waiting to become readable (meta.waiting_files, newer files)."""
    waiting = []
    if _has_table(con, "meta", "waiting_files"):
        waiting = rows(con, """
            SELECT kind, parse_filename(path) AS file_name, path, epoch(seen_at) AS received_at,
                   'WAITING: ' || reason AS reason
            FROM meta.waiting_files ORDER BY path""")
    return waiting + rows(con, """
        SELECT kind, file_name, path, epoch(received_at) AS received_at, reason
        FROM meta.source_files WHERE status = 'rejected' ORDER BY received_at DESC, path""")


# Accuracy over the days where actual demand is known, one definition for a model and for a series.
ACCURACY = """count(actual_demand) AS actual_days,
               sum(abs(forecast - actual_demand)) / nullif(sum(actual_demand), 0) AS wape,
               (sum(forecast) FILTER (actual_demand IS NOT NULL) - sum(actual_demand)) / nullif(sum(actual_demand), 0) AS bias,
               avg(abs(forecast - actual_demand) / actual_demand) FILTER (actual_demand > 0) AS mape"""


def forecast_models(con) -> list[Row]:
    """Every model run, newest first, with its accuracy where actual demand overlaps the forecast.

    WAPE = sum|f - a| / sum a and bias = (sum f - sum a) / sum a hold up on intermittent demand;
    MAPE is computed over days with a > 0 only and shown with a warning.
    """
    return rows(con, f"""
        SELECT model_version, epoch(max(generated_at)) AS generated_at, any_value(source) AS source,
               any_value(dataset_id) AS dataset_id, count(DISTINCT item_id) AS items,
               min(date) AS first_day, max(date) AS last_day,
               {ACCURACY}
        FROM gold.fact_forecast GROUP BY model_version ORDER BY generated_at DESC, model_version""")


def forecast_items(con) -> list[Row]:
    """Items with a forecast, most urgent first (the reorder list's order), then families."""
    return rows(con, f"""
        WITH f AS (SELECT DISTINCT item_id FROM gold.fact_forecast)
        SELECT r.item_id, r.description, r.family, r.status
        FROM gold.reorder_status r JOIN f USING (item_id)
        ORDER BY {REORDER_ORDER}""")


def forecast_families(con) -> list[Row]:
    """Families with a forecast, one entry per unit: a family chart never adds up different units.
    `units` says how many units the family mixes (then each unit is its own series)."""
    return rows(con, """
        SELECT DISTINCT coalesce(i.family, '(no family)') AS family, coalesce(i.unit, '?') AS unit,
               count(DISTINCT coalesce(i.unit, '?')) OVER (PARTITION BY coalesce(i.family, '(no family)')) AS units
        FROM (SELECT DISTINCT item_id FROM gold.fact_forecast) f
        JOIN gold.dim_item i USING (item_id) ORDER BY 1, 2""")


def _scope(item_id: str | None, family: str | None, unit: str | None = None) -> tuple[str, dict]:
    """An item, or every item of a family that is counted in one unit: the filter and its parameters."""
    if item_id is not None:
        return "item_id = $item", {"item": item_id}
    return ("item_id IN (SELECT item_id FROM gold.dim_item WHERE coalesce(family, '(no family)') = $family "
            "AND coalesce(unit, '?') = $unit)", {"family": family, "unit": unit})


def forecast_series(con, *, item_id: str | None, family: str | None, model_version: str,
                    history_days: int = 90, unit: str | None = None) -> dict[str, list[Row]]:
    """Daily demand history before the as-of date and one model's forecast, for an item or a family's
    items of one unit."""
    scope, params = _scope(item_id, family, unit)
    history = _daily_demand(con, scope, params, history_days)
    forecast = rows(con, f"""
        SELECT date, sum(forecast) AS forecast, sum(forecast_lower) AS lower, sum(forecast_upper) AS upper,
               sum(actual_demand) AS actual
        FROM gold.fact_forecast WHERE {scope} AND model_version = $model
        GROUP BY date ORDER BY date""", {**params, "model": model_version})
    return {"history": history, "forecast": forecast}


def series_accuracy(con, *, item_id: str | None, family: str | None, model_version: str,
                    unit: str | None = None) -> Row:
    scope, params = _scope(item_id, family, unit)
    return rows(con, f"""
        SELECT {ACCURACY}
        FROM gold.fact_forecast WHERE {scope} AND model_version = $model""", {**params, "model": model_version})[0]


def _site_clause(site: str | None) -> str:
    return " AND site = $site" if site else ""


def item_stock(con, item_id: str, site: str | None = None) -> list[Row]:
    return rows(con, f"""
        SELECT depot, on_hand, on_order, unit, position_date FROM gold.fact_stock
        WHERE item_id = $item AND is_latest{_site_clause(site)} ORDER BY on_hand DESC, depot""",
                {"item": item_id, **({"site": site} if site else {})})


def item_demand(con, item_id: str, site: str | None = None) -> list[Row]:
    """The item's daily demand over the reorder method's history window (zeros included); in a
    company file, at one site."""
    params = {"item": item_id, **({"site": site} if site else {})}
    found = rows(con, f"SELECT history_days FROM gold.reorder_status WHERE item_id = $item{_site_clause(site)}", params)
    if not found:
        return []
    return _daily_demand(con, f"item_id = $item{_site_clause(site)}", params, found[0]["history_days"])


def _daily_demand(con, scope: str, params: dict, days: int) -> list[Row]:
    """Daily demand of the scope's goods over the `days` ending at the as-of date. demand_daily holds
    days with demand only: every day from the first request on is shown, 0 where there was none."""
    return rows(con, f"""
        WITH first AS (
            SELECT min(first_request) AS first_day FROM gold.dim_item WHERE {scope} AND NOT is_service
        ), span AS (
            SELECT t.d::DATE AS date FROM first, range(greatest(first.first_day, (SELECT as_of FROM meta.build) - INTERVAL ($days - 1) DAY),
                                                     (SELECT as_of FROM meta.build) + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d)
        ), demand AS (
            SELECT date, sum(quantity) AS quantity FROM gold.demand_daily
            WHERE {scope} AND date > (SELECT as_of FROM meta.build) - INTERVAL ($days) DAY
                  AND date <= (SELECT as_of FROM meta.build)
            GROUP BY date
        )
        SELECT span.date, coalesce(demand.quantity, 0) AS quantity FROM span LEFT JOIN demand USING (date)
        ORDER BY span.date""", {**params, "days": days})


def item_lead_times(con, item_id: str, site: str | None = None) -> Row:
    """The evidence behind L: the item's own lead times and its family's (gold.item_lead_time, all history)."""
    found = rows(con, f"""
        SELECT usable_lines AS usable, negative_lines AS negative, not_bought_lines AS not_bought, median_days,
               min_days, max_days, last_purchase, family_usable_lines AS family_usable, family_median_days,
               std_days, family_std_days
        FROM gold.item_lead_time WHERE item_id = $item{_site_clause(site)}""",
                 {"item": item_id, **({"site": site} if site else {})})
    return found[0] if found else {"usable": 0, "negative": 0, "not_bought": 0, "median_days": None, "min_days": None,
                                   "max_days": None, "last_purchase": None, "family_usable": None,
                                   "family_median_days": None, "std_days": None, "family_std_days": None}
