"""What every room shares: the version bar on top, the keys at the bottom, and being told of new versions."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from ..widgets.banner import DataAgeBanner
from ..widgets.key_line import KeyLine

from ..warehouse import Snapshot
from ..widgets.version_bar import VersionBar


class NovaScreen(Screen):
    SCREEN_TITLE = ""

    def __init__(self) -> None:
        super().__init__()
        self.shown: Snapshot | None = None

    def compose(self) -> ComposeResult:
        yield VersionBar(self.SCREEN_TITLE)
        yield DataAgeBanner()
        yield from self.compose_body()
        yield KeyLine()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.app.snapshot_changed.subscribe(self, lambda _s: self.refresh_snapshot())
        self.refresh_snapshot()

    def on_screen_resume(self) -> None:
        self.refresh_snapshot()
        self.refresh(layout=True)

    def refresh_snapshot(self) -> None:
        snapshot = self.app.snapshot
        if snapshot is not None and snapshot is not self.shown:
            self.shown = snapshot
            self.show(snapshot)

    def show(self, snapshot: Snapshot) -> None:
        """Fill the screen from a snapshot; called again, with state kept, when a new version loads."""
