"""Forecast: demand history beside the newest (or any older) model's forecast and its interval band."""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Select, Static
from textual.worker import get_current_worker

from .. import format as fmt
from .. import queries
from ..lists import Column
from ..warehouse import Snapshot
from ..widgets.charts import DemandChart
from .base import NovaScreen

FAMILY = "family:"
UNIT_SEP = "\x1f"  # between a family and its unit in a scope value


def family_options(families: list[dict]) -> list[tuple[str, str]]:
    """One entry per family, or per family and unit when it mixes units: a chart never adds up
    metres and pieces."""
    out = []
    for f in families:
        label = (f"family: {f['family']}" if f["units"] == 1 else
                 f"family: {f['family']} — only {f['unit']} (it mixes {f['units']} units)")
        out.append((label, f"{FAMILY}{f['family']}{UNIT_SEP}{f['unit']}"))
    return out
SERIES = (
    Column("date", "date", lambda r: fmt.day(r["date"])),
    Column("kind", "kind", lambda r: r["kind"]),
    Column("quantity", "demand", lambda r: fmt.qty(r.get("quantity")), True),
    Column("forecast", "forecast", lambda r: fmt.qty(r.get("forecast"), 2), True),
    Column("lower", "lower", lambda r: fmt.qty(r.get("lower"), 2), True),
    Column("upper", "upper", lambda r: fmt.qty(r.get("upper"), 2), True),
    Column("actual", "actual", lambda r: fmt.qty(r.get("actual")), True),
)


def accuracy_text(acc: dict | None) -> str:
    if not acc or not acc["actual_days"]:
        return "accuracy: no actual demand overlaps this forecast yet"
    if acc["wape"] is None:
        return f"accuracy: not measurable — actual demand is 0 on the {acc['actual_days']} day(s) it overlaps"
    text = (f"accuracy over {acc['actual_days']} days\nWAPE {fmt.pct(acc['wape'])}\n"
            f"bias {fmt.pct(acc['bias'], signed=True)}")
    if acc["mape"] is not None:
        text += f"\nMAPE {fmt.pct(acc['mape'])} (unreliable: intermittent demand)"
    return text


class ForecastScreen(NovaScreen):
    SCREEN_TITLE = "Forecast"
    BINDINGS = [Binding("slash", "choose", "Item/family", key_display="/"),
                Binding("m", "model", "Model version"),
                Binding("y", "scale", "Scale y axis")]

    def __init__(self) -> None:
        super().__init__()
        self.series: dict = {"history": [], "forecast": []}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="pickers"):
            yield Select([], prompt="item or family", id="scope", allow_blank=True)
            yield Select([], prompt="model", id="model", allow_blank=True)
        with Horizontal(id="main"):
            yield DemandChart(id="chart")
            with Vertical(id="side"):
                yield Static("", id="model-info")
                yield Static("", id="accuracy")

    def show(self, snapshot: Snapshot) -> None:
        scope, model = self.query_one("#scope", Select), self.query_one("#model", Select)
        kept_scope, kept_model = scope.value, model.value
        options = [(f"{r['item_id']} {(r['description'] or '')[:28]} [{r['status']}]", r["item_id"])
                   for r in snapshot.forecast_items]
        options += family_options(snapshot.families)
        with self.prevent(Select.Changed):
            scope.set_options(options)
            model.set_options([(m["model_version"], m["model_version"]) for m in snapshot.models])
            values = [v for _, v in options]
            wanted = self.initial_scope() or kept_scope
            if wanted in values:
                scope.value = wanted
            elif values:
                scope.value = values[0]  # the most urgent item that has a forecast
            versions = [m["model_version"] for m in snapshot.models]
            if kept_model in versions:
                model.value = kept_model
            elif versions:
                model.value = versions[0]  # the newest model
        if not options:
            self.query_one("#model-info", Static).update("No ML forecast drop has been loaded.\n"
                                                         "Drop a forecast .parquet in ml_drops/.")
            self.query_one("#accuracy", Static).update("")
            return
        self.load_series()

    def on_select_changed(self, _event: Select.Changed) -> None:
        self.load_series()

    def initial_scope(self) -> str | None:
        return None

    def chosen(self) -> tuple[str | None, str | None, str | None, str | None]:
        """(item, family, unit, model)."""
        scope, model = self.query_one("#scope", Select).value, self.query_one("#model", Select).value
        if not isinstance(scope, str) or not isinstance(model, str):
            return None, None, None, None
        if scope.startswith(FAMILY):
            family, _, unit = scope.removeprefix(FAMILY).partition(UNIT_SEP)
            return None, family, unit, model
        return scope, None, None, model

    @work(thread=True, exclusive=True, exit_on_error=False, group="forecast")
    def load_series(self) -> None:
        item, family, unit, model = self.chosen()
        if model is None:
            return
        cur = self.app.db.cursor()
        try:
            series = queries.forecast_series(cur, item_id=item, family=family, unit=unit, model_version=model)
            accuracy = queries.series_accuracy(cur, item_id=item, family=family, unit=unit, model_version=model)
        finally:
            cur.close()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.draw, item, family, unit, model, series, accuracy)

    def draw(self, item, family, unit, model, series, accuracy) -> None:
        self.series = series
        snapshot = self.app.snapshot
        info = next((m for m in snapshot.models if m["model_version"] == model), None)
        title = f"item {item}" if item else f"family {family} ({unit})"
        self.query_one(DemandChart).show_forecast(series["history"], series["forecast"], snapshot.info["as_of"],
                                                  f"{title}: demand and {model}")
        if info:
            text = (f"[b]{info['model_version']}[/b]\nsource {info['source']}\n"
                    f"generated {fmt.local_time(info['generated_at'])}\ndataset {info['dataset_id']}\n"
                    f"covers {fmt.day(info['first_day'])}\n    → {fmt.day(info['last_day'])}")
            if not series["forecast"]:
                text += f"\n\nno forecast for this {('item' if item else 'family')} in this model"
            self.query_one("#model-info", Static).update(text)
        self.query_one("#accuracy", Static).update(accuracy_text(accuracy))

    def action_choose(self) -> None:
        self.query_one("#scope", Select).focus()
        self.query_one("#scope", Select).action_show_overlay()

    def action_scale(self) -> None:
        scale = self.query_one(DemandChart).cycle_scale()
        self.notify(f"y axis: {scale}", timeout=2)

    def action_model(self) -> None:
        self.query_one("#model", Select).focus()
        self.query_one("#model", Select).action_show_overlay()

    def export_list(self):
        item, family, unit, _model = self.chosen()
        rows = [{**r, "kind": "history"} for r in self.series["history"]] + \
               [{**r, "kind": "forecast"} for r in self.series["forecast"]]
        name = item or (f"{family}_{unit}" if family else "none")
        return f"forecast_{name}".replace(" ", "_").replace("/", "_"), SERIES, rows


class ItemForecastScreen(ForecastScreen):
    """The forecast screen opened from an item (`f` on the item screen); escape goes back to the item."""
    BINDINGS = [Binding("escape", "app.pop_screen", "Back to the item"), *ForecastScreen.BINDINGS]

    def __init__(self, item_id: str) -> None:
        super().__init__()
        self.item_id = item_id
        self.SCREEN_TITLE = f"Forecast of item {item_id}"

    def initial_scope(self) -> str | None:
        first, self._first = getattr(self, "_first", True), False
        return self.item_id if first else None
