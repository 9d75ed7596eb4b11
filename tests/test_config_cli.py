"""Config validation and lookup; the CLI's messages and exit codes; import hygiene."""
import subprocess
import sys

import pytest
from conftest import REPO, run_cli

from nova_pipeline.config import load_config
from nova_pipeline.errors import ConfigError


def _write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text,message", [
    ("[paths]\nlandng = 'x'\n", "unknown key [paths] landng"),
    ("[reorder]\nhistory_days = '180'\n", "[reorder] history_days must be a int, got '180'"),
    ("[reorder]\nservice_level = true\n", "[reorder] service_level must be a float"),
    ("[reorder]\nservice_level = 1.5\n", "service_level must be at least 0.5 and below 1"),
    ("[nope]\na = 1\n", "unknown section [nope]"),
    ("[paths\n", "not valid TOML"),
], ids=["unknown-key", "wrong-type", "bool-for-float", "range", "unknown-section", "bad-toml"])
def test_config_errors_name_the_file_and_key(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_repository_config_is_valid_and_documents_every_default():
    cfg = load_config(REPO / "config.toml")
    text = (REPO / "config.toml").read_text()
    for section, keys in cfg.values.items():
        assert f"[{section}]" in text
        for key, value in keys.items():
            assert f"{key} = " in text, key


def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    path = _write(tmp_path, "[paths]\nlake = 'data/lake'\n")
    monkeypatch.chdir("/")
    cfg = load_config(path)
    assert cfg.lake == tmp_path / "data" / "lake" and cfg.landing == tmp_path / "landing"


def test_lookup_order(tmp_path, monkeypatch):
    env_cfg = _write(tmp_path, "[reorder]\nreview_days = 3\n")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "config.toml").write_text("[reorder]\nreview_days = 5\n")
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("NOVA_CONFIG", str(env_cfg))
    assert load_config().get("reorder", "review_days") == 3
    assert load_config(cwd / "config.toml").get("reorder", "review_days") == 5
    monkeypatch.delenv("NOVA_CONFIG")
    assert load_config().get("reorder", "review_days") == 5


def test_cli_without_config_says_what_to_do(tmp_path):
    result = run_cli("build", cwd=tmp_path, env={"NOVA_CONFIG": ""})
    assert result.returncode == 1
    assert "no config file" in result.stderr and "nova-pipeline demo" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_build_then_status_then_verify(tmp_path):
    site = tmp_path / "site"
    demo = run_cli("demo", str(site))
    assert demo.returncode == 0 and "published v1" in demo.stdout
    again = run_cli("--config", str(site / "config.toml"), "build")
    assert again.returncode == 0 and "nothing new: v1 keeps serving" in again.stdout
    status = run_cli("--config", str(site / "config.toml"), "status")
    assert status.returncode == 0
    assert "as of       2025-10-24" in status.stdout and "rejected files (0)" in status.stdout
    assert "stockout" in status.stdout
    verify = run_cli("--config", str(site / "config.toml"), "verify")
    assert verify.returncode == 0 and "verified" in verify.stdout


def test_verify_fails_on_a_file_that_is_not_a_complete_warehouse(tmp_path):
    import duckdb
    bad = tmp_path / "half.duckdb"
    con = duckdb.connect(str(bad))
    con.execute("CREATE SCHEMA gold; CREATE TABLE gold.dim_item (item_id VARCHAR)")
    con.close()
    (tmp_path / "config.toml").write_text("")
    result = run_cli("--config", str(tmp_path / "config.toml"), "verify", str(bad))
    assert result.returncode == 1 and "not a Nova Corrente warehouse: no meta.build table (it holds gold schema(s))" \
        in result.stdout
    assert "Catalog Error" not in result.stdout  # one clear line, not one per check


def test_status_without_a_warehouse_says_what_to_do(tmp_path):
    (tmp_path / "config.toml").write_text("")
    result = run_cli("--config", str(tmp_path / "config.toml"), "status")
    assert result.returncode == 1 and "run `nova-pipeline build`" in result.stderr


def test_help_explains_commands_and_exit_codes():
    result = run_cli("--help")
    assert result.returncode == 0
    for word in ("build", "status", "verify", "demo", "exit codes", "NOVA_CONFIG"):
        assert word in result.stdout


def test_importing_the_pipeline_does_not_load_textual():
    code = "import sys, nova_pipeline.cli, nova_pipeline.build, nova_pipeline.status; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_docs_describe_every_table():
    from nova_pipeline.catalog import TABLES
    doc = (REPO / "docs" / "warehouse.md").read_text()
    for table in TABLES:
        assert f"`{table}`" in doc


def test_unexpected_errors_are_one_line_not_a_traceback(tmp_path):
    (tmp_path / "config.toml").write_text("")
    (tmp_path / "warehouse").mkdir()
    (tmp_path / "warehouse" / "junk.duckdb").write_bytes(b"not a database at all" * 100)
    result = run_cli("--config", str(tmp_path / "config.toml"), "verify", str(tmp_path / "warehouse" / "junk.duckdb"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("nova-pipeline: ") and len(result.stderr.strip().splitlines()) == 1


def test_build_off_a_terminal_logs_progress_as_key_value_lines(tmp_path):
    result = run_cli("demo", str(tmp_path / "site"))
    lines = result.stderr.splitlines()
    assert any("level=info event=progress stage=land done=8 total=8" in line for line in lines)
    assert any("event=published version=1" in line for line in lines)
    assert all(" level=" in line for line in lines)  # nothing but log lines, no bar, no traceback
    assert "\x1b[" not in result.stderr


def test_build_on_a_terminal_shows_a_progress_bar_with_logs_above_it(tmp_path):
    import os
    import pty
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "nova_pipeline", "demo", str(tmp_path / "site")],
                            stdout=subprocess.PIPE, stderr=slave, text=True, env={**os.environ, "COLUMNS": "120"})
    os.close(slave)
    chunks = []

    def drain():  # read while the build runs, so a full pty buffer never blocks it
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    import threading
    reader = threading.Thread(target=drain)
    reader.start()
    out, _ = proc.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0 and "published v1" in out
    assert "rebuilding silver and gold" in screen and "100%" in screen
    assert "event=published version=1" in screen
