"""One item explained: where its stock is, what it has been asked for, how long purchases take,
and the reorder formula with its own numbers, so an operator can see why it is flagged."""
from __future__ import annotations

import math

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from ..widgets.banner import DataAgeBanner
from ..widgets.key_line import KeyLine
from textual.worker import get_current_worker

from .. import format as fmt
from .. import queries
from ..lists import Column
from ..widgets.charts import DemandChart
from ..widgets.table import ListTable
from ..widgets.version_bar import VersionBar

STOCK = (
    Column("depot", "depot", lambda r: r["depot"]),
    Column("on_hand", "on hand", lambda r: fmt.qty(r["on_hand"]), True),
    Column("on_order", "on order", lambda r: fmt.qty(r["on_order"]), True),
    Column("unit", "unit", lambda r: r["unit"] or ""),
)

LEAD_SOURCE = {"item": "the item's own purchases", "family": "its family's purchases (the item has none usable)",
               "default": "the configured default (no evidence for the item or its family)"}


def decision_text(r: dict) -> str:
    """The decision in words: when it runs out, by when to order, from whom, and what changed."""
    unit = r["unit"] or "units"
    if r["avg_daily_demand"] > 0:
        cover = r["on_hand"] / r["avg_daily_demand"]
        when = (f"runs out [b]{fmt.day(r['runout_date'])}[/b] ({fmt.days(cover)} days of cover at d) · order by "
                f"[b]{fmt.day(r['order_by_date'])}[/b] (run-out − L {fmt.qty(r['lead_time_days'], 1)} d)")
        if r["runs_out_before_delivery"]:
            when += ("\n[b]LATE[/b]: the stock on hand runs out before a purchase made today could arrive "
                     f"(cover {fmt.days(cover)} d < lead time {fmt.qty(r['lead_time_days'], 1)} d)")
    else:
        when = "no demand in the window: it does not run out at this pace"
    if r.get("supplier"):
        ask = (f"ask [b]{r['supplier']}[/b] — bought from most recently; {r['supplier_lines']} line(s) from it, "
               f"{r['supplier_count']} supplier(s) in the item's history")
    else:
        ask = "no supplier in the history: the item was never bought through the ERP"
    lines = [f"[b]Decision[/b]  on hand {fmt.qty(r['on_hand'])} {unit}, on order {fmt.qty(r['on_order'])} · "
             f"suggested order [b]{fmt.qty(r['suggested_order_qty'])} {unit}[/b]", "  " + when.replace("\n", "\n  "),
             "  " + ask]
    changes = r.get("changes") or []
    if changes:
        lines.append("  since the previous version: " + "; ".join(changes))
    return "\n".join(lines)


def formula_text(r: dict, previous_version: int | None = None) -> str:
    d, s, lt, z = r["avg_daily_demand"], r["demand_std"], r["lead_time_days"], r["z"]
    position = r["on_hand"] + r["on_order"]
    if r["basis"] == "forecast":
        dlt = (f"demand over lead time = sum of model {r['model_version']}'s forecast for the "
               f"{math.ceil(lt)} days after {fmt.day(r['as_of'])} = {fmt.qty(r['demand_over_lead_time'], 2)}")
    else:
        dlt = f"demand over lead time = d · L = {fmt.qty(d, 3)} × {fmt.qty(lt, 1)} = {fmt.qty(r['demand_over_lead_time'], 2)}"
    verdict = {"stockout": "on hand is 0 while there is demand → [b]STOCKOUT[/b]",
               "below_reorder": f"on hand + on order = {fmt.qty(position)} ≤ reorder point → [b]below reorder[/b]",
               "ok": (f"on hand + on order = {fmt.qty(position)} > reorder point → ok" if d > 0
                      else "no demand in the window → ok")}[r["status"]]
    previous = (r["previous_status"] if r["previous_status"] else
                "not in the previous version" if previous_version is not None else
                "none — this is the first version")
    return "\n".join([
        f"[b]How the numbers are made[/b] (as of {fmt.day(r['as_of'])}, {r['history_days']} days of history)",
        f"d = mean daily demand = {fmt.qty(d, 3)} {r['unit'] or ''}/day (days without requests count as 0)",
        f"s = sample std of daily demand = {fmt.qty(s, 3)}",
        f"L = lead time = {fmt.qty(lt, 1)} days, from {LEAD_SOURCE.get(r['lead_time_source'], r['lead_time_source'])}",
        f"z = {z:.3f} for a {fmt.pct(r['service_level'])} service level",
        f"safety stock = z · s · √L = {z:.3f} × {fmt.qty(s, 3)} × √{fmt.qty(lt, 1)} = {fmt.qty(r['safety_stock'], 2)}",
        dlt,
        f"reorder point = demand over lead time + safety stock = {fmt.qty(r['reorder_point'], 2)}",
        f"days of cover = on hand / d = {fmt.days(r['days_of_cover'])}",
        f"basis {r['basis']}: {r.get('basis_note') or ''}",
        f"suggested order = ceil(max(0, reorder point + d · {r['review_days']} review days − on hand − on order))"
        f" = [b]{fmt.qty(r['suggested_order_qty'])}[/b]",
        verdict + f"   (previous version: {previous})",
    ])


def lead_time_text(r: dict, lt: dict) -> str:
    own = (f"{lt['usable']} purchases with a usable lead time: median {fmt.qty(lt['median_days'])} d, "
           f"range {fmt.qty(lt['min_days'])}–{fmt.qty(lt['max_days'])} d" if lt["usable"] else "no usable purchase")
    lines = [f"[b]Lead-time evidence[/b]  {own}",
             f"  family {r['family'] or '—'}: {lt['family_usable']} purchases, median {fmt.qty(lt['family_median_days'])} d"]
    if lt["negative"]:
        lines.append(f"  {lt['negative']} line(s) bought before they were requested: data-entry errors, not used")
    if lt["not_bought"]:
        lines.append(f"  {lt['not_bought']} line(s) not bought yet")
    lines.append(f"  last purchase {fmt.day(lt['last_purchase'])}")
    return "\n".join(lines)


class ItemScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("backspace", "app.pop_screen", "Back", show=False),
                Binding("f", "forecast", "Forecast"), Binding("c", "copy_code", "Copy item")]

    def __init__(self, row: dict):
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        r = self.row
        yield VersionBar(f"Item {r['item_id']}")
        yield DataAgeBanner()
        with VerticalScroll(id="body"):
            yield Static(f"[b]{r['item_id']}[/b] {r['description'] or ''} · {r['family'] or '—'} · "
                         f"unit {r['unit'] or '—'} · [b]{fmt.STATUS_LABEL[r['status']]}[/b] · basis {r['basis']}",
                         id="title")
            yield Static(decision_text(r), id="decision")
            yield Static(formula_text(r, self.app.snapshot.info.get("previous_version") if self.app.snapshot else None),
                         id="formula")
            yield DemandChart(id="demand")
            yield Static("[b]Stock per depot[/b] (latest snapshot)", classes="label")
            yield ListTable(STOCK, key="depot", id="stock")
            yield Static("reading…", id="leadtime")
        yield KeyLine()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="item")
    def load(self) -> None:
        cur = self.app.db.cursor()
        try:
            item = self.row["item_id"]
            stock, demand, lead = queries.item_stock(cur, item), queries.item_demand(cur, item), queries.item_lead_times(cur, item)
        finally:
            cur.close()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.fill, stock, demand, lead)

    def fill(self, stock: list[dict], demand: list[dict], lead: dict) -> None:
        self.query_one("#stock", ListTable).fill(stock)
        self.query_one(DemandChart).show_history(
            demand, self.row["as_of"], f"daily demand, last {self.row['history_days']} days")
        self.query_one("#leadtime", Static).update(lead_time_text(self.row, lead))

    def action_forecast(self) -> None:
        """This item's forecast; escape comes back here."""
        from .forecast import ItemForecastScreen

        if not any(r["item_id"] == self.row["item_id"] for r in self.app.snapshot.forecast_items):
            self.notify(f"no ML forecast has item {self.row['item_id']}", severity="warning")
            return
        self.app.push_screen(ItemForecastScreen(self.row["item_id"]))

    def action_copy_code(self) -> None:
        self.app.copy_text(self.row["item_id"], f"item {self.row['item_id']}")

    def export_list(self):
        return f"stock_{self.row['item_id']}", STOCK, self.query_one("#stock", ListTable).rows_shown
