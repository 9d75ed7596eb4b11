"""Reorder: every stockable item, the urgent ones first, with the numbers behind each decision.

Sorted by urgency unless the operator sorts by a column (`s` / `S`, or a click on its header);
filtered by text, family and status (`h` hides the items that are ok). The first three columns stay
put while the rest scrolls, so at 80 columns the item is always in view.
"""
from __future__ import annotations

import unicodedata
from datetime import date

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from .. import lists
from ..warehouse import Snapshot
from ..widgets.table import ListTable
from .base import NovaScreen

STATUS_FILTERS = (
    ("all statuses", "all"),
    ("hide ok", "act"),
    ("stockout", "stockout"),
    ("below reorder", "below_reorder"),
    ("LATE only", "late"),
    ("changed", "changed"),
)
CLASS_FILTERS = (("all classes", "all"), ("smooth", "smooth"), ("erratic", "erratic"),
                 ("intermittent", "intermittent"), ("lumpy", "lumpy"), ("single request", "single"),
                 ("no demand", "no_demand"), ("planner's items", "planner"))
# The list holds at most this many rows, the most urgent first (the rest: filter or sort to bring them
# up; `e` exports all). Cells cost memory: on the 10,000,000-line bench warehouse (26,660 items, a
# 24,000-item list) 2,000 rows took 16 MB and the dashboard to 151 MB idle, over its 150 MB (bench/tui.py).
MAX_ROWS = 1_000
STATUS_RANK = {"stockout": 0, "below_reorder": 1, "ok": 2}
CHANGE_RANK = {"NEW": 0, "WORSE": 1, "ORDER": 2, "BASIS": 3, "better": 4, "": 5}


def fold(text: str) -> str:
    """Lower case without accents, so `aco` finds `AÇO` on a keyboard without dead keys."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch))


def status_matches(row: dict, status: str) -> bool:
    if status == "act":
        return row["status"] != "ok"
    if status == "late":
        return bool(row["runs_out_before_delivery"])
    if status == "changed":
        return bool(row.get("change"))
    return status == "all" or row["status"] == status


def class_matches(row: dict, cls: str) -> bool:
    if cls == "planner":
        return bool(row.get("has_planner"))
    return cls == "all" or row.get("demand_class") == cls


def matches(row: dict, text: str, family: str | None, status: str = "all", cls: str = "all") -> bool:
    if family and (row["family"] or "") != family:
        return False
    if not class_matches(row, cls):
        return False
    if not status_matches(row, status):
        return False
    if not text:
        return True
    haystack = fold(" ".join(str(row.get(k) or "") for k in ("item_id", "description", "family", "status", "supplier")))
    return all(word in haystack for word in fold(text).split())


def sort_rows(rows: list[dict], key: str | None, descending: bool) -> list[dict]:
    """Rows in urgency order (key None: as the warehouse ordered them) or by one column; empty cells
    last either way, ties in urgency order."""
    if key is None:
        return list(reversed(rows)) if descending else list(rows)

    def value(r: dict):
        v = r.get(key)
        if key == "status":
            return STATUS_RANK.get(v, 9)
        if key == "change":
            return CHANGE_RANK.get(v or "", 9)
        if isinstance(v, str):
            return fold(v)
        if isinstance(v, date):
            return v.toordinal()
        return v

    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    return sorted(present, key=value, reverse=descending) + missing  # sorted() is stable: urgency breaks ties


class SortedList:
    """The keys a list screen shares: `s` the next column to sort by, in the list's order (after the
    last, back to the screen's own order), `S` reverse, `/` into the filter box and, pressed again,
    back to the list. A screen names its box (FILTER_BOX) and how it redraws its list (refresh_list)."""
    FILTER_BOX = "#text"

    def refresh_list(self) -> None:
        raise NotImplementedError

    def action_sort(self) -> None:
        keys = [None] + [c.key for c in self.query_one(ListTable).columns_spec]  # the columns on screen
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self.descending = False
        self.refresh_list()

    def action_sort_reverse(self) -> None:
        self.descending = not self.descending
        self.refresh_list()

    def action_filter(self) -> None:
        box = self.query_one(self.FILTER_BOX, Input)
        if box.has_focus:  # a second `/` goes back to the list instead of typing a slash
            self.query_one(ListTable).focus()
        else:
            box.focus()


class ReorderScreen(SortedList, NovaScreen):
    SCREEN_TITLE = "Reorder"
    AUTO_FOCUS = "#reorder"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/", priority=True),
        Binding("enter", "details", "Details", show=True, priority=False),
        Binding("s", "sort", "Sort"),
        Binding("S", "sort_reverse", "Reverse sort", show=False),
        Binding("h", "hide_ok", "Hide ok"),
        Binding("c", "copy_code", "Copy item"),
        Binding("C", "copy_row", "Copy row", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort_key: str | None = None  # None: urgency
        self.descending = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Input(placeholder="/ filter: item, description, supplier…", id="text")
            yield Select([], prompt="all families", id="family", allow_blank=True)
            yield Select(STATUS_FILTERS, id="status", allow_blank=False, value="all")
            yield Select(CLASS_FILTERS, id="class", allow_blank=False, value="all")
            yield Select([], prompt="all sites", id="site", allow_blank=True)
        yield ListTable(lists.REORDER, key="row_key", fixed_columns=lists.FROZEN_REORDER, optional=lists.OPTIONAL,
                        max_rows=MAX_ROWS, id="reorder")
        yield Static("", id="summary")

    def on_mount(self) -> None:
        saved = self.app.ui_state.get("reorder", {})
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#text", Input).value = str(saved.get("text", ""))
            if saved.get("status") in dict((v, k) for k, v in STATUS_FILTERS):
                self.query_one("#status", Select).value = saved["status"]
            if saved.get("class") in dict((v, k) for k, v in CLASS_FILTERS):
                self.query_one("#class", Select).value = saved["class"]
        known = {c.key for c in lists.REORDER}
        self.sort_key = saved.get("sort") if saved.get("sort") in known else None
        self.descending = bool(saved.get("descending", False))
        self._family_wanted = saved.get("family")
        # NovaScreen.on_mount runs after this one (Textual calls each class's handler), and shows the data

    def show(self, snapshot: Snapshot) -> None:
        site_select = self.query_one("#site", Select)
        site_select.display = bool(snapshot.sites)  # company files only
        with self.prevent(Select.Changed):
            kept = site_select.value
            site_select.set_options([(s["site"], s["site"]) for s in snapshot.sites])
            if kept in {s["site"] for s in snapshot.sites}:
                site_select.value = kept
        families = sorted({r["family"] for r in snapshot.reorder if r["family"]})
        select = self.query_one("#family", Select)
        current = select.value if isinstance(select.value, str) else getattr(self, "_family_wanted", None)
        self._family_wanted = None
        with self.prevent(Select.Changed):
            select.set_options([(f, f) for f in families])
            if current in families:
                select.value = current
        self.apply_filter()

    # -- filtering and sorting -------------------------------------------------------------------
    def set_status_filter(self, status: str) -> None:
        """Used by the overview's cards: open the list with this status filter, the text filter cleared."""
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#text", Input).value = ""
            self.query_one("#family", Select).clear()
            self.query_one("#status", Select).value = status
            self.query_one("#class", Select).value = "all"
        self.apply_filter()

    def filtered(self) -> list[dict]:
        if self.app.snapshot is None:
            return []
        text = self.query_one("#text", Input).value.strip()
        family = self.query_one("#family", Select).value
        family = family if isinstance(family, str) else None
        status = self.query_one("#status", Select).value
        status = status if isinstance(status, str) else "all"
        cls = self.query_one("#class", Select).value
        cls = cls if isinstance(cls, str) else "all"
        site = self.query_one("#site", Select).value
        site = site if isinstance(site, str) else None
        found = [r for r in self.app.snapshot.reorder
                 if matches(r, text, family, status, cls) and (site is None or r.get("site") == site)]
        return sort_rows(found, self.sort_key, self.descending)

    def refresh_list(self) -> None:
        self.apply_filter()

    def apply_filter(self) -> None:
        rows = self.filtered()
        table = self.query_one(ListTable)
        table.fill(rows)
        table.mark_sorted(self.sort_key, self.descending)
        total = len(self.app.snapshot.reorder) if self.app.snapshot else 0
        late = sum(bool(r["runs_out_before_delivery"]) for r in rows if r["status"] != "ok")
        changed = sum(bool(r.get("change")) for r in rows)
        shown = f"{len(rows)} of {total} items" if len(rows) != total else f"{total} items"
        if len(rows) > MAX_ROWS:
            shown += f" (first {MAX_ROWS:,} listed: filter or sort for the others; e exports all)"
        order = ("urgency" if self.sort_key is None else
                 next(c.header for c in lists.REORDER if c.key == self.sort_key)) + (" ▼" if self.descending else "")
        self.query_one("#summary", Static).update(
            f"{shown} · {late} LATE · {changed} changed · sort: {order} (s) · enter explains")
        self.remember()

    def remember(self) -> None:
        family = self.query_one("#family", Select).value
        status = self.query_one("#status", Select).value
        cls = self.query_one("#class", Select).value
        self.app.remember("reorder", {"text": self.query_one("#text", Input).value,
                                      "family": family if isinstance(family, str) else None,
                                      "status": status if isinstance(status, str) else "all",
                                      "class": cls if isinstance(cls, str) else "all",
                                      "sort": self.sort_key, "descending": self.descending})

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.apply_filter()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.query_one(ListTable).focus()

    def on_select_changed(self, _event: Select.Changed) -> None:
        self.apply_filter()

    def on_data_table_row_selected(self, _event) -> None:
        self.action_details()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by it; a second click reverses; a third returns to urgency."""
        key = str(event.column_key.value)
        if self.sort_key != key:
            self.sort_key, self.descending = key, False
        elif not self.descending:
            self.descending = True
        else:
            self.sort_key, self.descending = None, False
        self.apply_filter()

    def action_hide_ok(self) -> None:
        status = self.query_one("#status", Select)
        status.value = "all" if status.value == "act" else "act"

    def action_clear_filter(self) -> None:
        self.query_one("#text", Input).value = ""
        self.query_one("#family", Select).clear()
        self.query_one("#status", Select).value = "all"
        self.query_one("#class", Select).value = "all"
        self.query_one(ListTable).focus()

    def action_details(self) -> None:
        from .item import ItemScreen

        row = self.query_one(ListTable).selected_row()
        if row is not None:
            self.app.push_screen(ItemScreen.of(self.app, row))

    def action_copy_code(self) -> None:
        row = self.query_one(ListTable).selected_row()
        if row is not None:
            self.app.copy_text(row["item_id"], f"item {row['item_id']}")

    def action_copy_row(self) -> None:
        row = self.query_one(ListTable).selected_row()
        if row is not None:
            cells = [c.cell(row) for c in lists.REORDER]
            self.app.copy_text("\t".join(cells), f"the row of item {row['item_id']} ({len(cells)} tab-separated cells)")

    def export_list(self):
        return "reorder", lists.REORDER, self.filtered()
