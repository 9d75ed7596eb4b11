"""`status --check` for monitoring and `rollback vN`, run as commands on real sites."""
from __future__ import annotations

import shutil

import duckdb

from conftest import run_cli, stock_snapshot


def copy_site(src, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(src, site, symlinks=True)
    return site


def check(site):
    result = run_cli("--config", str(site / "config.toml"), "status", "--check")
    assert len(result.stdout.strip().splitlines()) == 1, result.stdout
    return result.returncode, result.stdout.strip()


def allow_old_data(site, days: int = 100_000, critical: int = 100_000):
    """The bundled data is as of 2025-10-24; tests about other things accept its age."""
    config = site / "config.toml"
    assert "[freshness]" not in config.read_text()
    config.write_text(config.read_text() + f"\n[freshness]\nas_of_days = {days}\nas_of_critical_days = {critical}\n")


def test_check_ok_on_a_fresh_build(built_demo, tmp_path):
    site = copy_site(built_demo.source.parent, tmp_path)
    allow_old_data(site)
    code, line = check(site)
    assert code == 0 and line.startswith("NOVA OK - v1 as of 2025-10-24"), line


def test_check_says_old_data_is_stale_whatever_the_files_ages(built_demo, tmp_path):
    """Every file was received just now, yet the data is as of 2025-10-24: that is stale data."""
    from datetime import date

    from nova_pipeline.status import plant_today

    site = copy_site(built_demo.source.parent, tmp_path)
    age = (plant_today() - date(2025, 10, 24)).days
    code, line = check(site)  # the defaults: stale past 3 days, critical past 14
    assert code == 2 and f"data as of 2025-10-24 is {age} d old (> 14 d)" in line, line
    config = (site / "config.toml").read_text()
    allow_old_data(site, days=age - 1, critical=age + 10)
    code, line = check(site)
    assert code == 1 and f"NOVA WARNING - v1 as of 2025-10-24: data as of 2025-10-24 is {age} d old (> {age - 1} d)" == line
    status = run_cli("--config", str(site / "config.toml"), "status").stdout
    assert f"as of       2025-10-24 ({age} d old — STALE: older than {age - 1} d" in status
    assert "times are plant time (America/Bahia)" in status
    (site / "config.toml").write_text(config)


def test_check_warns_when_the_newest_drop_was_rejected(built_demo, tmp_path):
    site = copy_site(built_demo.source.parent, tmp_path)
    allow_old_data(site)
    (site / "landing" / "suprimentos_truncado.csv").write_bytes(b"\x00\x01garbage")
    assert run_cli("--config", str(site / "config.toml"), "build").returncode == 0
    code, line = check(site)
    assert code == 1 and "NOVA WARNING" in line and "landing/suprimentos_truncado.csv" in line


def test_check_is_critical_when_sources_are_long_stale(tui_site_copy):
    code, line = check(tui_site_copy)  # its files were received in October 2025
    assert code == 2 and "NOVA CRITICAL" in line and "estoque stale" in line


def test_check_is_critical_without_a_warehouse(tmp_path):
    (tmp_path / "config.toml").write_text("")
    code, line = check(tmp_path)
    assert code == 2 and "no warehouse" in line


def test_rollback_points_current_at_an_older_version_and_says_so(tui_site_copy):
    site = tui_site_copy
    result = run_cli("--config", str(site / "config.toml"), "rollback", "v1")
    assert result.returncode == 0 and "rolled back from v2" in result.stdout
    assert (site / "warehouse" / "current.duckdb").resolve().name == "nova_v000001.duckdb"
    con = duckdb.connect(str(site / "warehouse" / "current.duckdb"), read_only=True)
    assert con.execute("SELECT version, rolled_back_from FROM meta.build").fetchone() == (1, 2)
    con.close()
    assert run_cli("--config", str(site / "config.toml"), "verify").returncode == 0
    # the next build goes on top of what is serving, with a new number
    stock_snapshot(site, "27/10/2025", "010004", "9")
    assert run_cli("--config", str(site / "config.toml"), "build").returncode == 0
    con = duckdb.connect(str(site / "warehouse" / "current.duckdb"), read_only=True)
    assert con.execute("SELECT version, previous_version, rolled_back_from FROM meta.build").fetchone() == (3, 1, None)
    con.close()


def test_rollback_to_a_version_that_is_not_kept(tui_site_copy):
    site = tui_site_copy
    result = run_cli("--config", str(site / "config.toml"), "rollback", "v7")
    assert result.returncode == 1 and "versions kept: v1, v2" in result.stderr


def test_status_shows_disk_use_and_check_warns_before_the_disk_is_full(built_demo, tmp_path):
    import shutil as sh

    site = copy_site(built_demo.source.parent, tmp_path)
    allow_old_data(site)
    status = run_cli("--config", str(site / "config.toml"), "status").stdout
    line = next(x for x in status.splitlines() if x.startswith("disk "))
    assert "lake " in line and "versions " in line and "quarantine " in line and "free where the warehouse is" in line
    free_mb = sh.disk_usage(site / "warehouse").free / 2**20
    config = site / "config.toml"
    base = config.read_text()
    config.write_text(base + f"\n[disk]\nwarn_free_mb = {int(free_mb * 4)}\ncritical_free_mb = 1\n")
    code, text = check(site)
    assert code == 1 and "MB free where the warehouse is (< " in text, text
    config.write_text(base + f"\n[disk]\nwarn_free_mb = {int(free_mb * 4)}\ncritical_free_mb = {int(free_mb * 2)}\n")
    code, text = check(site)
    assert code == 2 and "NOVA CRITICAL" in text and "MB free where the warehouse is" in text, text
    config.write_text(base)
    assert check(site)[0] == 0
