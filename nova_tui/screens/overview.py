"""Overview: what needs buying, how good the newest forecast is, how fresh the data is, how the last build went."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from .. import format as fmt
from .. import lists
from ..warehouse import Snapshot
from .base import NovaScreen


def model_text(models: list[dict]) -> str:
    if not models:
        return "[b]Forecast[/b]  no ML forecast drop has been loaded"
    m = models[0]
    lines = [f"[b]Forecast[/b]  newest model [b]{m['model_version']}[/b] ({m['source']}), "
             f"generated {fmt.local_time(m['generated_at'])}, {m['items']} items, "
             f"{fmt.day(m['first_day'])} → {fmt.day(m['last_day'])}"]
    if m["actual_days"] and m["wape"] is not None:
        lines.append(f"  accuracy over {m['actual_days']} item-days with actual demand: "
                     f"WAPE {fmt.pct(m['wape'])}, bias {fmt.pct(m['bias'], signed=True)}")
        if m["mape"] is not None:
            lines.append(f"  MAPE {fmt.pct(m['mape'])} — unreliable: demand here is intermittent, read WAPE")
    elif m["actual_days"]:
        lines.append(f"  accuracy: not measurable yet — actual demand over the {m['actual_days']} item-days it overlaps is 0")
    else:
        lines.append("  accuracy: no actual demand overlaps this forecast yet")
    return "\n".join(lines)


def freshness_text(sources: list[dict], rejected: int) -> str:
    if not sources:
        return "[b]Freshness[/b]  no source has arrived yet"
    parts = [f"{s['kind']} [b]{s['status'].upper() if s['status'] != 'ok' else 'ok'}[/b] ({s['age']})" for s in sources]
    text = "[b]Freshness[/b]  " + " · ".join(parts)
    return text + (f"\n  {rejected} rejected file(s) with their reasons on screen 4" if rejected else "")


def build_text(snapshot: Snapshot) -> str:
    info, checks = snapshot.info, snapshot.checks
    passed = sum(c["passed"] for c in checks)
    lines = [f"[b]Last build[/b]  v{info['version']} built {fmt.local_time(info['built_at'])}, "
             f"{passed}/{len(checks)} checks passed"]
    lines += [f"  {lists.CHECKS[0].cell(c)} {c['name']}: {c['detail']}" for c in checks if not c["passed"]]
    return "\n".join(lines)


class OverviewScreen(NovaScreen):
    SCREEN_TITLE = "Overview"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            with Horizontal(id="counts"):
                yield Static("—", id="stockout", classes="count")
                yield Static("—", id="below", classes="count")
                yield Static("—", id="ok", classes="count")
            yield Static("", id="model", classes="section")
            yield Static("", id="freshness", classes="section")
            yield Static("", id="build", classes="section")

    def show(self, snapshot: Snapshot) -> None:
        counts = snapshot.counts
        self.query_one("#stockout", Static).update(f"[b]{counts.get('stockout', 0)}[/b]\nstockouts")
        self.query_one("#below", Static).update(f"[b]{counts.get('below_reorder', 0)}[/b]\nbelow reorder")
        self.query_one("#ok", Static).update(f"[b]{counts.get('ok', 0)}[/b]\nok")
        self.query_one("#model", Static).update(model_text(snapshot.models))
        self.query_one("#freshness", Static).update(freshness_text(self.sources(snapshot), len(snapshot.rejected)))
        self.query_one("#build", Static).update(build_text(snapshot))

    def sources(self, snapshot: Snapshot) -> list[dict]:
        return lists.with_freshness(snapshot.sources, self.app.config.freshness_hours, self.app.config.clock())

    def export_list(self):
        """On the overview, `e` writes this version's checks (the reorder list is on screen 2)."""
        return "checks", lists.CHECKS, self.app.snapshot.checks
