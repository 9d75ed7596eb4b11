"""Build progress: a rich progress bar on a terminal, plain key=value log lines otherwise; and the
seconds each stage of a build took (Stages)."""
from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager
from typing import Callable

log = logging.getLogger("nova.progress")
# progress(stage, done, total): called by build, push, pull and export as work advances.
Progress = Callable[[str, int, int], None]
LABELS = {"land": "landing drops", "build": "rebuilding silver and gold", "publish": "publishing",
          "push": "sending to the remote store", "pull": "downloading", "export": "exporting gold tables"}


def silent(stage: str, done: int, total: int) -> None:
    """The Progress that reports nothing (library calls, tests)."""


@contextmanager
def reporter(stream=None):
    stream = stream or sys.stderr
    if not stream.isatty():
        last: dict[str, tuple[int, int]] = {}

        def plain(stage: str, done: int, total: int) -> None:
            if last.get(stage) != (done, total) and total:
                last[stage] = (done, total)
                log.info("event=progress stage=%s done=%d total=%d", stage, done, total)

        yield plain
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                  console=Console(file=stream), transient=False) as bar:
        def rich_update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(LABELS.get(stage, stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done if total else 1, total=max(total, 1))

        # Log lines go through the bar's console, above the bar, instead of tearing through it.
        nova = logging.getLogger("nova")
        saved = nova.handlers[:]
        nova.handlers[:] = [_ConsoleHandler(bar.console, saved[0].formatter if saved else None)]
        try:
            yield rich_update
        finally:
            nova.handlers[:] = saved


class _ConsoleHandler(logging.Handler):
    def __init__(self, console, formatter):
        super().__init__()
        self.console = console
        if formatter:
            self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.console.print(self.format(record), markup=False, highlight=False, soft_wrap=True)


class Stages:
    """Wall seconds of a build's stages in the order they ran (meta.build_stages, last_build.json, the
    event=build_stages line): where a slow build spent its time, without a profiler."""

    def __init__(self, started: float):
        self.seconds: dict[str, float] = {}
        self._since = started

    def mark(self, stage: str) -> None:
        """`stage` ended now: the time since the previous mark (or the build's start) is its."""
        now = time.monotonic()
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + now - self._since, 3)
        self._since = now

    def line(self) -> str:
        return " ".join(f"{k}={v:.2f}" for k, v in self.seconds.items())
