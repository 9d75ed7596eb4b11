"""Plant operations: `rollback vN` and `status --check` (the Nagios plugin convention)."""
from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone

from . import publish
from .bronze import sha256_file
from .build import LAST_BUILD, validate_file
from .config import Config
from .db import connect, has_table
from .errors import NovaError, WarehouseError
from .status import as_of_state, disk_usage, freshness, open_warehouse, plant_time

OK, WARNING, CRITICAL = 0, 1, 2
LABEL = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL"}


def rollback(cfg: Config, version: int) -> str:
    """Point `current` at an older version, recording in that version's meta.build where it came from.

    The old file is not edited in place (a reader may hold it): a copy gets the note, is checked,
    and replaces it in one rename; readers of the old inode carry on undisturbed.
    """
    with publish.BuildLock(cfg.warehouse):
        target = publish.version_file(cfg.warehouse, version)
        if not target.exists():
            kept = ", ".join(f"v{v}" for v in publish.versions(cfg.warehouse)) or "none"
            raise NovaError(f"v{version} is not in {cfg.warehouse} (versions kept: {kept})")
        serving = publish.current_version(cfg.warehouse)
        if serving == version:
            return f"v{version} is already current; nothing changed"
        temp = publish.temp_file(cfg.warehouse)
        shutil.copyfile(target, temp)
        try:
            con = connect(temp)
            try:
                con.execute("UPDATE meta.build SET rolled_back_from = ?", [serving])
                con.execute("CHECKPOINT")
            finally:
                con.close()
            validate_file(temp)
            with open(temp, "rb") as fh:
                os.fsync(fh.fileno())
            digest = sha256_file(temp)
            os.replace(temp, target)
            publish.write_sha256(target, digest)
        finally:
            temp.unlink(missing_ok=True)
        publish.point_current(cfg.warehouse, version)
    return f"current is now v{version} (rolled back from v{serving}); the next build publishes a new version on top"


def last_build_problems(cfg: Config, now: datetime) -> list[tuple[int, str]]:
    """A blocked or failed last build: CRITICAL, or WARNING while the daemon's retry is still pending."""
    try:
        last = json.loads((cfg.warehouse / LAST_BUILD).read_text())
    except (OSError, ValueError):
        return []
    if last.get("outcome") == "blocked":
        return [(CRITICAL, f"last build blocked by checks ({', '.join(last.get('failed_checks') or [])})")]
    if last.get("outcome") == "failed":
        error = (last.get("error") or "no reason recorded")[:200]
        retry = last.get("retry_at")
        if retry and datetime.fromisoformat(retry) > now:
            return [(WARNING, f"last build failed at {plant_time(last['at'])}, retry at {plant_time(retry)}: {error}")]
        return [(CRITICAL, f"last build failed at {plant_time(last['at'])}: {error}")]
    return []


def check(cfg: Config, now: datetime | None = None) -> tuple[int, str]:
    """One line and an exit code for the plant's monitoring, from freshness, rejects and the last build."""
    now = now or datetime.now(timezone.utc)
    try:
        con, _ = open_warehouse(cfg)
    except WarehouseError as exc:
        return CRITICAL, f"NOVA CRITICAL - {exc}"
    problems: list[tuple[int, str]] = []
    try:
        version, as_of = con.execute("SELECT version, as_of FROM meta.build").fetchone()
        f = cfg.values["freshness"]
        state, age = as_of_state(as_of, f["as_of_days"], f["as_of_critical_days"], now)
        if state != "ok":
            problems.append((CRITICAL if state == "critical" else WARNING,
                             f"data as of {as_of} is {age} d old (> {f['as_of_critical_days' if state == 'critical' else 'as_of_days']} d)"))
        for f in freshness(con, cfg.values["freshness"], now):
            if f.stale:
                problems.append((CRITICAL if f.hours > 2 * f.limit else WARNING, f"{f.kind} stale ({f.hours:.0f} h > {f.limit} h)"))
        rejected = [r[0] for r in con.execute("""
                SELECT path FROM (SELECT path, status, row_number() OVER (PARTITION BY kind ORDER BY received_at DESC) AS n
                                  FROM meta.source_files WHERE status <> 'duplicate') WHERE n = 1 AND status = 'rejected'
                ORDER BY path""").fetchall()]
        if rejected:
            problems.append((WARNING, f"newest drop rejected: {', '.join(rejected)}"))
        waiting = [r[0] for r in con.execute("SELECT path FROM meta.waiting_files ORDER BY path").fetchall()] \
            if has_table(con, "meta", "waiting_files") else []
        if waiting:
            problems.append((WARNING, f"{len(waiting)} file(s) waiting, unreadable: {', '.join(waiting[:3])}"))
    finally:
        con.close()
    problems += last_build_problems(cfg, now)
    d = cfg.values["disk"]
    for where, free in disk_usage(cfg)["free"].items():
        if free < d["warn_free_mb"] * 2**20:
            level = CRITICAL if free < d["critical_free_mb"] * 2**20 else WARNING
            problems.append((level, f"{free / 2**20:,.0f} MB free where the {where} is "
                                    f"(< {d['critical_free_mb' if level == CRITICAL else 'warn_free_mb']:,} MB)"))
    code = max((c for c, _ in problems), default=OK)
    detail = "; ".join(t for _, t in sorted(problems, key=lambda p: -p[0])) or "fresh, no rejects"
    return code, f"NOVA {LABEL[code]} - v{version} as of {as_of}: {detail}"
