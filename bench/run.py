"""`make bench`: measured figures for the budgets named in the issues (printed, not asserted).

- full build of the bundled real data, process start included  (budget <= 3 s on 2 cores)
- build of a synthetic 1,000,000-line export                      (budget <= 15 s)
Set NOVA_BENCH_LINES to try other sizes (the generator handles 10,000,000).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    from budget import report
    from synth import make_export, make_stock

    pipeline = [sys.executable, "-m", "nova_pipeline"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for i in range(3):
            site = Path(tmp) / f"real{i}"
            runs.append(timed(pipeline + ["demo", str(site)]))
        results.append(report(f"real data: full build (best of 3: {', '.join(f'{r:.2f}' for r in runs)})", min(runs), 3.0))

        lines = int(os.environ.get("NOVA_BENCH_LINES", 1_000_000))
        site = Path(tmp) / "synth"
        (site / "landing").mkdir(parents=True)
        (site / "config.toml").write_text('[paths]\nlanding = "landing"\n')
        start = time.perf_counter()
        make_export(site / "landing" / "suprimentos_synth.csv", lines)
        make_stock(site / "landing" / "estoque_synth.csv")
        print(f"  (generated {lines:,} lines in {time.perf_counter() - start:.1f} s, "
              f"{(site / 'landing' / 'suprimentos_synth.csv').stat().st_size / 1e6:.0f} MB)", flush=True)
        budget = 15.0 * lines / 1_000_000
        results.append(report(f"synthetic {lines:,}-line export: build", timed(pipeline + ["--config", str(site / "config.toml"), "build"]), budget))
        shutil.rmtree(site)
    print(f"cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
