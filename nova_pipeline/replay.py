"""Whether the service replay (sql/replay.sql) can be carried over from the serving version, item by item.

The replay is the costliest part of gold on a small drop (1.1 s at 10,000,000 lines); an item's replay
changes only with its own figures and its own demand, so a build computes it for the items that changed
and copies every other item's row.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from datetime import timedelta

import duckdb

from . import meta
from .bronze import Lake, atomic_copy_to
from .changed import new_supplies, requested_in, supplies_drops
from .db import drop_temp, run_script, sql_path, sql_text

log = logging.getLogger("nova.build")  # a step of the build, logged as one


def replay_inputs(con, r: dict) -> str:
    """What the service replay reads besides each item's own figures and daily demand: its parameters,
    its SQL and the first day of the history (its review points start there). Kept in
    meta.build.replay_inputs."""
    first_day = con.execute("SELECT min(first_d) FROM sum_req_item").fetchone()[0]
    key = {"history_days": r["history_days"], "replay_weeks": r["replay_weeks"], "first_day": str(first_day),
           "sql": hashlib.sha1(sql_text("replay").encode()).hexdigest()}
    return hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()


REPLAY_FIGURES = "item_id, as_of, lead_time_days, lead_time_std, z, service_level, demand_class"


def carry_replay(con, lake: Lake, replay_inputs: str, full: bool) -> bool:
    """Carry the serving version's replay over, item by item, when it read the same inputs
    (`replay_inputs`). An item's replay reads only its own figures (class, lead time, its spread, z,
    level, as-of) and its own daily demand, and its demand changes only through lines of a supplies
    drop the serving version did not hold. So the items requested in such a drop, and those whose
    figures changed, are recomputed (temp table replay_redo); every other item's row is copied
    (replay_carried). Returns False (everything computed) for a full build (silver rebuilt: lines may
    read differently) or when there is nothing to carry from."""
    con.execute("CREATE OR REPLACE TEMP TABLE replay_redo (item_id VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE replay_carried (item_id VARCHAR)")
    if full or not meta.has_prev(con):
        return False
    try:
        if con.execute("SELECT replay_inputs FROM prev.meta.build").fetchone()[0] != replay_inputs:
            return False
        new, _ = new_supplies(con, lake)
        requested = f"{requested_in(con, new)} UNION " if new else ""
        con.execute(f"""INSERT INTO replay_redo {requested}
            SELECT item_id FROM (SELECT {REPLAY_FIGURES} FROM gold.reorder_status
                                 EXCEPT SELECT {REPLAY_FIGURES} FROM prev.gold.reorder_status)""")
        con.execute("CREATE OR REPLACE TEMP TABLE replay_carried AS SELECT p.* FROM prev.gold.service_replay_item p "
                    "SEMI JOIN gold.reorder_status USING (item_id) ANTI JOIN replay_redo USING (item_id)")
    except duckdb.Error:  # a version from before the replay or its record: computed
        con.execute("DELETE FROM replay_redo")
        con.execute("CREATE OR REPLACE TEMP TABLE replay_carried (item_id VARCHAR)")
        return False
    carried, redo = con.execute("SELECT (SELECT count(*) FROM replay_carried), "
                                "(SELECT count(*) FROM replay_redo)").fetchone()
    log.info("event=replay_reused carried=%d recomputed=%d", carried, redo)
    return True


# The replay's cumulative sums of daily demand (replay_cum) are kept in the lake between builds: they
# depend on each item's demand only (their first day aside, which only has to come before every day the
# replay looks up), so a stock snapshot or a forecast, which moves the as-of date and with it every
# review point, reads them instead of summing the history again (1.0-1.4 s at 10,000,000 lines), and a
# supplies export reads and sums only the items it replays again.
CUM_DIR = "replay_cache"
CUM_FORMAT = "1"       # change when what the file holds changes
REBASE_DAYS = 35       # sums starting more than this before the replay's oldest day are made again
REBASE_SHARE = 0.25    # ... and so are they when this share of the items was requested since they were made


def cum_key() -> str:
    return hashlib.sha1(f"{CUM_FORMAT}\x1f{sql_text('replay')}".encode()).hexdigest()


def oldest_day(con, r: dict):
    """The day after which the replay reads demand (None: all history, [reorder] replay_weeks = 0)."""
    as_of = con.execute("SELECT as_of FROM as_of").fetchone()[0]
    if r["replay_weeks"] <= 0 or as_of is None:
        return None
    return as_of - timedelta(days=7 * r["replay_weeks"] + r["history_days"] + 1)


def prepare_cum(con, lake: Lake, r: dict, full: bool) -> dict:
    """Decide whether the replay reads the serving version's cumulative sums from the lake. Makes the
    temp view replay_cache (item_id, "date", c1, c2: rows with a NULL day stand for an item without
    demand in the span) and the temp table cum_stale (the items to sum again: requested in a supplies
    drop the sums did not hold, or not held at all), and returns the replay script's parameters
    $cum_from (the sums' first day is the day after it; NULL: all history) and $cum_cached. The sums
    are made again for every item on a full build, without a usable file, when their first day lies
    more than REBASE_DAYS before the replay's oldest day, or when over REBASE_SHARE of the items are stale."""
    oldest = oldest_day(con, r)
    con.execute("CREATE OR REPLACE TEMP TABLE cum_stale (item_id VARCHAR)")
    _no_cache(con)
    fresh = {"cum_from": oldest, "cum_cached": False}
    if full or not meta.has_prev(con):
        return fresh
    try:
        record = con.execute("SELECT file, origin, key, drops FROM prev.meta.replay_cache WHERE items IS NOT NULL").fetchone()
    except duckdb.Error:  # a version from before the kept sums, or before their list of items
        return fresh
    if record is None:
        return fresh
    file, origin, key, drops = record
    path = lake.root / file
    if key != cum_key() or not path.is_file() or (origin is None) != (oldest is None):
        return fresh
    if oldest is not None and not (origin <= oldest and (oldest - origin).days <= REBASE_DAYS):
        return fresh
    loaded = supplies_drops(con, lake)
    if not set(drops) <= set(loaded):  # a drop the sums hold is gone from the ledger: made again
        return fresh
    new = [f for key, f in loaded.items() if key not in drops]
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW replay_cache AS SELECT item_id, \"date\", c1, c2 FROM read_parquet('{sql_path(path)}')")
        con.execute("SELECT count(*) FROM replay_cache").fetchone()  # its footer: a file cut short or not Parquet
        requested = f"{requested_in(con, new)} UNION " if new else ""
        # the items it does not hold from the list recorded with it: reading them from the file took 0.1-0.2 s
        con.execute(f"INSERT INTO cum_stale {requested}"
                    "(SELECT item_id FROM gold.reorder_status EXCEPT SELECT unnest(items) FROM prev.meta.replay_cache)")
        stale, items = con.execute("SELECT (SELECT count(*) FROM cum_stale), (SELECT count(*) FROM gold.reorder_status)").fetchone()
    except duckdb.Error as exc:  # an unreadable file: made again
        _unreadable(con, lake, file, exc)
        return fresh
    if stale > REBASE_SHARE * max(items, 1):
        con.execute("DELETE FROM cum_stale")
        return fresh
    log.info("event=replay_sums_kept file=%s stale_items=%d", file, stale)
    return {"cum_from": origin, "cum_cached": True, "file": file, "drops": list(drops)}


def run_replay(con, lake: Lake, r: dict, reuse: bool, cum: dict) -> dict:
    """Run sql/replay.sql with the sums prepare_cum chose; returns the `cum` the replay used. prepare_cum
    reads only the kept file's footer: a file damaged inside (a page that does not decode) fails the
    statement that reads its sums. Then the file is removed, what the script made so far is dropped,
    and the replay runs again summing every item, as it does without a file (the log says so)."""
    health_from = con.execute("SELECT min(position_date) - ?::INTEGER FROM silver.stock", [r["history_days"]]).fetchone()[0]

    def params(c: dict) -> dict:
        return {"history_days": r["history_days"], "replay_weeks": r["replay_weeks"], "reuse_replay": reuse,
                "cum_from": c["cum_from"], "cum_cached": c["cum_cached"], "health_from": health_from}
    try:
        run_script(con, "replay", params(cum))
        return cum
    except (duckdb.OutOfMemoryException, duckdb.InterruptException):  # not the file's fault
        raise
    except duckdb.Error as exc:
        if not cum["cum_cached"]:
            raise
        _unreadable(con, lake, cum["file"], exc)
    temp, tables = _made_by_replay()
    drop_temp(con, *temp)
    for table in tables:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    cum = {"cum_from": oldest_day(con, r), "cum_cached": False}
    run_script(con, "replay", params(cum))
    return cum


def _unreadable(con, lake: Lake, file: str, exc: duckdb.Error) -> None:
    """The kept sums file could not be read: said in the log and removed (a cache: the sums are made
    again for every item and written anew), and the replay set to read none (empty replay_cache and
    cum_stale)."""
    log.warning("event=replay_cache_unreadable file=%s error=%s action=removed_and_made_again", file,
                str(exc).splitlines()[0])
    (lake.root / file).unlink(missing_ok=True)
    con.execute("DELETE FROM cum_stale")
    _no_cache(con)


def _made_by_replay() -> tuple[list[str], list[str]]:
    """The temp relations and the tables sql/replay.sql creates, by name."""
    made = re.findall(r"^CREATE (TEMP )?(?:TABLE|VIEW) ([\w.]+)", sql_text("replay"), flags=re.M)
    return [name for temp, name in made if temp], [name for temp, name in made if not temp]


def _no_cache(con) -> None:
    """An empty replay_cache view: the sums are made for every item."""
    con.execute('CREATE OR REPLACE TEMP VIEW replay_cache AS SELECT NULL::VARCHAR AS item_id, NULL::DATE AS "date", '
                "NULL::DOUBLE AS c1, NULL::DOUBLE AS c2 WHERE false")


def record_cum(con, lake: Lake, version: int, cum: dict) -> None:
    """After the replay: meta.replay_cache names the file of cumulative sums this version's replay read
    (written here when they were made again for every item), the supplies drops and the items they hold."""
    con.execute("CREATE TABLE meta.replay_cache (file VARCHAR, origin DATE, key VARCHAR, drops VARCHAR[], items VARCHAR[])")
    if cum["cum_cached"]:
        file, drops = cum["file"], cum["drops"]
    else:
        folder = lake.root / CUM_DIR
        file = f"{CUM_DIR}/cum-v{version:06d}-{os.getpid()}.parquet"
        atomic_copy_to(con, 'SELECT i.item_id, c."date", c.c1, c.c2 FROM replay_cum c JOIN replay_items i USING (ik) '
                            'UNION ALL SELECT item_id, NULL, NULL, NULL FROM replay_items i '
                            'WHERE NOT EXISTS (SELECT 1 FROM replay_cum c WHERE c.ik = i.ik)', lake.root / file)
        drops = list(supplies_drops(con, lake))
        keep = {lake.root / file}
        if meta.has_prev(con):
            try:
                keep |= {lake.root / f for (f,) in con.execute("SELECT file FROM prev.meta.replay_cache").fetchall()}
            except duckdb.Error:
                pass
        for old in folder.glob("cum-*.parquet"):  # the serving version's stays until this one is published
            if old not in keep:
                old.unlink(missing_ok=True)
    items = "(SELECT items FROM prev.meta.replay_cache)" if cum["cum_cached"] else \
        "(SELECT list(item_id ORDER BY item_id) FROM replay_items)"
    con.execute(f"INSERT INTO meta.replay_cache SELECT ?, ?, ?, ?, {items}", [file, cum["cum_from"], cum_key(), drops])
