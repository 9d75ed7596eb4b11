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
from .. import planning_queries, queries
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

LEAD_SOURCE = {"planner": "the planner's sheet (PRAZO)", "item": "the item's own purchases", "family": "its family's purchases (the item has none usable)",
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


CLASS_WORDS = {"smooth": "smooth: requested often, in similar amounts",
               "erratic": "erratic: requested often, in very different amounts",
               "intermittent": "intermittent: requested on few days, in similar amounts",
               "lumpy": "lumpy: requested on few days, in very different amounts",
               "single": "a single request in the window", "no_demand": "no request in the window"}
S_L_SOURCE = {"item": "the item's own lead times", "family": "its family's lead times (the item has fewer than 3)",
              "none": "no spread known (fewer than 3 lead times for the item and its family): 0"}


def class_text(r: dict) -> str:
    words = CLASS_WORDS.get(r["demand_class"], r["demand_class"])
    if r["adi"] is None:
        return f"[b]Demand class[/b]  {words} ({r['demand_days']} day(s) with demand in {r['history_days']})"
    return (f"[b]Demand class[/b]  {words} — {r['demand_days']} days with demand in {r['history_days']}: "
            f"ADI = {r['history_days']} / {r['demand_days']} = {r['adi']:.2f} ({'≥' if r['adi'] >= 1.32 else '<'} 1.32), "
            f"CV² = {r['cv2']:.2f} ({'≥' if r['cv2'] >= 0.49 else '<'} 0.49)")


def order_steps(r: dict) -> str:
    """The suggested order from the raw quantity to what to buy, one rounding at a time."""
    raw = r["raw_order"]
    steps = [f"raw = reorder point + d · {r['review_days']} − on hand − on order = {fmt.qty(raw, 2)}"]
    if raw <= 0:
        return "\n".join(steps + ["raw ≤ 0 → suggested order = [b]0[/b]"])
    q = math.ceil(raw)
    if r["pack_size"]:
        q = math.ceil(raw / r["pack_size"]) * r["pack_size"]
        steps.append(f"pack of {fmt.qty(r['pack_size'])}: ⌈{fmt.qty(raw, 2)} / {fmt.qty(r['pack_size'])}⌉ × "
                     f"{fmt.qty(r['pack_size'])} = {fmt.qty(q)}")
    else:
        steps.append(f"⌈raw⌉ = {fmt.qty(q)}")
    if r["min_order_qty"]:
        steps.append(f"minimum {fmt.qty(r['min_order_qty'])}: max({fmt.qty(q)}, {fmt.qty(r['min_order_qty'])}) = "
                     f"{fmt.qty(max(q, r['min_order_qty']))}")
    steps.append(f"suggested order = [b]{fmt.qty(r['suggested_order_qty'])}[/b]")
    return "\n".join(steps)


def formula_text(r: dict, previous_version: int | None = None) -> str:
    d, s, lt, z, s_l = r["avg_daily_demand"], r["demand_std"], r["lead_time_days"], r["z"], r["lead_time_std"]
    position = r["on_hand"] + r["on_order"]
    if r["basis"] == "forecast":
        dlt = (f"demand over lead time = sum of model {r['model_version']}'s forecast for the "
               f"{math.ceil(lt)} days after {fmt.day(r['as_of'])} = {fmt.qty(r['demand_over_lead_time'], 2)}")
    else:
        dlt = f"demand over lead time = d · L = {fmt.qty(d, 3)} × {fmt.qty(lt, 1)} = {fmt.qty(r['demand_over_lead_time'], 2)}"
    if r["forecast_history_disagree"]:
        dlt += (f"\n  CHECK: the forecast says {fmt.qty(r['forecast_demand_over_lead_time'], 1)}, the history "
                f"{fmt.qty(r['history_demand_over_lead_time'], 1)} — under half or over twice: look before trusting either")
    verdict = {"stockout": "on hand is 0 while there is demand → [b]STOCKOUT[/b]",
               "below_reorder": f"on hand + on order = {fmt.qty(position)} ≤ reorder point → [b]below reorder[/b]",
               "ok": (f"on hand + on order = {fmt.qty(position)} > reorder point → ok" if d > 0
                      else "no demand in the window → ok")}[r["status"]]
    previous = (r["previous_status"] if r["previous_status"] else
                "not in the previous version" if previous_version is not None else
                "none — this is the first version")
    lead = LEAD_SOURCE.get(r["lead_time_source"], r["lead_time_source"])
    demand_term, lead_term = lt * s * s, d * d * s_l * s_l
    level = f"{fmt.pct(r['service_level'])} service level" + (" (the planner's)" if r["has_planner"] and
                                                                 r["service_level"] is not None else "")
    return "\n".join([
        f"[b]How the numbers are made[/b] (as of {fmt.day(r['as_of'])}, {r['history_days']} days of history)",
        f"d = mean daily demand = {fmt.qty(d, 3)} {r['unit'] or ''}/day (days without requests count as 0)",
        f"s = sample std of daily demand = {fmt.qty(s, 3)}",
        f"L = lead time = {fmt.qty(lt, 1)} days, from {lead}",
        f"s_L = lead-time spread = {fmt.qty(s_l, 2)} days, from {S_L_SOURCE.get(r['lead_time_std_source'], '')}",
        f"z = {z:.3f} for a {level}",
        f"safety stock = z · √(L · s² + d² · s_L²) = {z:.3f} × √({fmt.qty(demand_term, 1)} demand + "
        f"{fmt.qty(lead_term, 1)} lead time) = {fmt.qty(r['safety_stock'], 2)}",
        dlt,
        f"reorder point = demand over lead time + safety stock = {fmt.qty(r['reorder_point'], 2)}",
        f"days of cover = on hand / d = {fmt.days(r['days_of_cover'])}",
        f"basis {r['basis']}: {r.get('basis_note') or ''}",
        order_steps(r),
        verdict + f"   (previous version: {previous})",
    ])


def suppliers_text(suppliers: list[dict]) -> str:
    if not suppliers:
        return "[b]Suppliers[/b]  none in the history"
    return "[b]Suppliers[/b] (most recent first; lead times over all each one's lines)\n" + "\n".join(
        f"  {s['supplier'][:40]:<40} {s['lines']:>4} line(s), last {fmt.day(s['last_purchase'])} · median "
        f"{fmt.qty(s['median_days'])} d, p90 {fmt.qty(s['p90_days'])} d, on time {fmt.pct(s['on_time_share'])}"
        for s in suppliers[:8]) + (f"\n  … and {len(suppliers) - 8} more" if len(suppliers) > 8 else "")


def transfer_text(r: dict, transfers: list[dict]) -> str:
    """Company files: stock another plant can spare, before buying."""
    if "site" not in r or r["status"] == "ok":
        return ""
    if not transfers:
        return "\n[b]Transfer before a purchase?[/b]  no other plant holds it above its own reorder point"
    return "\n[b]Transfer before a purchase?[/b]  " + " · ".join(
        f"{t['from_site']} can spare {fmt.qty(t['surplus'], 1)} {t['unit'] or ''} (on hand {fmt.qty(t['from_on_hand'])})"
        for t in transfers)


def replay_text(r: dict, replay: dict | None) -> str:
    if not replay or not replay["points"]:
        return ("[b]Does the method keep its promise?[/b]  no review point to replay for this item (no demand in "
                "the window before any weekly review, or too little history)")
    missed = replay["share_kept"] < r["service_level"] - 0.03
    return (f"[b]Does the method keep its promise?[/b]  replayed at {replay['points']} weekly review points: the "
            f"reorder point covered the lead-time demand at {replay['points_kept']} of {replay['points']} "
            f"({fmt.pct(replay['share_kept'])}) against {fmt.pct(replay['service_level'])} promised"
            + (" — [b]MISSES[/b] its promise" if missed else ""))


def lead_time_text(r: dict, lt: dict) -> str:
    own = (f"{lt['usable']} purchases with a usable lead time: median {fmt.qty(lt['median_days'])} d, "
           f"range {fmt.qty(lt['min_days'])}–{fmt.qty(lt['max_days'])} d, spread (std) {fmt.qty(lt['std_days'], 2)} d"
           if lt["usable"] else "no usable purchase")
    lines = [f"[b]Lead-time evidence[/b]  {own}",
             f"  family {r['family'] or '—'}: {lt['family_usable']} purchases, median {fmt.qty(lt['family_median_days'])} d, "
             f"spread {fmt.qty(lt['family_std_days'], 2)} d",
             f"  s_L used: {fmt.qty(r['lead_time_std'], 2)} d, from {S_L_SOURCE.get(r['lead_time_std_source'], '')}"]
    if r["lead_time_source"] == "planner":
        lines.append(f"  L = {fmt.qty(r['lead_time_days'])} d comes from the planner's sheet; the measured spread still counts")
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

    @classmethod
    def of(cls, app, row) -> "ItemScreen":
        """The item's screen for a row of the list: with the columns only this screen shows, read now
        (one row of the serving version: about a millisecond), not held for every item of the list."""
        cur = app.db.cursor()
        try:
            detail = queries.item_detail(cur, row["item_id"], row.get("site"))
        finally:
            cur.close()
        return cls({**row, **detail})

    def compose(self) -> ComposeResult:
        r = self.row
        yield VersionBar(f"Item {r['item_id']}" + (f" at {r['site']}" if r.get("site") else ""))
        yield DataAgeBanner()
        with VerticalScroll(id="body"):
            yield Static(f"[b]{r['item_id']}[/b] {r['description'] or ''} · {r['family'] or '—'} · "
                         f"unit {r['unit'] or '—'} · [b]{fmt.STATUS_LABEL[r['status']]}[/b] · basis {r['basis']}",
                         id="title")
            yield Static(decision_text(r), id="decision")
            yield Static(class_text(r), id="class")
            yield Static(formula_text(r, self.app.snapshot.info.get("previous_version") if self.app.snapshot else None),
                         id="formula")
            yield DemandChart(id="demand")
            yield Static("[b]Stock per depot[/b] (latest snapshot)", classes="label")
            yield ListTable(STOCK, key="depot", id="stock")
            yield Static("reading…", id="leadtime")
            yield Static("", id="item-suppliers")
            yield Static("", id="replay")
        yield KeyLine()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="item")
    def load(self) -> None:
        cur = self.app.db.cursor()
        try:
            item, site = self.row["item_id"], self.row.get("site")
            stock, demand = queries.item_stock(cur, item, site), queries.item_demand(cur, item, site)
            lead, replay = queries.item_lead_times(cur, item, site), planning_queries.item_replay(cur, item, site)
            transfers = queries.transfers(cur, site, item) if site else []
            suppliers = planning_queries.item_suppliers(cur, item, site)
        finally:
            cur.close()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.fill, stock, demand, lead, replay, transfers, suppliers)

    def fill(self, stock: list[dict], demand: list[dict], lead: dict, replay: dict | None = None,
             transfers: list[dict] = (), suppliers: list[dict] = ()) -> None:
        self.query_one("#item-suppliers", Static).update(suppliers_text(suppliers))
        self.query_one("#replay", Static).update(replay_text(self.row, replay) + transfer_text(self.row, transfers))
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
