"""A DataTable filled from a list definition, keeping the cursor on the same row across reloads."""
from __future__ import annotations

from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable

from ..lists import Column

STYLE = {"STOCKOUT": "bold red", "below": "yellow", "NEW": "bold", "FAIL": "bold red", "warn": "yellow",
         "REJECTED": "bold red", "STALE": "yellow", "MISSING": "yellow"}


class ListTable(DataTable):
    DEFAULT_CSS = "ListTable { height: 1fr; }"

    def __init__(self, columns: tuple[Column, ...], key: str | None = None, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.columns_spec = columns
        self.row_key_field = key
        self.rows_shown: list[dict] = []

    def notify_style_update(self) -> None:
        # A screen that is switched back to re-applies its styles, and DataTable then throws away
        # every rendered cell (about half of a switch's time). Keep them while nothing that
        # colours a cell has changed.
        fingerprint = (self.app.theme, self.app.no_color, self.rich_style, self.has_focus, self.size)
        if fingerprint == getattr(self, "_style_fingerprint", None):
            Widget.notify_style_update(self)
            return
        self._style_fingerprint = fingerprint
        super().notify_style_update()

    def on_mount(self) -> None:
        for c in self.columns_spec:
            self.add_column(Text(c.header, justify="right") if c.numeric else c.header, key=c.key)

    def fill(self, rows: list[dict]) -> None:
        """Replace the rows; the cursor stays on the same key when that row is still there."""
        selected = self.selected_key()
        self.clear()
        self.rows_shown = rows
        for i, r in enumerate(rows):
            cells = [Text(c.cell(r), justify="right" if c.numeric else "left", style=STYLE.get(c.cell(r), ""))
                     for c in self.columns_spec]
            self.add_row(*cells, key=str(r[self.row_key_field]) if self.row_key_field else str(i))
        if selected is not None and self.row_key_field:
            keys = [str(r[self.row_key_field]) for r in rows]
            if selected in keys:
                self.move_cursor(row=keys.index(selected))

    def selected_row(self) -> dict | None:
        if not self.rows_shown or self.cursor_row is None or self.cursor_row >= len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row]

    def selected_key(self) -> str | None:
        row = self.selected_row()
        return str(row[self.row_key_field]) if row is not None and self.row_key_field else None
