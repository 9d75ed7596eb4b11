"""`make bench`: measured figures for the budgets named in the issues (printed, not asserted).

- full build of the bundled real data, process start included  (budget <= 3 s on 2 cores)
The synthetic 1M and 10M builds, against DuckDB's bare load and pandas, are bench/build.py.
"""
from __future__ import annotations

import os
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

    pipeline = [sys.executable, "-m", "nova_pipeline"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for i in range(3):
            site = Path(tmp) / f"real{i}"
            runs.append(timed(pipeline + ["demo", str(site)]))
        results.append(report(f"real data: full build (best of 3: {', '.join(f'{r:.2f}' for r in runs)})", min(runs), 3.0))

    print(f"cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
