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
    assert {r[0] for r in rows[1:9]} == {"estoque", "forecast", "suprimentos", "external_ipca", "external_ptax",
                                         "external_selic", "external_weather", "parametros"}
    limits = {r[0]: r[rows[0].index("limit_hours")] for r in rows[1:9]}
    assert limits["external_ipca"] == "48" and limits["forecast"] == "192" and limits["parametros"] == "8760"


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


# -- issue 13: reports an operator mails, and messages that say what is wrong ----------------------
def test_report_changes_and_options_after_the_subcommand(tui_site):
    result = nova_tui("report", "changes", "--config", str(tui_site / "config.toml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["version"] == 2 and data["previous_version"] == 1
    con = duckdb.connect(str(tui_site / "warehouse" / "nova_v000002.duckdb"), read_only=True)
    expected = con.execute("SELECT item_id, change, detail FROM gold.reorder_changes ORDER BY ALL").fetchall()
    con.close()
    assert sorted((c["item_id"], c["change"], c["detail"]) for c in data["changes"]) == expected
    text = nova_tui("report", "changes", "--config", str(tui_site / "config.toml"), "--version", "2")
    assert text.returncode == 0 and "since v1" in text.stdout and "WORSE" in text.stdout and "ok → stockout" in text.stdout
    first = nova_tui("report", "changes", "--version", "1", "--config", str(tui_site / "config.toml"))
    assert "the first version: nothing to compare with" in first.stdout and "changes: none" in first.stdout


def test_report_reorder_has_unit_supplier_and_the_decision_dates(tui_site):
    result = nova_tui("report", "reorder", "--format", "csv", "--config", str(tui_site / "config.toml"))
    rows = list(csv.DictReader(io.StringIO(result.stdout), delimiter=";"))
    con = duckdb.connect(str(tui_site / "warehouse" / "nova_v000002.duckdb"), read_only=True)
    expected = {r[0]: r[1:] for r in con.execute(
        "SELECT item_id, unit, supplier, order_by_date::VARCHAR, runout_date::VARCHAR, runs_out_before_delivery "
        "FROM gold.reorder_status").fetchall()}
    con.close()
    assert len(rows) == len(expected)
    for r in rows:
        unit, supplier, order_by, runout, late = expected[r["item_id"]]
        assert (r["unit"], r["supplier"], r["order_by_date"], r["runout_date"]) == \
            (unit or "", supplier or "", order_by or "", runout or "")
        assert r["runs_out_before_delivery"] == ("true" if late else "false")
    assert rows[0]["change"] == "" or rows[0]["status"] == "stockout"


def test_report_says_when_the_data_is_stale(tui_site):
    result = nova_tui("report", "reorder", "--config", str(tui_site / "config.toml"))
    assert "VERY STALE DATA · as of 2025-10-25" in result.stdout.splitlines()[1]  # the real clock: a year on


def test_files_that_are_not_warehouses_get_plain_messages(tmp_path, tui_site):
    csv_file = tmp_path / "suprimentos.csv"
    csv_file.write_text("DEPÓSITO;PRODUTO/SERVIÇO\nA;1\n", encoding="utf-8")
    result = nova_tui("report", "reorder", "--warehouse", str(csv_file))
    assert result.returncode == 1 and "Not a warehouse file" in result.stderr and "looks like text" in result.stderr
    assert "in-memory" not in result.stderr
    result = nova_tui("report", "reorder", "--warehouse", str(tui_site / "warehouse"))
    assert result.returncode == 1 and "That is a folder" in result.stderr
    assert f"--warehouse {tui_site / 'warehouse' / 'current.duckdb'}" in result.stderr
    locked = tmp_path / "locked.duckdb"
    locked.write_bytes((tui_site / "warehouse" / "nova_v000002.duckdb").read_bytes())
    locked.chmod(0o000)
    as_service = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    result = subprocess.run([*as_service, sys.executable, "-m", "nova_tui", "report", "reorder", "--warehouse",
                             str(locked)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Permission denied" in result.stderr, result.stderr
    assert "not a warehouse" not in result.stderr.lower()


def test_verify_on_a_foreign_duckdb_file_is_one_clear_line(tmp_path):
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE t (a INTEGER)")
    con.close()
    result = subprocess.run([sys.executable, "-m", "nova_pipeline", "verify", str(foreign)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "Catalog Error" not in result.stdout + result.stderr
    assert f"{foreign}: not a Nova Corrente warehouse: no meta.build table" in result.stdout


def test_report_from_the_repository_after_make_demo_points_at_the_demo(tmp_path):
    (tmp_path / "config.toml").write_text('[paths]\nwarehouse = "warehouse"\n')
    (tmp_path / "demo-site").mkdir()
    (tmp_path / "demo-site" / "config.toml").write_text("")
    result = nova_tui("report", "reorder", cwd=tmp_path)
    assert result.returncode == 1 and "nova-tui --config demo-site/config.toml" in result.stderr


def test_rows_read_in_batches_share_repeated_values_and_equal_the_query():
    """slot_rows over more than one fetch batch: every value equals DuckDB's, and a column with few
    distinct values holds one object per value across the batches."""
    from nova_tui.slot_rows import slot_rows

    con = duckdb.connect()
    try:
        sql = ("SELECT i AS n, 'item ' || i AS item_id, ['stockout', 'ok'][i % 2 + 1] AS status, "
               "DATE '2025-10-31' AS as_of, (i % 7) * 1.5 AS z, i * 0.25 AS qty FROM range(7000) t(i) ORDER BY i")
        rows = slot_rows(con, sql)
        expected = con.execute(sql).fetchall()
    finally:
        con.close()
    names = ("n", "item_id", "status", "as_of", "z", "qty")
    assert [tuple(r[k] for k in names) for r in rows] == expected
    for column in ("status", "as_of", "z"):
        assert len({id(r[column]) for r in rows}) == len({r[column] for r in rows}), column
