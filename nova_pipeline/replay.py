"""Whether the service replay (sql/replay.sql) can be carried over from the serving version, item by item.

The replay is the costliest part of gold on a small drop (1.1 s at 10,000,000 lines); an item's replay
changes only with its own figures and its own demand, so a build computes it for the items that changed
and copies every other item's row.
"""
from __future__ import annotations

import hashlib
import json
import logging

import duckdb

from . import meta
from .bronze import Lake
from .db import sql_text
from .silver import parquet_sql
from .silver_tables import BY_NAME

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
        new = [lake.resolve(p) for (p,) in con.execute(
            "SELECT bronze_path FROM meta.source_files WHERE status = 'loaded' AND list_contains(?, kind) "
            "AND drop_key NOT IN (SELECT drop_key FROM prev.meta.source_files WHERE status = 'loaded')",
            [list(BY_NAME["requisition"].kinds)]).fetchall()]
        requested = (f"SELECT DISTINCT trim(item_id) FROM {parquet_sql(new, union_by_name=True)} UNION "
                     if new else "")
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
