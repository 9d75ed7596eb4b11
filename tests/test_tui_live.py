"""The dashboard follows the warehouse: new versions, broken files, and nothing published yet."""
from __future__ import annotations

import asyncio
import shutil

import duckdb
import pytest

from conftest import stock_snapshot
from nova_tui.screens.problem import ProblemScreen
from nova_tui.widgets.table import ListTable
from tui_helpers import app_for, press, screen_text, settle

pytestmark = pytest.mark.anyio


async def wait_until(pilot, condition, seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
        await pilot.pause()
    raise AssertionError("condition not met in time")


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_new_version_is_picked_up_keeping_screen_filter_and_selection(tui_site_copy):
    site = tui_site_copy
    app = app_for(site, watch_seconds=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2", "slash", *"ferro", "enter", "down", "down")
        table = app.screen.query_one(ListTable)
        selected, shown = table.selected_key(), len(table.rows_shown)
        assert selected is not None and shown > 3

        # publish v3 under the running app, with the real pipeline in another process
        stock_snapshot(site, "26/10/2025", "010004", "500")
        proc = await asyncio.create_subprocess_exec(*run_cli_args(site, "build"))
        assert await proc.wait() == 0
        await wait_until(pilot, lambda: app.snapshot.version == 3, seconds=10)
        await settle(pilot)
        assert app.current_mode == "reorder"
        assert app.screen.query_one("#text").value == "ferro"
        assert table.selected_key() == selected
        assert "now showing v3" in notifications(app)
        assert "v3 · as of 2025-10-26" in screen_text(app)


def run_cli_args(site, *args):
    import sys
    return [sys.executable, "-m", "nova_pipeline", "--config", str(site / "config.toml"), *args]


async def test_no_warehouse_yet_then_one_is_published(tmp_path, tui_site):
    site = tmp_path / "site"
    (site / "warehouse").mkdir(parents=True)
    app = app_for(site, watch_seconds=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProblemScreen)
        text = screen_text(app)
        assert "No warehouse yet" in text and "nova-pipeline build" in text
        await pilot.press("2")  # nothing to switch to: stays, no crash
        assert isinstance(app.screen, ProblemScreen)

        shutil.copy(tui_site / "warehouse" / "nova_v000001.duckdb", site / "warehouse" / "nova_v000001.duckdb")
        (site / "warehouse" / "current.duckdb").symlink_to("nova_v000001.duckdb")
        await wait_until(pilot, lambda: app.snapshot is not None)
        await settle(pilot)
        assert app.current_mode == "overview" and "v1 · as of 2025-10-24" in screen_text(app)


async def problem_text(site, **target) -> str:
    app = app_for(site, **target)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProblemScreen)
        return screen_text(app)


async def test_a_file_that_is_not_a_database(tmp_path):
    bad = tmp_path / "mail.duckdb"
    bad.write_bytes(b"this came through a mail gateway" * 100)
    text = await problem_text(tmp_path, file=str(bad))
    assert "Not a warehouse file" in text and "nova-pipeline build" in text


async def test_a_foreign_database(tmp_path):
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t AS SELECT 1 AS x").close()
    assert "Not a Nova Corrente warehouse" in await problem_text(tmp_path, file=str(other))


async def test_a_warehouse_from_an_older_pipeline(tmp_path, tui_site):
    old = tmp_path / "old.duckdb"
    shutil.copy(tui_site / "warehouse" / "nova_v000001.duckdb", old)
    con = duckdb.connect(str(old))
    con.execute("ALTER TABLE gold.reorder_status DROP COLUMN newly_flagged")
    con.close()
    text = await problem_text(tmp_path, file=str(old))
    assert "another pipeline version" in text and "gold.reorder_status.newly_flagged" in text


async def test_a_version_that_is_not_kept(tui_site):
    text = await problem_text(tui_site, version=9)
    assert "No such version" in text and "v1, v2" in text


async def test_a_bad_new_version_keeps_the_good_one_on_screen(tui_site_copy):
    site = tui_site_copy
    app = app_for(site, watch_seconds=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.snapshot.version == 2
        (site / "warehouse" / "nova_v000003.duckdb").write_bytes(b"\0" * 4096)
        current = site / "warehouse" / "current.duckdb"
        current.unlink()
        current.symlink_to("nova_v000003.duckdb")
        await wait_until(pilot, lambda: any("Still showing v2" in m for m in notifications(app)))
        assert app.snapshot.version == 2 and app.current_mode == "overview"
