"""Finding drops and landing each one: bronze + rejected rows + ledger entry, or quarantine."""
from __future__ import annotations

import errno
import fnmatch
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from .bronze import Drop, Lake
from .config import Config
from .db import drop_temp
from .errors import DropRejected
from .sources.erp_csv import drop_staging
from .sources.registry import BY_KIND, SOURCES
from .progress import Progress
from .sources.text import excerpt, hash_and_inspect
from .sources.text import forget as forget_inspections

log = logging.getLogger("nova.ingest")

IGNORED = ("*.tmp", "*.part", ".*", "~$*", "*.swp", "*.crdownload")


@dataclass(frozen=True)
class Candidate:
    path: Path
    rel: str
    kind: str
    refused: str | None = None  # why the file is not read at all (a link out of the landing folders)


def is_ignored(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pat) for pat in IGNORED)


def kind_of(path: Path, root_name: str) -> str | None:
    name = path.name.lower()
    return next((s.kind for s in SOURCES if s.folder == root_name and fnmatch.fnmatch(name, s.pattern)), None)


def discover(cfg: Config, hold: frozenset[Path] = frozenset()) -> list[Candidate]:
    """Every drop-shaped file in landing (with subfolders) and ml_drops, oldest first.
    Files in `hold` (still being written, says `watch`) are left for a later build.

    Symbolic links are never followed out of the watched folders: a link whose target lies outside
    landing/ and ml_drops/ is returned with `refused` set and is never opened; linked folders are
    not descended into."""
    found = []
    roots = [(name, root, root.resolve()) for name, root in (("landing", cfg.landing), ("ml_drops", cfg.ml_drops))
             if root.is_dir()]
    inside = [real for _, _, real in roots]
    for root_name, root, _ in roots:
        for folder, dirs, files in os.walk(root, followlinks=False):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if not is_ignored(d))
            for link in (d for d in dirs if (here / d).is_symlink()):
                log.warning("event=link_not_followed folder=%s", here / link)
            for name in files:
                path = here / name
                if is_ignored(name) or path in hold:
                    continue
                kind = kind_of(path, root_name)
                if not kind:
                    continue
                rel = f"{root_name}/{path.relative_to(root).as_posix()}"
                refused = None
                if path.is_symlink():
                    target = Path(os.path.realpath(path))
                    if not any(target.is_relative_to(r) for r in inside):
                        refused = (f"symbolic link to {excerpt(str(target))}, outside the landing folders: "
                                   "refused and never read; copy the file itself into landing/")
                    elif not target.is_file():
                        continue
                elif not path.is_file():
                    continue
                found.append(Candidate(path, rel, kind, refused))
    return sorted(found, key=lambda c: (_mtime(c.path), c.rel))


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


# Errors that are the machine's, not the drop's: the build fails (and is retried), the drop is not blamed.
MACHINE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ENOMEM, errno.EFBIG}


def _staging_failure(exc: Exception) -> DropRejected:
    """Any other error while reading one drop becomes that drop's reason; the build goes on."""
    if isinstance(exc, OSError) and exc.errno in MACHINE_ERRNOS:
        raise exc
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    # DuckDB's I/O errors (its spill files, a file vanishing mid-read) and memory are the machine's too
    if isinstance(exc, (duckdb.OutOfMemoryException, duckdb.IOException)) or "No space left" in first \
            or "File too large" in first:
        raise exc
    return DropRejected(f"could not be read: {excerpt(first, 200)}")


def ingest(con: duckdb.DuckDBPyConnection, lake: Lake, drop: Drop, max_quantity: float | None = None) -> dict:
    """Land one new drop. Returns its ledger fields; never raises for bad content."""
    now = datetime.now(timezone.utc)
    target = lake.bronze_target(drop, now)
    try:
        try:
            ok, rejected = BY_KIND[drop.kind].stage(con, drop.path, lake.tmp, max_quantity, target)
        except DropRejected:
            raise
        except (duckdb.Error, OSError, UnicodeError, ValueError, RuntimeError) as exc:
            raise _staging_failure(exc) from None
        data_date = BY_KIND[drop.kind].data_date
        # a view's own summary relation, where the reader made one (the ERP reader: counts without numbering)
        counted = ok if not con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ?",
                                        [f"{ok}_summary"]).fetchone()[0] else f"{ok}_summary"
        n_ok, d_from, d_to = con.execute(
            f"SELECT count(*), min({data_date}), max({data_date}) FROM {counted}").fetchone()
        n_rej = con.execute(f"SELECT count(*) FROM {rejected}").fetchone()[0]
        lake.write_rejects(con, rejected, drop)
        if n_ok == 0:
            first = con.execute(f"SELECT reason FROM {rejected} ORDER BY line_number LIMIT 1").fetchone()[0]
            raise DropRejected(f"no row could be read ({n_rej} rejected; first: {first})", rows_rejected=n_rej)
        # a reader that wrote the bronze file while checking the rows leaves it under target.tmp
        bronze = lake.commit_bronze(target) if target.tmp.exists() else lake.write_bronze(con, ok, drop, now)
        fields = dict(status="loaded", rows_read=n_ok + n_rej, rows_loaded=n_ok, rows_rejected=n_rej,
                      reason=f"{n_rej} row(s) rejected" if n_rej else None, received_at=now,
                      data_from=d_from, data_to=d_to, bronze_path=lake.relative(bronze))
        log.info("event=drop_loaded file=%s kind=%s rows=%d rejected=%d", drop.rel, drop.kind, n_ok, n_rej)
    except DropRejected as exc:
        reason, n_rej = exc.reason, exc.rows_rejected
        where = lake.quarantine_file(drop, reason, now)
        fields = dict(status="rejected", rows_read=n_rej, rows_rejected=n_rej, reason=reason, received_at=now)
        log.warning("event=drop_rejected file=%s kind=%s reason=%r quarantine=%s", drop.rel, drop.kind, reason, where)
    finally:
        drop_temp(con, f"{drop.kind}_ok_summary", f"{drop.kind}_ok", f"{drop.kind}_rejected")
        drop_staging(con, lake.tmp)
        target.discard()
    lake.record(con, drop, **fields)
    return fields


def land_new_drops(con, cfg: Config, lake: Lake, progress: Progress,
                   hold: frozenset[Path] = frozenset()) -> tuple[list[dict], list[dict]]:
    """Land every drop not in the ledger yet. Returns (what was done, files waiting: unreadable now)."""
    known_keys, known_shas = lake.known(con)
    cache = lake.load_hash_cache()
    candidates = discover(cfg, hold)
    todo: list[tuple[Drop, str | None]] = []
    waiting: list[dict] = []
    for c in candidates:
        if c.refused:  # never opened: the identity is the link's target, not its content
            sha = hashlib.sha256(f"link:{os.readlink(c.path) if c.path.is_symlink() else c.path}".encode()).hexdigest()
            drop = Drop(c.path, c.rel, c.kind, sha, 0)
            if drop.key not in known_keys:
                todo.append((drop, c.refused))
            continue
        try:  # an export is inspected (encoding, line ends) in the read that hashes it
            sha, size = lake.hash_of(c.path, cache, c.rel,
                                     hash_and_inspect if c.path.suffix.lower() == ".csv" else None)
        except FileNotFoundError:  # vanished between listing and reading
            continue
        except OSError as exc:  # unreadable (permissions, I/O): visible as waiting until it can be read
            reason = f"cannot be read ({exc.strerror or exc}); it is taken as soon as it can be read"
            if isinstance(exc, PermissionError):
                reason = (f"cannot be read by the service user ({exc.strerror}); give it read permission "
                          "(e.g. chmod g+r) and it is taken at the next build")
            waiting.append({"path": c.rel, "kind": c.kind, "reason": reason})
            log.warning("event=drop_waiting file=%s reason=%r", c.rel, reason)
            continue
        drop = Drop(c.path, c.rel, c.kind, sha, size)
        if drop.key not in known_keys:
            todo.append((drop, None))
    lake.save_hash_cache(cache)
    done = []
    seen = dict.fromkeys(known_shas)
    max_quantity = cfg.get("ingest", "max_quantity")
    for i, (drop, refused) in enumerate(todo):
        progress("land", i, len(todo))
        now = datetime.now(timezone.utc)
        if refused:
            lake.quarantine_file(drop, refused, now, copy=False)
            fields = dict(status="rejected", reason=refused, received_at=now)
            lake.record(con, drop, **fields)
            log.warning("event=drop_rejected file=%s kind=%s reason=%r", drop.rel, drop.kind, refused)
        elif drop.sha256 in seen:
            fields = dict(status="duplicate", reason="same bytes as a drop already processed", received_at=now)
            lake.record(con, drop, **fields)
            log.info("event=drop_duplicate file=%s sha256=%s", drop.rel, drop.sha256[:12])
        else:
            fields = ingest(con, lake, drop, max_quantity)
        seen[drop.sha256] = None
        done.append({"file": drop.rel, "kind": drop.kind, **{k: fields.get(k) for k in ("status", "reason", "rows_loaded", "rows_rejected")}})
    progress("land", len(todo), len(todo))
    forget_inspections()
    return done, waiting
