"""Issue 12: a build recomputes only what changed, and gives the very answers of a full rebuild."""
from __future__ import annotations

import ast
import csv
import hashlib
import json
import logging
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import STOCK_HEADER, make_site, stock_snapshot, write_export
from helpers import lake_lines, one, warehouse

from nova_pipeline.build import build
from nova_pipeline.checks import REQUISITION_FKS
from nova_pipeline.config import load_config
from nova_pipeline.demo import ESTOQUE, FORECAST, SUPRIMENTOS, demo_file
from nova_pipeline.silver import SilverStore, served_by_bronze

REAL = demo_file(SUPRIMENTOS).read_bytes().decode("cp1252").splitlines()
HEADER, LINES = REAL[0], REAL[1:]


def _export(site, name: str, lines: list[str]) -> None:
    write_export(site.landing / name, lines, header=HEADER)


def _normalised(con, schema: str, table: str) -> str:
    """The table's rows with doubles rounded (sums over rows read in another order differ in the last bits)."""
    cols = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = 'a' "
                       "AND table_schema = ? AND table_name = ? ORDER BY ordinal_position", [schema, table]).fetchall()
    return ", ".join(f'round("{c}", 6) AS "{c}"' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in cols)


# reorder_status's comparisons with the version before: facts of the history of builds, not of the inputs
PREVIOUS_COLUMNS = ("previous_status", "newly_flagged", "previous_suggested_order_qty", "previous_basis")


def assert_same_warehouse(a: Path, b: Path, also_skip: frozenset = frozenset(), ignore: tuple[str, ...] = ()) -> int:
    """Every gold, silver and meta table of a equals b's (meta.build: the answers, not the build's own facts)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'a' "
                         "AND schema_name IN ('gold', 'silver', 'meta') ORDER BY ALL").fetchall()
    other = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'b' "
                        "AND schema_name IN ('gold', 'silver', 'meta') ORDER BY ALL").fetchall()
    assert tables == other
    # what changed since the version before is a fact of the history of builds, not of the inputs
    # meta.gold_keys: keys of the inputs each gold table was made from, silver files' names among them;
    # meta.replay_cache: the lake file of the replay's sums a build read, and when they were made;
    # meta.build_stages: the build's own seconds
    skip = {("meta", "build"), ("meta", "build_history"), ("meta", "build_stages"), ("meta", "gold_keys"),
            ("meta", "replay_cache"), ("gold", "reorder_changes"), ("gold", "status_counts")} | also_skip
    compared = 0
    for schema, table in tables:
        if (schema, table) in skip:
            continue
        cols = _normalised(con, schema, table)
        if table == "reorder_status":  # what changed since the version before: a fact of the history, not the inputs
            for col in PREVIOUS_COLUMNS:
                cols = cols.replace(f'"{col}"', "NULL")
        if table == "fact_requisition_parts":  # the silver files' names carry the build that wrote them
            cols = cols.replace('"files"', "NULL")
        if table == "checks":  # a check a build held or narrowed (checks.held_checks) says so, and why
            cols = cols.replace('"detail"', "regexp_replace(\"detail\", ' \\((held: |the lines new since )[^)]*\\)$', '')")
        for col in ignore:
            cols = cols.replace(f'"{col}"', "NULL")
        for x, y in (("a", "b"), ("b", "a")):
            diff = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {x}.{schema}.{table} "
                               f"EXCEPT ALL SELECT {cols} FROM {y}.{schema}.{table})").fetchone()[0]
            assert diff == 0, f"{schema}.{table}: {diff} row(s) of {x} not in {y}"
        compared += 1
    build_cols = "as_of, inputs, config, complete"
    assert con.execute(f"SELECT {build_cols} FROM a.meta.build").fetchall() == \
        con.execute(f"SELECT {build_cols} FROM b.meta.build").fetchall()
    con.close()
    return compared


def _distinct_lines(exports) -> set[tuple]:
    """An independent count of the lines silver must hold: a line is its trimmed fields plus its
    occurrence number among identical lines of its export (each item of `exports`: its data lines)."""
    expected = set()
    for lines in exports:
        seen: dict[tuple, int] = {}
        for line in lines:
            fields = tuple(f.strip() for f in next(csv.reader([line], delimiter=";")))
            seen[fields] = seen.get(fields, 0) + 1
            expected.add((fields, seen[fields]))
    return expected


def _silver_rows(cfg) -> list[tuple]:
    with lake_lines(cfg) as con:
        return con.execute("SELECT * EXCLUDE (ingested_at) FROM lines ORDER BY requisition_key").fetchall()


@pytest.fixture
def sequence_site(tmp_path, caplog):
    """A site fed the way a plant is: one build per drop, overlapping and re-sent exports included.
    Every build after the first starts from a copy of the version before (facts.py)."""
    cfg = make_site(tmp_path / "site")
    steps = []

    def step(outcome: str = "published"):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="nova.facts"), caplog.at_level(logging.INFO, logger="nova.build"):
            result = build(cfg)
        assert result.outcome == outcome, result.message
        assert [r.getMessage().split()[1] for r in caplog.records if "event=fact_requisition" in r.getMessage()] == \
            [f"reused={bool(steps)}"]
        result.carried = _carried(caplog)
        result.by_month = _by_month(caplog)
        result.slid = _slid(caplog)
        result.by_item = _by_item(caplog)
        steps.append(result)
        return result

    _export(cfg, "suprimentos_2024.csv", LINES[:2000])
    step()
    _export(cfg, "suprimentos_overlap.csv", LINES[1500:3200])       # 500 lines again, 1200 new
    step()
    shutil.copy(demo_file(ESTOQUE), cfg.landing / ESTOQUE)
    step()
    _export(cfg, "suprimentos_resent.csv", LINES[:2000])            # the first export again, other name
    step()
    shutil.copy(demo_file(FORECAST), cfg.ml_drops / FORECAST)
    step()
    stock_snapshot(cfg.source.parent, "25/10/2025", "010090", "0")
    step()
    _export(cfg, "suprimentos_2025.csv", LINES[3000:])               # the rest, 200 again
    write_export(cfg.landing / "estoque_bad.csv", ["ALMOX-BA;010825;PREGO;UN;x;0;26/10/2025"], header=STOCK_HEADER)
    step()
    return cfg, steps


def test_incremental_builds_equal_one_full_rebuild(sequence_site, tmp_path):
    cfg, steps = sequence_site
    # each build rewrote only the partitions its drops touched
    merged = json.loads(SilverStore(cfg.lake).path.read_text())["drops"]
    with duckdb.connect() as con:
        loaded = [r[0] for r in con.execute(f"SELECT drop_key FROM '{cfg.lake}/ledger/drops/*.parquet' "
                                            "WHERE status = 'loaded' ORDER BY received_at").fetchall()]
    assert merged == loaded and len(loaded) == 6  # the re-sent export is a duplicate, the bad snapshot rejected
    incremental = _silver_rows(cfg)
    expected = _distinct_lines((cfg.landing / name).read_bytes().decode("cp1252").splitlines()[1:]
                               for name in ("suprimentos_2024.csv", "suprimentos_overlap.csv", "suprimentos_2025.csv"))
    assert len(incremental) == len(expected) > 4000
    # the same lake rebuilt from bronze alone
    copy = tmp_path / "copy"
    shutil.copytree(cfg.source.parent, copy, symlinks=True)
    full_cfg = load_config(copy / "config.toml")
    result = build(full_cfg, full=True)
    assert result.outcome == "published" and result.version == steps[-1].version + 1
    assert _silver_rows(full_cfg) == incremental
    compared = assert_same_warehouse(cfg.warehouse / "current.duckdb", full_cfg.warehouse / "current.duckdb")
    assert compared >= 20
    # gold tables whose inputs a drop leaves alone were kept from the copy (carry.py), the rest made again
    first, overlap, stock, resent, forecast, snapshot, last = (r.carried for r in steps)
    assert first == set() and overlap <= {"external_daily"}  # no public series here: the same empty table
    lines_only = {"demand_monthly", "item_lead_time", "item_supplier", "dim_supplier", "supplier_lead_time",
                  "supplier_family_lead_time", "item_requests"}
    assert lines_only <= stock and lines_only <= snapshot
    assert not stock & {"dim_item", "fact_stock", "reorder_status", "demand_daily", "dim_date"}
    assert lines_only | {"demand_daily", "fact_stock", "dim_depot"} <= forecast
    assert not forecast & {"dim_item", "fact_forecast", "reorder_status"}
    assert not last & lines_only
    # daily and monthly demand made again only from the first request month an export changed (carry.py);
    # daily demand's rows before a window's new first day dropped, the others kept (months before that
    # day's 29-day lookback do not count as changed for it)
    assert steps[1].by_month == {"demand_daily": "2025-03-01", "demand_monthly": "2025-02-01"}
    assert steps[6].by_month == {"demand_monthly": "2025-03-01"}  # daily demand: by item, below
    assert all(r.by_month == {} for r in steps[2:6])  # no new lines: kept whole, or made whole (a new as-of date)
    assert steps[1].slid == {"demand_daily": "2025-04-10"} and steps[2].slid == {"demand_daily": "2025-04-28"}
    assert steps[5].slid == {"demand_daily": "2025-04-29"} and steps[6].slid == {}
    # the item tables of the supplies lines made again for the items a new export requests, the other
    # items' rows kept, when nothing else they read changed; gold.dim_item is made whole from
    # gold.item_requests every time (the stock report's side of it is one snapshot's rows)
    # (daily demand too when the window stays: the last export, whose as-of date is the stock snapshot's)
    assert steps[1].by_item == {"item_requests", "item_supplier", "item_lead_time"}
    assert steps[6].by_item == {"item_requests", "item_supplier", "item_lead_time", "demand_daily"}
    assert all(r.by_item == set() for r in steps[2:6]) and steps[0].by_item == set()


def _by_month(caplog) -> dict[str, str]:
    """The gold tables a build kept but for the months from a day on (table -> that day)."""
    return _event_dict(caplog, "months_from")


def _slid(caplog) -> dict[str, str]:
    """The gold tables of the reorder window a build kept but for the days before its new first day."""
    return _event_dict(caplog, "slid_to")


def _by_item(caplog) -> set[str]:
    """The gold tables a build kept but for the rows of the items new supplies drops request."""
    events = [r.getMessage() for r in caplog.records if "event=gold_carried" in r.getMessage()]
    return set(ast.literal_eval(re.search(r"items_of=(\[.*?\]) ", events[0])[1]))


def _event_dict(caplog, field: str) -> dict[str, str]:
    events = [r.getMessage() for r in caplog.records if "event=gold_carried" in r.getMessage()]
    return ast.literal_eval(re.search(rf"{field}=(\{{.*?\}}) ", events[0])[1])


def _carried(caplog) -> set[str]:
    """The gold tables a build kept from the serving version's copy (its event=gold_carried line)."""
    events = [r.getMessage() for r in caplog.records if "event=gold_carried" in r.getMessage()]
    assert len(events) == 1, events
    return set(ast.literal_eval(events[0].split("tables=", 1)[1]))


def test_a_window_that_moves_on_drops_its_first_days_and_equals_a_full_rebuild(tmp_path, caplog):
    """A stock snapshot dated later moves the as-of date and the reorder window on, and nothing else:
    daily demand keeps its rows but those before the window's new first day (no month made again), the
    replay reads the cumulative sums the lake kept (summing only an item stocked for the first time),
    and the warehouse equals a full rebuild. A snapshot dated earlier leaves the window where it is."""
    cfg = make_site(tmp_path / "site")
    _export(cfg, "suprimentos.csv", LINES)
    first = stock_snapshot(cfg.source.parent, "20/10/2025", "010090", "0")
    newcomer = "010013"  # left out of the first snapshot: not stocked, so not in the kept sums
    lines = first.read_bytes().decode("cp1252").splitlines()
    first.write_bytes("\n".join(x for x in lines if x.split(";")[1] != newcomer).encode("cp1252") + b"\n")
    assert build(cfg).outcome == "published"
    before = _daily_days(cfg)
    stock_snapshot(cfg.source.parent, "31/10/2025", "010090", "3")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(cfg).outcome == "published"
    assert _slid(caplog) == {"demand_daily": "2025-05-05"} and _by_month(caplog) == {}
    assert "demand_daily" not in _carried(caplog)
    assert _sums_kept(caplog) == 1  # the newcomer, summed here; every other item's sums read from the lake
    after = _daily_days(cfg)
    assert after[0] == "2025-05-05" and before[0] < after[0] and before[1] == after[1]  # the same last day
    full_cfg = _full_copy(cfg, tmp_path / "copy")
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", full_cfg.warehouse / "current.duckdb") >= 20
    # the as-of date is the newest snapshot's: one dated earlier leaves the window where it is
    stock_snapshot(cfg.source.parent, "10/10/2025", "010090", "1")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(cfg).outcome == "published"
    # (the lake's file is not written again for one item: the newcomer is summed until it is)
    assert _slid(caplog) == {} and "demand_daily" in _carried(caplog) and _sums_kept(caplog) == 1


def test_kept_replay_sums_that_cannot_be_read_are_made_again(tmp_path, caplog):
    """The lake's file of the replay's cumulative sums is a cache: damaged or gone, the build says so in
    its log, sums every item again, writes a new file, and its answers equal a full rebuild's."""
    cfg = make_site(tmp_path / "site", with_data=True)
    assert build(cfg).outcome == "published"
    (kept,) = (cfg.lake / "replay_cache").glob("cum-*.parquet")
    kept.write_bytes(b"PAR1 not a parquet file")
    stock_snapshot(cfg.source.parent, "27/10/2025", "010090", "0")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(cfg).outcome == "published"
    assert any("event=replay_cache_unreadable" in r.getMessage() for r in caplog.records)
    assert _sums_kept(caplog) is None
    (made,) = (cfg.lake / "replay_cache").glob("cum-*.parquet")  # the damaged one removed
    assert made != kept and made.stat().st_size > 1000
    full_cfg = _full_copy(cfg, tmp_path / "copy")
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", full_cfg.warehouse / "current.duckdb") >= 20
    made.unlink()  # gone: made again without a word of damage
    stock_snapshot(cfg.source.parent, "28/10/2025", "010090", "1")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(cfg).outcome == "published"
    assert _sums_kept(caplog) is None and len(list((cfg.lake / "replay_cache").glob("cum-*.parquet"))) == 1
    stock_snapshot(cfg.source.parent, "29/10/2025", "010090", "2")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(cfg).outcome == "published"
    assert _sums_kept(caplog) == 0
    # six weeks on, the sums would start too long before the replay's oldest day: made again from it
    stock_snapshot(cfg.source.parent, "10/12/2025", "010090", "2")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(cfg).outcome == "published"
    assert _sums_kept(caplog) is None
    with duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True) as con:
        assert con.execute("SELECT origin FROM meta.replay_cache").fetchone()[0] == date(2024, 6, 13)  # 10/12/2025 - 7 * 52 - 180 - 1
    full_cfg = _full_copy(cfg, tmp_path / "copy2")
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", full_cfg.warehouse / "current.duckdb") >= 20


def test_kept_replay_sums_damaged_inside_are_made_again(tmp_path, caplog):
    """A kept sums file whose footer reads but whose pages do not decode (the build reads only the footer
    before using it) fails the replay's read of it: the build removes it, makes the replay again from
    every item's demand, publishes, and equals a full rebuild."""
    cfg = make_site(tmp_path / "site", with_data=True)
    assert build(cfg).outcome == "published"
    (kept,) = (cfg.lake / "replay_cache").glob("cum-*.parquet")
    data = bytearray(kept.read_bytes())
    data[4:len(data) // 2] = b"\x55" * (len(data) // 2 - 4)  # the first pages; the footer is whole
    kept.write_bytes(bytes(data))
    with duckdb.connect() as con:  # what the build's probe reads still reads
        assert con.execute(f"SELECT count(*) FROM read_parquet('{kept}')").fetchone()[0] > 100
    stock_snapshot(cfg.source.parent, "27/10/2025", "010090", "0")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(cfg).outcome == "published"
    messages = [r.getMessage() for r in caplog.records]
    assert _sums_kept(caplog) == 0  # the file looked whole: the build set out to read it
    assert any("event=replay_cache_unreadable" in m and "action=removed_and_made_again" in m for m in messages)
    (made,) = (cfg.lake / "replay_cache").glob("cum-*.parquet")
    assert made != kept and not kept.exists()
    with duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True) as con:
        assert con.execute("SELECT file FROM meta.replay_cache").fetchone()[0] == f"replay_cache/{made.name}"
    full_cfg = _full_copy(cfg, tmp_path / "copy")
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", full_cfg.warehouse / "current.duckdb") >= 20


def _sums_kept(caplog) -> int | None:
    """Items summed again from the build's event=replay_sums_kept line; None when it summed every item."""
    for r in caplog.records:
        m = re.search(r"event=replay_sums_kept file=\S+ stale_items=(\d+)", r.getMessage())
        if m:
            return int(m[1])
    return None


def _daily_days(cfg) -> tuple[str, str]:
    with duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True) as con:
        return tuple(str(d) for d in con.execute('SELECT min("date"), max("date") FROM gold.demand_daily').fetchone())


def test_a_fresh_site_built_at_once_gives_the_same_gold(sequence_site, tmp_path):
    cfg, _ = sequence_site
    once = make_site(tmp_path / "once")
    for folder in ("landing", "ml_drops"):
        shutil.rmtree(once.source.parent / folder)
        shutil.copytree(cfg.source.parent / folder, once.source.parent / folder)
    assert build(once).outcome == "published"
    con = duckdb.connect()
    con.execute(f"ATTACH '{cfg.warehouse / 'current.duckdb'}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{once.warehouse / 'current.duckdb'}' AS b (READ_ONLY)")
    for table in ("reorder_status", "dim_item", "demand_daily", "demand_monthly", "item_lead_time", "dim_supplier"):
        cols = _normalised(con, "gold", table)
        for col in PREVIOUS_COLUMNS:
            cols = cols.replace(f'"{col}"', "NULL")
        for x, y in (("a", "b"), ("b", "a")):
            assert one(con, f"SELECT count(*) FROM (SELECT {cols} FROM {x}.gold.{table} EXCEPT ALL "
                            f"SELECT {cols} FROM {y}.gold.{table})") == 0, table
    con.close()


def test_a_small_drop_rewrites_only_its_partitions(tmp_path):
    cfg = make_site(tmp_path / "site")
    _export(cfg, "suprimentos_all.csv", LINES)
    build(cfg)
    store = SilverStore(cfg.lake)
    before = store.manifest()["tables"]["requisition"]
    one_month = [line for line in LINES if line.split(";")[9].endswith("/09/2025")][:5]
    changed = [line.replace(";UN;", ";UN;", 1) + "" for line in one_month]
    _export(cfg, "suprimentos_daily.csv", [c.replace(c.split(";")[8], "999999", 1) for c in changed])
    build(cfg)
    after = store.manifest()["tables"]["requisition"]
    rewritten = {p for p in after if after[p] != before.get(p)}
    assert rewritten == {"2025-09"}
    assert len(_silver_rows(cfg)) == len(LINES) + 5
    # the replaced partition's old file is gone at the next build's start; nothing else is touched
    build(cfg)
    files = {p.relative_to(store.root).as_posix() for p in store.root.rglob("*.parquet")}
    named = {f for fs in after.values() for f in fs} | \
        {f for t, parts in store.manifest()["tables"].items() if t != "requisition" for fs in parts.values() for f in fs}
    assert files == {f for f in named if not served_by_bronze(f)}
    # the other months are still served by the first export's bronze file (a full build of one export)
    assert {f for fs in before.values() for f in fs} == {f for f in named if served_by_bronze(f)}
    assert all((store.root / f).is_file() for f in named if served_by_bronze(f))


def test_all_history_figures_from_summaries_equal_the_lines(built_demo):
    """Medians from lead-time histograms, items, suppliers and months from per-partition summaries:
    the same numbers as aggregating every line directly."""
    with lake_lines(built_demo) as lake:
        lake.execute(f"ATTACH '{built_demo.warehouse / 'current.duckdb'}' AS w (READ_ONLY)")
        checks = {
            "item medians": """SELECT item_id, median(lead_time_days) FILTER (lead_time_days >= 0),
                                      count(*) FILTER (lead_time_days >= 0), count(*) FILTER (lead_time_days < 0),
                                      count(*) FILTER (purchase_date IS NULL), max(purchase_date)
                               FROM lines GROUP BY item_id""",
            "family medians": """SELECT family, median(lead_time_days), count(*) FROM lines
                                 WHERE lead_time_days >= 0 AND family IS NOT NULL GROUP BY family""",
            "suppliers": """SELECT supplier, count(*), min(purchase_date), max(purchase_date), count(DISTINCT item_id)
                            FROM lines WHERE supplier IS NOT NULL GROUP BY supplier""",
            # quantities summed in another order (days, then months) differ in the last bits: 9 decimals
            "months": """SELECT item_id, date_trunc('month', request_date)::DATE, round(sum(quantity), 9), count(*),
                                count(DISTINCT request_date)
                         FROM lines WHERE request_date IS NOT NULL AND NOT is_service GROUP BY ALL""",
            "items": "SELECT item_id, count(*), min(request_date), max(request_date), bool_and(is_service) FROM lines GROUP BY ALL",
        }
        gold = {
            "item medians": """SELECT item_id, median_days, usable_lines, negative_lines, not_bought_lines, last_purchase
                               FROM w.gold.item_lead_time""",
            "family medians": "SELECT DISTINCT family, family_median_days, family_usable_lines FROM w.gold.item_lead_time "
                              "WHERE family_median_days IS NOT NULL",
            "suppliers": "SELECT supplier, requisition_lines, first_purchase, last_purchase, items FROM w.gold.dim_supplier",
            "months": "SELECT item_id, month, round(quantity, 9), lines, days_with_demand FROM w.gold.demand_monthly",
            "items": "SELECT item_id, requisition_lines, first_request, last_request, is_service FROM w.gold.dim_item "
                     "WHERE requisition_lines > 0",
        }
        for name, sql in checks.items():
            direct = sorted(lake.execute(sql).fetchall(), key=str)
            from_gold = sorted(lake.execute(gold[name]).fetchall(), key=str)
            if name == "family medians":  # gold lists the families items carry as their most frequent one
                assert set(from_gold) <= set(direct) and len(from_gold) > 10, name
            else:
                assert from_gold == direct, name
            assert len(direct) > 5, name


def test_a_moved_site_does_not_hash_its_exports_again(tmp_path, monkeypatch):
    """The hash cache is keyed by the drop's path inside the site: a site moved or restored elsewhere
    finds nothing new without re-reading its exports; a file whose size or time changed is read again."""
    import nova_pipeline.bronze as bronze
    import nova_pipeline.ingest as ingest_module

    cfg = make_site(tmp_path / "here")
    _export(cfg, "suprimentos_all.csv", LINES)
    assert build(cfg).outcome == "published"
    moved = tmp_path / "elsewhere"
    shutil.move(tmp_path / "here", moved)
    cfg = load_config(moved / "config.toml")
    hashed = []
    real, real_csv = bronze.sha256_file, ingest_module.hash_and_inspect
    monkeypatch.setattr(bronze, "sha256_file", lambda p: hashed.append(Path(p).name) or real(p))
    monkeypatch.setattr(ingest_module, "hash_and_inspect", lambda p: hashed.append(Path(p).name) or real_csv(p))
    assert build(cfg).outcome == "nothing_new"
    assert hashed == []
    export = cfg.landing / "suprimentos_all.csv"
    export.write_bytes(export.read_bytes() + ";".join(LINES[0].split(";")).encode("cp1252") + b"\r\n")
    assert build(cfg).outcome == "published"
    assert hashed == ["suprimentos_all.csv"]


def test_a_moved_site_keeps_its_gold_when_a_forecast_arrives(tmp_path, caplog):
    """The keys of gold's inputs leave the lake's own path out: a site moved elsewhere, then sent a
    forecast, keeps the tables a forecast cannot change, and equals a full rebuild."""
    cfg = make_site(tmp_path / "here", with_data=True)
    assert build(cfg).outcome == "published"
    moved = tmp_path / "elsewhere"
    shutil.move(tmp_path / "here", moved)
    cfg = load_config(moved / "config.toml")
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE (forecast * 1.1 AS forecast, generated_at + INTERVAL 1 DAY AS generated_at) "
                    f"FROM '{cfg.ml_drops / FORECAST}') TO '{cfg.ml_drops / 'forecast_next.parquet'}' (FORMAT parquet)")
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(cfg).outcome == "published"
    carried = _carried(caplog)
    assert {"demand_monthly", "item_lead_time", "demand_daily", "supplier_lead_time", "fact_stock"} <= carried
    assert not carried & {"fact_forecast", "reorder_status", "dim_item"}
    with duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM meta.gold_keys").fetchone()[0] >= 15
    full_cfg = _full_copy(cfg, tmp_path / "full")
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", full_cfg.warehouse / "current.duckdb") >= 20


def _month_files(cfg) -> dict[str, int]:
    return {p: len(fs) for p, fs in SilverStore(cfg.lake).manifest()["tables"]["requisition"].items()}


def test_new_lines_are_appended_to_their_month_and_equal_a_full_rebuild(tmp_path, monkeypatch, caplog):
    """A later export's new lines go into the months they fall in as a file of their own, after the
    files the month had (silver.APPENDS): lines a month holds already (the same line again, an undated
    line again) are not added twice, a repeated line's second copy is a line of its own. A clock set back
    since the lines held were delivered, or a month of APPEND_MAX_FILES files, rewrites the month whole
    instead. Every way gives the lines and tables of a full rebuild."""
    import nova_pipeline.ingest as ingest_module
    import nova_pipeline.silver as silver

    march = [x for x in LINES if x.split(";")[9].endswith("/03/2025")]
    undated = ";".join(march[0].split(";")[:9] + ["", march[0].split(";")[10]])
    cfg = make_site(tmp_path / "site")
    first = march[:300] + [undated]
    _export(cfg, "suprimentos_a.csv", first)
    assert build(cfg).outcome == "published"
    assert _month_files(cfg)["2025-03"] == 1
    # 100 lines the month holds, a second copy of one of them, 40 new lines, the undated line again
    second = march[200:300] + [march[250]] + march[300:340] + [undated]
    _export(cfg, "suprimentos_b.csv", second)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nova.facts"):
        assert build(cfg).outcome == "published"
    files = _month_files(cfg)
    assert files["2025-03"] == 2 and files["none"] == 1  # nothing new undated: that month is untouched
    assert any("appended=1" in r.getMessage() for r in caplog.records if "event=fact_requisition" in r.getMessage())
    lines = _silver_rows(cfg)
    assert len(lines) == len(_distinct_lines([first, second])) == len(first) + 41
    assert _silver_rows(_full_copy(cfg, tmp_path / "full1")) == lines
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", tmp_path / "full1" / "warehouse" / "current.duckdb") >= 20

    # the clock set back a day: the lines of this export would win a full rebuild, so the month is rewritten
    class Earlier(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) - timedelta(days=1)

    third = march[330:360] + [undated.replace(";10;", ";11;", 1)]
    _export(cfg, "suprimentos_c.csv", third)
    with monkeypatch.context() as m:
        m.setattr(ingest_module, "datetime", Earlier)
        assert build(cfg).outcome == "published"
    files = _month_files(cfg)
    assert files["2025-03"] == 1 and files["none"] == 1
    assert _silver_rows(_full_copy(cfg, tmp_path / "full2")) == _silver_rows(cfg)
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", tmp_path / "full2" / "warehouse" / "current.duckdb") >= 20

    # a month served by APPEND_MAX_FILES files is rewritten into one by the next export into it
    monkeypatch.setattr(silver, "APPEND_MAX_FILES", 2)
    _export(cfg, "suprimentos_d.csv", march[360:380])
    assert build(cfg).outcome == "published"
    assert _month_files(cfg)["2025-03"] == 2
    _export(cfg, "suprimentos_e.csv", march[380:400])
    assert build(cfg).outcome == "published"
    assert _month_files(cfg)["2025-03"] == 1
    assert len(_silver_rows(cfg)) == len(_distinct_lines([first, second, third, march[360:400]]))
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb",
                                 _full_copy(cfg, tmp_path / "full3").warehouse / "current.duckdb") >= 20


def test_a_day_in_two_files_of_a_month_is_one_day_of_demand(tmp_path):
    """The window's daily demand reads a month's daily summary as it is (one row per item and day): a line
    of an item and day the month holds already, appended from a later export, is summed with the others
    into the month's one summary file, and adds to that day's row instead of making a second."""
    march = [x for x in LINES if x.split(";")[9].endswith("/03/2025")]
    cfg = make_site(tmp_path / "site")
    _export(cfg, "suprimentos_a.csv", march[:300])
    assert build(cfg).outcome == "published"
    with warehouse(cfg) as con:
        daily = {(i, d.strftime("%d/%m/%Y")): q for i, d, q in con.execute(
            'SELECT item_id, "date", quantity FROM gold.demand_daily').fetchall()}
    line = next(x for x in march[:300] if (x.split(";")[1].strip(), x.split(";")[9]) in daily)
    fields = line.split(";")
    item, day = fields[1].strip(), fields[9]
    fields[5], fields[8] = "7", "9" + fields[8]  # another request of the same item on the same day
    _export(cfg, "suprimentos_b.csv", [";".join(fields)])
    assert build(cfg).outcome == "published"
    assert _month_files(cfg)["2025-03"] == 2
    assert len(SilverStore(cfg.lake).manifest()["tables"]["req_demand"]["2025-03"]) == 1
    with warehouse(cfg) as con:
        rows = con.execute('SELECT quantity FROM gold.demand_daily WHERE item_id = ? AND strftime("date", \'%d/%m/%Y\') = ?',
                           [item, day]).fetchall()
    assert rows == [(daily[(item, day)] + 7,)]
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb",
                                 _full_copy(cfg, tmp_path / "full").warehouse / "current.duckdb") >= 20


def _staged_then_written(monkeypatch) -> None:
    """Supplies exports landed the other way (and the way every lake before this layout holds them):
    checked into a staging table or file, then bronze written from it with occurrence numbers."""
    from dataclasses import replace

    from nova_pipeline.sources import registry

    src = registry.BY_KIND["suprimentos"]
    monkeypatch.setitem(registry.BY_KIND, "suprimentos",
                        replace(src, stage=lambda con, path, staging, mq, bronze: src.stage(con, path, staging, mq, None)))


def _bronze_columns(cfg, name: str) -> set[str]:
    with duckdb.connect() as con:
        path = con.execute(f"SELECT bronze_path FROM '{cfg.lake}/ledger/drops/*.parquet' WHERE file_name = ?",
                           [name]).fetchone()[0]
        return {r[0] for r in con.execute(f"SELECT name FROM parquet_schema('{cfg.lake / path}')").fetchall()}


def test_every_way_of_staging_an_export_gives_the_same_warehouse(tmp_path, monkeypatch):
    """A supplies export is checked straight into its bronze file (every line, rejected ones with their
    reason; silver numbers repeated lines). Checked into an in-memory table or, over IN_MEMORY_BYTES, a
    staging Parquet file, with bronze written from it, gives the same rows, rejects, line numbers and repeats."""
    from nova_pipeline.sources import erp_csv

    bad = [LINES[0], LINES[0], LINES[1].replace(";", ";;", 1), LINES[2].replace(";UN;", ';"UN;', 1),
           ";".join(f if i != 5 else "1.2.3" for i, f in enumerate(LINES[3].split(";")))]
    built = []
    for name, limit, direct in (("direct", erp_csv.IN_MEMORY_BYTES, True), ("memory", erp_csv.IN_MEMORY_BYTES, False),
                                ("file", 0, False)):
        with monkeypatch.context() as m:
            m.setattr(erp_csv, "IN_MEMORY_BYTES", limit)
            if not direct:
                _staged_then_written(m)
            cfg = make_site(tmp_path / name, with_data=True)
            _export(cfg, "suprimentos_bad.csv", bad + LINES[4:40] + LINES[4:6])
            assert build(cfg).outcome == "published"
        assert not list(cfg.lake.joinpath("tmp").glob("*.parquet"))  # the staging file is gone
        assert not list(cfg.lake.rglob(".*.tmp"))
        assert ("reason" in _bronze_columns(cfg, "suprimentos_bad.csv")) is direct
        built.append(cfg.warehouse / "current.duckdb")
    for b in built:
        with duckdb.connect(str(b), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM meta.rejected_rows WHERE file_name = 'suprimentos_bad.csv'").fetchone()[0] == 3
            assert con.execute("SELECT rows_read, rows_loaded FROM meta.source_files "
                               "WHERE file_name = 'suprimentos_bad.csv'").fetchone() == (43, 40)
    # sites built apart: when each drop was received is theirs (meta.source_files, silver's ingested_at)
    for other in built[1:]:
        assert assert_same_warehouse(built[0], other, also_skip=frozenset({("meta", "source_files")}),
                                     ignore=("ingested_at",)) >= 20


def test_one_export_is_served_by_its_bronze_file_and_equals_a_written_silver(tmp_path, monkeypatch):
    """A site's first export (with repeated and rejected lines) is not copied into silver: its bronze file
    serves every month. The lines, their keys and every table equal those of a site whose silver was
    written from the same export (staged, as before bronze held the parsed values)."""
    bad = LINES[5] + ";one field too many"
    export = LINES[:1200] + LINES[:4] + [bad] + LINES[10:12]
    sites = []
    for name, served in (("served", True), ("written", False)):
        cfg = make_site(tmp_path / name)
        with monkeypatch.context() as m:
            if not served:
                _staged_then_written(m)
            _export(cfg, "suprimentos_2025.csv", export)
            assert build(cfg).outcome == "published"
        entries = {f for fs in SilverStore(cfg.lake).manifest()["tables"]["requisition"].values() for f in fs}
        assert all(served_by_bronze(f) for f in entries) is served and len(entries) >= 1
        assert bool(list((cfg.lake / "silver" / "requisition").rglob("*.parquet"))) is not served
        sites.append(cfg)
    rows = [_silver_rows(cfg) for cfg in sites]
    assert rows[0] == rows[1]
    assert len(rows[0]) == len(export) - 1  # the repeated lines stay separate lines; one line rejected
    assert assert_same_warehouse(sites[0].warehouse / "current.duckdb", sites[1].warehouse / "current.duckdb",
                                 also_skip=frozenset({("meta", "source_files")}), ignore=("ingested_at",)) >= 20
    # the next export's new lines are appended to the months they fall in, as a file of their own; the
    # bronze file still serves every month
    daily = [line.replace(line.split(";")[8], "999999", 1) for line in LINES[100:103]]
    _export(sites[0], "suprimentos_daily.csv", daily)
    assert build(sites[0]).outcome == "published"
    after = SilverStore(sites[0].lake).manifest()["tables"]["requisition"]
    assert all(served_by_bronze(fs[0]) for fs in after.values())
    appended = {p for p, fs in after.items() if len(fs) == 2 and not served_by_bronze(fs[1])}
    assert appended and all(len(fs) == 1 for p, fs in after.items() if p not in appended)
    assert len(_silver_rows(sites[0])) == len(_distinct_lines([[line for line in export if line != bad], daily]))


def test_a_lake_of_the_earlier_bronze_layout_keeps_its_keys(tmp_path, monkeypatch):
    """An export landed before this layout (bronze holds loaded rows, numbered at ingestion) and one landed
    after it (numbered by silver) give the very lines of a site that landed both after: a line in both
    is one line, repeated lines stay separate, and `--full` over the mixed lake agrees."""
    first = LINES[:1500] + LINES[:3]                     # three lines twice
    second = LINES[1000:2500] + LINES[1000:1002]         # 500 lines of the first again, two twice
    sites = []
    for name, old_first in (("upgraded", True), ("new", False)):
        cfg = make_site(tmp_path / name)
        with monkeypatch.context() as m:
            if old_first:
                _staged_then_written(m)
            _export(cfg, "suprimentos_a.csv", first)
            assert build(cfg).outcome == "published"
        _export(cfg, "suprimentos_b.csv", second)
        assert build(cfg).outcome == "published"
        assert ("reason" in _bronze_columns(cfg, "suprimentos_a.csv")) is not old_first
        assert "reason" in _bronze_columns(cfg, "suprimentos_b.csv")
        sites.append(cfg)
    rows = [_silver_rows(cfg) for cfg in sites]
    assert rows[0] == rows[1]
    assert len(rows[0]) == len(_distinct_lines([first, second])) > 2500
    assert build(load_config(sites[0].source), full=True).outcome == "published"
    assert _silver_rows(sites[0]) == rows[1]


# Lines whose content hash the check took from the joined fields, not the line: spaces around fields,
# quoted fields holding ';' and '""'; and one of them twice.
UNEVEN = [
    ' BAJSS002-3 ;010825; PREGO 2.1/2 ;MATERIAL CIVIL;L.M.C LEMOS;10;UN;;94657;02/12/2024;02/12/2024',
    'BAJSS002-3;010889;"BARROTE; PINHO ""5x5""";MATERIAL CIVIL;"L.M.C; LEMOS";80;UN;;94589;13/11/2024;02/12/2024',
    'BAJSS002-3;010889;"BARROTE; PINHO ""5x5""";MATERIAL CIVIL;"L.M.C; LEMOS";80;UN;;94589;13/11/2024;02/12/2024',
]


def test_content_hashes_made_in_silver_equal_those_bronze_kept(tmp_path, monkeypatch):
    """Bronze no longer holds a content hash per line (HASH_IN_BRONZE): silver makes it from the fields. An
    export landed with the hashes (as before) and one landed without give the very lines and keys of a
    site that landed both without: a line in both is one line, repeated lines stay separate, uneven and
    quoted lines keep their keys, and `--full` over the mixed lake agrees."""
    from nova_pipeline.sources import erp_csv

    first = LINES[:1500] + UNEVEN + LINES[:3]            # three lines twice
    second = LINES[1000:2500] + UNEVEN[1:] + LINES[1000:1002]
    sites = []
    for name, hashed_first in (("hashed", True), ("new", False)):
        cfg = make_site(tmp_path / name)
        with monkeypatch.context() as m:
            m.setattr(erp_csv, "HASH_IN_BRONZE", hashed_first)
            _export(cfg, "suprimentos_a.csv", first)
            assert build(cfg).outcome == "published"
        assert ("content_hash" in _bronze_columns(cfg, "suprimentos_a.csv")) is hashed_first
        first_keys = _silver_rows(cfg)
        _export(cfg, "suprimentos_b.csv", second)
        assert build(cfg).outcome == "published"
        assert "content_hash" not in _bronze_columns(cfg, "suprimentos_b.csv")
        with warehouse(cfg) as con:
            assert one(con, "SELECT sum(rows_rejected) FROM meta.source_files") == 0
        sites.append((cfg, first_keys))
    assert sites[0][1] == sites[1][1]  # the first export alone: the same keys either way
    rows = [_silver_rows(cfg) for cfg, _ in sites]
    assert rows[0] == rows[1]
    assert len(rows[0]) == len(_distinct_lines([first, second])) > 2500
    # the keys are the md5 of the trimmed fields joined by chr(31), with the occurrence number
    key = next(r[0] for r in rows[0] if r[3] == "PREGO 2.1/2")
    assert key == hashlib.md5("\x1f".join(f.strip() for f in UNEVEN[0].split(";")).encode()).hexdigest() + "-1"
    assert build(load_config(sites[0][0].source), full=True).outcome == "published"
    assert _silver_rows(sites[0][0]) == rows[1]


def _replay_log(caplog) -> tuple[int, int] | None:
    """(items carried, items recomputed) from the build's event=replay_reused line, or None."""
    for r in caplog.records:
        m = re.search(r"event=replay_reused carried=(\d+) recomputed=(\d+)", r.getMessage())
        if m:
            return int(m[1]), int(m[2])
    return None


def _full_copy(cfg, where: Path):
    """A copy of the site rebuilt with --full (the reference an incremental build must equal)."""
    shutil.copytree(cfg.source.parent, where, symlinks=True)
    full_cfg = load_config(where / "config.toml")
    assert build(full_cfg, full=True).outcome == "published"
    return full_cfg


def test_an_ml_drop_reuses_the_replay_and_gives_a_full_rebuilds_answers(tmp_path, caplog):
    """Nothing the service replay reads changes with a new forecast: the build copies the serving
    version's replay (meta.build.replay_inputs and every item's class, lead time, z and level equal),
    and the warehouse equals a full rebuild of the same inputs. A new export recomputes the items it
    requests (and those whose figures it changes) and carries the others: a full rebuild agrees."""
    cfg = make_site(tmp_path / "site", with_data=True)
    assert build(cfg).outcome == "published"
    with duckdb.connect() as con:  # the ML environment's next run: a day later, the forecasts 10 % higher
        con.execute(f"COPY (SELECT * REPLACE (forecast * 1.1 AS forecast, generated_at + INTERVAL 1 DAY AS generated_at, "
                    f"'ensemble-2025.10.2' AS model_version) FROM '{cfg.ml_drops / FORECAST}') "
                    f"TO '{cfg.ml_drops / 'forecast_next.parquet'}' (FORMAT parquet)")
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(cfg).outcome == "published"
    items = _count(cfg, "gold.service_replay_item")
    assert _replay_log(caplog) == (items, 0) and items >= 50
    copy = tmp_path / "copy"
    shutil.copytree(cfg.source.parent, copy, symlinks=True)
    full_cfg = load_config(copy / "config.toml")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(full_cfg, full=True).outcome == "published"
    assert not any("event=replay_reused" in r.getMessage() for r in caplog.records)
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", full_cfg.warehouse / "current.duckdb") >= 20
    # A line of 5,000 padlocks in January 2025: in the replay's year, before the 180-day history window,
    # without a purchase. Item 010013's class, lead time and level stay, but its replay changes: only
    # knowing which items a drop requests (not their figures) recomputes it.
    caplog.clear()
    line = next(x for x in LINES if x.split(";")[1].strip() == "010013").split(";")
    line[5], line[8], line[9], line[10] = "5000", "888888", "15/01/2025", ""
    before = _replay_row(cfg, "010013")
    _export(cfg, "suprimentos_more.csv", [";".join(line)])
    with caplog.at_level(logging.INFO, logger="nova.build"):
        assert build(cfg).outcome == "published"
    after = _replay_row(cfg, "010013")
    assert after[:6] == before[:6] and after[6:] != before[6:]  # same figures, another replay
    carried, recomputed = _replay_log(caplog)
    assert 1 <= recomputed < 20 and carried + recomputed >= items
    full_cfg = _full_copy(cfg, tmp_path / "copy2")
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", full_cfg.warehouse / "current.duckdb") >= 20


def _replay_row(cfg, item: str) -> tuple:
    """The item's figures the replay reads, then its replay (points, points kept)."""
    with duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True) as con:
        return con.execute("SELECT r.as_of, r.demand_class, r.lead_time_days, r.lead_time_std, r.z, r.service_level, "
                           "s.points, s.points_kept FROM gold.reorder_status r JOIN gold.service_replay_item s "
                           "USING (item_id) WHERE item_id = ?", [item]).fetchone()


def _count(cfg, table: str) -> int:
    with duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_the_holiday_calendar_is_kept_while_the_years_stay(tmp_path, monkeypatch):
    """Bahia's holidays are made once for the data's years (the `holidays` library, 0.28 s with its
    import) and copied by the next builds while the years stay; a drop reaching into a new year makes
    them again, and a full rebuild agrees."""
    import holidays

    made = []
    real = holidays.country_holidays
    monkeypatch.setattr(holidays, "country_holidays", lambda *a, **k: made.append(k["years"]) or real(*a, **k))
    cfg = make_site(tmp_path / "site", with_data=True)
    assert build(cfg).outcome == "published" and len(made) == 1
    with duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True) as con:
        first = con.execute('SELECT "date", name FROM meta.holiday_calendar ORDER BY 1').fetchall()
        assert (date(2025, 7, 2), "Bahia Independence Day") in first  # the state's own holiday
    stock_snapshot(cfg.source.parent, "27/10/2025", "010090", "0")
    assert build(cfg).outcome == "published" and len(made) == 1  # copied, not made again
    with duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True) as con:
        assert con.execute('SELECT "date", name FROM meta.holiday_calendar ORDER BY 1').fetchall() == first
        assert con.execute("SELECT count(*) FROM gold.dim_date WHERE is_holiday").fetchone()[0] > 0
    stock_snapshot(cfg.source.parent, "05/01/2026", "010090", "1")  # the data now reaches 2026
    assert build(cfg).outcome == "published" and len(made) == 2 and 2026 in made[-1]
    full_cfg = _full_copy(cfg, tmp_path / "copy")
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", full_cfg.warehouse / "current.duckdb") >= 20


def test_the_requisition_key_check_is_held_or_narrowed_to_the_lines_inserted(tmp_path):
    """gold.fact_requisition's key check (a screen over the window's lines: 0.2-0.3 s at 10M) is not run
    again when the table is the serving version's lines less some, and looks only for the keys of the
    lines inserted when a supplies export adds some: its row in meta.checks says which. `verify` runs
    every check whole."""
    cfg = make_site(tmp_path / "site", with_data=True)
    assert build(cfg).outcome == "published"

    def detail() -> str:
        with duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True) as con:
            return con.execute("SELECT detail FROM meta.checks WHERE name = 'fact_requisition_key' AND passed").fetchone()[0]

    def references() -> set[str]:
        with duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True) as con:
            return {d for (d,) in con.execute("SELECT detail FROM meta.checks WHERE name IN ("
                                              + ", ".join(f"'{n}'" for n in REQUISITION_FKS) + ") AND passed").fetchall()}

    assert "held" not in detail()  # the first build checks
    assert all("held" not in d for d in references()) and len(references()) == 4
    stock_snapshot(cfg.source.parent, "31/10/2025", "010090", "3")  # the window moves on: lines deleted only
    assert build(cfg).outcome == "published"
    assert detail().endswith("(held: v1's lines less some; passed there)")
    # the references too: the dimensions kept every key (a stock snapshot adds to them)
    assert {d.split(" (")[1] for d in references()} == {"held: v1's lines less some, and every key they found; passed there)"}
    lines = demo_file(SUPRIMENTOS).read_bytes().decode("cp1252").splitlines()
    fields = lines[-1].split(";")
    fields[8] = "99999991"  # a new request number: a new line
    write_export(cfg.source.parent / "landing" / "suprimentos_extra.csv", [";".join(fields)], header=lines[0])
    assert build(cfg).outcome == "published"
    assert detail().endswith("(the lines new since v2 against all; the others passed there)")
    assert {d.split(" (")[1] for d in references()} == {
        "the lines new since v2; the others passed there, and every key they found is kept)"}
    full_cfg = _full_copy(cfg, tmp_path / "copy")
    assert assert_same_warehouse(cfg.warehouse / "current.duckdb", full_cfg.warehouse / "current.duckdb") >= 20


def test_a_reference_check_is_held_only_while_its_dimension_keeps_every_key(tmp_path):
    """checks.held_checks holds a reference check of gold.fact_requisition (nothing inserted) only when the
    dimension still holds every key of the serving version's; one that lost a key is run whole. The
    narrowed check (lines inserted) counts an inserted line whose key the dimension lacks, not an old one."""
    from nova_pipeline.checks import held_checks, new_refs_check, run_checks

    cfg = make_site(tmp_path / "site", with_data=True)
    assert build(cfg).outcome == "published"
    served = cfg.warehouse / "current.duckdb"
    work = tmp_path / "work.duckdb"
    shutil.copy(served, work)
    with duckdb.connect(str(work)) as con:
        con.execute(f"ATTACH '{served}' AS prev (READ_ONLY)")
        depot = con.execute("SELECT depot FROM gold.fact_requisition WHERE depot IS NOT NULL LIMIT 1").fetchone()[0]
        held, narrowed = held_checks(con, "false")
        assert set(held) == {"fact_requisition_key", *REQUISITION_FKS} and narrowed == {}
        con.execute("DELETE FROM gold.dim_depot WHERE depot = ?", [depot])  # the dimension lost a key
        held, narrowed = held_checks(con, "false")
        assert "requisition_depot_exists" not in held and "requisition_item_exists" in held
        found = {r[0]: r for r in run_checks(con, held=held, narrowed=narrowed)}
        assert found["requisition_depot_exists"][2] is False  # run whole: the lines of that depot count
        held, narrowed = held_checks(con, "source_file = 'new.csv'")
        assert held == {} and "requisition_depot_exists" not in narrowed and "requisition_item_exists" in narrowed
        # the narrowed check: an inserted line without its item counts; an old line without it does not
        con.execute("INSERT INTO gold.fact_requisition SELECT * REPLACE ('old.csv' AS source_file, 'NO-SUCH-ITEM' AS item_id) "
                    "FROM gold.fact_requisition LIMIT 1")
        only_new = {"requisition_item_exists": (new_refs_check("requisition_item_exists", "source_file = 'new.csv'"), "new")}
        assert {r[0]: r[2] for r in run_checks(con, narrowed=only_new)}["requisition_item_exists"] is True
        con.execute("INSERT INTO gold.fact_requisition SELECT * REPLACE ('new.csv' AS source_file, 'NO-SUCH-ITEM' AS item_id, "
                    "md5('y') AS requisition_key) FROM gold.fact_requisition LIMIT 1")
        found = {r[0]: r for r in run_checks(con, narrowed=only_new)}
        assert found["requisition_item_exists"][3].startswith("1 offending row(s)")
        assert {r[0]: r for r in run_checks(con)}["requisition_item_exists"][3].startswith("2 offending row(s)")


def test_the_narrowed_key_check_finds_a_new_line_whose_key_an_old_line_holds(tmp_path):
    """new_keys_check (the key check of a build that inserted lines) counts a key held by an inserted
    line and an old one, and an inserted line without a quantity; it does not look at old lines alone."""
    from nova_pipeline.checks import new_keys_check, run_checks

    cfg = make_site(tmp_path / "site", with_data=True)
    assert build(cfg).outcome == "published"
    with duckdb.connect(str(cfg.warehouse / "current.duckdb")) as con:
        new = "source_file = 'new.csv'"
        narrowed = {"fact_requisition_key": (new_keys_check(new), "new lines")}
        assert dict((r[0], r[2]) for r in run_checks(con, narrowed=narrowed))["fact_requisition_key"] is True
        con.execute("INSERT INTO gold.fact_requisition SELECT * REPLACE ('new.csv' AS source_file) "
                    "FROM gold.fact_requisition LIMIT 1")  # a new line with an old line's key
        con.execute("INSERT INTO gold.fact_requisition SELECT * REPLACE ('old.csv' AS source_file) "
                    "FROM gold.fact_requisition WHERE source_file <> 'new.csv' LIMIT 1 OFFSET 5")  # old lines alone
        con.execute("INSERT INTO gold.fact_requisition SELECT * REPLACE ('new.csv' AS source_file, md5('x') AS "
                    "requisition_key, NULL AS quantity) FROM gold.fact_requisition LIMIT 1")
        found = {r[0]: r for r in run_checks(con, narrowed=narrowed)}
        assert found["fact_requisition_key"][2] is False
        assert found["fact_requisition_key"][3] == ("2 offending row(s): gold.fact_requisition: key unique, item and "
                                                    "quantity present (new lines)")
        whole = {r[0]: r for r in run_checks(con)}  # verify's check sees the old lines' repeat too
        assert whole["fact_requisition_key"][3].startswith("3 offending row(s)")
