"""Planning for spare-parts demand on the dashboard and in `report replay` (issue 14), on the real
test warehouse (the bundled data with the demo's planner sheet): every figure shown is the
warehouse's own."""
from __future__ import annotations

import json

import pytest
from textual.widgets import Select

from nova_tui.format import CLASS_SHORT
from nova_tui.screens.item import ItemScreen
from nova_tui.widgets.table import ListTable
from test_tui_cli import nova_tui
from helpers import dict_rows
from tui_helpers import app_for, press, screen_text, settle

pytestmark = pytest.mark.anyio


def rows(site, sql):
    return dict_rows(site / "warehouse" / "nova_v000002.duckdb", sql)


async def test_class_and_planner_columns_and_the_class_filter(tui_site):
    want = {r["item_id"]: r for r in rows(tui_site, "SELECT item_id, demand_class, has_planner FROM gold.reorder_status")}
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        table = app.screen.query_one(ListTable)
        keys = [c.key.value for c in table.ordered_columns]
        for i, r in enumerate(table.rows_shown):
            cells = [str(c) for c in table.get_row_at(i)]
            assert cells[keys.index("demand_class")] == CLASS_SHORT[want[r["item_id"]]["demand_class"]]
            assert cells[keys.index("has_planner")] == ("P" if want[r["item_id"]]["has_planner"] else "")
        select = app.screen.query_one("#class", Select)
        select.value = "intermittent"
        await settle(pilot)
        assert sorted(r["item_id"] for r in table.rows_shown) == \
            sorted(i for i, r in want.items() if r["demand_class"] == "intermittent")
        select.value = "planner"
        await settle(pilot)
        assert sorted(r["item_id"] for r in table.rows_shown) == sorted(i for i, r in want.items() if r["has_planner"])


async def test_item_screen_explains_class_spread_rounding_and_replay(tui_site):
    r = rows(tui_site, "SELECT * FROM gold.reorder_status WHERE item_id = '011029'")[0]
    replay = rows(tui_site, "SELECT * FROM gold.service_replay_item WHERE item_id = '011029'")[0]
    app = app_for(tui_site)
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        await press(pilot, "2", "slash", *"011029", "enter", "enter")
        assert isinstance(app.screen, ItemScreen)
        text = screen_text(app)
        assert f"ADI = 180 / {r['demand_days']} = {r['adi']:.2f}" in text and f"CV² = {r['cv2']:.2f}" in text
        assert "L = lead time = 10 days, from the planner's sheet (PRAZO)" in text
        assert f"s_L = lead-time spread = {r['lead_time_std']:,.2f} days, from the item's own lead times" in text
        assert f"z = {r['z']:.3f} for a 98.0% service level (the planner's)" in text
        assert "safety stock = z · √(L · s² + d² · s_L²)" in text and f"= {r['safety_stock']:,.2f}" in text
        assert "pack of 25: ⌈" in text and "minimum 200: max(" in text
        assert f"suggested order = {r['suggested_order_qty']:,.0f}" in text
        assert (f"covered the lead-time demand at {replay['points_kept']} of {replay['points']}" in text)
        assert "against 98.0% promised" in text


async def test_overview_says_whether_the_method_keeps_its_promise(tui_site):
    classes = rows(tui_site, "SELECT * FROM gold.service_replay WHERE points > 0")
    app = app_for(tui_site)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Does the method keep its promise?" in text
        for c in classes:
            line = next(x for x in text.splitlines() if x.strip().startswith(c["demand_class"] + " "))
            assert f"{c['points_kept']:,}/{c['points']:,}" in line and f"{c['share_kept'] * 100:.1f}%" in line
            assert line.endswith("MISSES") == (c["gap_points"] < -3), line
        assert any(c["gap_points"] < -3 for c in classes)  # intermittent items: far below the promised 95 %


def test_report_replay_for_cron(tui_site):
    result = nova_tui("report", "replay", "--format", "json", "--config", str(tui_site / "config.toml"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    classes = rows(tui_site, "SELECT demand_class, points, points_kept FROM gold.service_replay WHERE points > 0")
    assert sorted((c["demand_class"], c["points"], c["points_kept"]) for c in data["replay"]) == \
        sorted((c["demand_class"], c["points"], c["points_kept"]) for c in classes)
    items = rows(tui_site, "SELECT item_id FROM gold.service_replay_item WHERE points > 0")
    assert {i["item_id"] for i in data["items"]} == {i["item_id"] for i in items}
    first = data["items"][0]
    assert first["share_kept"] - first["service_level"] == min(i["share_kept"] - i["service_level"] for i in data["items"])
    accuracy = rows(tui_site, "SELECT model_version, demand_class, mase FROM gold.forecast_accuracy")
    assert sorted((a["model_version"], a["demand_class"], a["mase"]) for a in data["accuracy"]) == \
        sorted((a["model_version"], a["demand_class"], a["mase"]) for a in accuracy)
    text = nova_tui("report", "replay", "--config", str(tui_site / "config.toml"))
    assert "MISSES" in text.stdout and "replay (" in text.stdout and f"accuracy ({len(accuracy)})" in text.stdout


async def test_suppliers_screen_lists_sorts_and_filters(tui_site):
    from nova_tui.screens.suppliers import SuppliersScreen

    want = rows(tui_site, "SELECT supplier, lines, median_days FROM gold.supplier_lead_time")
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "6")
        assert isinstance(app.screen, SuppliersScreen)
        table = app.screen.query_one(ListTable)
        shown = table.rows_shown
        assert len(shown) == len(want) and [r["lines"] for r in shown] == sorted((w["lines"] for w in want), reverse=True)
        await press(pilot, "s", "s", "s", "s")  # supplier, lines, items, median
        assert app.screen.sort_key == "median_days"
        medians = [r["median_days"] for r in table.rows_shown if r["median_days"] is not None]
        assert medians == sorted(medians)
        await press(pilot, "slash", *"braspress", "enter")
        names = [r["supplier"] for r in table.rows_shown]
        assert "BRASPRESS" in names and all("BRASPRESS" in n for n in names)
        assert len(names) == sum("BRASPRESS" in w["supplier"] for w in want)


async def test_the_item_screen_names_the_items_suppliers_with_their_lead_times(tui_site):
    sup = rows(tui_site, """SELECT i.supplier, i.lines, s.median_days FROM gold.item_supplier i
                            JOIN gold.supplier_lead_time s USING (supplier) WHERE i.item_id = '011029'""")
    app = app_for(tui_site)
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        await press(pilot, "2", "slash", *"011029", "enter", "enter")
        text = screen_text(app)
        assert "Suppliers (most recent first" in text
        for s in sup:
            assert s["supplier"][:40] in text


async def test_overview_shows_the_stockout_trend(tui_site):
    health = rows(tui_site, "SELECT snapshot_date, stockouts, items_with_demand, stockout_rate FROM gold.stock_health "
                            "ORDER BY snapshot_date")
    app = app_for(tui_site)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        last, before = health[-1], health[-2]
        delta = (last["stockout_rate"] - before["stockout_rate"]) * 100
        assert (f"stockout rate {last['stockout_rate'] * 100:.1f}% on {last['snapshot_date']} "
                f"({last['stockouts']} of {last['items_with_demand']} items with demand), {delta:+.1f} pt since "
                f"{before['snapshot_date']}") in text
        assert "below reorder per version: " in text and "vs v1" in text


def test_report_trend_for_mail(tui_site):
    result = nova_tui("report", "trend", "--format", "json", "--config", str(tui_site / "config.toml"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    health = rows(tui_site, "SELECT snapshot_date::VARCHAR AS d, stockouts FROM gold.stock_health ORDER BY 1")
    assert [(h["snapshot_date"], h["stockouts"]) for h in data["stock_health"]] == [(h["d"], h["stockouts"]) for h in health]
    assert [v["version"] for v in data["versions"]] == [1, 2]


async def test_context_screen_correlates_weekly_demand_with_weather_and_economy(tui_site):
    import statistics
    from collections import defaultdict
    from datetime import timedelta

    from nova_tui.screens.context import ContextScreen

    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "7")
        screen = app.screen
        assert isinstance(screen, ContextScreen)
        app.screen.query_one("#ctx-scope", Select).value = "family:FERRO E AÇO\x1fUN"
        await settle(pilot)
        shown = screen.rows
        text = screen_text(app)
    # the same weeks from the gold tables, summed in Python
    as_of = rows(tui_site, "SELECT as_of, history_days FROM gold.reorder_status LIMIT 1")[0]
    first = as_of["as_of"] - timedelta(days=as_of["history_days"] - 1)
    week = lambda d: d - timedelta(days=d.weekday())  # noqa: E731
    demand, rain = defaultdict(float), defaultdict(float)
    for r in rows(tui_site, """SELECT d."date", d.quantity FROM gold.demand_daily d JOIN gold.dim_item i USING (item_id)
                                WHERE i.family = 'FERRO E AÇO' AND i.unit = 'UN'"""):
        if first <= r["date"] <= as_of["as_of"]:
            demand[week(r["date"])] += r["quantity"]
    for r in rows(tui_site, 'SELECT "date", precip_mm FROM gold.external_daily WHERE precip_mm IS NOT NULL'):
        if first <= r["date"] <= as_of["as_of"]:
            rain[week(r["date"])] += r["precip_mm"]
    assert {r["week"]: r["quantity"] for r in shown if r["quantity"]} == pytest.approx(dict(demand))
    weeks = sorted(rain)
    r_rain = statistics.correlation([demand.get(w, 0) for w in weeks], [rain[w] for w in weeks])
    assert f"rain         {r_rain:+.2f}" in text
    assert "it cannot show that rain or the economy causes demand" in text.replace("\n", " ")
    assert "Weeks with holidays" in text
