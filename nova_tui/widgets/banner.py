"""The data-age banner: shown under the version bar on every screen while the warehouse's as-of date
is older than its limit ([freshness] as_of_days, written into the file by the build), so old data is
never read as today's. Hidden while the data is fresh."""
from __future__ import annotations

from textual.widgets import Static

from ..format import data_age_text


class DataAgeBanner(Static):
    DEFAULT_CSS = """
    DataAgeBanner { height: 1; padding: 0 1; background: $warning; color: $text; text-style: bold; display: none; }
    DataAgeBanner.critical { background: $error; }
    DataAgeBanner.shown { display: block; }
    """

    def on_mount(self) -> None:
        self.app.snapshot_changed.subscribe(self, lambda _snapshot: self.update_text())
        self.update_text()
        self.set_interval(600, self.update_text)  # the day can turn while the dashboard stays open

    def update_text(self) -> None:
        snapshot = self.app.snapshot
        if snapshot is None:
            return
        cfg = self.app.config
        state, text = data_age_text(snapshot.info, cfg.clock(), cfg.as_of_days, cfg.as_of_critical_days)
        self.update(text)
        self.set_class(state != "ok", "shown")
        self.set_class(state == "critical", "critical")
