"""The operator's morning decision on the dashboard (issue 13), driven by Textual's pilot on the real
two-version test warehouse: decision columns, sorting, filters, changes, cards, the stale banner,
remembered state, copying, and the bugs the trial found — each against the warehouse's own rows."""
from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from textual.widgets import Input, Select

from nova_tui import lists
from nova_tui.screens.changes import ChangesScreen
from nova_tui.screens.forecast import ForecastScreen, ItemForecastScreen
from nova_tui.screens.item import ItemScreen
from nova_tui.screens.problem import ProblemScreen
from nova_tui.widgets.charts import DemandChart, series_markers
from nova_tui.widgets.key_line import KeyLine, fit
from nova_tui.widgets.table import ListTable
from helpers import dict_rows
from tui_helpers import FROZEN, app_for, press, screen_text, settle, tui_config

pytestmark = pytest.mark.anyio


def warehouse_rows(site, sql, version: int = 2):
    return dict_rows(site / "warehouse" / f"nova_v{version:06d}.duckdb", sql)


def header_x(table: ListTable, key: str) -> int:
    """The screen column of a header cell, from the table's own column widths."""
    x = 0
    for column in table.ordered_columns:
        if column.key.value == key:
            return x + 1
        x += column.get_render_width(table)
    raise KeyError(key)


async def test_the_list_shows_the_decision_and_the_unit(tui_site):
    expected = {r["item_id"]: r for r in warehouse_rows(tui_site, "SELECT * FROM gold.reorder_status")}
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        table = app.screen.query_one(ListTable)
        headers = [str(c.label) for c in table.ordered_columns]
        assert headers[:12] == ["chg", "status", "item", "late", "on hand", "unit", "cover", "order by", "order",
                                "class", "plan", "supplier (+others)"]
        for i, r in enumerate(table.rows_shown):
            cells = [str(c) for c in table.get_row_at(i)]
            want = expected[r["item_id"]]
            assert cells[2] == want["item_id"] and cells[5] == (want["unit"] or "")
            assert cells[3] == ("LATE" if want["runs_out_before_delivery"] else "")
            assert cells[7] == (want["order_by_date"].strftime("%d/%m/%y") if want["order_by_date"] else "—")
            assert cells[10] == ("P" if want["has_planner"] else "")
            if want["supplier"]:
                assert cells[11].startswith(want["supplier"][:10])
                assert cells[11].endswith(f"(+{want['supplier_count'] - 1})") == (want["supplier_count"] > 1)


async def test_sort_by_keys_and_by_clicking_a_header(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        screen, table = app.screen, app.screen.query_one(ListTable)
        urgency = [r["item_id"] for r in table.rows_shown]
        await press(pilot, "s", "s", "s")  # change, status, item
        assert screen.sort_key == "item_id" and [r["item_id"] for r in table.rows_shown] == sorted(urgency)
        assert str(table.columns["item_id"].label) == "item▲"
        await press(pilot, "S")
        assert [r["item_id"] for r in table.rows_shown] == sorted(urgency, reverse=True)
        # a click on "cover": ascending, empty covers last; again: descending; a third: urgency
        await pilot.click(ListTable, offset=(header_x(table, "days_of_cover"), 0))
        await settle(pilot)
        covers = [r["days_of_cover"] for r in table.rows_shown]
        present = [c for c in covers if c is not None]
        assert screen.sort_key == "days_of_cover" and present == sorted(present) and covers[:len(present)] == present
        await pilot.click(ListTable, offset=(header_x(table, "days_of_cover"), 0))
        await settle(pilot)
        assert [r["days_of_cover"] for r in table.rows_shown if r["days_of_cover"] is not None] == sorted(present, reverse=True)
        await pilot.click(ListTable, offset=(header_x(table, "days_of_cover"), 0))
        await settle(pilot)
        assert screen.sort_key is None and [r["item_id"] for r in table.rows_shown] == urgency


async def test_status_filter_hides_ok_and_keeps_the_item_column_in_view(tui_site):
    counts = {r["status"]: r["items"] for r in warehouse_rows(tui_site, "SELECT status, items FROM gold.status_counts")}
    app = app_for(tui_site)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "2", "h")
        table = app.screen.query_one(ListTable)
        assert len(table.rows_shown) == counts["stockout"] + counts["below_reorder"]
        assert all(r["status"] != "ok" for r in table.rows_shown)
        app.screen.query_one("#status", Select).value = "late"
        await settle(pilot)
        assert table.rows_shown and all(r["runs_out_before_delivery"] for r in table.rows_shown)
        await press(pilot, "h")
        assert len(table.rows_shown) == counts["stockout"] + counts["below_reorder"]
        await press(pilot, "h")
        assert len(table.rows_shown) == sum(counts.values())
        # scrolled far right, the first three columns stay: the item code is still on the first row
        assert table.fixed_columns == 3
        for _ in range(12):
            await pilot.press("right")
        await settle(pilot)
        assert table.scroll_x > 0
        first = table.rows_shown[0]["item_id"]
        assert first in table.render_line(1).text


async def test_slash_in_the_filter_box_goes_back_to_the_list(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2", "slash", *"cabo")
        box = app.screen.query_one("#text", Input)
        assert box.value == "cabo" and box.has_focus
        await press(pilot, "slash")
        assert box.value == "cabo" and app.focused is app.screen.query_one(ListTable)


async def test_copy_the_item_code_and_the_row(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        row = app.screen.query_one(ListTable).selected_row()
        await press(pilot, "c")
        assert app.clipboard == row["item_id"]
        await press(pilot, "C")
        assert app.clipboard.split("\t") == [c.cell(row) for c in lists.REORDER]
        await press(pilot, "enter", "c")
        assert isinstance(app.screen, ItemScreen) and app.clipboard == row["item_id"]


async def test_changes_screen_lists_exactly_the_warehouse_changes(tui_site):
    expected = warehouse_rows(tui_site, "SELECT item_id, change, detail FROM gold.reorder_changes")
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "5")
        assert isinstance(app.screen, ChangesScreen)
        table = app.screen.query_one(ListTable)
        assert sorted((r["item_id"], r["change"], r["detail"]) for r in table.rows_shown) == \
            sorted((r["item_id"], r["change"], r["detail"]) for r in expected)
        assert [r["change"] for r in table.rows_shown][0] == "worse"
        text = screen_text(app)
        kinds = [r["change"] for r in expected]
        assert f"Since v1: {kinds.count('worse')} got worse" in text
        assert f"{kinds.count('order_moved')} suggested order" in text
        await press(pilot, "enter")
        assert isinstance(app.screen, ItemScreen) and app.screen.row["item_id"] == table.rows_shown[0]["item_id"]
        details = "; ".join(r["detail"] for r in expected if r["item_id"] == table.rows_shown[0]["item_id"])
        assert f"since the previous version: {details}" in screen_text(app)


async def test_overview_cards_open_their_lists(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "x")
        assert app.current_mode == "reorder"
        rows = app.screen.query_one(ListTable).rows_shown
        assert rows and all(r["status"] == "stockout" for r in rows)
        await press(pilot, "1")
        await pilot.click("#below")
        await settle(pilot)
        assert app.current_mode == "reorder"
        assert {r["status"] for r in app.screen.query_one(ListTable).rows_shown} == {"below_reorder"}
        await press(pilot, "1")
        app.screen.query_one("#late").focus()
        await press(pilot, "enter")
        assert all(r["runs_out_before_delivery"] for r in app.screen.query_one(ListTable).rows_shown)
        await press(pilot, "1", "c")
        assert app.current_mode == "changes"


async def test_stale_data_banner_on_every_screen_and_in_reports(tui_site):
    app = app_for(tui_site)
    app.config = dataclasses.replace(app.config, clock=lambda: FROZEN + timedelta(days=5))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in ("1", "2", "3", "4", "5"):
            await press(pilot, key)
            assert "STALE DATA · as of 2025-10-25, 5 d old (limit 3 d)" in screen_text(app), key
        await press(pilot, "2", "enter")
        assert "STALE DATA · as of 2025-10-25" in screen_text(app)
    fresh = app_for(tui_site)
    async with fresh.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "STALE DATA" not in screen_text(fresh)


async def test_state_is_remembered_and_a_broken_state_file_is_ignored(tui_site, tmp_path):
    state_file = tmp_path / "state" / "nova" / "tui.json"
    cfg = dataclasses.replace(tui_config(tui_site), state_file=state_file)
    from nova_tui.app import make_app

    app = make_app(cfg)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2", "h", "s", "s", "s", "slash", *"pall", "enter")
        app.theme = "nord"
        await settle(pilot)
    saved = json.loads(state_file.read_text())
    assert saved["screen"] == "reorder" and saved["theme"] == "nord"
    assert saved["reorder"] == {"text": "pall", "family": None, "status": "act", "class": "all", "sort": "item_id",
                                "descending": False}

    again = make_app(cfg)
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert again.current_mode == "reorder" and again.theme == "nord"
        screen = again.screen
        assert screen.query_one("#text", Input).value == "pall" and screen.query_one("#status", Select).value == "act"
        shown = screen.query_one(ListTable).rows_shown
        assert shown and [r["item_id"] for r in shown] == sorted(r["item_id"] for r in shown)
        assert all("PALL" in r["description"] and r["status"] != "ok" for r in shown)

    state_file.write_text("{not json")
    broken = make_app(cfg)
    async with broken.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert broken.current_mode == "overview"
        notices = [n.message for n in broken._notifications]
        assert any(f"ignored {state_file}: JSONDecodeError" in m for m in notices), notices


async def test_item_to_its_forecast_and_back(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2", "slash", *"012053", "enter", "enter")
        assert isinstance(app.screen, ItemScreen)
        await press(pilot, "f")
        assert isinstance(app.screen, ItemForecastScreen)
        assert app.screen.chosen()[0] == "012053" and app.screen.series["forecast"]
        await press(pilot, "escape")
        assert isinstance(app.screen, ItemScreen) and app.screen.row["item_id"] == "012053"


async def test_y_scale_clip_and_log_for_spiky_items(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "3")
        chart = app.screen.query_one(DemandChart)
        values = [r["quantity"] for r in app.screen.series["history"]] + [r["forecast"] for r in app.screen.series["forecast"]]
        await press(pilot, "y")
        assert chart.scale == "clip"
        rendered = str(chart.render())
        assert "clipped at" in rendered or "nothing to clip" in rendered
        await press(pilot, "y")
        assert chart.scale == "log" and "log scale" in str(chart.render()) and max(values) > 0
        await press(pilot, "y")
        assert chart.scale == "linear"


async def test_a_family_that_mixes_units_is_charted_per_unit(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "3")
        screen = app.screen
        assert isinstance(screen, ForecastScreen)
        labels = [str(label) for label, _ in screen.query_one("#scope", Select)._options]
        assert "family: FERRO E AÇO — only KG (it mixes 2 units)" in labels
        assert "family: FERRO E AÇO — only UN (it mixes 2 units)" in labels
        assert "family: FERRO E AÇO" not in labels
        screen.query_one("#scope", Select).value = "family:FERRO E AÇO\x1fKG"
        await settle(pilot)
        total = warehouse_rows(tui_site, """SELECT sum(forecast) AS t FROM gold.fact_forecast JOIN gold.dim_item
                                            USING (item_id) WHERE family = 'FERRO E AÇO' AND unit = 'KG'""")[0]["t"]
        assert sum(r["forecast"] for r in screen.series["forecast"]) == pytest.approx(total)


async def test_without_colour_every_series_has_its_own_marker(tui_site, monkeypatch):
    marks = series_markers(no_color=True)
    assert len({marks["demand"], marks["forecast"], marks["interval"], marks["actual"]}) == 4
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(tui_site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "3")
        rendered = str(app.screen.query_one(DemandChart).render())
        assert "** demand" in rendered and "++ forecast" in rendered


async def test_the_key_line_always_fits_and_keeps_help_quit_and_palette(tui_site):
    app = app_for(tui_site)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for width in (80, 95, 110, 115, 120, 125, 130, 135, 160):
            await pilot.resize_terminal(width, 24)
            for key in ("1", "2", "3", "4", "5"):
                await press(pilot, key)
                text = str(app.screen.query_one(KeyLine).render())
                assert len(text) <= width - 2, (width, key, text)
                assert ("? help" in text or "? Help" in text) and ("q quit" in text or "q Quit" in text), (width, key, text)
                assert text.endswith("^p palette"), (width, key, text)
    # the fitting rule on its own: the least needed keys go first, the three essentials never
    entries = [("/", "Filter", "filter"), ("s", "Sort", "sort"), ("?", "Help", "help"), ("q", "Quit", "quit")]
    assert fit(entries, 36) == "[b]/[/b] filter  [b]?[/b] help  [b]q[/b] quit  [b]^p[/b] palette"


async def test_the_problem_screen_shows_only_keys_that_work(tmp_path):
    app = app_for(tmp_path)  # no warehouse here
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProblemScreen)
        text = str(app.screen.query_one(KeyLine).render())
        assert "Overview" not in text and "screens" not in text and "Export" not in text
        assert "r Refresh" in text and "q Quit" in text
        await press(pilot, "2", "e")
        assert isinstance(app.screen, ProblemScreen)


async def test_screenshot_goes_to_the_exports_folder(tui_site, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    app = app_for(tui_site, exports=tmp_path / "exports")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        saved = app.deliver_screenshot()
        await settle(pilot)
        files = list((tmp_path / "exports").glob("*.svg"))
        assert len(files) == 1 and str(files[0]) == saved
        assert any(f"saved to {saved}" in n.message for n in app._notifications)


async def test_export_rounds_numbers_and_counts_rows_in_words(tui_site, tmp_path):
    app = app_for(tui_site, exports=tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2", "slash", *"012053", "enter", "e")
        assert any(n.message.startswith("1 row written to ") for n in app._notifications)
        text = next((tmp_path / "exports").glob("reorder_v2_*.csv")).read_text(encoding="utf-8-sig")
        values = text.splitlines()[1].split(";")
        decimals = [v.split(",")[1] for v in values if "," in v and v.replace(",", "").replace("-", "").isdigit()]
        assert decimals and all(len(d) <= 3 for d in decimals)


async def test_the_first_version_says_there_is_no_previous_one(tui_site):
    app = app_for(tui_site, version=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2", "enter")
        text = screen_text(app)
        assert "previous version: none — this is the first version" in text
        assert "not in the previous version" not in text
