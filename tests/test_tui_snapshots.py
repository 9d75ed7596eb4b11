"""Screenshots of every screen at 80×24 and 120×40, on v2 of the test warehouse, clock pinned."""
from __future__ import annotations

import dataclasses

import pytest

from tui_helpers import app_for, press, settle

SIZES = [(80, 24), (120, 40)]
SCREENS = {"overview": ["1"], "reorder": ["2"], "forecast": ["3"], "freshness": ["4"], "changes": ["5"],
           "suppliers": ["6"], "context": ["7"],
           "item": ["2", "enter"], "help": ["?"],
           # the list an operator decides from: ok hidden, sorted by order-by date, scrolled right
           "reorder-to-act": ["2", "h", *"s" * 8, "right", "right", "right", "right", "right", "right"],
           "item-forecast": ["2", "slash", *"012053", "enter", "enter", "f"],
           # the planner's item: L and service level from the sheet, pack and minimum rounding
           "item-planner": ["2", "slash", *"011029", "enter", "enter", "pagedown"]}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, tui_site, screen, size):
    async def run_before(pilot):
        await settle(pilot)
        for key in SCREENS[screen]:
            await press(pilot, key)

    assert snap_compare(app_for(tui_site), terminal_size=size, run_before=run_before)


def test_reorder_without_colour(snap_compare, tui_site, monkeypatch):
    """NO_COLOR: statuses still read as words (STOCKOUT, below, NEW), not colours."""
    monkeypatch.setenv("NO_COLOR", "1")

    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "2")

    app = app_for(tui_site)
    assert app.no_color
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_stale_data_banner(snap_compare, tui_site):
    """The same warehouse read 40 days later: the banner says the data is stale, on every screen."""
    from datetime import timedelta

    from tui_helpers import FROZEN

    app = app_for(tui_site)
    app.config = dataclasses.replace(app.config, clock=lambda: FROZEN + timedelta(days=40))

    async def run_before(pilot):
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
