"""Publishing: atomic versions, retention, blocked builds, SIGKILL at any point, readers through publishes."""
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import STOCK_HEADER, run_cli, write_export
from helpers import lake_lines, one, warehouse

from nova_pipeline import checks
from nova_pipeline import publish
from nova_pipeline.build import build
from nova_pipeline.checks import Check
from nova_pipeline.cli import main
from nova_pipeline.config import load_config
from nova_pipeline.publish import current_version, versions


def _snapshot(cfg, day: int):
    write_export(cfg.landing / f"estoque_2025-11-{day:02d}.csv",
                 [f"ALMOX-BA;012028;CORDOALHA;UN;{day};0;{day:02d}/11/2025"], header=STOCK_HEADER)


def test_versions_are_numbered_and_current_is_a_symlink(demo_site):
    build(demo_site)
    _snapshot(demo_site, 1)
    result = build(demo_site)
    assert result.version == 2
    link = demo_site.warehouse / "current.duckdb"
    assert link.is_symlink() and os.readlink(link) == "nova_v000002.duckdb"
    with warehouse(demo_site) as con:
        assert con.execute("SELECT version, previous_version FROM meta.build").fetchone() == (2, 1)
        assert str(one(con, "SELECT as_of FROM meta.build")) == "2025-11-01"
        assert one(con, "SELECT count(*) FROM meta.build_history") == 2
    assert not list(demo_site.warehouse.glob(".building-*"))


def test_a_build_says_where_its_time_went(demo_site):
    """meta.build_stages holds each stage up to the checks, in order; last_build.json (and `status`) every
    stage, writing and publishing the file too, and together they are the build's time."""
    first = build(demo_site)
    _snapshot(demo_site, 1)
    second = build(demo_site)  # carries the serving version's tables: its copy is a stage of its own
    inside = ["land", "copy", "silver", "gold", "replay", "checks"]
    for result in (first, second):
        with warehouse(demo_site, demo_site.warehouse / f"nova_v{result.version:06d}.duckdb") as con:
            rows = con.execute("SELECT step, stage, seconds FROM meta.build_stages ORDER BY step").fetchall()
        assert [(step, stage) for step, stage, _ in rows] == list(enumerate(inside, 1))
        assert all(s >= 0 for *_, s in rows) and sum(s for *_, s in rows) <= result.seconds
        assert list(result.stages) == inside + ["write", "publish"]
        assert abs(sum(result.stages.values()) - result.seconds) < 0.05
    assert second.stages["copy"] > 0
    last = json.loads((demo_site.warehouse / "last_build.json").read_text())
    assert last["stages"] == second.stages
    out = run_cli("--config", str(demo_site.source), "status").stdout
    assert re.search(r"stages +land \d+\.\d\d s, copy \d+\.\d\d s, silver .*, publish \d+\.\d\d s", out), out


def test_retention_keeps_the_newest_versions(demo_site):
    (demo_site.source).write_text(demo_site.source.read_text() + "\n[publish]\nretention = 2\n")
    cfg = load_config(demo_site.source)
    build(cfg)
    for day in (1, 2, 3):
        _snapshot(cfg, day)
        build(cfg)
    assert versions(cfg.warehouse) == [3, 4] and current_version(cfg.warehouse) == 4


def test_a_failing_error_check_blocks_publication_and_the_previous_version_serves(demo_site, monkeypatch, capsys):
    build(demo_site)
    _snapshot(demo_site, 1)
    monkeypatch.setattr(checks, "CHECKS", checks.CHECKS + (Check("always_fails", "error", "SELECT 1", "test"),))
    assert main(["--config", str(demo_site.source), "build"]) == 2
    assert "blocked by failed checks (always_fails); v1 keeps serving" in capsys.readouterr().err
    assert current_version(demo_site.warehouse) == 1 and versions(demo_site.warehouse) == [1]
    monkeypatch.setattr(checks, "CHECKS", checks.CHECKS[:-1])
    # the blocked drop is not lost: once the checks pass, the next build publishes it
    assert build(demo_site).outcome == "published"
    with warehouse(demo_site) as con:
        assert str(one(con, "SELECT as_of FROM meta.build")) == "2025-11-01"


def test_duplicate_keys_are_counted_exactly_behind_the_hash_screen(built_demo, tmp_path):
    """The key checks of the big tables first compare the count of rows with the count of distinct key
    hashes; the exact GROUP BY must still run and count the offending keys when that screen is not 0."""
    import shutil

    import duckdb

    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(publish.version_file(built_demo.warehouse, current_version(built_demo.warehouse)), copy)
    con = duckdb.connect(str(copy))
    try:
        passed = {name: ok for name, _, ok, _ in checks.run_checks(con)}
        assert passed["fact_requisition_key"] and passed["fact_stock_key"] and passed["fact_forecast_key"]
        for _ in range(2):  # one key three times, two more twice: 3 offending keys (the screen says 4)
            con.execute("INSERT INTO gold.fact_requisition SELECT * FROM gold.fact_requisition "
                        "WHERE requisition_key IN (SELECT min(requisition_key) FROM gold.fact_requisition)")
        con.execute("INSERT INTO gold.fact_requisition SELECT * FROM gold.fact_requisition "
                    "WHERE requisition_key IN (SELECT requisition_key FROM gold.fact_requisition ORDER BY requisition_key DESC LIMIT 2)")
        con.execute("INSERT INTO gold.fact_stock SELECT * FROM gold.fact_stock LIMIT 1")
        con.execute("UPDATE gold.fact_forecast SET dataset_id = NULL WHERE rowid < 2")  # NULL in a key column
        con.execute("INSERT INTO gold.fact_forecast SELECT * FROM gold.fact_forecast WHERE rowid = 0")
        found = {name: (ok, detail) for name, _, ok, detail in checks.run_checks(con)}
    finally:
        con.close()
    assert found["fact_requisition_key"] == (False, "3 offending row(s): gold.fact_requisition: key unique, item and quantity present")
    assert found["fact_stock_key"][0] is False and found["fact_stock_key"][1].startswith("1 offending")
    assert found["fact_forecast_key"][0] is False and found["fact_forecast_key"][1].startswith("1 offending")


@pytest.mark.parametrize("delay", [0.05, 0.25, 0.45, 0.65, 0.85, 1.1])
def test_sigkill_at_any_point_leaves_current_good_and_loses_nothing(demo_site, delay):
    assert run_cli("--config", str(demo_site.source), "build").returncode == 0
    _snapshot(demo_site, 1)
    write_export(demo_site.landing / "suprimentos_extra.csv",
                 ["ALMOX-BA;777777;NOVO;EPI;F;3;UN;;1;01/11/2025;02/11/2025"])
    proc = subprocess.Popen([sys.executable, "-m", "nova_pipeline", "--config", str(demo_site.source), "build"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    verify = run_cli("--config", str(demo_site.source), "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    again = run_cli("--config", str(demo_site.source), "build")
    assert again.returncode == 0, again.stderr
    with warehouse(demo_site) as con:
        assert one(con, "SELECT count(*) FROM meta.source_files WHERE status = 'loaded'") == 10  # 8 demo drops, the snapshot of _snapshot and the extra export
        assert str(one(con, "SELECT as_of FROM meta.build")) == "2025-11-01"
    with lake_lines(demo_site) as lake:  # the killed build's merge is never half kept: every line once
        assert one(lake, "SELECT count(*) FROM lines") == 4208
        assert one(lake, "SELECT count(DISTINCT requisition_key) FROM lines") == 4208
    assert not list(demo_site.warehouse.glob(".building-*"))
    # whenever the kill came (even between renaming v2 and swapping current), v2 is the one new version
    assert publish.versions(demo_site.warehouse) == [1, 2] and publish.current_version(demo_site.warehouse) == 2
    assert run_cli("--config", str(demo_site.source), "verify").returncode == 0


READER = textwrap.dedent("""
    import sys, time, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    import os
    queries = errors = 0
    seen = set()
    while not os.path.exists(stop):
        try:
            con = duckdb.connect(path, read_only=True)
            seen.add(con.execute("SELECT version FROM meta.build").fetchone()[0])
            con.execute("SELECT count(*), sum(reorder_point) FROM gold.reorder_status").fetchone()
            con.close()
            queries += 1
        except Exception as exc:
            errors += 1
            print("error", exc, file=sys.stderr)
    print(queries, errors, len(seen))
""")


def test_a_reader_keeps_working_through_five_publishes(demo_site, tmp_path):
    build(demo_site)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(demo_site.warehouse / "current.duckdb"), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for day in range(1, 6):
        _snapshot(demo_site, day)
        assert build(demo_site).outcome == "published"
        time.sleep(0.2)
    stop.touch()
    out, err = reader.communicate(timeout=30)
    queries, errors, seen = map(int, out.split())
    assert errors == 0, err
    assert queries > 5 and seen >= 2
    assert current_version(demo_site.warehouse) == 6
