"""Demand and forecast charts (textual-plotext), x axis in days around the as-of date.

Spiky items (a lump of 500 among days of 2) flatten everything else, so the y axis has three
scales, cycled with `y`: linear, clipped at the 95th percentile of the values shown (bars above it
are drawn at the clip and counted in the title), and log (log10(1 + q), so days of 0 stay on the axis).
Date ticks carry the year, and the forecast horizon gets ticks of its own.
"""
from __future__ import annotations

import math
from datetime import date

from textual_plotext import PlotextPlot

from ..queries import Row

SCALES = ("linear", "clip", "log")


def series_markers(no_color: bool) -> dict[str, str]:
    """With colours, lines are told apart by colour; without (NO_COLOR), every series has its own marker."""
    if no_color:
        return {"demand": "*", "forecast": "+", "interval": ".", "actual": "x"}
    return {"demand": "braille", "forecast": "braille", "interval": "dot", "actual": "x"}


def ticks(history: list[date], horizon: list[date], origin: date, max_ticks: int = 6) -> tuple[list[int], list[str]]:
    """At most max_ticks date ticks (dd/mm/yy, with the year), in this order of need: the first day,
    the middle of the forecast horizon, the as-of date, then evenly in between; never two closer than
    the span / max_ticks, so labels do not collide (the last day is avoided: its label would be cut)."""
    days = sorted(set(history) | set(horizon))
    if not days:
        return [], []
    span = max(1, (days[-1] - days[0]).days)
    wanted: list[date] = [days[0]]
    if horizon:
        h = sorted(horizon)
        wanted.append(h[len(h) // 2])
    wanted.append(origin)
    wanted += [days[0] + (days[-1] - days[0]) * k / 8 for k in range(1, 7)]
    chosen: list[date] = []
    for d in wanted:
        if len(chosen) >= max_ticks:
            break
        if days[0] <= d <= days[-1] and all(abs((d - c).days) >= span / max_ticks for c in chosen):
            chosen.append(d)
    chosen.sort()
    return [(d - origin).days for d in chosen], [d.strftime("%d/%m/%y") for d in chosen]


def scaled(values: list[float | None], scale: str, cap: float | None) -> list[float]:
    out = []
    for v in values:
        v = v or 0.0
        if scale == "clip" and cap is not None:
            v = min(v, cap)
        elif scale == "log":
            v = math.log10(1 + max(0.0, v))
        out.append(v)
    return out


def clip_cap(values: list[float]) -> float | None:
    """The 95th percentile of the values above 0 (nearest rank); None when nothing to clip."""
    positive = sorted(v for v in values if v and v > 0)
    if len(positive) < 5:
        return None
    cap = positive[min(len(positive) - 1, math.ceil(0.95 * len(positive)) - 1)]
    return cap if cap < positive[-1] else None


class DemandChart(PlotextPlot):
    """Daily demand as bars or a line; with a forecast, its interval drawn as two thin lines.

    Building a plotext figure takes ~50 ms here, and PlotextPlot rebuilds it on every render (a
    screen switch re-renders). The built chart is kept until its data, size or theme changes, and
    is built as soon as the data arrives, so showing the screen does not pay for it.
    """

    _built: tuple | None = None
    _data_version = 0
    scale = "linear"

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

    def _title(self, title: str, values: list[float]) -> tuple[str, float | None]:
        cap = clip_cap(values) if self.scale == "clip" else None
        if self.scale == "clip":
            above = sum(1 for v in values if v and cap is not None and v > cap)
            return (f"{title} · clipped at {cap:,.1f} ({above} above)" if cap is not None
                    else f"{title} · nothing to clip"), cap
        if self.scale == "log":
            return f"{title} · log scale: log10(1 + q)", None
        return title, None

    def max_ticks(self) -> int:
        return max(3, (self.size.width - 8) // 11)  # a label is 8 characters wide

    def _ylabel(self) -> str:
        return "log10(1+units)" if self.scale == "log" else "units/day"

    def show_history(self, history: list[Row], as_of: date, title: str) -> None:
        self._last = ("history", history, as_of, title)
        plt = self.plt
        plt.clear_figure()
        if not history:
            plt.title(f"{title} — no demand in the window")
        else:
            values = [r["quantity"] for r in history]
            text, cap = self._title(title, values)
            plt.title(text)
            x = [(r["date"] - as_of).days for r in history]
            plt.bar(x, scaled(values, self.scale, cap), marker="sd", width=0.8)
            plt.xticks(*ticks([r["date"] for r in history], [], as_of, self.max_ticks()))
        plt.ylabel(self._ylabel())
        self._drawn()

    def show_forecast(self, history: list[Row], forecast: list[Row], as_of: date, title: str) -> None:
        self._last = ("forecast", history, forecast, as_of, title)
        plt = self.plt
        plt.clear_figure()
        marks = series_markers(self.app.no_color)
        values = [r["quantity"] for r in history] + [r["forecast"] for r in forecast] + \
                 [r["upper"] for r in forecast if r["upper"] is not None]
        text, cap = self._title(title, values)
        plt.title(text)
        if history:
            plt.plot([(r["date"] - as_of).days for r in history], scaled([r["quantity"] for r in history], self.scale, cap),
                     label="demand", marker=marks["demand"], color="cyan")
        if forecast:
            fx = [(r["date"] - as_of).days for r in forecast]
            if any(r["upper"] is not None for r in forecast):
                plt.plot(fx, scaled([r["upper"] for r in forecast], self.scale, cap), label="interval",
                         marker=marks["interval"], color="gray")
                plt.plot(fx, scaled([r["lower"] for r in forecast], self.scale, cap), marker=marks["interval"], color="gray")
            plt.plot(fx, scaled([r["forecast"] for r in forecast], self.scale, cap), label="forecast",
                     marker=marks["forecast"], color="orange")
            actual = [(x, r["actual"]) for x, r in zip(fx, forecast) if r["actual"] is not None]
            if actual:
                plt.scatter([a[0] for a in actual], scaled([a[1] for a in actual], self.scale, cap), label="actual",
                            marker=marks["actual"], color="green")
        if history or forecast:
            plt.xticks(*ticks([r["date"] for r in history], [r["date"] for r in forecast], as_of, self.max_ticks()))
            plt.vertical_line(0, color="gray")
        plt.ylabel(self._ylabel())
        self._drawn()

    def cycle_scale(self) -> str:
        """linear → clip → log → linear; redraws what is shown."""
        self.scale = SCALES[(SCALES.index(self.scale) + 1) % len(SCALES)]
        last = getattr(self, "_last", None)
        if last and last[0] == "history":
            self.show_history(*last[1:])
        elif last:
            self.show_forecast(*last[1:])
        return self.scale
