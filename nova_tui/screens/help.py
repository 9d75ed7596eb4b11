"""Help: the keys, and what the statuses and numbers mean."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]Keys[/b]
  1  Overview      counts, newest forecast model and its accuracy, freshness, last build
  2  Reorder       stockouts, then items below reorder by days of cover, then the rest
  3  Forecast      demand history and a model's forecast for an item or a family
  4  Freshness     each source's newest file, rejected files and why, recent builds
  /  filter (Reorder) or choose an item/family (Forecast);  m  choose a model (Forecast)
  enter  explain the selected item (Reorder);  escape  back / clear the filter
  e  export the list on screen to the exports folder as CSV
  r  reopen the warehouse now (new versions are noticed by themselves)
  ctrl+p  command palette;  ?  this help;  q  quit

[b]Statuses[/b]
  STOCKOUT  nothing on hand while there is demand
  below     on hand + on order at or under the reorder point
  NEW       flagged now, but ok or absent in the previous version

[b]Numbers[/b]
  d = mean daily demand over the history window (days without requests count as 0)
  reorder point = demand over lead time + safety stock;  safety stock = z · s · √L
  cover d = days the stock on hand lasts at d;  order = suggested quantity to buy
  basis: history (d · L) or forecast (the ML model's sum over the lead time)
  WAPE and bias measure forecasts on intermittent demand; MAPE is shown only with a warning.

Press escape, ? or q to close."""


class HelpScreen(ModalScreen):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 96%; max-width: 100; height: 90%; border: round $primary;
                                  background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP)
