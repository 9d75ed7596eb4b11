"""Context: an item's or a family's weekly demand over the reorder window beside Salvador's rain and
temperature, Selic, PTAX and IPCA over the same weeks (aligned charts, weeks with holidays marked),
and the correlation of demand with each — with what such a correlation can and cannot say."""
from __future__ import annotations

import statistics

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Select, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from .. import format as fmt
from .. import planning_queries
from ..lists import Column
from ..warehouse import Snapshot
from .base import NovaScreen
from .forecast import FAMILY, UNIT_SEP

CAVEAT = ("Demand here comes on a few days in lumps, so a correlation over a few months of weeks is driven by "
          "a handful of large requests: it can point at something to ask the sites about; it cannot show that "
          "rain or the economy causes demand, nor predict a week.")
SERIES = (("rain_mm", "rain"), ("temp_c", "temperature"), ("selic_pct", "Selic"), ("ptax", "PTAX"),
          ("ipca_pct", "IPCA"))
WEEKS = (
    Column("week", "week", lambda r: fmt.day(r["week"])),
    Column("quantity", "demand", lambda r: fmt.qty(r["quantity"]), True),
    Column("rain_mm", "rain mm", lambda r: fmt.qty(r["rain_mm"], 1), True),
    Column("temp_c", "temp °C", lambda r: fmt.qty(r["temp_c"], 1), True),
    Column("selic_pct", "Selic %", lambda r: fmt.qty(r["selic_pct"], 2), True),
    Column("ptax", "PTAX", lambda r: fmt.qty(r["ptax"], 4), True),
    Column("ipca_pct", "IPCA %", lambda r: fmt.qty(r["ipca_pct"], 2), True),
    Column("holidays", "holidays", lambda r: r["holidays"] or ""),
)


def correlations(rows: list[dict]) -> dict[str, float | None]:
    """Pearson's r between weekly demand and each series, over the weeks where both are known."""
    out = {}
    for key, _label in SERIES:
        pairs = [(r["quantity"], r[key]) for r in rows if r[key] is not None]
        try:
            out[key] = statistics.correlation([p[0] for p in pairs], [p[1] for p in pairs]) if len(pairs) >= 3 else None
        except statistics.StatisticsError:  # a constant series (no demand at all, a flat Selic)
            out[key] = None
    return out


class ContextChart(PlotextPlot):
    """One of three aligned charts over the same weeks: demand; rain and temperature; Selic and PTAX.

    The figure is made at render time, for the width it is drawn at: as many date labels as fit
    without touching (plotext drops labels that collide, which made the axis depend on timing)."""
    _built: tuple | None = None
    _data_version = 0
    _rows: list = []
    _title = ""

    def __init__(self, kind: str, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind

    def render(self):
        key = (self.size, self.app.theme, self._data_version)
        if self._built is None or self._built[0] != key:
            self._figure(self.size.width)
            self._built = (key, super().render())
        return self._built[1]

    def draw(self, rows: list[dict], title: str) -> None:
        self._rows, self._title = rows, title
        self._data_version += 1
        self.refresh()

    def _figure(self, width: int) -> None:
        plt, rows, title = self.plt, self._rows, self._title
        plt.clear_figure()
        no_color = self.app.no_color
        if not rows:
            plt.title(f"{title}: no weeks to show" if self.kind == "demand" else "")
            return
        x = list(range(len(rows)))
        fit = max(2, (width - 12) // 12)  # a label is 8 characters; keep a gap and the axis' own width
        chosen = sorted({round(i * (len(rows) - 2) / max(1, fit - 1)) for i in range(fit)}) if len(rows) > 2 else [0]
        if self.kind == "demand":
            holiday_x = [i for i, r in enumerate(rows) if r["holidays"]]
            plt.title(f"{title}: weekly demand" + ("  (| a week with a holiday)" if holiday_x else ""))
            plt.bar(x, [r["quantity"] for r in rows], marker="sd", width=0.6)
            for i in holiday_x:
                plt.vertical_line(i, color="gray")
        elif self.kind == "weather":
            plt.plot(x, [r["rain_mm"] or 0 for r in rows], label="rain mm (left)",
                     marker="*" if no_color else "braille", color="blue")
            plt.plot(x, [r["temp_c"] if r["temp_c"] is not None else 0 for r in rows], label="temp °C (right)",
                     marker="+" if no_color else "braille", color="red", yside="right")
        else:
            plt.plot(x, [r["selic_pct"] or 0 for r in rows], label="Selic % (left)",
                     marker="*" if no_color else "braille", color="green")
            plt.plot(x, [r["ptax"] or 0 for r in rows], label="PTAX R$/US$ (right)",
                     marker="+" if no_color else "braille", color="orange", yside="right")
        plt.xticks(chosen, [rows[i]["week"].strftime("%d/%m/%y") for i in chosen])


class ContextScreen(NovaScreen):
    SCREEN_TITLE = "Context"
    BINDINGS = [Binding("slash", "choose", "Item/family", key_display="/")]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []

    def compose_body(self) -> ComposeResult:
        yield Select([], prompt="family or item", id="ctx-scope", allow_blank=True)
        with Horizontal(id="ctx-main"):
            with Vertical(id="ctx-charts"):
                yield ContextChart("demand", id="ctx-demand", classes="ctx-chart")
                yield ContextChart("weather", id="ctx-weather", classes="ctx-chart")
                yield ContextChart("economy", id="ctx-economy", classes="ctx-chart")
            with Vertical(id="ctx-side"):
                yield Static("", id="ctx-corr")

    def show(self, snapshot: Snapshot) -> None:
        pairs = sorted({(r["family"] or "(no family)", r["unit"] or "?") for r in snapshot.reorder})
        units = {}
        for fam, unit in pairs:
            units.setdefault(fam, []).append(unit)
        options = [(f"family: {f}" + (f" — only {u}" if len(units[f]) > 1 else ""), f"{FAMILY}{f}{UNIT_SEP}{u}")
                   for f, u in pairs]
        options += [(f"{r['item_id']} {(r['description'] or '')[:28]}", r["item_id"]) for r in snapshot.reorder[:500]]
        select = self.query_one("#ctx-scope", Select)
        kept = select.value
        with self.prevent(Select.Changed):
            select.set_options(options)
            values = [v for _, v in options]
            if kept in values:
                select.value = kept
            elif values:
                select.value = values[0]
        self.load()

    def on_select_changed(self, _event: Select.Changed) -> None:
        self.load()

    def chosen(self) -> tuple[str | None, str | None, str | None]:
        value = self.query_one("#ctx-scope", Select).value
        if not isinstance(value, str):
            return None, None, None
        if value.startswith(FAMILY):
            family, _, unit = value.removeprefix(FAMILY).partition(UNIT_SEP)
            return None, family, unit
        return value, None, None

    @work(thread=True, exclusive=True, exit_on_error=False, group="context")
    def load(self) -> None:
        item, family, unit = self.chosen()
        if item is None and family is None:
            return
        cur = self.app.db.cursor()
        try:
            rows = planning_queries.weekly_context(cur, item_id=item, family=family, unit=unit)
        finally:
            cur.close()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.draw, item, family, unit, rows)

    def draw(self, item, family, unit, rows: list[dict]) -> None:
        self.rows = rows
        title = f"item {item}" if item else f"family {family} ({unit})"
        for chart in self.query(ContextChart):
            chart.draw(rows, title)
        r = correlations(rows)
        lines = [f"[b]Correlation with weekly demand[/b]\n{len(rows)} weeks, Pearson's r"]
        lines += [f"  {label:<12} {'—' if r[key] is None else f'{r[key]:+.2f}'}" for key, label in SERIES]
        holidays = [f"{fmt.day(x['week'])}: {x['holidays']}" for x in rows if x["holidays"]]
        if holidays:
            lines.append("\n[b]Weeks with holidays[/b]\n" + "\n".join(holidays[:6]))
        lines.append("\n" + CAVEAT)
        self.query_one("#ctx-corr", Static).update("\n".join(lines))

    def action_choose(self) -> None:
        self.query_one("#ctx-scope", Select).focus()
        self.query_one("#ctx-scope", Select).action_show_overlay()

    def export_list(self):
        item, family, unit = self.chosen()
        name = item or (f"{family}_{unit}" if family else "none")
        return f"context_{name}".replace(" ", "_").replace("/", "_"), WEEKS, self.rows
