"""Changes: what moved in the reorder list since the previous version — items that got worse (or
better), suggested orders that moved by more than [reorder] order_change_share, and a basis that
switched between forecast and history, with why. Enter explains the item."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from .. import lists
from ..warehouse import Snapshot
from ..widgets.table import ListTable
from .base import NovaScreen


def changes_summary(snapshot: Snapshot) -> str:
    previous = snapshot.info.get("previous_version")
    if previous is None:
        return "This is the first version: there is nothing to compare it with yet."
    counts: dict[str, int] = {}
    for c in snapshot.changes:
        counts[c["change"]] = counts.get(c["change"], 0) + 1
    if not counts:
        return f"Nothing changed in the reorder list since v{previous}."
    words = {"worse": ("got worse", "got worse"), "better": ("got better", "got better"),
             "order_moved": ("suggested order moved", "suggested orders moved"),
             "basis_switched": ("switched basis", "switched basis")}
    return f"Since v{previous}: " + " · ".join(f"{counts[k]} {words[k][counts[k] != 1]}" for k in words if k in counts)


class ChangesScreen(NovaScreen):
    SCREEN_TITLE = "Changes"
    AUTO_FOCUS = "#changes"
    BINDINGS = [Binding("enter", "details", "Details", priority=False)]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="changes-summary")
        yield ListTable(lists.CHANGES, fixed_columns=2, id="changes")

    def show(self, snapshot: Snapshot) -> None:
        self.query_one("#changes-summary", Static).update(changes_summary(snapshot))
        self.query_one(ListTable).fill(snapshot.changes)

    def on_data_table_row_selected(self, _event) -> None:
        self.action_details()

    def action_details(self) -> None:
        from .item import ItemScreen

        change = self.query_one(ListTable).selected_row()
        row = next((r for r in self.app.snapshot.reorder if r["item_id"] == change["item_id"]
                    and r.get("site") == change.get("site")), None) if change else None
        if row is not None:
            self.app.push_screen(ItemScreen.of(self.app, row))

    def export_list(self):
        return "changes", lists.CHANGES, self.query_one(ListTable).rows_shown
