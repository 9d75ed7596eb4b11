"""One build as the plant runs it: build -> publish -> push -> record, in one library call.

`nova-pipeline build` and the `watch` daemon's build child both call `run_build`; the CLI prints
the outcome, the daemon receives it through a pipe. Nothing here raises for an expected failure:
the outcome says what happened and the exit code that goes with it.
"""
from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import Config
from .errors import NovaError
from .progress import Progress, silent

log = logging.getLogger("nova.run")


@dataclass
class Outcome:
    outcome: str                 # published | nothing_new | blocked | failed | locked
    exit_code: int               # 0 published or nothing new, 2 blocked, 1 failed, 75 another build holds the lock
    message: str                 # one line for people
    version: int | None = None
    new_drops: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    push: str | None = None      # what the remote store push did, when one is configured
    push_error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def run_build(cfg: Config, progress: Progress = silent, hold: frozenset[Path] = frozenset(), full: bool = False,
              push_progress: Progress | None = None) -> Outcome:
    """Land, build, publish and push; record the outcome (last_build.json, for `status` and monitoring)."""
    from .build import build
    from .errors import BuildLocked, ChecksFailed

    try:
        result = build(cfg, progress, hold, full)
        out = Outcome(result.outcome, 0, result.message, result.version, result.new_drops, result.seconds)
    except BuildLocked as exc:
        return Outcome("locked", exc.exit_code, str(exc))
    except ChecksFailed as exc:
        return Outcome("blocked", exc.exit_code, str(exc))
    except NovaError as exc:
        return Outcome("failed", exc.exit_code, str(exc))
    except Exception as exc:  # recorded by build(); one line here too
        if os.environ.get("NOVA_DEBUG"):
            raise
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        return Outcome("failed", 1, f"unexpected error: {first} (set NOVA_DEBUG=1 to see the traceback)")
    _push(cfg, out, push_progress or silent)
    return out


def _push(cfg: Config, out: Outcome, progress: Progress) -> None:
    """The store being down never fails a build: the outcome says so, and the next build or `push` catches up."""
    from .remote import RemoteError, configured, push

    if not configured(cfg):
        return
    try:
        out.push = push(cfg, progress).message
    except RemoteError as exc:
        log.warning("event=remote_push_failed why=%r", str(exc))
        out.push_error = f"{exc}; what was not sent goes with the next build or `nova-pipeline push`"
