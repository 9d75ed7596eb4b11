"""Help: the keys, and what the statuses and numbers mean."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]Keys[/b]
  1       Overview: counts, forecast accuracy, freshness, last build
  2       Reorder: stockouts, then below reorder by days of cover
  3       Forecast: demand and a model's forecast, item or family
  4       Freshness: newest files, rejected files and why, builds
  /       filter (Reorder); choose an item or family (Forecast)
  m       choose a model version (Forecast)
  enter   explain the item: stock, demand, lead times, formula
  escape  back, or clear the filter
  e       export the list on screen as CSV (opens in Excel)
  r       reopen now (new versions are noticed by themselves)
  ctrl+p  command palette: every action by name
  ?       this help          q  quit

[b]Statuses[/b]
  STOCKOUT  nothing on hand while there is demand
  below     on hand + on order at or under the reorder point
  NEW       flagged now; ok or absent in the previous version

[b]Numbers[/b]
  d          mean daily demand over the window, zero days included
  reorder    demand over lead time + safety stock (z · s · √L)
  cover      days the stock on hand lasts at d
  order      suggested quantity: reorder point + d · review days
             − on hand − on order, rounded up
  basis      history (d · L) or forecast (model's sum over L days)
  WAPE/bias  accuracy on intermittent demand; MAPE only with a warning

Press escape, ? or q to close."""


class HelpScreen(ModalScreen):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100%; max-width: 80; height: 90%; border: round $primary;
                                  background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP)
