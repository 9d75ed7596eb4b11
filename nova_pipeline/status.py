"""`status` and `verify`: what is serving, how it was built, and whether it holds up."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from .build import LAST_BUILD
from .checks import run_checks
from .config import Config
from .db import connect, has_table
from .errors import WarehouseError
from .bronze import sha256_file
from .publish import CURRENT, current_version, recorded_sha256
from .remote import state_lines


def open_warehouse(cfg: Config | None, file: str | None = None) -> tuple[duckdb.DuckDBPyConnection, Path]:
    path = Path(file) if file else cfg.warehouse / CURRENT
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path} — run `nova-pipeline build` (or `nova-pipeline demo`)")
    try:
        return connect(path, read_only=True), path
    except duckdb.Error as exc:
        raise WarehouseError(f"{path}: cannot open: {str(exc).splitlines()[0]}") from None


@dataclass(frozen=True)
class Freshness:
    kind: str
    received: datetime  # newest delivery, a duplicate included (the source answered, nothing new)
    file: str           # newest loaded file
    data_to: date | None
    rows: int
    hours: float
    limit: int | None

    @property
    def stale(self) -> bool:
        return bool(self.limit) and self.hours > self.limit


def freshness(con: duckdb.DuckDBPyConnection, limits: dict, now: datetime) -> list[Freshness]:
    """Per kind with a loaded file: how old its newest delivery is, against `[freshness] <kind>_hours`."""
    rows = con.execute("""
        SELECT kind, max(received_at) FILTER (status IN ('loaded', 'duplicate')),
               arg_max(file_name, received_at) FILTER (status = 'loaded'),
               arg_max(data_to, received_at) FILTER (status = 'loaded'),
               arg_max(rows_loaded, received_at) FILTER (status = 'loaded')
        FROM meta.source_files GROUP BY kind HAVING count(*) FILTER (status = 'loaded') > 0 ORDER BY kind""").fetchall()
    return [Freshness(kind, received, file, data_to, n, (now - received).total_seconds() / 3600,
                      limits.get(f"{kind}_hours")) for kind, received, file, data_to, n in rows]


try:
    from zoneinfo import ZoneInfo
    PLANT_TZ = ZoneInfo("America/Bahia")  # the plant's clock; the dashboard shows the same
except Exception:  # no tz database: UTC, still labelled
    PLANT_TZ = timezone.utc


def plant_time(ts: datetime | str | None) -> str:
    """One rule for every time a person reads (status, the dashboard, reports): the plant's local time,
    labelled with its UTC offset, e.g. `2025-10-25 08:00 -03`. Stored times stay UTC."""
    if ts is None:
        return "—"
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    local = ts.astimezone(PLANT_TZ)
    offset = local.utcoffset().total_seconds() / 3600
    return f"{local:%Y-%m-%d %H:%M} {'+' if offset >= 0 else '-'}{abs(offset):02.0f}"


def plant_today(now: datetime | None = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(PLANT_TZ).date()


def as_of_state(as_of: date | None, warning_days: int, critical_days: int, now: datetime | None = None) -> tuple[str, int | None]:
    """ok, stale or critical: how old the data itself is (today at the plant minus the as-of date).
    A warehouse without company data (public series only) has no as-of date and nothing to age."""
    if as_of is None:
        return "ok", None
    age = (plant_today(now) - as_of).days
    return ("critical" if age > critical_days else "stale" if age > warning_days else "ok"), age


def _tree_bytes(folder: Path, skip: Path | None = None) -> int:
    total = 0
    for root, dirs, files in os.walk(folder):
        if skip is not None and Path(root) == skip.parent:
            dirs[:] = [d for d in dirs if Path(root) / d != skip]
        for f in files:
            try:
                total += (Path(root) / f).lstat().st_size
            except OSError:
                pass
    return total


def disk_usage(cfg: Config) -> dict:
    """Space used by the lake (without quarantine), the quarantine, the warehouse versions, and the
    free space of each filesystem they live on (one line when they share it)."""
    used = {"lake": _tree_bytes(cfg.lake, skip=cfg.quarantine) if cfg.lake.exists() else 0,
            "quarantine": _tree_bytes(cfg.quarantine) if cfg.quarantine.exists() else 0,
            "warehouse": _tree_bytes(cfg.warehouse) if cfg.warehouse.exists() else 0}
    free: dict[str, int] = {}
    seen: set[int] = set()
    for name, folder in (("warehouse", cfg.warehouse), ("lake", cfg.lake)):
        try:
            dev = folder.stat().st_dev
        except OSError:
            continue
        if dev not in seen:
            seen.add(dev)
            free[name] = shutil.disk_usage(folder).free
    return {"used": used, "free": free}


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n < 10 * 2**30 else f"{n / 2**30:,.1f} GB"


def _age(ts: datetime | None) -> str:
    if ts is None:
        return "never"
    secs = (datetime.now(timezone.utc) - ts).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if secs >= size:
            return f"{secs / size:.0f} {unit} ago"
    return f"{secs:.0f} s ago"


def status_text(cfg: Config) -> str:
    con, path = open_warehouse(cfg)
    try:
        version, built_at, as_of = con.execute("SELECT version, built_at, as_of FROM meta.build").fetchone()
        f = cfg.values["freshness"]
        state, age = as_of_state(as_of, f["as_of_days"], f["as_of_critical_days"])
        data_age = ("no stock snapshot or supplies data yet" if age is None else
                    f"{age} d old" + ("" if state == "ok" else
                                      f" — {'CRITICAL' if state == 'critical' else 'STALE'}: older than "
                                      f"{f['as_of_critical_days'] if state == 'critical' else f['as_of_days']} d "
                                      f"([freshness] {'as_of_critical_days' if state == 'critical' else 'as_of_days'}); "
                                      "the newest stock snapshot is that old"))
        lines = [f"warehouse   {path} -> v{version} (current v{current_version(cfg.warehouse)})",
                 f"as of       {as_of} ({data_age})",
                 f"built       {plant_time(built_at)} ({_age(built_at)})",
                 "            times are plant time (America/Bahia) with their UTC offset"]
        last = cfg.warehouse / LAST_BUILD
        if last.exists():
            info = json.loads(last.read_text())
            extra = f", failed checks: {', '.join(info['failed_checks'])}" if info.get("failed_checks") else ""
            if info.get("error"):
                extra += f": {info['error']}"
            if info.get("retry_at"):
                extra += f" (daemon retries at {plant_time(info['retry_at'])})"
            lines.append(f"last build  {info['outcome']} at {plant_time(info['at'])} ({info.get('seconds', '?')} s){extra}")
            if info.get("stages"):
                lines.append("  stages    " + ", ".join(f"{k} {v:.2f} s" for k, v in info["stages"].items()))
        passed, total = con.execute("SELECT count(*) FILTER (WHERE passed), count(*) FROM meta.checks").fetchone()
        lines.append(f"checks      {passed}/{total} passed")
        for name, severity, detail in con.execute(
                "SELECT name, severity, detail FROM meta.checks WHERE NOT passed ORDER BY severity, name").fetchall():
            lines.append(f"  {severity:<5} {name}: {detail}")
        counts = dict(con.execute("SELECT status, count(*) FROM gold.reorder_status GROUP BY status").fetchall())
        lines.append(f"reorder     {counts.get('stockout', 0)} stockout, {counts.get('below_reorder', 0)} below reorder, "
                     f"{counts.get('ok', 0)} ok")
        lines += state_lines(cfg)
        disk = disk_usage(cfg)
        d = cfg.values["disk"]
        free = ", ".join(f"{_mb(n)} free where the {k} is" + (" — LOW" if n < d["warn_free_mb"] * 2**20 else "")
                         for k, n in disk["free"].items())
        lines.append(f"disk        lake {_mb(disk['used']['lake'])}, versions {_mb(disk['used']['warehouse'])}, "
                     f"quarantine {_mb(disk['used']['quarantine'])}; {free} ([disk] warn below {d['warn_free_mb']:,} MB)")
        lines += ["", "sources (newest delivery per kind, against its [freshness] limit; latest loaded file)"]
        for f in freshness(con, cfg.values["freshness"], datetime.now(timezone.utc)):
            state = "STALE" if f.stale else "ok"
            limit = f"{f.limit} h" if f.limit else "no limit"
            lines.append(f"  {f.kind:<16} {state:<5} received {plant_time(f.received)} ({_age(f.received)}, "
                         f"limit {limit})  {f.file}  data through {f.data_to}  rows {f.rows}")
        waiting = con.execute("SELECT path, reason FROM meta.waiting_files ORDER BY path").fetchall() \
            if has_table(con, "meta", "waiting_files") else []
        if waiting:
            lines += ["", f"waiting files ({len(waiting)}): seen but not readable yet"] + [f"  {p}: {r}" for p, r in waiting]
        rejected = con.execute("SELECT path, reason FROM meta.source_files WHERE status = 'rejected' ORDER BY received_at").fetchall()
        lines += ["", f"rejected files ({len(rejected)})"] + [f"  {p}: {r}" for p, r in rejected]
        n_rows = con.execute("SELECT count(*) FROM meta.rejected_rows").fetchone()[0]
        lines.append(f"rejected rows {n_rows} (table meta.rejected_rows)")
        return "\n".join(lines)
    finally:
        con.close()


def verify(cfg: Config | None, file: str | None) -> tuple[bool, list[str]]:
    """Bytes first, then content: the sha256 recorded at publish when there is one (any changed byte
    fails), else every block of every table is read (DuckDB checks each block's checksum); then the
    checks. `cfg` may be None when a FILE is given (an analyst's copy, no config file)."""
    path = Path(file) if file else cfg.warehouse / CURRENT
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path} — run `nova-pipeline build` (or `nova-pipeline demo`)")
    lines: list[str] = []
    real = path.resolve()
    recorded = recorded_sha256(real) if real.exists() else None
    if recorded:
        actual = sha256_file(real)
        if actual != recorded:
            return False, [f"FAIL error bytes: sha256 {actual[:16]}… differs from {recorded[:16]}… recorded when "
                           f"{real.name} was published: the file was changed or damaged",
                           f"{path}: damaged; pull it again (`nova-pipeline pull`) or roll back to another version"]
        lines.append(f"ok   error bytes: sha256 matches the one recorded at publish ({recorded[:16]}…)")
    con, path = open_warehouse(cfg, file)
    try:
        if not recorded:
            bad = read_every_block(con)
            if bad:
                return False, lines + [f"FAIL error blocks: {b}" for b in bad] + [
                    f"{path}: damaged ({len(bad)} unreadable table(s)); use another copy or version"]
            lines.append("ok   error blocks: every block of every table read back (no sha256 recorded for this file)")
        if not has_table(con, "meta", "build"):
            schemas = [r[0] for r in con.execute("SELECT DISTINCT schema_name FROM duckdb_tables() ORDER BY 1").fetchall()]
            return False, lines + [f"{path}: not a Nova Corrente warehouse: no meta.build table (it holds "
                                   f"{', '.join(schemas) or 'no'} schema(s)); verify files published by "
                                   "`nova-pipeline build` (nova_vNNNNNN.duckdb)"]
        results = run_checks(con)
    finally:
        con.close()
    lines += [f"{'ok  ' if ok else 'FAIL'} {sev:<5} {name}: {detail}" for name, sev, ok, detail in results]
    failed = [r for r in results if r[1] == "error" and not r[2]]
    lines.append(f"{path}: {'verified' if not failed else f'{len(failed)} blocking check(s) failed'}")
    return not failed, lines


def read_every_block(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Read every column of every table (a hash over whole rows, so no column is skipped)."""
    bad = []
    tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary "
                         "ORDER BY ALL").fetchall()
    for schema, table in tables:
        try:
            con.execute(f'SELECT sum(hash(t)) FROM "{schema}"."{table}" AS t').fetchone()
        except duckdb.Error as exc:
            bad.append(f"{schema}.{table}: {str(exc).splitlines()[0][:160]}")
    return bad
