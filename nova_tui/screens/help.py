"""Help: the keys, and what the statuses and numbers mean."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]Keys[/b]
  1       Overview: counts against the previous version, accuracy,
          freshness, last build; x b l c (or a card + enter) open lists
  2       Reorder: stockouts, then below reorder, LATE first, by
          order-by date
  3       Forecast: demand and a model's forecast, item or family
  4       Freshness: newest files, rejected files and why, builds
  5       Changes: what changed since the previous version
  6       Suppliers: lead times (median, p90, spread), on time, trend
  7       Context: weekly demand beside rain, temperature, Selic,
          PTAX and IPCA; correlations, with what they cannot say
  /       filter (Reorder; / again goes back to the list);
          choose an item or family (Forecast)
  s / S   sort by the next column / reverse (or click a header)
  h       hide the items that are ok (status filter)
  c / C   copy the item code / the whole row (OSC 52, over SSH too)
  f       the item's forecast (item screen); escape comes back
  m       choose a model version (Forecast)
  y       y axis: linear, clipped at the 95th percentile, log
  enter   explain the item: decision, stock, demand, lead times
  escape  back, or clear the filters
  e       export the list on screen as CSV (opens in Excel)
  r       reopen now (new versions are noticed by themselves)
  ctrl+p  command palette: every action by name, themes, screenshot
  ?       this help          q  quit

[b]Marks[/b]
  STOCKOUT  nothing on hand while there is demand
  below     on hand + on order at or under the reorder point
  LATE      the stock on hand runs out before a purchase made
            today could arrive (days of cover < lead time)
  chg       NEW flagged now (ok or absent before) · WORSE below →
            stockout · ORDER suggested order moved · BASIS forecast ↔
            history · better: status improved
  STALE DATA banner: the as-of date is older than its limit

[b]Numbers[/b]
  d          mean daily demand over the window, zero days included
  reorder    demand over lead time + safety stock (z · s · √L)
  cover      days the stock on hand lasts at d
  runs out   as-of + cover;  order by: runs out − lead time
  order      suggested quantity: reorder point + d · review days
             − on hand − on order, rounded up
  supplier   bought from most recently (+N other suppliers)
  basis      history (d · L) or forecast (model's sum over L days)
  WAPE/bias  accuracy on intermittent demand; MAPE only with a warning
  times      plant time (America/Bahia) with the UTC offset, -03

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
