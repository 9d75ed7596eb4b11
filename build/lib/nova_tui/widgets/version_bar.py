"""The header line: which version is on screen, its as-of date, and how old the build is."""
from __future__ import annotations

from textual.widgets import Static

from .. import format as fmt


class VersionBar(Static):
    DEFAULT_CSS = """
    VersionBar { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    """

    def __init__(self, screen_title: str):
        super().__init__("Nova Corrente · opening the warehouse…")
        self.screen_title = screen_title

    def on_mount(self) -> None:
        self.app.snapshot_changed.subscribe(self, lambda _snapshot: self.update_text())
        self.update_text()
        # Ages are shown in minutes at best, so a redraw a minute is all the header needs.
        self.set_interval(60, self.update_text)

    def update_text(self) -> None:
        snapshot = self.app.snapshot
        if snapshot is None:
            return
        info = snapshot.info
        rolled = f" (rolled back from v{info['rolled_back_from']})" if info.get("rolled_back_from") else ""
        self.update(f"Nova Corrente · {self.screen_title} · v{info['version']}{rolled} · "
                    f"as of {fmt.day(info['as_of'])} · built {fmt.age(info['built_at'], self.app.config.clock())}")
