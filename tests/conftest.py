"""Fixtures: real site folders built by the real pipeline on the bundled data."""
from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nova_pipeline.config import load_config
from nova_pipeline.demo import ESTOQUE, FORECAST, SUPRIMENTOS, demo_file, make_demo

REPO = Path(__file__).resolve().parent.parent
REPLAY_SERVER = Path(__file__).resolve().parent / "replay_server.py"
HEADER = "DEPÓSITO;PRODUTO/SERVIÇO;MATERIAL;FAMÍLIA;NOME FORNEC.;QUANTIDADE;U.M.;DATA REQUISITADA;SOLICITAÇÃO;DATA SOLICITADO;DATA DE COMPRA"
STOCK_HEADER = "DEPÓSITO;PRODUTO;DESCRIÇÃO;U.M.;SALDO;EM PEDIDO;DATA POSIÇÃO"


def write_export(path: Path, lines: list[str], header: str = HEADER, encoding: str = "cp1252") -> Path:
    """Write an ERP-style export: the given encoding, CRLF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join([header, *lines]) + "\r\n").encode(encoding))
    return path


def make_site(root: Path, with_data: bool = False):
    """An empty site (config + folders); with_data adds the bundled real drops."""
    if with_data:
        return make_demo(root)
    for sub in ("landing", "ml_drops", "lake", "warehouse", "exports"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    # The test data is dated 2025: its age is accepted here; tests of the as-of check set their own limits.
    (root / "config.toml").write_text('[paths]\nlanding = "landing"\n\n[freshness]\nas_of_days = 100000\n'
                                      'as_of_critical_days = 100000\n', encoding="utf-8")
    return load_config(root / "config.toml")


@contextmanager
def lock_holder(warehouse: Path):
    """Another process holding the warehouse's build lock until the block ends (stopped by closing its stdin)."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys; from pathlib import Path; from nova_pipeline.publish import BuildLock\n"
        f"with BuildLock(Path({str(warehouse)!r})):\n"
        "    print('held', flush=True); sys.stdin.read()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.stdin.close()
        holder.wait(10)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nova_pipeline", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture(autouse=True)
def _nova_logging_restored():
    """cli.main() sets the "nova" logger up for its process: a handler on that test's stderr and no
    propagation to the root logger. Called in-process by a test, it must not stay for the next test on the
    worker, whose caplog would then see no line at all (and whose lines would go to a closed stream)."""
    nova = logging.getLogger("nova")
    handlers, propagate, level = nova.handlers[:], nova.propagate, nova.level
    yield
    nova.handlers[:] = handlers
    nova.propagate = propagate
    nova.setLevel(level)


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path / "site")


@pytest.fixture
def demo_site(tmp_path):
    return make_site(tmp_path / "site", with_data=True)


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory):
    """The bundled real data built once by the real CLI; tests must only read it."""
    root = tmp_path_factory.mktemp("built") / "site"
    result = run_cli("demo", str(root))
    assert result.returncode == 0, result.stderr
    return load_config(root / "config.toml")


@pytest.fixture
def copy_demo_file():
    def copy(name: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo_file(name), dest)
        return dest
    return copy


__all__ = ["ESTOQUE", "FORECAST", "SUPRIMENTOS"]


# ---- the dashboard's test warehouse -------------------------------------------------------------
FROZEN_NOW = "2025-10-25 11:00:00+00"  # the clock the dashboard is given in tests


def freeze_version(path: Path, built_at: str) -> None:
    """Pin the columns that hold wall-clock times, so screenshots do not change from run to run."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"UPDATE meta.build SET built_at = TIMESTAMPTZ '{built_at}'")
        con.execute("""UPDATE meta.build_history SET built_at = TIMESTAMPTZ '2025-10-23 09:30:00+00'
                       + INTERVAL (version) DAY""")
        con.execute("""UPDATE meta.source_files SET received_at = TIMESTAMPTZ '2025-10-24 08:00:00+00'
                       + INTERVAL (CASE WHEN status = 'rejected' OR data_to = DATE '2025-10-25' THEN 20 ELSE 0 END) HOUR
                       + INTERVAL (CASE kind WHEN 'suprimentos' THEN 1 WHEN 'estoque' THEN 2 ELSE 3 END) MINUTE""")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def stock_snapshot(root: Path, day: str, item: str, on_hand: str) -> Path:
    """The bundled stock snapshot re-dated to `day` (dd/mm/yyyy) with one item's on hand changed."""
    lines = demo_file(ESTOQUE).read_bytes().decode("cp1252").replace("24/10/2025", day).splitlines()
    out = []
    for line in lines:
        fields = line.split(";")
        if len(fields) > 4 and fields[1] == item:
            fields[4] = on_hand
        out.append(";".join(fields))
    stamp = "-".join(reversed(day.split("/")))
    return write_export(root / "landing" / f"estoque_{stamp}.csv", out[1:], header=out[0])


def add_second_day(root: Path) -> None:
    """Drops for a second version: a next-day stock snapshot where item 010090 has run out (a NEW
    stockout) and an export that is garbage bytes (a rejected file)."""
    stock_snapshot(root, "25/10/2025", "010090", "0")
    (root / "landing" / "suprimentos_corrompido.csv").write_bytes(bytes(range(256)) * 4)


@pytest.fixture(scope="session")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def tui_site(tmp_path_factory, built_demo):
    """Two real versions built by the pipeline (v1 = bundled data, v2 = + next day + a rejected
    file), with their wall-clock columns pinned. Tests must only read it."""
    root = tmp_path_factory.mktemp("tui") / "site"
    shutil.copytree(built_demo.source.parent, root, symlinks=True)
    add_second_day(root)
    result = run_cli("--config", str(root / "config.toml"), "build")
    assert result.returncode == 0, result.stderr
    freeze_version(root / "warehouse" / "nova_v000001.duckdb", "2025-10-24 09:30:00+00")
    freeze_version(root / "warehouse" / "nova_v000002.duckdb", "2025-10-25 09:30:00+00")
    return root


@pytest.fixture
def tui_site_copy(tmp_path, tui_site):
    """A writable copy of the dashboard's test site, for tests that publish or roll back."""
    site = tmp_path / "site"
    shutil.copytree(tui_site, site, symlinks=True)
    return site


@pytest.fixture(scope="session")
def replay(tmp_path_factory):
    """tests/replay_server.py: the recorded public answers over real HTTP on 127.0.0.1, stopped by PID."""
    log = tmp_path_factory.mktemp("replay") / "requests.jsonl"
    proc = subprocess.Popen([sys.executable, str(REPLAY_SERVER), str(log)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield Replay(f"http://127.0.0.1:{port}", log)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


class Replay:
    def __init__(self, base: str, log: Path):
        self.base, self.log = base, log

    def requests(self, containing: str) -> list[dict]:
        if not self.log.exists():
            return []
        entries = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [e for e in entries if containing in e["path"]]
