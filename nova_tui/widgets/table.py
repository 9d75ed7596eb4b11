"""A DataTable filled from a list definition, keeping the cursor on the same row across reloads."""
from __future__ import annotations

from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable

from ..lists import Column

STYLE = {"STOCKOUT": "bold red", "below": "yellow", "NEW": "bold", "FAIL": "bold red", "warn": "yellow",
         "LATE": "bold red", "WORSE": "bold red", "CHECK": "yellow", "ORDER": "bold", "BASIS": "bold", "better": "green",
         "REJECTED": "bold red", "STALE": "yellow", "MISSING": "yellow"}


FIRST_CHUNK, CHUNK = 120, 400


class ListTable(DataTable):
    DEFAULT_CSS = "ListTable { height: 1fr; }"

    def __init__(self, columns: tuple[Column, ...], key: str | None = None, fixed_columns: int = 0,
                 optional: frozenset[str] = frozenset(), max_rows: int | None = None, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        # at most this many rows become table rows (cells cost memory); filters and sorts see them all
        self.max_rows = max_rows
        self.fixed_columns = fixed_columns
        self.optional = optional  # columns shown only while the rows carry their key
        self.all_columns = columns
        self.columns_spec = columns
        self.row_key_field = key
        self.rows_shown: list[dict] = []
        self._pending, self._restore, self._generation = iter(()), None, 0
        self._texts: dict[tuple[str, bool], Text] = {}
        self.filling = False  # rows still being added between frames

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
        self._set_columns(tuple(c for c in self.all_columns if c.key not in self.optional))

    def _set_columns(self, spec: tuple[Column, ...]) -> None:
        if self.columns:
            self.clear(columns=True)
        self.columns_spec = spec
        for c in spec:
            self.add_column(Text(c.header, justify="right") if c.numeric else c.header, key=c.key)

    def mark_sorted(self, key: str | None, descending: bool) -> None:
        """Show the sort on its header: `cover▲` ascending, `cover▼` descending."""
        for c in self.columns_spec:
            column = self.columns.get(c.key)
            if column is None:
                continue
            label = c.header + (("▼" if descending else "▲") if c.key == key else "")
            column.label = Text(label, justify="right") if c.numeric else Text(label)
            column.content_width = max(column.content_width, len(label))
        self._require_update_dimensions = True
        self.refresh()

    def fill(self, rows: list[dict]) -> None:
        """Replace the rows; the cursor stays on the same key when that row is still there.

        The first rows (what the screen shows) are added at once; the rest follow in chunks between
        frames, so a 3,000-item list does not hold up the switch to its screen.
        """
        selected = self.selected_key()
        if self.optional:
            present = {k for k in self.optional if rows and k in rows[0]}
            wanted = tuple(c for c in self.all_columns if c.key not in self.optional or c.key in present)
            if wanted != self.columns_spec:
                self._set_columns(wanted)
        self.clear()
        self.rows_total = len(rows)
        if self.max_rows is not None:
            rows = rows[: self.max_rows]
        self.rows_shown = rows
        self._pending = iter(enumerate(rows))
        self._restore = selected if self.row_key_field else None
        self._generation += 1
        self._texts = {}  # this fill's cells, one object per distinct text
        self.filling = True
        self._add_chunk(self._generation, FIRST_CHUNK)

    def _add_chunk(self, generation: int, size: int) -> None:
        if generation != self._generation:
            return  # a newer fill replaced this one
        added = 0
        for i, r in self._pending:
            cells = [self._shared_cell(c.cell(r), c.numeric) for c in self.columns_spec]
            key = str(r[self.row_key_field]) if self.row_key_field else str(i)
            self.add_row(*cells, key=key)
            if key == self._restore:
                self.move_cursor(row=i)
                self._restore = None
            added += 1
            if added >= size:
                self.set_timer(0.02, lambda: self._add_chunk(generation, CHUNK))
                return
        self.filling = False

    def _shared_cell(self, text: str, numeric: bool) -> Text:
        """Cells with the same text share one Text (rendering never changes it): families, units, statuses,
        dates and round quantities repeat down a 1,000-row list (bench/tui.py: idle memory)."""
        key = (text, numeric)
        cell = self._texts.get(key)
        if cell is None:
            cell = self._texts[key] = self._cell(text, numeric)
        return cell

    @staticmethod
    def _cell(text: str, numeric: bool) -> Text:
        return Text(text, justify="right" if numeric else "left", style=STYLE.get(text, ""))

    def selected_row(self) -> dict | None:
        if not self.rows_shown or self.cursor_row is None or self.cursor_row >= len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row]

    def selected_key(self) -> str | None:
        row = self.selected_row()
        return str(row[self.row_key_field]) if row is not None and self.row_key_field else None
