"""Freshness: each source's newest file and age against its limit, every rejected file with its reason,
and the recent builds with their checks."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from .. import lists
from ..warehouse import Snapshot
from ..widgets.table import ListTable
from .base import NovaScreen


class FreshnessScreen(NovaScreen):
    SCREEN_TITLE = "Freshness"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static("", id="sites-label", classes="label")
            yield ListTable(lists.SITES, key="site", id="sites")
            yield Static("[b]Sources[/b]", classes="label")
            yield ListTable(lists.SOURCES, key="kind", id="sources")
            yield Static("", id="rejected-label", classes="label")
            yield ListTable(lists.REJECTED, key="path", id="rejected")
            yield Static("", id="reason")
            yield Static("[b]Recent builds[/b]", classes="label")
            yield ListTable(lists.BUILDS, key="version", id="builds")
            yield Static("[b]Checks of this version[/b]", classes="label")
            yield ListTable(lists.CHECKS, key="name", id="checks")

    def show(self, snapshot: Snapshot) -> None:
        cfg = self.app.config
        sites = self.query_one("#sites", ListTable)
        sites.display = bool(snapshot.sites)  # a company file: how fresh each plant's rows are
        self.query_one("#sites-label", Static).display = bool(snapshot.sites)
        if snapshot.sites:
            from .. import format as fmt

            now = cfg.clock()
            rows = []
            for s in snapshot.sites:
                state, age = fmt.data_age(s["as_of"], now, snapshot.info.get("as_of_days") or 3,
                                          snapshot.info.get("as_of_critical_days") or 14)
                rows.append({**s, "age": ("" if age is None else f"{age} d") + ("" if state == "ok" else f" {state.upper()}")})
            self.query_one("#sites-label", Static).update(f"[b]Sites[/b] ({len(rows)}) — each plant's pushed version "
                                                          "and the age of its data")
            sites.fill(rows)
        self.query_one("#sources", ListTable).fill(lists.with_freshness(snapshot.sources, cfg.freshness_hours, cfg.clock()))
        self.query_one("#rejected-label", Static).update(
            (f"[b]Waiting and rejected files[/b] ({len(snapshot.rejected)}) — waiting: not readable yet, taken "
             "once it can be read; rejected: kept in the lake's quarantine folder with their reason"
             if any(r["reason"].startswith("WAITING: ") for r in snapshot.rejected) else
             f"[b]Rejected files[/b] ({len(snapshot.rejected)}) — kept in the lake's quarantine folder with their reason")
            if snapshot.rejected else "[b]Rejected files[/b] none")
        rejected = self.query_one("#rejected", ListTable)
        rejected.fill(snapshot.rejected)
        rejected.display = bool(snapshot.rejected)
        self.show_reason()
        self.query_one("#builds", ListTable).fill(snapshot.builds)
        self.query_one("#checks", ListTable).fill(snapshot.checks)

    def show_reason(self) -> None:
        row = self.query_one("#rejected", ListTable).selected_row()
        self.query_one("#reason", Static).update(f"{row['path']}: {row['reason']}" if row else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "rejected":
            self.show_reason()

    def export_list(self):
        """`e` writes the table that has the focus (the sources when none has)."""
        focused = self.focused if isinstance(self.focused, ListTable) else self.query_one("#sources", ListTable)
        return f"freshness_{focused.id}", focused.columns_spec, focused.rows_shown
