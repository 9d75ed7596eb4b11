"""`nova-tui` as a command: report without the UI, help, config errors, and import hygiene."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent


def nova_tui(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nova_tui", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=60)


def test_report_reorder_json_matches_the_warehouse(tui_site):
    result = nova_tui("--config", str(tui_site / "config.toml"), "report", "reorder", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["version"] == 2 and data["as_of"] == "2025-10-25"
    con = duckdb.connect(str(tui_site / "warehouse" / "nova_v000002.duckdb"), read_only=True)
    expected = dict(con.execute("SELECT item_id, suggested_order_qty FROM gold.reorder_status").fetchall())
    con.close()
    assert {r["item_id"]: r["suggested_order_qty"] for r in data["reorder"]} == expected
    assert data["reorder"][0]["status"] == "stockout"


def test_report_freshness_text_and_csv(tui_site):
    text = nova_tui("--config", str(tui_site / "config.toml"), "report", "freshness")
    assert text.returncode == 0, text.stderr
    assert "rejected (1)" in text.stdout and "suprimentos_corrompido.csv" in text.stdout
    as_csv = nova_tui("--config", str(tui_site / "config.toml"), "report", "freshness", "--format", "csv")
    rows = list(csv.reader(io.StringIO(as_csv.stdout), delimiter=";"))
    assert rows[0][:3] == ["kind", "status", "file_name"]
    assert {r[0] for r in rows[1:8]} == {"estoque", "forecast", "suprimentos", "external_ipca", "external_ptax",
                                         "external_selic", "external_weather"}
    limits = {r[0]: r[rows[0].index("limit_hours")] for r in rows[1:8]}
    assert limits["external_ipca"] == "48" and limits["forecast"] == "192"


def test_report_an_older_version(tui_site):
    result = nova_tui("--config", str(tui_site / "config.toml"), "--version", "1", "report", "reorder")
    assert result.returncode == 0 and "v1 · as of 2025-10-24" in result.stdout


def test_report_without_a_warehouse_says_what_to_do(tmp_path):
    (tmp_path / "config.toml").write_text('[paths]\nwarehouse = "wh"\n')
    result = nova_tui("--config", str(tmp_path / "config.toml"), "report", "reorder")
    assert result.returncode == 1
    assert "No warehouse yet" in result.stderr and "nova-pipeline build" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_errors_name_the_file_and_key(tmp_path):
    (tmp_path / "config.toml").write_text('[freshness]\nestoque_hours = "two days"\n')
    result = nova_tui("--config", str(tmp_path / "config.toml"), "report", "freshness")
    assert result.returncode == 2
    assert "config.toml: [freshness] estoque_hours must be int" in result.stderr


def test_help_lists_the_keys_and_reports():
    result = nova_tui("--help")
    assert result.returncode == 0
    for words in ("--warehouse FILE", "--version N", "e export CSV", "report reorder"):
        assert words in result.stdout


def test_pipeline_never_loads_textual_and_dashboard_never_loads_the_pipeline():
    probe = ("import sys, nova_pipeline.cli, nova_pipeline.build, nova_pipeline.status;"
             "print('textual' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "False"
    probe = ("import sys, nova_tui.cli, nova_tui.app;"
             "print(any(m.startswith('nova_pipeline') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "False"
    offenders = [p.name for p in (REPO / "nova_tui").rglob("*.py") if "nova_pipeline" in p.read_text()]
    assert offenders == []


def test_report_does_not_load_textual():
    probe = "import sys, nova_tui.cli, nova_tui.report; print('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "False"
