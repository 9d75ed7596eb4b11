"""Overview: what needs buying, how good the newest forecast is, how fresh the data is, how the last build went."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
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


def promise_text(replay: list[dict], accuracy: list[dict]) -> str:
    """Does the method keep its promise? The replay per demand class against the level promised; a class
    that misses it by more than 3 points is marked; then the forecasts' accuracy per model and class."""
    if not replay:
        return "[b]Does the method keep its promise?[/b]  no review point to replay yet (too little history)"
    lines = ["[b]Does the method keep its promise?[/b]  (weekly replay; kept of points, promised)"]
    for r in replay:
        miss = r["gap_points"] is not None and r["gap_points"] < -3
        line = (f"  {r['demand_class']:<12} {r['points_kept']:>6,}/{r['points']:<6,} {fmt.pct(r['share_kept']):>6} "
                f"vs {fmt.pct(r['service_level'])} {r['gap_points']:+6.1f} pt")
        lines.append(f"[b]{line}  MISSES[/b]" if miss else line)
    if accuracy:
        lines.append("  forecast accuracy (days with actuals): " + " · ".join(
            f"{a['model_version']} {a['demand_class']} WAPE {fmt.pct(a['wape'])} bias {fmt.pct(a['bias'], signed=True)} "
            f"MASE {fmt.qty(a['mase'], 2) if a['mase'] is not None else '—'}" for a in accuracy[:6]))
    return "\n".join(lines)


def trend_text(health: list[dict], versions: list[dict]) -> str:
    """Stockouts over time (per stock snapshot) and the reorder counts per published version."""
    if not health and not versions:
        return ""
    lines = ["[b]Trend[/b]"]
    if health and "site" not in health[0]:
        last = health[-1]
        line = (f"  stockout rate {fmt.pct(last['stockout_rate'])} on {fmt.day(last['snapshot_date'])} "
                f"({last['stockouts']} of {last['items_with_demand']} items with demand)")
        if len(health) > 1 and health[-2]["stockout_rate"] is not None and last["stockout_rate"] is not None:
            delta = (last["stockout_rate"] - health[-2]["stockout_rate"]) * 100
            line += f", {delta:+.1f} pt since {fmt.day(health[-2]['snapshot_date'])}"
        lines.append(line + f"  {fmt.spark([h['stockout_rate'] for h in health])}")
    if versions:
        lines.append(f"  below reorder per version: {versions[-1]['below_reorder']} in v{versions[-1]['version']}"
                     + (f" ({versions[-1]['below_reorder'] - versions[-2]['below_reorder']:+d} vs "
                        f"v{versions[-2]['version']})" if len(versions) > 1 else "")
                     + f"  {fmt.spark([v['below_reorder'] for v in versions])}")
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


def card_text(count: int, label: str, previous: int | None, previous_version: int | None, worse: int = 0) -> str:
    """`10 stockouts` and under it the change against the previous version."""
    if previous_version is None or previous is None:
        change = "first version"
    else:
        delta = count - previous
        change = f"{'±0' if delta == 0 else f'{delta:+d}'} vs v{previous_version}"
        if worse:
            change += f" · {worse} worse"
    return f"[b]{count}[/b] {label}\n{change}"


class Card(Static, can_focus=True):
    """A count that opens its list: enter, or a click."""
    BINDINGS = [Binding("enter", "open", "Open list")]

    def __init__(self, opens: str, **kwargs):
        super().__init__("—", **kwargs)
        self.opens = opens

    async def action_open(self) -> None:
        await self.screen.open_card(self.opens)

    async def on_click(self) -> None:
        await self.action_open()


class OverviewScreen(NovaScreen):
    SCREEN_TITLE = "Overview"
    BINDINGS = [Binding("tab", "app.focus_next", "Cards", key_display="tab", show=False),
                Binding("x", "open('stockout')", "Stockouts", show=False),
                Binding("b", "open('below_reorder')", "Below reorder", show=False),
                Binding("l", "open('late')", "Late", show=False),
                Binding("c", "open('changes')", "Changes", show=False)]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="body", can_focus=False):  # tab goes to the cards
            with Horizontal(id="counts"):
                yield Card("stockout", id="stockout", classes="count")
                yield Card("below_reorder", id="below", classes="count")
                yield Card("late", id="late", classes="count")
                yield Card("changes", id="changed", classes="count")
            yield Static("", id="cards-help")
            yield Static("", id="trend", classes="section")
            yield Static("", id="promise", classes="section")
            yield Static("", id="model", classes="section")
            yield Static("", id="freshness", classes="section")
            yield Static("", id="build", classes="section")

    def show(self, snapshot: Snapshot) -> None:
        by_status = {c["status"]: c for c in snapshot.status_changes}
        previous = snapshot.info.get("previous_version")

        def status_card(status: str) -> str:
            c = by_status.get(status, {"items": 0, "previous_items": None, "worsened_into": 0})
            label = {"stockout": "stockouts", "below_reorder": "below reorder"}[status]
            return card_text(c["items"], label, c["previous_items"], previous, c["worsened_into"])

        self.query_one("#stockout", Card).update(status_card("stockout"))
        self.query_one("#below", Card).update(status_card("below_reorder"))
        late = sum(bool(r["runs_out_before_delivery"]) for r in snapshot.reorder if r["status"] != "ok")
        self.query_one("#late", Card).update(f"[b]{late}[/b] LATE\ncover < lead time")
        changed = len({c["item_id"] for c in snapshot.changes})
        self.query_one("#changed", Card).update(
            f"[b]{changed}[/b] changed\n{'since v' + str(previous) if previous else 'first version'}")
        self.query_one("#cards-help", Static).update(
            " x stockouts · b below · l LATE · c changes — or click a card")
        self.query_one("#trend", Static).update(trend_text(snapshot.health, snapshot.version_counts))
        self.query_one("#promise", Static).update(promise_text(snapshot.replay, snapshot.accuracy))
        self.query_one("#model", Static).update(model_text(snapshot.models))
        self.query_one("#freshness", Static).update(freshness_text(self.sources(snapshot), len(snapshot.rejected)))
        self.query_one("#build", Static).update(build_text(snapshot))

    async def action_open(self, what: str) -> None:
        await self.open_card(what)

    async def open_card(self, what: str) -> None:
        if what == "changes":
            self.app.action_show("changes")
        else:
            await self.app.open_reorder(what)

    def sources(self, snapshot: Snapshot) -> list[dict]:
        return lists.with_freshness(snapshot.sources, self.app.config.freshness_hours, self.app.config.clock())

    def export_list(self):
        """On the overview, `e` writes this version's checks (the reorder list is on screen 2)."""
        return "checks", lists.CHECKS, self.app.snapshot.checks
