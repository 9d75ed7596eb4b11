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
        # no stderr redirect: Textual draws on stderr's terminal
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                        f"{command}; echo EXITED $?; sleep 30"], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)
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
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def test_operator_session_over_a_terminal(tui_site_copy):
    tmux_site = tui_site_copy
    term = Tmux(f"cd {tmux_site} && {sys.executable} -m nova_tui --config config.toml")
    try:
        overview = term.wait_for("stockouts")
        assert "v2 · as of 2025-10-25" in overview and "? help" in overview and "q quit" in overview
        term.keys("2")
        reorder = term.wait_for("STOCKOUT")
        assert "NEW" in reorder and "010090" in reorder
        term.keys("/", "p", "a", "l", "l", "n", "u", "t", "Enter")
        filtered = term.wait_for("of 60 items")
        assert "PALLNUT" in filtered and "CABO DE" not in filtered
        term.keys("Enter")
        term.wait_for("How the numbers are made")
        term.keys("Escape", "e")
        term.wait_for("rows written to")
        assert list((tmux_site / "exports").glob("reorder_v2_*.csv"))
        term.keys("4")
        term.wait_for("suprimentos_corrompido.csv")
        term.keys("q")
        final = term.wait_for("EXITED")
        assert "EXITED 0" in final and "Traceback" not in final
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
