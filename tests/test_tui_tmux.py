"""End to end in a real terminal: nova-tui under tmux, driven by keystrokes, read from the screen."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed on this machine")]


class Tmux:
    def __init__(self, command: str, width: int = 80, height: int = 24):
        self.name = f"nova-{uuid.uuid4().hex[:8]}"
        # A server of its own (-L): never another test's or a user's, nor one that is still shutting down
        # (a new-session against a dying server fails with exit 1). The pane is a pty of tmux's, so
        # capturing the client's output leaves Textual's terminal alone.
        self.tmux = ["tmux", "-L", self.name]
        out = subprocess.run([*self.tmux, "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                              f"{command}; echo EXITED $?; sleep 30"], capture_output=True, text=True)
        assert out.returncode == 0, f"tmux new-session exited {out.returncode}: {out.stderr.strip()}"

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run([*self.tmux, "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.3)

    def wait_for(self, text: str, seconds: float = 15) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not on screen:\n{self.screen()}")

    def kill(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def test_operator_session_over_a_terminal(tui_site_copy, tmp_path):
    tmux_site = tui_site_copy
    command = f"cd {tmux_site} && XDG_STATE_HOME={tmp_path / 'state'} {sys.executable} -m nova_tui --config config.toml"
    term = Tmux(command)
    try:
        overview = term.wait_for("stockouts")
        assert "v2 · as of 2025-10-25" in overview and "? help" in overview and "q quit" in overview
        assert "STALE DATA · as of 2025-10-25" in overview  # the real clock: that data is over a year old
        term.keys("2")
        reorder = term.wait_for("STOCKOUT")
        assert "NEW" in reorder and "010090" in reorder
        term.keys("/", "p", "a", "l", "l", "n", "u", "t", "Enter")
        filtered = term.wait_for("of 60 items")
        assert "010089" in filtered and "010090" in filtered and "012044" not in filtered  # the PALLNUTs only
        term.keys("Enter")
        term.wait_for("How the numbers are made")
        term.keys("Escape", "e")
        term.wait_for("rows written to")
        assert list((tmux_site / "exports").glob("reorder_v2_*.csv"))
        term.keys("4")
        term.wait_for("suprimentos_corrompido.csv")
        term.keys("2", "q")
        final = term.wait_for("EXITED")
        assert "EXITED 0" in final and "Traceback" not in final
    finally:
        term.kill()
    # the next run opens where the operator left: the reorder list, still filtered
    term = Tmux(command)
    try:
        again = term.wait_for("of 60 items")
        assert "Reorder" in again and "010089" in again and "012044" not in again
        term.keys("q")
        assert "EXITED 0" in term.wait_for("EXITED")
    finally:
        term.kill()


def test_missing_warehouse_in_a_terminal(tmp_path):
    (tmp_path / "config.toml").write_text('[paths]\nwarehouse = "nowhere"\n')
    term = Tmux(f"cd {tmp_path} && {sys.executable} -m nova_tui")
    try:
        screen = term.wait_for("No warehouse yet")
        assert "nova-pipeline build" in screen
        term.keys("q")
        assert "EXITED 0" in term.wait_for("EXITED")
    finally:
        term.kill()
