"""`nova-pipeline watch`: decide *when* to build. The build itself is `build`, run as a child process.

- watchdog observers on landing (recursive) and ml_drops feed a set of touched paths; events are
  hints only (inotify overflows silently, network shares send none), so a full rescan runs at start
  and every `[watch] rescan_seconds`, and `[watch] polling = true` uses a polling observer.
- A file is taken once its size and mtime have stayed the same for `[watch] settle_seconds`; files
  still changing are passed to the build as `--hold` and wait for the next one.
- A burst coalesces: a build starts when every pending file has settled (or the settled ones have
  waited another settle period, so one endless writer cannot starve the rest).
- The build runs as a child process, so SIGTERM can stop it at any point: a killed build never
  leaves a half-published version (temp file + completeness marker + atomic swap), and the next
  build picks up whatever it had not finished.
"""
from __future__ import annotations

import errno
import logging
import multiprocessing
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .build import record_retry
from .errors import BuildLocked
from .config import Config
from .ingest import discover, is_ignored
from .notify import Notifier
from .publish import BuildLock, current_version

log = logging.getLogger("nova.watch")

FIRST_RETRY_SECONDS = 5.0
LOCK_WAIT_SECONDS = 1.0
STOP_GRACE_SECONDS = 8.0  # systemd's TimeoutStopSec is 10 s


@dataclass
class Pending:
    signature: tuple[int, int, int]  # size, mtime_ns, ctime_ns (a chmod making a file readable changes ctime)
    since: float  # monotonic time the signature was first seen
    settled_at: float | None = None


@dataclass
class WatchState:
    pending: dict[Path, Pending] = field(default_factory=dict)
    handled: dict[Path, tuple[int, int, int]] = field(default_factory=dict)  # signature when built
    builds: int = 0


def signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


class Watcher:
    def __init__(self, cfg: Config, notifier: Notifier | None = None):
        self.cfg = cfg
        self.notifier = notifier or Notifier()
        w = cfg.values["watch"]
        self.settle, self.rescan_every = w["settle_seconds"], w["rescan_seconds"]
        self.polling, self.retry_max = w["polling"], w["retry_max_seconds"]
        self.state = WatchState()
        self.touched: set[Path] = set()
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.child: multiprocessing.Process | None = None
        self.observer = None
        self.retry_at = 0.0
        self.retry_delay = FIRST_RETRY_SECONDS

    # -- events (watchdog's thread) -------------------------------------------------------------
    def touch(self, path: str | bytes) -> None:
        p = Path(path.decode() if isinstance(path, bytes) else path)
        if is_ignored(p.name):
            return
        with self.lock:
            self.touched.add(p)
        self.wake.set()

    def start_observer(self) -> None:
        """Start (or restart) the observers; failures are said in plain words and rescans carry on."""
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if not event.is_directory:
                    watcher.touch(getattr(event, "dest_path", "") or event.src_path)
                    if getattr(event, "dest_path", ""):
                        watcher.touch(event.src_path)

        observer = PollingObserver(timeout=max(1.0, self.settle)) if self.polling else Observer()
        try:
            for root, recursive in ((self.cfg.landing, True), (self.cfg.ml_drops, False)):
                if not root.is_dir():
                    raise FileNotFoundError(errno.ENOENT, "folder not found (an unmounted share?)", str(root))
                observer.schedule(Handler(), str(root), recursive=recursive)
            observer.start()
        except OSError as exc:
            reason = {errno.ENOSPC: "inotify watch limit reached (raise fs.inotify.max_user_watches)",
                      errno.EMFILE: "too many inotify instances (raise fs.inotify.max_user_instances)"}.get(
                exc.errno, f"{exc.strerror or exc}: {exc.filename or ''}".strip())
            log.warning("event=watch_unavailable reason=%r fallback='rescan every %ss' action='will retry'",
                        reason, self.rescan_every)
            try:
                observer.stop()
            except Exception:
                pass
            return
        self.observer = observer
        log.info("event=watching landing=%s ml_drops=%s mode=%s", self.cfg.landing, self.cfg.ml_drops,
                 "polling" if self.polling else "inotify")

    # -- the loop (main thread) -----------------------------------------------------------------
    def rescan(self) -> None:
        for candidate in discover(self.cfg):
            with self.lock:
                self.touched.add(candidate.path)

    def observe(self, now: float) -> None:
        """Move touched paths into `pending` and update how long each has been unchanged."""
        with self.lock:
            touched, self.touched = self.touched, set()
        roots = (self.cfg.landing, self.cfg.ml_drops)
        for path in touched:
            if not any(path.is_relative_to(r) for r in roots):
                continue
            sig = signature(path)
            if sig is None or self.state.handled.get(path) == sig:
                self.state.pending.pop(path, None)
                continue
            if path not in self.state.pending:
                self.state.pending[path] = Pending(sig, now)
        for path, p in list(self.state.pending.items()):
            sig = signature(path)
            if sig is None:  # moved away or deleted before it settled
                del self.state.pending[path]
            elif sig != p.signature:
                p.signature, p.since, p.settled_at = sig, now, None
            elif p.settled_at is None and now - p.since >= self.settle:
                p.settled_at = now

    def ready(self, now: float) -> list[Path]:
        settled = [p for p, v in self.state.pending.items() if v.settled_at is not None]
        if not settled or now < self.retry_at:
            return []
        everyone = len(settled) == len(self.state.pending)
        waited = min(self.state.pending[p].settled_at for p in settled) <= now - self.settle
        return settled if everyone or waited else []

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.start_observer()
        self.rescan()
        next_rescan = time.monotonic() + self.rescan_every
        first_round = True
        while not self.stopping.is_set():
            now = time.monotonic()
            if now >= next_rescan:
                if self.observer is None or not self.observer.is_alive():
                    self.start_observer()
                self.rescan()
                next_rescan = now + self.rescan_every
            self.observe(now)
            batch = self.ready(now)
            if batch:
                self.build(batch)
                continue
            if first_round and not self.state.pending:
                first_round = False
                self.notifier.ready(self.idle_status())
                log.info("event=ready status=%r", self.idle_status())
            elif first_round and all(v.settled_at is None for v in self.state.pending.values()):
                self.notifier.status(f"waiting for {len(self.state.pending)} file(s) to settle")
            self.notifier.watchdog()
            self.wake.wait(0.2 if self.state.pending else min(1.0, max(0.05, next_rescan - now)))
            self.wake.clear()
        self.notifier.stopping()
        if self.observer is not None:
            self.observer.stop()
        log.info("event=stopped builds=%d", self.state.builds)
        return 0

    def idle_status(self) -> str:
        version = current_version(self.cfg.warehouse)
        return f"idle, serving v{version}" if version else "idle, nothing published yet"

    def build(self, batch: list[Path]) -> None:
        hold = [p for p in self.state.pending if p not in batch]
        signatures = {p: self.state.pending[p].signature for p in batch}
        self.notifier.status(f"building {len(batch)} drop(s)")
        log.info("event=build_start drops=%d held=%d", len(batch), len(hold))
        started = time.monotonic()
        # The build runs in a child process (SIGTERM can stop it anywhere, safely) and calls the same
        # library function as `nova-pipeline build`; its outcome comes back through a pipe.
        ctx = multiprocessing.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        self.child = ctx.Process(target=build_child, args=(str(self.cfg.source) if self.cfg.source else None,
                                                          [str(p) for p in hold], send), daemon=True)
        self.child.start()
        send.close()
        while self.child.is_alive():
            if self.stopping.wait(0.2):
                self._stop_child()
                return
            self.notifier.watchdog()
        self.child.join()
        try:
            out = receive.recv() if receive.poll() else None
        except (EOFError, OSError):
            out = None
        receive.close()
        code = out["exit_code"] if out else (self.child.exitcode or 1)
        self.child = None
        self.state.builds += 1
        seconds = time.monotonic() - started
        if code == BuildLocked.exit_code:  # e.g. a build child that outlived a killed daemon
            holder = BuildLock(self.cfg.warehouse).holder()
            log.warning("event=build_waiting reason=%r", f"another build (pid {holder or '?'}) holds the lock, "
                        "probably started before this daemon; waiting for it to end")
            self.notifier.status(f"waiting for build pid {holder or '?'} to end")
            self.retry_at = time.monotonic() + LOCK_WAIT_SECONDS
            return
        if code in (0, 2):  # published / nothing new, or blocked by a check: these inputs are done
            for path, sig in signatures.items():
                self.state.handled[path] = sig
                if self.state.pending.get(path) and self.state.pending[path].signature == sig:
                    del self.state.pending[path]
            self.retry_delay = FIRST_RETRY_SECONDS
            log.info("event=build_done exit=%d outcome=%s version=%s seconds=%.2f", code, out["outcome"] if out else "?",
                     current_version(self.cfg.warehouse), seconds)
            self.notifier.status(self.idle_status())
        else:
            self.retry_at = time.monotonic() + self.retry_delay
            record_retry(self.cfg.warehouse, code, self.retry_delay)
            why = out["message"] if out else f"the build process ended with code {code}"
            log.warning("event=build_failed exit=%d retry_in=%.0fs error=%r", code, self.retry_delay, why)
            self.notifier.status(f"last build failed (exit {code}); retrying in {self.retry_delay:.0f} s")
            self.retry_delay = min(self.retry_delay * 2, self.retry_max)

    def _stop_child(self) -> None:
        child = self.child
        if child is None:
            return
        log.info("event=build_abandoned reason='stop requested' pid=%d", child.pid)
        child.terminate()
        child.join(STOP_GRACE_SECONDS)
        if child.is_alive():
            child.kill()
            child.join()
        self.child = None

    def _on_signal(self, signum, _frame) -> None:
        log.info("event=stop_requested signal=%s", signal.Signals(signum).name)
        self.stopping.set()
        self.wake.set()


def build_child(config: str | None, hold: list[str], send) -> None:
    """The daemon's build process: the library's run_build, its outcome sent back through the pipe."""
    from .cli import setup_logging
    from .config import load_config
    from .run import Outcome, run_build

    setup_logging()
    try:
        cfg = load_config(config)
        setup_logging(cfg.get("log", "level"))
        out = run_build(cfg, hold=frozenset(Path(p).resolve() for p in hold))
    except Exception as exc:  # a config made unreadable since the daemon started, say
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        out = Outcome("failed", 1, first)
    send.send(out.as_dict())
    send.close()
