"""Shown when there is nothing to show: what is wrong, and what to do about it."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static

from ..widgets.key_line import KeyLine

from ..warehouse import WarehouseProblem


class ProblemScreen(Screen):
    DEFAULT_CSS = """
    ProblemScreen #message { width: 90%; max-width: 90; border: round $warning; padding: 1 2; }
    """

    def compose(self) -> ComposeResult:
        with Middle():
            with Center():
                yield Static("Opening the warehouse…", id="message")
        yield KeyLine()

    def show_problem(self, problem: WarehouseProblem) -> None:
        watching = ("This screen updates by itself when a version is published; "
                    if self.app.target.follows_current else "")
        self.query_one("#message", Static).update(
            f"[b]{problem.title}[/b]\n\n{problem.detail}\n\nWhat to do: {problem.hint}\n\n"
            f"{watching}press r to retry, q to quit.")
