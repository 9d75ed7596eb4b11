"""The dashboard driven by Textual's pilot on real warehouse files: every key and every screen."""
from __future__ import annotations

import csv
import io

import duckdb
import pytest

from nova_tui.screens.forecast import ForecastScreen
from nova_tui.screens.help import HelpScreen
from nova_tui.screens.item import ItemScreen
from nova_tui.widgets.table import ListTable
from tui_helpers import app_for, press, screen_text, settle

pytestmark = pytest.mark.anyio  # anyio (already there for httpx) runs the async pilot tests


def warehouse_rows(site, sql, params=None):
    # same settings as the dashboard: DuckDB refuses a second, differently configured, open in one process
    con = duckdb.connect(str(site / "warehouse" / "nova_v000002.duckdb"), read_only=True, config={
        "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


async def test_number_keys_switch_screens(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.current_mode == "overview"
        for key, mode in (("2", "reorder"), ("3", "forecast"), ("4", "freshness"), ("1", "overview")):
            await press(pilot, key)
            assert app.current_mode == mode


async def test_overview_counts_match_the_warehouse(tui_site):
    expected = dict(warehouse_rows(tui_site, "SELECT status, count(*) FROM gold.reorder_status GROUP BY status"))
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        previous = dict(warehouse_rows(tui_site, "SELECT status, previous_items FROM gold.status_counts"))
        assert previous["stockout"] == expected["stockout"] - 1  # 010090 ran out on the second day
        assert f"{expected['stockout']} stockouts\n+1 vs v1 · 1 worse" in text
        assert f"{expected['below_reorder']} below reorder\n±0 vs v1" in text
        assert "ensemble-2025.10.1" in text
        assert "1 rejected file(s)" in text
        assert "Nova Corrente · Overview · v2 · as of 2025-10-25 · built 1 h ago" in text


async def test_reorder_order_filter_and_new_mark(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        table = app.screen.query_one(ListTable)
        rows = table.rows_shown
        assert len(rows) == warehouse_rows(tui_site, "SELECT count(*) FROM gold.reorder_status")[0][0]
        rank = {"stockout": 0, "below_reorder": 1, "ok": 2}
        assert [rank[r["status"]] for r in rows] == sorted(rank[r["status"]] for r in rows)
        for status in ("stockout", "below_reorder"):  # LATE first, then the soonest order-by date
            urgency = [(not r["runs_out_before_delivery"], r["order_by_date"]) for r in rows if r["status"] == status]
            assert urgency == sorted(urgency)
        new = [r["item_id"] for r in rows if r["newly_flagged"]]
        assert new == ["010090"]  # ran out in the second day's snapshot
        assert "NEW" in str(table.get_row_at(rows.index(next(r for r in rows if r["item_id"] == "010090")))[0])

        await pilot.press("slash")
        assert app.focused.id == "text"
        await pilot.press(*"aco")  # no accent typed: still finds AÇO
        await settle(pilot)
        shown = table.rows_shown
        from nova_tui.screens.reorder import fold
        assert shown and all("aco" in fold(f"{r['description']} {r['family']} {r['supplier']}") for r in shown)
        assert len(shown) < len(rows)
        await pilot.press("enter")
        assert app.focused is table
        await press(pilot, "escape")
        assert len(table.rows_shown) == len(rows)


async def test_the_item_screen_reads_its_own_columns_when_it_opens(tui_site):
    """The list holds only what it shows, filters, sorts and exports; the columns only the item screen
    shows are read when it opens (10 MB less at idle on a 24,000-item list): the same values as the file."""
    from nova_tui import queries
    from nova_tui.screens.item import ItemScreen

    detail = [n.strip() for n in queries.ITEM_DETAIL_COLUMNS.split(",")]
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        first = app.snapshot.reorder[0]
        assert not any(n in first for n in detail)
        await press(pilot, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ItemScreen)
        expected = warehouse_rows(tui_site, f"SELECT {queries.ITEM_DETAIL_COLUMNS} FROM gold.reorder_status "
                                            "WHERE item_id = ?", [first["item_id"]])
        assert [tuple(app.screen.row[n] for n in detail)] == expected
        assert app.screen.row["item_id"] == first["item_id"] and app.screen.row["status"] == first["status"]
        with app.db.cursor() as cur:
            assert set(queries.item_detail(cur, "no such item").values()) == {None}


async def test_the_list_holds_the_warehouse_rows_with_repeats_shared(tui_site):
    """To stay in its idle memory budget on a 24,000-item list (bench/tui.py) the dashboard fetches rows in
    batches, shares repeated values (one object per distinct status, date, family...) and repeated cells.
    What it holds must still be exactly the warehouse's rows."""
    from nova_tui import queries

    names = [n.strip() for n in queries.REORDER_COLUMNS.split(",")]
    expected = sorted(warehouse_rows(tui_site, f"SELECT {queries.REORDER_COLUMNS} FROM gold.reorder_status"),
                      key=lambda r: r[0])
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        rows = app.snapshot.reorder
        assert sorted((tuple(r[n] for n in names) for r in rows), key=lambda r: r[0]) == expected
        first: dict = {}
        for r in rows:
            for n in ("status", "as_of", "service_level", "family"):
                if r[n] is not None:
                    assert first.setdefault((n, r[n]), r[n]) is r[n], n
        table = app.screen.query_one(ListTable)
        for _ in range(50):  # the rest of a long list is added between frames
            if not table.filling:
                break
            await pilot.pause()
        assert not table.filling
        unit = [c.key for c in table.columns_spec].index("unit")
        cells = [table.get_row_at(i)[unit] for i in range(table.row_count)]
        assert len({str(c) for c in cells}) < len(cells)  # the demo's units repeat
        shared: dict = {}
        for c in cells:
            assert shared.setdefault(str(c), c) is c


async def test_family_filter(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        from textual.widgets import Select
        app.screen.query_one("#family", Select).value = "ABRASIVOS"
        await settle(pilot)
        shown = app.screen.query_one(ListTable).rows_shown
        assert shown and {r["family"] for r in shown} == {"ABRASIVOS"}


async def test_enter_explains_an_item(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        first = app.screen.query_one(ListTable).rows_shown[0]
        await press(pilot, "enter")
        assert isinstance(app.screen, ItemScreen)
        text = screen_text(app)
        depots = warehouse_rows(tui_site, f"SELECT depot FROM gold.fact_stock WHERE is_latest AND item_id = '{first['item_id']}'")
        assert {d for (d,) in depots} == {r["depot"] for r in app.screen.query_one(ListTable).rows_shown}
        assert "safety stock = z · √(L · s² + d² · s_L²)" in text and "reorder point" in text
        assert "Lead-time evidence" in text
        assert f"suggested order = {first['suggested_order_qty']:,.0f}" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, ItemScreen)


async def test_forecast_defaults_to_the_most_urgent_item_with_a_forecast(tui_site):
    expected = warehouse_rows(tui_site, """
        SELECT item_id FROM gold.reorder_status WHERE item_id IN (SELECT item_id FROM gold.fact_forecast)
        ORDER BY CASE status WHEN 'stockout' THEN 0 WHEN 'below_reorder' THEN 1 ELSE 2 END,
                 runs_out_before_delivery DESC, order_by_date NULLS LAST, item_id LIMIT 1""")[0][0]
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "3")
        screen = app.screen
        assert isinstance(screen, ForecastScreen)
        item, family, unit, model = screen.chosen()
        assert (item, family, unit, model) == (expected, None, None, "ensemble-2025.10.1")
        assert len(screen.series["forecast"]) == 30 and len(screen.series["history"]) == 90
        text = screen_text(app)
        assert "source ensemble" in text and "dataset suprimentos-2025-10-24" in text

        from textual.widgets import Select
        screen.query_one("#scope", Select).value = "family:FERRO E AÇO\x1fUN"
        await settle(pilot)
        assert screen.chosen()[1:3] == ("FERRO E AÇO", "UN")
        total = warehouse_rows(tui_site, """SELECT sum(forecast) FROM gold.fact_forecast f JOIN gold.dim_item i
                                            USING (item_id) WHERE i.family = 'FERRO E AÇO' AND i.unit = 'UN'""")[0][0]
        assert sum(r["forecast"] for r in screen.series["forecast"]) == pytest.approx(total)


async def test_export_writes_the_list_on_screen(tui_site, tmp_path):
    app = app_for(tui_site, exports=tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2", "slash", *"cabo", "enter", "e")
        files = list((tmp_path / "exports").glob("reorder_v2_*.csv"))
        assert len(files) == 1
        raw = files[0].read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
        records = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        shown = app.screen.query_one(ListTable).rows_shown
        assert [r["item_id"] for r in records] == [r["item_id"] for r in shown]
        assert all("CABO" in f"{r['description']} {r['supplier']}" for r in records)
        assert "," in records[0]["reorder_point"]  # decimal comma, a number to Excel in Brazil


async def test_a_long_list_shows_the_most_urgent_rows_and_filters_and_export_see_all(tui_site, tmp_path, monkeypatch):
    """The reorder table holds at most MAX_ROWS rows (cells cost memory); the rest stay reachable."""
    from nova_tui.screens import reorder

    monkeypatch.setattr(reorder, "MAX_ROWS", 3)
    app = app_for(tui_site, exports=tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        table = app.screen.query_one(ListTable)
        everything = app.snapshot.reorder
        assert len(everything) > 3 and table.row_count == 3
        assert [r["item_id"] for r in table.rows_shown] == [r["item_id"] for r in everything[:3]]
        assert f"3 of {len(everything)} items" not in screen_text(app)  # nothing is filtered yet
        assert "first 3 listed: filter or sort for the others; e exports all" in screen_text(app)
        await press(pilot, "e")
        files = list((tmp_path / "exports").glob("reorder_v2_*.csv"))
        records = list(csv.DictReader(io.StringIO(files[0].read_bytes().decode("utf-8-sig")), delimiter=";"))
        assert [r["item_id"] for r in records] == [r["item_id"] for r in everything]
        last = everything[-1]["item_id"]
        await press(pilot, "slash", *last, "enter")
        assert last in [r["item_id"] for r in table.rows_shown]


async def test_refresh_help_palette_and_quit(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "4", "r")
        assert app.current_mode == "freshness" and app.snapshot.version == 2
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "export the list on screen" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await press(pilot, "ctrl+p")
        await press(pilot, *"Reorder screen")
        await press(pilot, "enter")
        assert app.current_mode == "reorder"
        await press(pilot, "q")
    assert app.return_code == 0


async def test_freshness_shows_rejected_files_with_reason(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "4")
        sources = {r["kind"]: r["status"] for r in app.screen.query_one("#sources", ListTable).rows_shown}
        # the newest supplies export was garbage; the stock snapshot is 7 h old (limit 48 h)
        assert sources == {"suprimentos": "rejected", "estoque": "ok", "forecast": "ok", "external_ipca": "ok",
                           "external_ptax": "ok", "external_selic": "ok", "external_weather": "ok", "parametros": "ok"}
        text = screen_text(app)
        assert "landing/suprimentos_corrompido.csv: control byte 0x00" in text
        assert [r["version"] for r in app.screen.query_one("#builds", ListTable).rows_shown] == [2, 1]


async def test_staleness_follows_the_configured_hours(tui_site):
    from dataclasses import replace

    app = app_for(tui_site)
    app.config = replace(app.config, freshness_hours={"suprimentos": 48, "estoque": 6, "forecast": 192})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "4")
        sources = {r["kind"]: r["status"] for r in app.screen.query_one("#sources", ListTable).rows_shown}
        assert sources["estoque"] == "stale"


async def test_an_older_version_can_be_opened(tui_site):
    app = app_for(tui_site, version=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.snapshot.version == 1
        assert "v1 · as of 2025-10-24" in screen_text(app)


async def test_accuracy_where_actual_demand_overlaps_a_forecast(tmp_path, built_demo):
    """A back-test drop (the bundled forecast moved 30 days into the past) has actual demand to be
    measured against: WAPE and bias on screen equal a plain-Python computation from the export."""
    import shutil

    from conftest import run_cli

    site = tmp_path / "site"
    shutil.copytree(built_demo.source.parent, site, symlinks=True)
    drop = site / "ml_drops" / "forecast_backtest.parquet"
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * REPLACE (date - 30 AS date, 'backtest-1' AS model_version,
                                            generated_at + INTERVAL 1 DAY AS generated_at)
                          FROM '{site / "ml_drops" / "forecast_ensemble-2025.10.1.parquet"}')
                    TO '{drop}' (FORMAT parquet)""")
    forecast = con.execute(f"SELECT item_id, date, forecast FROM '{drop}'").fetchall()
    con.close()
    assert run_cli("--config", str(site / "config.toml"), "build").returncode == 0

    # actual demand per item and day, straight from the warehouse's requisition facts
    wh = duckdb.connect(str(site / "warehouse" / "nova_v000002.duckdb"), read_only=True, config={
        "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    lines = wh.execute("SELECT item_id, request_date, quantity FROM gold.fact_requisition WHERE NOT is_service").fetchall()
    wh.close()
    actual: dict = {}
    for item, day, qty in lines:
        actual[(item, day)] = actual.get((item, day), 0) + qty
    f_sum = sum(f for _, _, f in forecast)
    a_sum = sum(actual.get((i, d), 0) for i, d, _ in forecast)
    wape = sum(abs(f - actual.get((i, d), 0)) for i, d, f in forecast) / a_sum
    bias = (f_sum - a_sum) / a_sum

    app = app_for(site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        newest = app.snapshot.models[0]
        assert newest["model_version"] == "backtest-1" and newest["actual_days"] == len(forecast)
        assert newest["wape"] == pytest.approx(wape) and newest["bias"] == pytest.approx(bias)
        text = screen_text(app)
        assert f"WAPE {wape * 100:.1f}%" in text and f"bias {bias * 100:+.1f}%" in text
        assert "unreliable" in text  # MAPE only with its warning


async def test_one_screens_styles_do_not_leak_into_another(tui_site):
    """Textual's screen stylesheets are global: the freshness screen's `ListTable { max-height }`
    once shrank the reorder table. Every rule is now scoped to its screen."""
    app = app_for(tui_site)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in ("4", "2"):
            await press(pilot, key)
        table = app.screen.query_one(ListTable)
        # 24 rows - version bar - filter row (3) - summary - keys line
        assert table.region.height == 18
