"""`make bench`: figures for fetch-external, push, pull and export (the issues name no budget for
them; printed so they can be watched). Uses the same real servers as the tests: the replay server
on 127.0.0.1 and SeaweedFS (`weed`, loopback). NOVA_BENCH_REMOTE_LINES sets the synthetic export's
size (default 1,000,000 lines).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def figure(name: str, seconds: float, extra: str = "") -> None:
    print(f"{name:<52} {seconds:8.2f} s   {extra}", flush=True)


def main() -> int:
    from seaweed import ENV, Weed
    from synth import make_export, make_stock

    pipeline = [sys.executable, "-m", "nova_pipeline"]
    lines = int(os.environ.get("NOVA_BENCH_REMOTE_LINES", 1_000_000))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # fetch-external against the recorded answers served over real HTTP on loopback
        server = subprocess.Popen([sys.executable, str(HERE.parent / "tests" / "replay_server.py"), str(tmp / "r.log")],
                                  stdout=subprocess.PIPE, text=True)
        try:
            base = f"http://127.0.0.1:{int(server.stdout.readline())}/ok"
            site = tmp / "fetch"
            site.mkdir()
            (site / "config.toml").write_text(
                f'[external]\nbcb_sgs = "{base}"\nbcb_olinda = "{base}"\nibge_sidra = "{base}"\nopen_meteo = "{base}"\n')
            figure("fetch-external, 4 providers side by side (loopback)",
                   timed(pipeline + ["--config", str(site / "config.toml"), "fetch-external"]),
                   f"{sum(p.stat().st_size for p in (site / 'landing' / 'external').iterdir()) / 1e6:.2f} MB landed")
            figure("build of the 4 recorded answers (13,815 values)", timed(pipeline + ["--config", str(site / "config.toml"), "build"]))
        finally:
            server.terminate()
            server.wait()

        weed = Weed(tmp / "weed").start()
        try:
            site = tmp / "synth"
            (site / "landing").mkdir(parents=True)
            make_export(site / "landing" / "suprimentos_synth.csv", lines)
            make_stock(site / "landing" / "estoque_synth.csv")
            config = site / "config.toml"
            config.write_text('[paths]\nlanding = "landing"\n')
            figure(f"build, {lines:,}-line export, no remote store", timed(pipeline + ["--config", str(config), "build"]))
            with open(config, "a") as fh:
                fh.write(f'\n[site]\nid = "bench"\n\n[remote]\nendpoint = "{weed.endpoint}"\nsecure = false\n')
            version = next((site / "warehouse").glob("nova_v*.duckdb"))
            bronze = sum(p.stat().st_size for p in (site / "lake" / "bronze").rglob("*.parquet"))
            figure("push: version + manifest + bronze + silver/gold Delta tables", timed(pipeline + ["--config", str(config), "push"], ENV),
                   f"version {version.stat().st_size / 1e6:.0f} MB, bronze {bronze / 1e6:.0f} MB")
            figure("push again (already in sync)", timed(pipeline + ["--config", str(config), "push"], ENV))
            figure("pull, sha256 verified", timed(pipeline + ["--config", str(config), "pull", str(tmp / "copy.duckdb")], ENV))
            figure("export: gold tables as Parquet + Excel CSV", timed(pipeline + ["--config", str(config), "export"]),
                   f"{sum(p.stat().st_size for p in (site / 'exports').rglob('*')) / 1e6:.0f} MB written")
        finally:
            weed.stop()
    print(f"cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
