"""Building the dashboard for tests: a fixed clock, no version watching, real warehouse files."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from nova_tui.app import make_app
from nova_tui.config import TuiConfig
from nova_tui.warehouse import Target

FROZEN = datetime(2025, 10, 25, 11, 0, tzinfo=timezone.utc)


def tui_config(site: Path, exports: Path | None = None, watch_seconds: float = 0) -> TuiConfig:
    return TuiConfig(warehouse=site / "warehouse", exports=exports or site / "exports",
                     clock=lambda: FROZEN, watch_seconds=watch_seconds)


def app_for(site: Path, exports: Path | None = None, watch_seconds: float = 0, **target):
    cfg = tui_config(site, exports, watch_seconds)
    return make_app(cfg, Target.choose(cfg, **target))


async def settle(pilot) -> None:
    """Let every worker finish, every table finish filling, and the screen catch up (no sleeps)."""
    from nova_tui.widgets.table import ListTable

    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        while any(t.filling for t in pilot.app.screen.query(ListTable)):
            await pilot.pause(0.02)


async def press(pilot, *keys: str) -> None:
    """Press the keys, then settle."""
    await pilot.press(*keys)
    await settle(pilot)


def screen_text(app) -> str:
    """All text the current screen shows in Static widgets and tables, for plain assertions."""
    from textual.widgets import DataTable, Static

    parts = [str(w.render()) for w in app.screen.query(Static)]
    for table in app.screen.query(DataTable):
        parts += [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
    return "\n".join(parts)
