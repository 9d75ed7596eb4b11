"""The dashboard application: bindings, loading and watching versions, switching screens.

Screens are rooms (`screens/`); this file only decides which version is shown and which room is
open. Every database read runs in a thread worker; the worker hands back plain rows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import WorkerState

from .config import TuiConfig
from .screens.help import HelpScreen
from .screens.problem import ProblemScreen
from .warehouse import Snapshot, Target, WarehouseProblem, load

SCREENS_BY_KEY = {"1": "overview", "2": "reorder", "3": "forecast", "4": "freshness", "5": "changes", "6": "suppliers", "7": "context"}
NEEDS_A_VERSION = {"show", "export"}  # actions that mean nothing before a version is open


# The rooms are imported when first built, after the first frame: plotext and friends cost
# ~0.2 s of start-up that the "opening" frame should not wait for.
def _overview():
    from .screens.overview import OverviewScreen
    return OverviewScreen()


def _reorder():
    from .screens.reorder import ReorderScreen
    return ReorderScreen()


def _forecast():
    from .screens.forecast import ForecastScreen
    return ForecastScreen()


def _freshness():
    from .screens.freshness import FreshnessScreen
    return FreshnessScreen()


def _changes():
    from .screens.changes import ChangesScreen
    return ChangesScreen()


def _suppliers():
    from .screens.suppliers import SuppliersScreen
    return SuppliersScreen()


def _context():
    from .screens.context import ContextScreen
    return ContextScreen()


class NovaApp(App):
    TITLE = "Nova Corrente"
    MODES = {"overview": _overview, "reorder": _reorder, "forecast": _forecast, "freshness": _freshness,
             "changes": _changes, "suppliers": _suppliers, "context": _context,
             "problem": ProblemScreen}
    BINDINGS = [
        Binding("1", "show('overview')", "Overview"),
        Binding("2", "show('reorder')", "Reorder"),
        Binding("3", "show('forecast')", "Forecast"),
        Binding("4", "show('freshness')", "Freshness"),
        Binding("5", "show('changes')", "Changes"),
        Binding("6", "show('suppliers')", "Suppliers"),
        Binding("7", "show('context')", "Context"),
        Binding("e", "export", "Export CSV"),
        Binding("r", "refresh", "Refresh"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]
    # Each screen's stylesheet sits beside it (rules scoped to the screen), but all are loaded here,
    # at start: a screen that brings its own CSS_PATH makes the app re-parse every stylesheet the
    # first time each screen is shown (about 60 ms a switch, measured).
    CSS_PATH = [f"screens/{name}.tcss" for name in ("overview", "reorder", "item", "forecast", "freshness")]
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, config: TuiConfig, target: Target, start: str | None = None):
        from . import state

        super().__init__()
        self.config = config
        self.target = target
        self.ui_state, self._state_notice = state.load(config.state_file)
        remembered = self.ui_state.get("screen")
        self.start = start or (remembered if remembered in SCREENS_BY_KEY.values() else "overview")
        self.snapshot: Snapshot | None = None
        self.db = None  # the open read-only connection of the version shown
        self.snapshot_changed: Signal[Snapshot] = Signal(self, "snapshot_changed")
        self._fingerprint = None  # the version on screen
        self._loading = None  # the version being read, so the watcher does not start it twice

    # -- loading -------------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.ui_state.get("theme") in self.available_themes:
            self.theme = self.ui_state["theme"]
        self.theme_changed_signal.subscribe(self, lambda theme: self.remember("theme", theme.name))
        if self._state_notice:
            self.notify(self._state_notice, title="Saved state ignored", severity="warning", timeout=8)
        self.switch_mode("problem")  # shows "opening…" until the first load answers
        self.start_load(announce=False)
        if self.target.follows_current and self.config.watch_seconds > 0:
            self.set_interval(self.config.watch_seconds, self.check_for_new_version)

    def on_unmount(self) -> None:
        self.save_state()
        if self.db is not None:
            self.db.close()
            self.db = None

    # -- what is remembered between runs (state.py) ----------------------------------------------
    def remember(self, key: str, value) -> None:
        self.ui_state[key] = value

    def save_state(self) -> None:
        from . import state

        problem = state.save(self.config.state_file, self.ui_state)
        if problem:
            self.log.warning(problem)

    def check_for_new_version(self) -> None:
        # Two syscalls a second: cheap enough for the event loop, and no busy redraw when idle.
        fingerprint = self.target.fingerprint()
        if fingerprint not in (self._fingerprint, self._loading):
            self.start_load(announce=True)

    def start_load(self, announce: bool) -> None:
        self._loading = self.target.fingerprint()
        self.load_version(announce)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load_version(self, announce: bool) -> None:
        fingerprint = self.target.fingerprint()
        try:
            con, snapshot = load(self.target)
        except WarehouseProblem as problem:
            self.call_from_thread(self._show_problem, problem, fingerprint)
            return
        self.call_from_thread(self._show_snapshot, con, snapshot, fingerprint, announce)

    def _show_snapshot(self, con, snapshot: Snapshot, fingerprint, announce: bool) -> None:
        import gc

        # The snapshot's tens of thousands of row dicts hold no cycles: keep them out of the cyclic
        # collector's passes, whose pauses showed up as 100 ms screen switches on a big warehouse.
        gc.collect()
        gc.freeze()
        old, self.db = self.db, con
        if old is not None:
            old.close()
        previous = self.snapshot
        self.snapshot, self._fingerprint = snapshot, fingerprint
        if self.current_mode == "problem":
            self.switch_mode(self.start)
            self.call_after_refresh(self._visit_rooms)
        self.snapshot_changed.publish(snapshot)
        if announce and (previous is None or previous.version != snapshot.version):
            self.notify(f"now showing v{snapshot.version}", title="New version")
        elif announce:
            self.notify(f"v{snapshot.version} reloaded")

    async def _visit_rooms(self) -> None:
        """Build every room once, unseen, right after the first one is on screen, so that a first
        visit costs what a return does (bench/tui.py: ~350 ms -> under 100 ms)."""
        # Twice: widgets first mounted in a later room bring their default CSS, which leaves earlier
        # rooms with a stale stylesheet that Textual would re-parse on their first real visit.
        with self.batch_update():
            for mode in [*SCREENS_BY_KEY.values()] * 2:
                if mode != self.current_mode:
                    await self.switch_mode(mode)
            await self.switch_mode(self.start)
        # The rooms' widgets and rows were made after the load's freeze: freeze them too, or the
        # collector's full passes over them (75-115 ms on the bundled data) land in screen switches
        # (bench/tui.py measured 150-167 ms returns to the freshness screen, always the third).
        import gc

        gc.collect()
        gc.freeze()

    def _show_problem(self, problem: WarehouseProblem, fingerprint) -> None:
        self._fingerprint = fingerprint
        if self.snapshot is None:
            self.switch_mode("problem")
            self.screen.show_problem(problem)
        else:  # the version already on screen stays; say why the new one is not shown
            self.notify(f"{problem.title}: {problem.detail}. Still showing v{self.snapshot.version}.",
                        severity="error", timeout=10)

    def on_worker_state_changed(self, event) -> None:
        if event.state == WorkerState.ERROR:  # an unexpected failure: one line, never a traceback
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
                        title="Could not read the warehouse", severity="error", timeout=10)

    def delay_update(self, delay: float = 0.05) -> None:
        # Textual holds the screen for 50 ms on every mode switch to mask the transition; that alone
        # is half the 100 ms switch budget. Our rooms are filled before they are shown, so 10 ms is enough.
        super().delay_update(min(delay, 0.01))

    # -- actions -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Before a version is open (the problem screen) only retry, help and quit mean anything; the
        key line shows only those."""
        if self.snapshot is None and action in NEEDS_A_VERSION:
            return False
        return True

    def action_show(self, mode: str) -> None:
        if self.snapshot is None:
            self.bell()
            return
        self.start = mode
        self.remember("screen", mode)
        self.switch_mode(mode)

    async def open_reorder(self, status: str) -> None:
        """The overview's cards: the reorder list filtered to the card's items."""
        if self.snapshot is None:
            return
        self.start = "reorder"
        self.remember("screen", "reorder")
        await self.switch_mode("reorder")
        self.screen.set_status_filter(status)

    def copy_text(self, text: str, what: str) -> None:
        """To the clipboard of the operator's own terminal, over SSH too (OSC 52)."""
        self.copy_to_clipboard(text)
        self.notify(f"copied {what} (OSC 52: the terminal must allow clipboard writes; tmux needs set-clipboard on)",
                    title="Clipboard", timeout=4)

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The palette's Screenshot: into the exports folder (a server has no ~/Downloads), and say where."""
        folder = Path(path) if path else self.config.exports
        try:
            folder.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(filename, str(folder), time_format)
        except OSError as exc:
            self.notify(f"cannot write to {folder}: {exc.strerror or exc}", title="Screenshot", severity="error")
            return None
        self.notify(f"saved to {saved}", title="Screenshot")
        return saved

    def action_refresh(self) -> None:
        self.start_load(announce=True)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_export(self) -> None:
        from .export import write_csv

        export = getattr(self.screen, "export_list", None)
        if self.snapshot is None or export is None:
            self.notify("nothing to export on this screen", severity="warning")
            return
        name, columns, rows = export()
        try:
            path = write_csv(self.config.exports, f"{name}_v{self.snapshot.version}", columns, rows,
                             self.config.clock())
        except OSError as exc:
            self.notify(f"cannot write to {self.config.exports}: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"{len(rows)} row{'' if len(rows) == 1 else 's'} written to {path}", title="Exported")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for key, mode in SCREENS_BY_KEY.items():
            yield SystemCommand(f"{mode.title()} screen", f"Show the {mode} screen (key {key})",
                                lambda m=mode: self.action_show(m))
        yield SystemCommand("Export CSV", "Write the list on screen to the exports folder (key e)", self.action_export)
        yield SystemCommand("Refresh", "Reopen the warehouse now (key r)", self.action_refresh)
        yield SystemCommand("Help", "Keys and what the numbers mean (key ?)", self.action_help)
        yield from super().get_system_commands(screen)


def make_app(config: TuiConfig, target: Target | None = None, start: str | None = None) -> NovaApp:
    return NovaApp(config, target or Target.choose(config), start)
