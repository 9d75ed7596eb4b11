"""The lists the dashboard shows, exports and reports: one definition of each, used by all three.

A list is a sequence of columns (header, how to read a cell from a row). Screens render the cells,
`e` and `nova-tui report --format csv|json` write the raw values, `--format text` the cells.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from . import format as fmt
from .queries import Row


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    cell: Callable[[Row], str]
    numeric: bool = False


# Essentials first, so at 80 columns the decision and its numbers are on screen; the rest scrolls
# while the first three (change, status, item) stay frozen at the left.
REORDER = (
    Column("change", "chg", lambda r: r.get("change", "NEW" if r["newly_flagged"] else "")),
    Column("status", "status", lambda r: fmt.STATUS_LABEL.get(r["status"], r["status"])),
    Column("item_id", "item", lambda r: r["item_id"]),
    Column("site", "site", lambda r: r.get("site") or ""),  # company files only; hidden in a plant's
    Column("runs_out_before_delivery", "late", lambda r: "LATE" if r["runs_out_before_delivery"] else ""),
    Column("on_hand", "on hand", lambda r: fmt.qty(r["on_hand"]), True),
    Column("unit", "unit", lambda r: r["unit"] or ""),
    Column("days_of_cover", "cover", lambda r: fmt.days(r["days_of_cover"]), True),
    Column("order_by_date", "order by", lambda r: fmt.short_day(r["order_by_date"])),
    Column("suggested_order_qty", "order", lambda r: fmt.qty(r["suggested_order_qty"]), True),
    Column("demand_class", "class", lambda r: fmt.CLASS_SHORT.get(r["demand_class"], r["demand_class"] or "")),
    Column("has_planner", "plan", lambda r: "P" if r["has_planner"] else ""),
    Column("supplier", "supplier (+others)", lambda r: fmt.supplier(r)),
    Column("runout_date", "runs out", lambda r: fmt.short_day(r["runout_date"])),
    Column("forecast_history_disagree", "fc vs hist", lambda r: "CHECK" if r["forecast_history_disagree"] else ""),
    Column("lead_time_days", "lead d", lambda r: fmt.days(r["lead_time_days"]), True),
    Column("on_order", "on order", lambda r: fmt.qty(r["on_order"]), True),
    Column("reorder_point", "reorder", lambda r: fmt.qty(r["reorder_point"], 0), True),
    Column("description", "description", lambda r: (r["description"] or "")[:40]),
    Column("family", "family", lambda r: r["family"] or ""),
    Column("safety_stock", "safety", lambda r: fmt.qty(r["safety_stock"], 0), True),
    Column("basis", "basis", lambda r: r["basis"]),
    Column("supplier_lines", "supplier lines", lambda r: fmt.qty(r["supplier_lines"]), True),
    Column("supplier_count", "suppliers", lambda r: fmt.qty(r["supplier_count"]), True),
)
FROZEN_REORDER = 3  # change, status, item
OPTIONAL = frozenset({"site"})  # columns shown only when the rows have them (a company file)

SITES = (
    Column("site", "site", lambda r: r["site"]),
    Column("name", "name", lambda r: r["name"] or ""),
    Column("version", "version", lambda r: f"v{r['version']}"),
    Column("as_of", "as of", lambda r: fmt.day(r["as_of"])),
    Column("pushed_at", "pushed", lambda r: fmt.local_time(r["pushed_at"])),
    Column("age", "age", lambda r: r.get("age", "")),
)

CHANGES = (
    Column("change", "change", lambda r: CHANGE_LABEL.get(r["change"], r["change"])),
    Column("item_id", "item", lambda r: r["item_id"]),
    Column("status", "status now", lambda r: fmt.STATUS_LABEL.get(r["status"], r["status"])),
    Column("detail", "what changed", lambda r: r["detail"]),
    Column("unit", "unit", lambda r: r["unit"] or ""),
    Column("description", "description", lambda r: (r["description"] or "")[:40]),
)
CHANGE_LABEL = {"worse": "WORSE", "better": "better", "order_moved": "ORDER", "basis_switched": "BASIS"}


def limit_of(row: Row, overrides: dict[str, int]) -> int | None:
    """The kind's freshness limit: the one the build wrote into the file (meta.sources), unless the
    dashboard's own config sets `[freshness] <kind>_hours`."""
    return overrides.get(row["kind"], row.get("limit_hours"))


def source_status(row: Row, overrides: dict[str, int], now: datetime) -> str:
    """ok, stale (older than its freshness limit), rejected (its newest file was refused) or missing."""
    if row.get("file_name") is None:
        return "rejected" if row.get("rejected") else "missing"
    if row.get("newest_status") == "rejected":
        return "rejected"
    limit = limit_of(row, overrides)
    hours = fmt.age_hours(row["received_at"], now)
    return "stale" if limit is not None and hours is not None and hours > limit else "ok"


def with_freshness(rows: list[Row], overrides: dict[str, int], now: datetime) -> list[Row]:
    return [{**r, "status": source_status(r, overrides, now), "limit_hours": limit_of(r, overrides),
             "age": fmt.age(r["received_at"], now)} for r in rows]


SOURCES = (
    Column("kind", "source", lambda r: r["kind"]),
    Column("status", "status", lambda r: r["status"].upper() if r["status"] != "ok" else "ok"),
    Column("file_name", "last file", lambda r: r["file_name"] or "—"),
    Column("received_at", "received", lambda r: fmt.local_time(r["received_at"])),
    Column("age", "age", lambda r: r["age"]),
    Column("limit_hours", "limit h", lambda r: str(r["limit_hours"] or "—"), True),
    Column("data_through", "data through", lambda r: fmt.day(r["data_through"])),
    Column("rows", "rows", lambda r: fmt.qty(r["rows"]), True),
)

REJECTED = (
    Column("kind", "kind", lambda r: r["kind"]),
    Column("path", "file", lambda r: r["path"]),
    Column("received_at", "received", lambda r: fmt.local_time(r["received_at"])),
    Column("reason", "reason", lambda r: r["reason"] or ""),
)

BUILDS = (
    Column("version", "version", lambda r: f"v{r['version']}"),
    Column("built_at", "built", lambda r: fmt.local_time(r["built_at"])),
    Column("as_of", "as of", lambda r: fmt.day(r["as_of"])),
    Column("new_inputs", "new drops", lambda r: str(r["new_inputs"]), True),
    Column("checks_failed", "checks not passed", lambda r: r["checks_failed"] or "all passed"),
)

CHECKS = (
    Column("passed", "result", lambda r: "pass" if r["passed"] else ("FAIL" if r["severity"] == "error" else "warn")),
    Column("name", "check", lambda r: r["name"]),
    Column("detail", "detail", lambda r: r["detail"] or ""),
)


def cells(columns: tuple[Column, ...], rows: list[Row]) -> list[list[str]]:
    return [[c.cell(r) for c in columns] for r in rows]


def raw(columns: tuple[Column, ...], rows: list[Row]) -> list[dict[str, Any]]:
    """The values behind the cells, for CSV and JSON: numbers stay numbers, epochs become ISO times."""
    out = []
    for r in rows:
        record = {}
        for c in columns:
            value = r.get(c.key)
            if c.key in ("received_at", "built_at") and value is not None:
                value = fmt.local_time(value)
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            record[c.key] = value
        out.append(record)
    return out


REPLAY = (
    Column("demand_class", "class", lambda r: r["demand_class"]),
    Column("items", "items", lambda r: fmt.qty(r["items"]), True),
    Column("points", "points", lambda r: fmt.qty(r["points"]), True),
    Column("points_kept", "kept", lambda r: fmt.qty(r["points_kept"]), True),
    Column("share_kept", "kept %", lambda r: fmt.pct(r["share_kept"]), True),
    Column("service_level", "promised", lambda r: fmt.pct(r["service_level"]), True),
    Column("gap_points", "gap", lambda r: (f"{r['gap_points']:+.1f} pt" + (" MISSES" if r["gap_points"] < -3 else ""))
           if r["gap_points"] is not None else "—", True),
)

REPLAY_ITEMS = (
    Column("item_id", "item", lambda r: r["item_id"]),
    Column("demand_class", "class", lambda r: fmt.CLASS_SHORT.get(r["demand_class"], r["demand_class"])),
    Column("points_kept", "kept", lambda r: f"{r['points_kept']}/{r['points']}", True),
    Column("share_kept", "kept %", lambda r: fmt.pct(r["share_kept"]), True),
    Column("service_level", "promised", lambda r: fmt.pct(r["service_level"]), True),
    Column("status", "status", lambda r: fmt.STATUS_LABEL.get(r["status"], r["status"])),
    Column("description", "description", lambda r: (r["description"] or "")[:40]),
)

ACCURACY = (
    Column("model_version", "model", lambda r: r["model_version"]),
    Column("demand_class", "class", lambda r: r["demand_class"]),
    Column("items", "items", lambda r: fmt.qty(r["items"]), True),
    Column("actual_days", "days", lambda r: fmt.qty(r["actual_days"]), True),
    Column("wape", "WAPE", lambda r: fmt.pct(r["wape"]), True),
    Column("bias", "bias", lambda r: fmt.pct(r["bias"], signed=True), True),
    Column("mase", "MASE", lambda r: fmt.qty(r["mase"], 2) if r["mase"] is not None else "—", True),
)


def trend(medians) -> str:
    """The last quarters' median lead times, oldest first: `12→9→15 d`."""
    if not medians:
        return ""
    return "→".join(f"{m:g}" for m in medians if m is not None) + " d"


SUPPLIERS = (
    Column("supplier", "supplier", lambda r: (r["supplier"] or "")[:36]),
    Column("site", "site", lambda r: r.get("site") or ""),
    Column("lines", "lines", lambda r: fmt.qty(r["lines"]), True),
    Column("items", "items", lambda r: fmt.qty(r["items"]), True),
    Column("median_days", "median d", lambda r: fmt.qty(r["median_days"]), True),
    Column("p90_days", "p90 d", lambda r: fmt.qty(r["p90_days"]), True),
    Column("std_days", "spread d", lambda r: fmt.qty(r["std_days"], 1), True),
    Column("on_time_share", "on time", lambda r: fmt.pct(r["on_time_share"]), True),
    Column("last_quarter_medians", "last quarters", lambda r: trend(r["last_quarter_medians"])),
)

HEALTH = (
    Column("site", "site", lambda r: r.get("site") or ""),
    Column("snapshot_date", "snapshot", lambda r: fmt.day(r["snapshot_date"])),
    Column("stocked_items", "stocked", lambda r: fmt.qty(r["stocked_items"]), True),
    Column("items_with_demand", "with demand", lambda r: fmt.qty(r["items_with_demand"]), True),
    Column("stockouts", "stockouts", lambda r: fmt.qty(r["stockouts"]), True),
    Column("stockout_rate", "rate", lambda r: fmt.pct(r["stockout_rate"]), True),
    Column("at_or_below_reorder", "≤ reorder", lambda r: fmt.qty(r["at_or_below_reorder"]), True),
)

VERSION_COUNTS = (
    Column("version", "version", lambda r: f"v{r['version']}"),
    Column("as_of", "as of", lambda r: fmt.day(r["as_of"])),
    Column("stockouts", "stockouts", lambda r: fmt.qty(r["stockouts"]), True),
    Column("below_reorder", "below", lambda r: fmt.qty(r["below_reorder"]), True),
    Column("ok", "ok", lambda r: fmt.qty(r["ok"]), True),
)