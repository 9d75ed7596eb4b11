"""`nova-pipeline watch` as a real process on real folders: complete files only, once, bursts
coalesced, bad drops survived, SIGTERM honoured, systemd spoken to."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import ESTOQUE, SUPRIMENTOS, demo_file, lock_holder, make_site, run_cli, stock_snapshot

pytestmark = pytest.mark.slow


class Daemon:
    def __init__(self, site: Path, env: dict | None = None):
        self.site, self.log = site, site / "watch.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "nova_pipeline", "--config", str(site / "config.toml"), "watch"],
                                     stderr=open(self.log, "w"), env={**os.environ, **(env or {})})
        self.wait_for("event=ready")

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, pattern: str, count: int = 1, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            text = self.text()
            if len(re.findall(pattern, text)) >= count:
                return text
            assert self.proc.poll() is None, f"daemon exited {self.proc.returncode}:\n{text}"
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} x{count} not logged in {seconds} s:\n{self.text()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(15)


@pytest.fixture
def watch_site(tmp_path):
    cfg = make_site(tmp_path / "site")
    with open(cfg.source, "a") as fh:
        fh.write("\n[watch]\nsettle_seconds = 1.0\nrescan_seconds = 5.0\n")
    daemons = []

    def start(env: dict | None = None) -> Daemon:
        daemons.append(Daemon(cfg.source.parent, env))
        return daemons[-1]

    yield cfg.source.parent, start
    for d in daemons:  # stopped by PID even when a test failed
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def ledger(site: Path) -> list[tuple]:
    con = duckdb.connect(str(site / "warehouse" / "current.duckdb"), read_only=True)
    try:
        return con.execute("SELECT path, status, rows_loaded, reason FROM meta.source_files ORDER BY path").fetchall()
    finally:
        con.close()


def test_a_slow_copy_in_place_is_ingested_once_and_whole(watch_site):
    site, start = watch_site
    daemon = start()
    data = demo_file(ESTOQUE).read_bytes()
    target = site / "landing" / "estoque_2025-10-24.csv"
    with open(target, "wb") as out:  # 8 pieces, 0.4 s apart: slower than nothing, quicker than settle
        for i in range(8):
            out.write(data[i * len(data) // 8:(i + 1) * len(data) // 8])
            out.flush()
            time.sleep(0.4)
    daemon.wait_for("event=build_done")
    time.sleep(2.5)  # any second ingestion would have started by now
    assert daemon.text().count("event=build_start") == 1
    assert ledger(site) == [("landing/estoque_2025-10-24.csv", "loaded", 81, None)]
    assert daemon.stop() == 0


def test_a_file_moved_in_is_ingested_once(watch_site):
    site, start = watch_site
    daemon = start()
    staging = site / "staging.csv"
    shutil.copyfile(demo_file(ESTOQUE), staging)
    os.rename(staging, site / "landing" / "estoque_2025-10-24.csv")
    daemon.wait_for("event=build_done")
    assert ledger(site) == [("landing/estoque_2025-10-24.csv", "loaded", 81, None)]
    assert daemon.stop() == 0


def test_a_burst_of_20_files_is_a_build_or_two(watch_site):
    site, start = watch_site
    daemon = start()
    for day in range(1, 21):
        stock_snapshot(site, f"{day:02d}/11/2025", "010090", str(day))
        time.sleep(0.04)
    daemon.wait_for(r"event=build_done")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(ledger(site)) < 20:
        time.sleep(0.3)
    assert len(ledger(site)) == 20 and {r[1] for r in ledger(site)} == {"loaded"}
    assert daemon.text().count("event=build_start") <= 3
    assert daemon.stop() == 0


def test_a_corrupt_drop_is_rejected_and_the_daemon_carries_on(watch_site):
    site, start = watch_site
    daemon = start()
    (site / "ml_drops" / "forecast_broken.parquet").write_bytes(b"PAR1" + os.urandom(3000))
    daemon.wait_for("event=build_done")
    assert ledger(site)[0][:2] == ("ml_drops/forecast_broken.parquet", "rejected")
    assert daemon.proc.poll() is None
    shutil.copyfile(demo_file(ESTOQUE), site / "landing" / "estoque_2025-10-24.csv")
    daemon.wait_for("event=build_done", count=2)
    assert [r[1] for r in ledger(site)] == ["loaded", "rejected"]  # the rejected one is still shown
    assert daemon.stop() == 0


def test_catch_up_at_start_and_sigterm_during_a_build(watch_site):
    site, start = watch_site
    shutil.copyfile(demo_file(ESTOQUE), site / "landing" / "estoque_2025-10-24.csv")
    daemon = start()  # the file arrived while the daemon was down
    daemon.wait_for("event=build_done")
    first = ledger(site)
    shutil.copyfile(demo_file(SUPRIMENTOS), site / "landing" / "suprimentos_2024-10_a_2025-10.csv")
    # the build has landed the 4,207-line export and goes on to silver, gold and the publish (about a
    # second on this data): SIGTERM lands there, or, on a fast turn, just after the publish
    daemon.wait_for(r"event=drop_loaded file=\S*suprimentos_2024-10_a_2025-10\.csv")
    started = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - started < 10
    assert "event=stopped" in daemon.text()
    assert run_cli("--config", str(site / "config.toml"), "verify").returncode == 0
    assert ledger(site) == first or len(ledger(site)) == 2  # v1 still serving, or the build had finished
    # the next daemon finishes what was abandoned
    daemon = start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(ledger(site)) < 2:
        time.sleep(0.3)
    assert [r[1] for r in ledger(site)] == ["loaded", "loaded"]
    assert daemon.stop() == 0


@pytest.mark.parametrize("abstract", [False, True], ids=["path", "abstract"])
def test_systemd_notify_messages(watch_site, tmp_path, abstract):
    site, start = watch_site
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"nova-test-{os.getpid()}-{time.monotonic_ns()}"
    if abstract:
        sock.bind("\0" + name)
        address = "@" + name
    else:
        address = str(tmp_path / "notify.sock")
        sock.bind(address)
    sock.settimeout(0.5)
    messages: list[str] = []

    def listen():  # like systemd: read as they come
        while True:
            try:
                messages.append(sock.recv(4096).decode())
            except TimeoutError:
                if done.is_set():
                    return
            except OSError:
                return

    import threading
    done = threading.Event()
    listener = threading.Thread(target=listen)
    listener.start()
    daemon = start({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "900000"})
    shutil.copyfile(demo_file(ESTOQUE), site / "landing" / "estoque_2025-10-24.csv")
    daemon.wait_for("event=build_done")
    deadline = time.monotonic() + 10  # the idle status is sent after the build's log line: wait for it
    while time.monotonic() < deadline and not any("STATUS=idle, serving v1" in m for m in messages):
        time.sleep(0.05)
    assert daemon.stop() == 0
    done.set()
    listener.join()
    sock.close()
    text = "\n".join(messages)
    assert "READY=1" in messages[0] and "STATUS=idle, nothing published yet" in messages[0]
    assert "WATCHDOG=1" in text
    assert "STATUS=building 1 drop(s)" in text and "STATUS=idle, serving v1" in text
    assert "STOPPING=1" in messages[-1]


UNITS = Path(__file__).resolve().parent.parent / "systemd"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_units_verify_and_are_hardened():
    result = subprocess.run(["systemd-analyze", "verify", *map(str, sorted(UNITS.glob("*.*")))],
                            capture_output=True, text=True)
    # On a development machine the installed path /opt/nova does not exist; anything else is a defect.
    problems = [l for l in (result.stdout + result.stderr).splitlines()
                if l.strip() and "/opt/nova/.venv/bin/nova-pipeline is not executable" not in l]
    assert problems == []
    for unit in ("nova-pipeline.service", "nova-fetch-external.service"):
        out = subprocess.run(["systemd-analyze", "security", "--offline=true", str(UNITS / unit)],
                             capture_output=True, text=True).stdout
        exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", out).group(1))
        assert exposure <= 2.0, out[-400:]


def test_an_unreachable_folder_is_said_plainly_and_retried(watch_site):
    site, start = watch_site
    shutil.rmtree(site / "ml_drops")  # like a share that is not mounted yet
    daemon = start()
    text = daemon.wait_for("event=watch_unavailable")
    assert "folder not found (an unmounted share?)" in text and "Traceback" not in text
    (site / "ml_drops").mkdir()
    shutil.copyfile(demo_file(ESTOQUE), site / "landing" / "estoque_2025-10-24.csv")
    daemon.wait_for("event=build_done")  # landing is still read by the rescans
    daemon.wait_for("event=watching", seconds=15)  # and the watch comes back at the next rescan
    assert daemon.stop() == 0


def test_a_failed_build_is_retried_with_backoff(watch_site):
    site, start = watch_site
    shutil.rmtree(site / "lake")
    (site / "lake").write_text("not a folder")  # every build fails until someone fixes this
    daemon = start()
    shutil.copyfile(demo_file(ESTOQUE), site / "landing" / "estoque_2025-10-24.csv")
    text = daemon.wait_for("event=build_failed")
    assert "retry_in=5s" in text and daemon.proc.poll() is None
    (site / "lake").unlink()
    daemon.wait_for("event=build_done", seconds=20)
    assert ledger(site) == [("landing/estoque_2025-10-24.csv", "loaded", 81, None)]
    assert daemon.stop() == 0


def test_fetched_public_series_are_ingested_by_the_daemon(watch_site, replay):
    """fetch-external lands into a new landing/external/ folder (temporary name, then rename):
    the running daemon takes all four answers without a build being asked for."""
    site, start = watch_site
    with open(site / "config.toml", "a") as fh:
        fh.write(f'\n[external]\nbcb_sgs = "{replay.base}/ok"\nbcb_olinda = "{replay.base}/ok"\n'
                 f'ibge_sidra = "{replay.base}/ok"\nopen_meteo = "{replay.base}/ok"\n')
    daemon = start()
    assert run_cli("--config", str(site / "config.toml"), "fetch-external").returncode == 0
    daemon.wait_for("event=build_done")
    deadline = time.monotonic() + 20
    while len([r for r in ledger(site) if r[1] == "loaded"]) < 4 and time.monotonic() < deadline:
        time.sleep(0.5)
    rows = ledger(site)
    assert [r[1] for r in rows] == ["loaded"] * 4  # never a half-written or temporary file
    assert [re.sub(r"_\d{8}T\d{12}Z", "", r[0]) for r in rows] == [
        f"landing/external/external_{k}.json" for k in ("ipca", "ptax", "selic", "weather")]
    assert daemon.stop() == 0


def test_a_build_left_running_by_a_killed_daemon_is_waited_for(watch_site):
    site, start = watch_site
    with lock_holder(site / "warehouse") as holder:
        daemon = start()
        shutil.copy(demo_file(SUPRIMENTOS), site / "landing" / SUPRIMENTOS)
        text = daemon.wait_for("event=build_waiting")
        assert f"another build (pid {holder.pid}) holds the lock" in text
        assert "event=build_failed" not in text
    text = daemon.wait_for(r"event=build_done exit=0 outcome=published")
    assert "event=build_failed" not in text
    assert daemon.stop() == 0
