"""Suppliers: who delivers how fast — lines, items, median and p90 lead time, spread, the share bought
by the date the site needed it, and the last quarters' medians (the trend). Sorted by lines; `s`/`S`
or a click on a header sorts by any column; `/` filters by name."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from .. import lists
from ..warehouse import Snapshot
from ..widgets.table import ListTable
from .base import NovaScreen
from .reorder import SortedList, fold, sort_rows


class SuppliersScreen(SortedList, NovaScreen):
    SCREEN_TITLE = "Suppliers"
    FILTER_BOX = "#supplier-text"
    AUTO_FOCUS = "#suppliers"
    BINDINGS = [Binding("slash", "filter", "Filter", key_display="/", priority=True),
                Binding("s", "sort", "Sort"), Binding("S", "sort_reverse", "Reverse sort", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self.sort_key: str | None = None  # None: most lines first
        self.descending = False

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="/ filter: supplier name", id="supplier-text")
        yield ListTable(lists.SUPPLIERS, key="row_key", fixed_columns=1, optional=frozenset({"site"}), id="suppliers")
        yield Static("", id="suppliers-summary")

    def show(self, snapshot: Snapshot) -> None:
        for r in snapshot.suppliers:
            r.setdefault("row_key", f"{r['site']}/{r['supplier']}" if "site" in r else r["supplier"])
        self.apply()

    def refresh_list(self) -> None:
        self.apply()

    def apply(self) -> None:
        snapshot = self.app.snapshot
        rows = snapshot.suppliers if snapshot else []
        words = fold(self.query_one("#supplier-text", Input).value).split()
        rows = [r for r in rows if all(w in fold(r["supplier"] or "") for w in words)]
        rows = sort_rows(rows, self.sort_key, self.descending)
        table = self.query_one(ListTable)
        table.fill(rows)
        table.mark_sorted(self.sort_key, self.descending)
        usable = [r for r in rows if r["median_days"] is not None]
        self.query_one("#suppliers-summary", Static).update(
            f"{len(rows)} suppliers · {len(usable)} with usable lead times · median and p90 of request → purchase "
            "days; on time: bought by the date the site needed it · s sorts")

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.apply()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.query_one(ListTable).focus()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if self.sort_key != key:
            self.sort_key, self.descending = key, key in ("lines", "items", "usable_lines")
        else:
            self.descending = not self.descending
        self.apply()

    def export_list(self):
        return "suppliers", self.query_one(ListTable).columns_spec, self.query_one(ListTable).rows_shown
