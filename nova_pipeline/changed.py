"""What the supplies drops new since the serving version touch: the items they request.

An item's rows in the supplies summaries (sum_req_*), its service replay and its kept cumulative sums
change only through lines of a supplies drop the serving version did not hold, so those drops' items
are what a build makes again in the tables carried item by item (carry.py's `carry by item`), in the
replay (replay.py) and in its sums.
"""
from __future__ import annotations

from pathlib import Path

from . import meta
from .bronze import Lake
from .carry import ITEMS
from .db import sql_path
from .silver_sql import parquet_sql
from .silver_tables import BY_NAME


def supplies_drops(con, lake: Lake, ledger: str = "meta") -> dict[str, Path]:
    """The supplies (requisition) drops loaded in a ledger: drop_key -> its bronze file. `ledger` is
    "meta" for this build's, "prev.meta" for the serving version's."""
    return {key: lake.resolve(path) for key, path in con.execute(
        f"SELECT drop_key, bronze_path FROM {ledger}.source_files WHERE status = 'loaded' AND list_contains(?, kind)",
        [list(BY_NAME["requisition"].kinds)]).fetchall()}


def requested_in(con, files: list[Path]) -> str:
    """A SELECT of the items requested in these bronze files ('' for none). Each file is read once per
    build: the replay's carry and its kept sums ask for overlapping sets, kept in temp table requested_items."""
    if not files:
        return ""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS requested_items (file VARCHAR, item_id VARCHAR)")
    done = {f for (f,) in con.execute("SELECT DISTINCT file FROM requested_items").fetchall()}
    todo = [f for f in files if sql_path(f) not in done]
    for f in todo:  # one statement per file: its name is the key, whatever read_parquet would report
        con.execute(f"INSERT INTO requested_items SELECT DISTINCT ?, trim(item_id) FROM {parquet_sql([f])}", [sql_path(f)])
    listed = ", ".join(f"'{sql_path(f)}'" for f in files)
    return f"SELECT item_id FROM requested_items WHERE file IN ({listed})"


def new_supplies(con, lake: Lake) -> tuple[list[Path], bool]:
    """The bronze files of the supplies drops loaded now and not in the serving version's ledger, and
    whether every supplies drop that ledger held is still loaded."""
    held, now = supplies_drops(con, lake, "prev.meta"), supplies_drops(con, lake)
    return [f for key, f in now.items() if key not in held], set(held) <= set(now)


def touched_items(con, lake: Lake) -> bool:
    """Make temp table ITEMS: the items requested in supplies drops new since the serving version. True
    when they are every item whose supplies lines changed: a serving version is attached and every
    supplies drop it held is still loaded (a ledger that lost one: False, everything made again)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ITEMS} (item_id VARCHAR)")
    if not meta.has_prev(con):
        return False
    new, whole = new_supplies(con, lake)
    if not whole:
        return False
    if new:
        con.execute(f"INSERT INTO {ITEMS} SELECT DISTINCT item_id FROM ({requested_in(con, new)})")
    return True
