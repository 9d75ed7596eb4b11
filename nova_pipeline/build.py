"""One build: land new drops, rebuild silver and gold into a fresh file, check, publish."""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import NormalDist

import duckdb

from . import carry, facts, meta, publish
from .bronze import Lake, atomic_write
from .checks import blocking_failures, held_checks, run_checks
from .config import Config
from .db import connect, insert_rows, run_script, size_bytes, sql_path
from .errors import BuildLocked, ChecksFailed, WarehouseError
from .ingest import land_new_drops
from .progress import Progress, Stages, silent
from .changed import touched_items
from .replay import carry_replay, prepare_cum, record_cum, replay_inputs, run_replay
from .silver import MergeResult, SilverStore
from .silver_sql import create_empty_views
from .silver_tables import SUMMARIES

log = logging.getLogger("nova.build")
LAST_BUILD = "last_build.json"
BLOCK_POOL = 256 << 20  # bytes of DuckDB's block allocator pool, at most half the memory limit


@dataclass
class BuildResult:
    outcome: str  # published | nothing_new | blocked | failed
    version: int | None = None
    new_drops: list[dict] = field(default_factory=list)
    checks: list[tuple] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # outcome failed: the error's first line
    stages: dict[str, float] = field(default_factory=dict)  # Stages.seconds of a build that got that far

    @property
    def message(self) -> str:
        if self.outcome == "published":
            return f"published v{self.version} ({len(self.new_drops)} new drop(s)) in {self.seconds:.2f} s"
        if self.outcome == "nothing_new":
            return f"nothing new: v{self.version} keeps serving" if self.version else "nothing new: no drops found"
        failed = ", ".join(c[0] for c in blocking_failures(self.checks))
        return f"blocked by failed checks ({failed}); v{self.version} keeps serving" if self.version else \
            f"blocked by failed checks ({failed}); nothing is published yet"


def build(cfg: Config, progress: Progress = silent, hold: frozenset[Path] = frozenset(), full: bool = False) -> BuildResult:
    """One build under the lock. A failure is recorded (last_build.json: outcome failed, the error's
    first line) for `status` and monitoring, then raised; an OSError that names no file is given the
    folder it happened in."""
    started = time.monotonic()
    where = Where(cfg.lake)
    try:
        return _build(cfg, progress, hold, started, where, full)
    except (ChecksFailed, BuildLocked):
        raise
    except Exception as exc:
        if isinstance(exc, OSError) and not exc.filename:
            exc = WarehouseError(f"{exc.strerror or exc} [Errno {exc.errno}] while writing in {where.path}")
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        try:
            _write_last_build(cfg.warehouse, BuildResult("failed", publish.current_version(cfg.warehouse),
                                                         error=first), started)
        except OSError:
            pass  # the disk that failed the build may refuse this too; the daemon records it then
        raise exc


@dataclass
class Where:
    """The folder a build is writing in, to name it in errors that name none (ENOSPC on write)."""
    path: Path


def _build(cfg: Config, progress: Progress, hold: frozenset[Path], started: float, where: Where,
           full: bool = False) -> BuildResult:
    lake = Lake(cfg.lake)
    with publish.BuildLock(cfg.warehouse):
        publish.remove_orphans(cfg.warehouse)
        served = publish.recover_unserved(cfg.warehouse, validate_file)
        if served:
            log.warning("event=unserved_version_recovered version=%d why='a build was stopped between publishing "
                        "it and swapping current; it is complete and now serves'", served)
        lake.prepare()
        SilverStore(lake.root).clean()
        temp = publish.temp_file(cfg.warehouse)
        con = _connect(cfg, lake)  # in memory: landing, and whether anything is new
        stages = Stages(started)
        try:
            new, waiting = land_new_drops(con, cfg, lake, progress, hold)
            previous = publish.current_version(cfg.warehouse)
            prev_keys, prev_waiting = attach_previous(con, cfg.warehouse, previous)
            pending = lake.known(con)[0] - prev_keys
            now_waiting = {(w["path"], w["reason"]) for w in waiting}
            con.close()
            if not pending and now_waiting == prev_waiting and not full:
                result = BuildResult("nothing_new", previous, new, seconds=time.monotonic() - started)
                _write_last_build(cfg.warehouse, result, started)
                return result
            version = publish.next_version(cfg.warehouse)
            where.path = temp
            stages.mark("land")
            # the serving version's copy, when its requisition lines can be carried over (facts.py)
            copied = None if full else facts.copy_previous(cfg.warehouse, previous, temp)
            con = _connect(cfg, lake, temp)
            if copied:
                facts.clear_copy(con, keep=carry.gold_tables())
            attach_previous(con, cfg.warehouse, previous)
            stages.mark("copy")
            checks = assemble(con, cfg, lake, version, previous, len(pending), progress, waiting, full, copied, stages=stages)
            con.execute("CHECKPOINT")
            con.close()
            stages.mark("write")
            result = BuildResult("published", version, new, checks, stages=stages.seconds)
            if blocking_failures(checks):
                _discard(temp)
                result.outcome, result.version = "blocked", previous
                _write_last_build(cfg.warehouse, result, started)
                raise ChecksFailed(result.message)
            progress("publish", 0, 1)
            where.path = cfg.warehouse
            validate_file(temp)
            publish.finalize(temp, cfg.warehouse, version)
            publish.apply_retention(cfg.warehouse, cfg.get("publish", "retention"))
            progress("publish", 1, 1)
            stages.mark("publish")
            result.seconds = time.monotonic() - started
            _write_last_build(cfg.warehouse, result, started)
            log.info("event=published version=%d new_drops=%d seconds=%.2f", version, len(new), result.seconds)
            log.info("event=build_stages version=%d %s", version, stages.line())
            return result
        finally:
            try:
                con.close()
            except duckdb.Error:
                pass
            _discard(temp)


def _connect(cfg: Config, lake: Lake, path: Path | str = ":memory:"):
    """A build's connection with [build]'s limits, spilling to the lake's temp folder."""
    con = connect(path)
    b = cfg.values["build"]
    con.execute(f"SET temp_directory = '{sql_path(lake.tmp)}'")
    con.execute(f"SET memory_limit = '{b['memory_limit']}'")
    if b["threads"]:
        con.execute(f"SET threads = {int(b['threads'])}")
    con.execute("SET preserve_insertion_order = false")  # lets big writes stream; order is always explicit
    # Blocks from a pool kept for the build (a child process: it ends with it) rather than mapped and
    # unmapped again and again: at 10M lines 1.3 s less system time, 0.5 s faster, RSS +40 MB.
    limit = size_bytes(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
    con.execute(f"SET block_allocator_memory = '{min(BLOCK_POOL, limit // 2)}B'")
    return con


def _discard(temp: Path) -> None:
    for p in (temp, temp.with_name(temp.name + ".wal")):
        p.unlink(missing_ok=True)


def attach_previous(con, warehouse: Path, previous: int | None) -> tuple[set[str], set[tuple[str, str]]]:
    """Attach the serving version read-only (statuses, history); return the drop keys it contains
    and the files it listed as waiting (path, reason)."""
    if previous is None:
        return set(), set()
    try:
        con.execute(f"ATTACH '{sql_path(publish.version_file(warehouse, previous))}' AS prev (READ_ONLY)")
        keys = {r[0] for r in con.execute("SELECT drop_key FROM prev.meta.source_files").fetchall()}
    except duckdb.Error as exc:
        log.warning("event=previous_unreadable version=%s error=%r", previous, str(exc).splitlines()[0])
        con.execute("DETACH DATABASE IF EXISTS prev")
        return set(), set()
    try:
        waiting = {(p, r) for p, r in con.execute("SELECT path, reason FROM prev.meta.waiting_files").fetchall()}
    except duckdb.Error:  # a version from before waiting files were recorded
        waiting = set()
    return keys, waiting


def assemble(con, cfg: Config, lake: Lake, version: int, previous: int | None, n_new: int, progress: Progress,
             waiting: list[dict] = (), full: bool = False, copied: facts.Previous | None = None, *,
             stages: Stages):
    """Rebuild silver, gold and meta inside the temp file; return the check results. `stages` (kept in
    meta.build_stages) is marked as silver, gold, the replay and the checks end."""
    steps = 5
    progress("build", 0, steps)
    con.execute("CREATE SCHEMA meta")
    con.execute("CREATE TABLE meta.waiting_files (path VARCHAR, kind VARCHAR, reason VARCHAR, seen_at TIMESTAMPTZ)")
    if waiting:
        insert_rows(con, "meta.waiting_files", [(w["path"], w["kind"], w["reason"]) for w in waiting], "(?, ?, ?, now())")
    con.execute(f"CREATE TABLE meta.source_files AS SELECT * FROM read_parquet('{lake.ledger_glob()}') ORDER BY received_at")
    if lake.has_rejects():
        con.execute(f"CREATE TABLE meta.rejected_rows AS SELECT * FROM read_parquet('{lake.rejects_glob()}') ORDER BY file_name, line_number")
    else:
        con.execute("CREATE TABLE meta.rejected_rows (sha256 VARCHAR, file_name VARCHAR, line_number BIGINT, reason VARCHAR, raw_line VARCHAR)")
    progress("build", 1, steps)
    merged = merge_silver(con, lake, version, full, progress, cfg.values["reorder"]["history_days"], copied)
    run_script(con, "silver")
    stages.mark("silver")
    progress("build", 2, steps)
    meta.holiday_calendar(con)
    con.execute("CREATE TEMP TABLE previous_status (item_id VARCHAR, status VARCHAR, suggested_order_qty DOUBLE, "
                "basis VARCHAR, model_version VARCHAR)")
    if meta.has_prev(con):
        con.execute("INSERT INTO previous_status SELECT item_id, status, suggested_order_qty, basis, model_version "
                    "FROM prev.gold.reorder_status")
    r = cfg.values["reorder"]
    # z for each service level the planner's newest sheet names (DuckDB has no inverse normal CDF)
    levels = [row[0] for row in con.execute("SELECT DISTINCT service_level FROM silver.parameters "
                                             "WHERE service_level IS NOT NULL").fetchall()]
    con.execute("CREATE TEMP TABLE z_levels (service_level DOUBLE, z DOUBLE)")
    if levels:
        insert_rows(con, "z_levels", [(lv, NormalDist().inv_cdf(lv)) for lv in levels])
    # gold.sql, keeping the copied version's gold tables whose inputs did not change (carry.py)
    carry.run(con, str(lake.root), {
        "history_days": r["history_days"], "z": NormalDist().inv_cdf(r["service_level"]),
        "service_level": r["service_level"], "review_days": r["review_days"],
        "default_lead_time_days": r["default_lead_time_days"],
        "order_change_share": r["order_change_share"], "replay_weeks": r["replay_weeks"], "has_previous": previous is not None and meta.has_prev(con),
    }, copy_used=copied is not None and not full, partitions=merged.views,
        by_item=not (full or merged.full) and touched_items(con, lake))
    stages.mark("gold")
    inputs = replay_inputs(con, r)
    reuse = carry_replay(con, lake, inputs, full or merged.full)
    cum = prepare_cum(con, lake, r, full or merged.full)
    cum = run_replay(con, lake, r, reuse, cum)
    record_cum(con, lake, version, cum)
    stages.mark("replay")
    progress("build", 3, steps)
    meta.write_meta(con, cfg, version, previous, n_new, inputs)
    progress("build", 4, steps)
    held, narrowed = held_checks(con, merged.lines_inserted)
    results = run_checks(con, skip=("build_complete",), held=held, narrowed=narrowed)
    insert_rows(con, "meta.checks", results)
    meta.append_history(con, version, n_new, results)
    stages.mark("checks")
    meta.write_stages(con, stages.seconds)
    # The completeness marker: the last write of the build.
    con.execute("UPDATE meta.build SET complete = true")
    if meta.has_prev(con):
        con.execute("DETACH prev")
    progress("build", 5, steps)
    return results


# Small silver tables are copied into each version (analysts read them there); silver.requisition,
# every supplies line of all history, stays in the lake and gold reads it through a view.
IN_VERSION = {"stock": (), "forecast": ("source_line",), "parameters": (), "external_selic": ("source_line",),
              "external_ptax": ("source_line",), "external_ipca": ("source_line",), "external_weather": ("source_line",)}


def merge_silver(con, lake: Lake, version: int, full: bool, progress: Progress, history_days: int,
                 copied: facts.Previous | None = None) -> MergeResult:
    """Bring the lake's silver up to date with the ledger (only what changed, unless full) and expose it."""
    store = SilverStore(lake.root)
    loaded = con.execute("SELECT drop_key, kind, bronze_path FROM meta.source_files WHERE status = 'loaded' "
                         "ORDER BY received_at, drop_key").fetchall()
    create_empty_views(con)
    result = store.merge(con, [(k, kind, str(lake.resolve(p))) for k, kind, p in loaded],
                         f"b{version:06d}-{os.getpid()}", full, progress)
    manifest = store.manifest()
    con.execute("CREATE SCHEMA IF NOT EXISTS silver")
    for name, dropped in IN_VERSION.items():
        exclude = f" EXCLUDE ({', '.join(dropped)})" if dropped else ""
        con.execute(f"CREATE TABLE silver.{name} AS SELECT *{exclude} FROM {store.relation(name, manifest)}")
    # gold's views: the per-partition summaries for all history, and the lines of the partitions that
    # the reorder window (and the forecasts' days) reach; no view reads every line
    for name in SUMMARIES:
        con.execute(f"CREATE OR REPLACE TEMP VIEW sum_{name} AS SELECT * FROM {store.relation(name, manifest)}")
    as_of = con.execute("SELECT coalesce((SELECT max(position_date) FROM silver.stock), "
                        "(SELECT max(last_d) FROM sum_req_item))").fetchone()[0]
    first_forecast = con.execute('SELECT min("date") FROM silver.forecast').fetchone()[0]
    parts = sorted(manifest["tables"].get("requisition", {}))
    start = None
    if as_of is None:
        window = lines = []
    else:
        start = as_of - timedelta(days=history_days - 1)
        window = [p for p in parts if p == "none" or p >= f"{start:%Y-%m}"]
        reach = min(start - timedelta(days=29), first_forecast or as_of)
        lines = [p for p in parts if p != "none" and p >= f"{reach:%Y-%m}"]
    held = manifest["tables"].get("requisition", {})
    result.lines_inserted = facts.update(con, lambda ps: store.relation("requisition", manifest, ps),
                                         {p: held[p] for p in window}, start, copied,
                                         lambda files: store.relation_of("requisition", files))
    # one row per item and day: a month's daily summary is one file, made from all the month's lines
    # (silver.py's _summarise makes an appended month's summaries from all its files), so it is read as it
    # is; a month of several files, should a lake hold one, is summed (summing every month cost 0.1-0.2 s at 10M)
    recent = manifest["tables"].get("req_demand", {})
    single = {p for p in lines if len(recent.get(p, ())) == 1}
    summed = set(lines) - single
    con.execute('CREATE OR REPLACE TEMP VIEW sum_req_demand_recent AS SELECT item_id, "date", quantity, lines FROM '
                f"{store.relation('req_demand', manifest, single)}"
                + (' UNION ALL SELECT item_id, "date", sum(quantity) AS quantity, sum(lines)::BIGINT AS lines FROM '
                   f"{store.relation('req_demand', manifest, summed)} GROUP BY ALL" if summed else ""))
    # what each view reads, partition by partition: gold's by-month tables make the changed months only
    # (the demand summaries hold dated lines only: their undated partition is empty whatever its file)
    result.views = {f"sum_{name}": {p: fs for p, fs in manifest["tables"].get(name, {}).items()
                                    if not (p == "none" and name in ("req_demand", "req_monthly"))}
                    for name in SUMMARIES}
    demand = manifest["tables"].get("req_demand", {})
    result.views["sum_req_demand_recent"] = {p: demand[p] for p in lines if p in demand}
    log.info("event=silver_merged drops=%d partitions=%s full=%s", result.merged_drops,
             ",".join(f"{t}:{n}" for t, n in result.rewritten.items()) or "none", result.full)
    return result


def validate_file(path: Path) -> None:
    """Reopen the closed temp file read-only and insist on the completeness marker before the swap."""
    con = connect(path, read_only=True)
    try:
        ok = con.execute("SELECT count(*) FROM meta.build WHERE complete").fetchone()[0] == 1
        n = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema IN ('gold', 'meta')").fetchone()[0]
    finally:
        con.close()
    if not ok or n < 15:
        raise WarehouseError(f"{path}: build record or tables missing after close; not publishing")


def _write_last_build(warehouse: Path, result: BuildResult, started: float) -> None:
    data = {"outcome": result.outcome, "version": result.version, "at": datetime.now(timezone.utc).isoformat(),
            "error": result.error, "retry_at": None,
            "seconds": round(time.monotonic() - started, 3), "stages": result.stages, "new_drops": result.new_drops,
            "failed_checks": [c[0] for c in blocking_failures(result.checks)]}
    atomic_write(warehouse / LAST_BUILD, json.dumps(data, default=str, indent=1))


def record_retry(warehouse: Path, exit_code: int, retry_in: float) -> None:
    """The daemon's note on a failed build: when it retries (monitoring says WARNING until then).
    A build that could not record its own failure (a full disk) is recorded here."""
    path = warehouse / LAST_BUILD
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    if data.get("outcome") != "failed":
        data = {"outcome": "failed", "version": None, "at": datetime.now(timezone.utc).isoformat(),
                "error": f"the build exited with code {exit_code} without recording why (see the service log)"}
    data["retry_at"] = datetime.fromtimestamp(time.time() + retry_in, timezone.utc).isoformat()
    try:
        atomic_write(path, json.dumps(data, default=str, indent=1))
    except OSError as exc:
        log.warning("event=last_build_unrecorded error=%r", exc.strerror)
