"""Reorder: every stockable item, the urgent ones first, with the numbers behind each decision."""
from __future__ import annotations

import unicodedata

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Select, Static

from .. import lists
from ..warehouse import Snapshot
from ..widgets.table import ListTable
from .base import NovaScreen

def fold(text: str) -> str:
    """Lower case without accents, so `aco` finds `AÇO` on a keyboard without dead keys."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch))


def matches(row: dict, text: str, family: str | None) -> bool:
    if family and (row["family"] or "") != family:
        return False
    if not text:
        return True
    haystack = fold(" ".join(str(row[k] or "") for k in ("item_id", "description", "family", "status")))
    return all(word in haystack for word in fold(text).split())


class ReorderScreen(NovaScreen):
    SCREEN_TITLE = "Reorder"
    AUTO_FOCUS = "#reorder"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("enter", "details", "Details", show=True, priority=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Input(placeholder="/ filter: item, description, family…", id="text")
            yield Select([], prompt="all families", id="family", allow_blank=True)
        yield ListTable(lists.REORDER, key="item_id", id="reorder")
        yield Static("", id="summary")

    def show(self, snapshot: Snapshot) -> None:
        families = sorted({r["family"] for r in snapshot.reorder if r["family"]})
        select = self.query_one("#family", Select)
        current = select.value
        select.set_options([(f, f) for f in families])
        if current in families:
            select.value = current
        self.apply_filter()

    def filtered(self) -> list[dict]:
        if self.app.snapshot is None:
            return []
        text = self.query_one("#text", Input).value.strip()
        family = self.query_one("#family", Select).value
        family = family if isinstance(family, str) else None
        return [r for r in self.app.snapshot.reorder if matches(r, text, family)]

    def apply_filter(self) -> None:
        rows = self.filtered()
        self.query_one(ListTable).fill(rows)
        total = len(self.app.snapshot.reorder) if self.app.snapshot else 0
        new = sum(r["newly_flagged"] for r in rows)
        shown = f"{len(rows)} of {total} items" if len(rows) != total else f"{total} items"
        self.query_one("#summary", Static).update(
            f"{shown} · {new} newly flagged (NEW) since the previous version · enter explains an item")

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.apply_filter()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.query_one(ListTable).focus()

    def on_select_changed(self, _event: Select.Changed) -> None:
        self.apply_filter()

    def on_data_table_row_selected(self, _event) -> None:
        self.action_details()

    def action_filter(self) -> None:
        self.query_one("#text", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#text", Input).value = ""
        self.query_one("#family", Select).clear()
        self.query_one(ListTable).focus()

    def action_details(self) -> None:
        from .item import ItemScreen

        row = self.query_one(ListTable).selected_row()
        if row is not None:
            self.app.push_screen(ItemScreen(row))

    def export_list(self):
        return "reorder", lists.REORDER, self.filtered()
