"""Demand and forecast charts (textual-plotext), x axis in days around the as-of date."""
from __future__ import annotations

from datetime import date

from textual_plotext import PlotextPlot

from ..queries import Row


def _ticks(days: list[date], origin: date, count: int = 5) -> tuple[list[int], list[str]]:
    if not days:
        return [], []
    step = max(1, len(days) // (count - 1))
    chosen = days[::step]
    return [(d - origin).days for d in chosen], [d.strftime("%d/%m") for d in chosen]


class DemandChart(PlotextPlot):
    """Daily demand as bars or a line; with a forecast, its interval drawn as two thin lines.

    Building a plotext figure takes ~50 ms here, and PlotextPlot rebuilds it on every render (a
    screen switch re-renders). The built chart is kept until its data, size or theme changes, and
    is built as soon as the data arrives, so showing the screen does not pay for it.
    """

    _built: tuple | None = None
    _data_version = 0

    def render(self):
        key = (self.size, self.app.theme, self._data_version)
        if self._built is None or self._built[0] != key:
            self._built = (key, super().render())
        return self._built[1]

    def _drawn(self) -> None:
        self._data_version += 1
        if self.size.area:
            self.render()
        self.refresh()

    def show_history(self, history: list[Row], as_of: date, title: str) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.title(title)
        if not history:
            plt.title(f"{title} — no demand in the window")
        else:
            x = [(r["date"] - as_of).days for r in history]
            plt.bar(x, [r["quantity"] for r in history], marker="sd", width=0.8)
            plt.xticks(*_ticks([r["date"] for r in history], as_of))
        plt.ylabel("units/day")
        self._drawn()

    def show_forecast(self, history: list[Row], forecast: list[Row], as_of: date, title: str) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.title(title)
        days = [r["date"] for r in history] + [r["date"] for r in forecast]
        if history:
            plt.plot([(r["date"] - as_of).days for r in history], [r["quantity"] for r in history],
                     label="demand", marker="braille", color="cyan")
        if forecast:
            fx = [(r["date"] - as_of).days for r in forecast]
            if any(r["upper"] is not None for r in forecast):
                plt.plot(fx, [r["upper"] or 0 for r in forecast], label="interval", marker="dot", color="gray")
                plt.plot(fx, [r["lower"] or 0 for r in forecast], marker="dot", color="gray")
            plt.plot(fx, [r["forecast"] for r in forecast], label="forecast", marker="braille", color="orange")
            actual = [(x, r["actual"]) for x, r in zip(fx, forecast) if r["actual"] is not None]
            if actual:
                plt.scatter([a[0] for a in actual], [a[1] for a in actual], label="actual", marker="x", color="green")
        if days:
            plt.xticks(*_ticks(sorted(days), as_of))
            plt.vertical_line(0, color="gray")
        plt.ylabel("units/day")
        self._drawn()
