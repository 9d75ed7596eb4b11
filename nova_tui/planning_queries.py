"""Queries of the planning, supplier, stock-health, trend and context views (issues 14-16): the
service replay, forecast accuracy, suppliers' lead times, stockouts over time and weekly demand in
context. The reorder list, the item screen's history and the version's facts are in queries.py."""
from __future__ import annotations

from .queries import Row, _has_column, _has_table, _scope, _site_clause, has_sites, rows


def service_replay(con) -> list[Row]:
    """Does the method keep its promise: per demand class, review points kept against the level promised."""
    return rows(con, """SELECT demand_class, items, points, points_kept, share_kept, service_level, gap_points
                        FROM gold.service_replay WHERE points > 0""")


def replay_items(con) -> list[Row]:
    """Per item, the replay next to the promise; the items the method fails most first."""
    return rows(con, """
        SELECT p.item_id, r.description, p.demand_class, p.points, p.points_kept, p.share_kept, p.service_level,
               r.status
        FROM gold.service_replay_item p JOIN gold.reorder_status r USING (item_id)
        WHERE p.points > 0 ORDER BY p.share_kept - p.service_level, p.points DESC, p.item_id""")


def forecast_accuracy(con) -> list[Row]:
    return rows(con, """SELECT model_version, demand_class, items, actual_days, wape, bias, mase
                        FROM gold.forecast_accuracy ORDER BY model_version DESC, demand_class""")


def item_replay(con, item_id: str, site: str | None = None) -> Row | None:
    found = rows(con, "SELECT points, points_kept, share_kept, service_level FROM gold.service_replay_item "
                      f"WHERE item_id = $item{_site_clause(site)}", {"item": item_id, **({"site": site} if site else {})})
    return found[0] if found else None


def suppliers(con) -> list[Row]:
    """Suppliers and their lead times (gold.supplier_lead_time), most lines first; none in older files."""
    if not _has_table(con, "gold", "supplier_lead_time"):
        return []
    site = "site, " if has_sites(con) else ""
    return rows(con, f"""SELECT {site}supplier, lines, items, usable_lines, median_days, p90_days, std_days,
                                on_time_share, lines_with_required_date, last_quarter_medians
                         FROM gold.supplier_lead_time ORDER BY lines DESC, supplier""")


def item_suppliers(con, item_id: str, site: str | None = None) -> list[Row]:
    """The item's suppliers, the most recent first, with each one's lead times over all its lines."""
    if not _has_table(con, "gold", "item_supplier"):
        return []
    on = " AND s.site = i.site" if site else ""
    return rows(con, f"""
        SELECT i.supplier, i.lines, i.last_purchase, s.median_days, s.p90_days, s.on_time_share
        FROM gold.item_supplier i LEFT JOIN gold.supplier_lead_time s ON s.supplier = i.supplier{on}
        WHERE i.item_id = $item{" AND i.site = $site" if site else ""}
        ORDER BY i.last_purchase DESC NULLS LAST, i.supplier""", {"item": item_id, **({"site": site} if site else {})})


def stock_health(con) -> list[Row]:
    """Stockouts per stock snapshot date, oldest first (gold.stock_health; none in older files)."""
    if not _has_table(con, "gold", "stock_health"):
        return []
    site = "site, " if has_sites(con) else ""
    return rows(con, f"""SELECT {site}snapshot_date, stocked_items, items_with_demand, stockouts, stockout_rate,
                                at_or_below_reorder FROM gold.stock_health ORDER BY snapshot_date""")


def version_counts(con) -> list[Row]:
    """Status counts per published version, oldest first (meta.build_history keeps the last 50)."""
    if not _has_column(con, "meta", "build_history", "stockouts"):
        return []
    return rows(con, """SELECT version, as_of, stockouts, below_reorder, ok FROM meta.build_history
                        WHERE stockouts IS NOT NULL ORDER BY version""")


def weekly_context(con, *, item_id: str | None, family: str | None, unit: str | None = None) -> list[Row]:
    """Weekly demand of an item or a family's items of one unit over the reorder window, beside the
    week's rain and mean temperature in Salvador, Selic, PTAX and IPCA, and the week's holidays."""
    scope, params = _scope(item_id, family, unit)
    return rows(con, f"""
        WITH span AS (SELECT as_of - history_days + 1 AS first_day, as_of FROM gold.reorder_status LIMIT 1),
        d AS (SELECT date_trunc('week', "date")::DATE AS week, sum(quantity) AS quantity FROM gold.demand_daily, span
              WHERE {scope} AND "date" BETWEEN span.first_day AND span.as_of GROUP BY ALL),
        e AS (SELECT date_trunc('week', "date")::DATE AS week, sum(precip_mm) AS rain_mm, avg(temp_mean_c) AS temp_c,
                     avg(selic_pct) AS selic_pct, avg(ptax_usd_sell) AS ptax, max(ipca_month_pct) AS ipca_pct
              FROM gold.external_daily, span WHERE "date" BETWEEN span.first_day AND span.as_of GROUP BY ALL),
        h AS (SELECT date_trunc('week', "date")::DATE AS week, string_agg(holiday_name, ', ' ORDER BY "date") AS holidays
              FROM gold.dim_date, span WHERE is_holiday AND "date" BETWEEN span.first_day AND span.as_of GROUP BY ALL),
        weeks AS (SELECT week FROM e UNION SELECT week FROM d)
        SELECT week, coalesce(d.quantity, 0) AS quantity, rain_mm, temp_c, selic_pct, ptax, ipca_pct, holidays
        FROM weeks LEFT JOIN d USING (week) LEFT JOIN e USING (week) LEFT JOIN h USING (week)
        ORDER BY week""", params)