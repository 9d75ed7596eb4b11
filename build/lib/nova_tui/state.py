"""What the dashboard remembers between runs: the last screen, the reorder list's filter and sort, the
theme. A small JSON file under the user's state directory ($XDG_STATE_HOME/nova/tui.json, else
~/.local/state/nova/tui.json); one per user, so operators sharing a server keep their own.

A broken or unreadable file is ignored with a notice (and replaced at the next save); the dashboard
never fails to start because of it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

VERSION = 1


def default_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "nova" / "tui.json"


def load(path: Path | None) -> tuple[dict, str | None]:
    """(state, notice): the notice says why a file that exists was ignored."""
    if path is None or not path.exists():
        return {}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {}, f"ignored {path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}, f"ignored {path}: not a state file of this dashboard (version {VERSION})"
    return {k: v for k, v in data.items() if k != "version"}, None


def save(path: Path | None, state: dict) -> str | None:
    """Write atomically; returns an error message instead of raising (a read-only home is not fatal)."""
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": VERSION, **state}, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        return f"cannot save the dashboard's state to {path}: {exc.strerror or exc}"
    return None
