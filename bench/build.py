"""`make bench` (issue 12): the build against DuckDB's bare load and a plain pandas pipeline, side by side
in the same run, whole processes, median of several runs, peak RSS from /usr/bin/time. Printed, not asserted.

- full build of a resampled 1,000,000-line export (26,660 items, 2023-01..2025-10, cp1252) and a stock
  snapshot: budget <= 2x the bare load, <= 0.5x pandas, peak RSS below pandas'
- the same at 10,000,000 lines: budget <= 5x the bare load, peak RSS <= 1 GiB
- into that 10M warehouse: a daily 1,000-line export (a new month, and the month on hand), a stock
  snapshot, an ML drop: each <= 5 s and <= 0.5x the floor's 10M load, <= 1 GiB
- the version file against the CSV's bytes: <= 50 % (aim 25 %)

The floor, pandas (at 1M) and the build run in turns (floor, pandas, build; floor, pandas, build; ...):
a ratio is judged as the median of the ratios of the runs of one turn, so a drift of the shared machine's
speed between the first runs and the last moves both sides of a ratio alike.
The resampled export's lines are laid out as the real export's are (synth.ORDERS["erp"]: by purchase
date, loosely; the figures of both are printed). The same lines in random order, where every month is
spread over the whole file (the hardest layout for a build), are built beside it and printed with their
ratio against the same budget, marked "stress".

NOVA_BENCH_SIZES=1000000,10000000 (default) and NOVA_BENCH_RUNS=3 change what is measured.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BIG = 10_000_000  # from this size: the 10M budgets

# The floor: DuckDB's bare load of the export into a table, with the types its sniffer finds on the lines
# in random order, pinned (quote and escape too). On the lines in the ERP's order its sample (the first
# 20,480 lines, all from early 2023) holds no decimal comma: QUANTIDADE became BIGINT and the load failed
# at the first one (line 46,000 of the 10M export).
FLOOR = """
import sys, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, encoding='latin-1', delim=';', header=true, "
            "quote='\\"', escape='\\"', types={'QUANTIDADE': 'VARCHAR', 'SOLICITAÇÃO': 'BIGINT', "
            "'DATA REQUISITADA': 'DATE', 'DATA SOLICITADO': 'DATE', 'DATA DE COMPRA': 'DATE'}, "
            "dateformat='%d/%m/%Y')", [sys.argv[1]])
con.close()
"""


def measured(cmd: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one whole process, from GNU time."""
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    wall, kb = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(kb) / 1024


def in_turns(runs: int, commands: dict, after: dict | None = None) -> dict[str, tuple[float, float, list[float]]]:
    """Each command (name -> i -> argv) once per turn, in order, `runs` turns: (median wall, max RSS, walls).
    after: name -> a function called once that command's run ended (to read what it left)."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs):
        for name, make_cmd in commands.items():
            w, r = measured(*make_cmd(i))
            walls[name].append(w)
            rss[name].append(r)
            (after or {}).get(name, lambda: None)()
    return {name: (statistics.median(walls[name]), max(rss[name]), walls[name]) for name in commands}


class StageTimes:
    """The stages of the builds measured (each run's last_build.json), for the line saying where the
    time went: the median of each stage over the runs, and what the process spent outside the build."""

    def __init__(self, site: Path):
        self.site, self.runs = site, []

    def read(self) -> None:
        self.runs.append(json.loads((self.site / "warehouse" / "last_build.json").read_text())["stages"])

    def summary(self, walls: list[float]) -> str:
        stages = {k: statistics.median(r.get(k, 0.0) for r in self.runs) for k in self.runs[0]}
        outside = statistics.median(w - sum(r.values()) for w, r in zip(walls, self.runs))
        return ", ".join(f"{k} {v:.2f}" for k, v in stages.items()) + f"; {outside:.2f} s starting and ending the process"


def ratio(walls: list[float], against: list[float]) -> float:
    """The median of the turns' ratios."""
    return statistics.median(w / a for w, a in zip(walls, against))


def per_turn(walls: list[float], against: list[float]) -> str:
    """Each turn's ratio, for the printed line."""
    return ", ".join(f"{w / a:.2f}" for w, a in zip(walls, against))


def median_of(runs: int, make_cmd) -> tuple[float, float, list[float]]:
    return in_turns(runs, {"one": make_cmd})["one"]


def site_with(root: Path, files: list[Path], config: str = "") -> Path:
    """A fresh site whose landing holds hard links to the given files (nothing is copied)."""
    if root.exists():
        shutil.rmtree(root)
    (root / "landing").mkdir(parents=True)
    (root / "ml_drops").mkdir()
    for f in files:
        os.link(f, root / "landing" / f.name)
    (root / "config.toml").write_text('[paths]\nlanding = "landing"\nml_drops = "ml_drops"\n' + config)
    return root


def line(name: str, value: str, budget: str = "", ok: bool | None = None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  OVER")
    print(f"  {name:<58} {value:>22}  {budget}{mark}", flush=True)


def main() -> int:
    from synth import (make_daily_export, make_forecast_for, make_resampled_export, make_resampled_stock,
                       order_stats)
    from nova_pipeline.demo import SUPRIMENTOS, demo_file

    sizes = [int(s) for s in os.environ.get("NOVA_BENCH_SIZES", "1000000,10000000").split(",")]
    runs = int(os.environ.get("NOVA_BENCH_RUNS", "3"))
    py = sys.executable
    pipeline = [py, "-m", "nova_pipeline"]
    print(f"issue 12 bench: {os.cpu_count()} cores, {runs} run(s) each, median wall time, peak RSS (max of runs)")
    real_order = order_stats(demo_file(SUPRIMENTOS))  # what the resampled layouts are compared with
    with tempfile.TemporaryDirectory(dir=os.environ.get("NOVA_BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        for lines in sizes:
            data = tmp / f"data{lines}"
            data.mkdir()
            export = data / "suprimentos_synth.csv"
            made = make_resampled_export(export, lines)
            stock = data / "estoque_2025-10-31.csv"
            make_resampled_stock(stock, export)
            mb = made["bytes"] / 2**20
            print(f"\n{lines:,} lines: {made['items']:,} items, {mb:,.0f} MiB of CSV (cp1252)", flush=True)
            for name, stats in (("lines laid out as the ERP does", order_stats(export)),
                                ("the real export (bundled)", real_order)):
                days = stats["days_out_of_place"]
                line(f"  {name}", f"{days[0]} / {days[1]} / {days[2]} days",
                     f"out of purchase-date order (median / p90 / p99); position ~ purchase date "
                     f"{stats['position_purchase']:.2f}, ~ request date {stats['position_request']:.2f}")

            big = lines >= BIG

            def floor_cmd(i, export=export):
                (tmp / "floor.duckdb").unlink(missing_ok=True)
                return ([py, "-c", FLOOR, str(export), str(tmp / "floor.duckdb")],)

            def pandas_cmd(i):
                return ([py, str(HERE / "pandas_reference.py"), str(site_with(tmp / "pd", [export, stock]))],)

            def full_cmd(i, export=export, name=f"nova{lines}"):
                return ([*pipeline, "--config", str(site_with(tmp / name, [export, stock]) / "config.toml"), "build"],)

            # pandas needs 8.5 GB and a minute at 10M: run once there, outside the turns (no budget against it)
            stages = StageTimes(tmp / f"nova{lines}")
            turns = in_turns(runs, {"floor": floor_cmd, **({} if big else {"pandas": pandas_cmd}), "nova": full_cmd},
                             after={"nova": stages.read})
            (tmp / "floor.duckdb").unlink(missing_ok=True)
            floor, floor_rss, fw = turns["floor"]
            nova, nova_rss, nw = turns["nova"]
            line("DuckDB bare read_csv into a table (the floor)", f"{floor:6.2f} s {floor_rss:6.0f} MiB",
                 f"runs {', '.join(f'{w:.2f}' for w in fw)}")
            if big:
                pandas, pandas_rss, pw = median_of(1, pandas_cmd)
            else:
                pandas, pandas_rss, pw = turns["pandas"]
            line("plain pandas pipeline (bench/pandas_reference.py)", f"{pandas:6.2f} s {pandas_rss:6.0f} MiB",
                 f"runs {', '.join(f'{w:.1f}' for w in pw)}")
            line("nova-pipeline build, full", f"{nova:6.2f} s {nova_rss:6.0f} MiB", f"runs {', '.join(f'{w:.1f}' for w in nw)}")
            line("  where its time went (s, medians; meta.build_stages)", "", stages.summary(nw))
            to_floor = ratio(nw, fw)
            line("  ratio to the floor (median of the turns)", f"{to_floor:6.2f} x",
                 f"turns {per_turn(nw, fw)}; budget <= {5 if big else 2}x",
                 to_floor <= (5 if big else 2))
            if not big:
                to_pandas = ratio(nw, pw)
                line("  ratio to pandas (median of the turns)", f"{to_pandas:6.2f} x",
                     f"turns {per_turn(nw, pw)}; budget <= 0.5x", to_pandas <= 0.5)
                line("  peak RSS against pandas'", f"{nova_rss:6.0f} / {pandas_rss:.0f} MiB", "budget: below",
                     nova_rss < pandas_rss)
            else:
                line("  peak RSS", f"{nova_rss:6.0f} MiB", "budget <= 1024 MiB", nova_rss <= 1024)
            shuffled = data / "random" / export.name
            shuffled.parent.mkdir()
            make_resampled_export(shuffled, lines, order="random")
            stress = in_turns(runs, {"floor": lambda i: floor_cmd(i, shuffled),
                                     "nova": lambda i: full_cmd(i, shuffled, "random")})
            sw, sfw = stress["nova"][2], stress["floor"][2]
            line("  stress: the same lines in random order", f"{stress['nova'][0]:6.2f} s {stress['nova'][1]:6.0f} MiB",
                 f"floor {stress['floor'][0]:.2f} s; {ratio(sw, sfw):.2f}x the floor (turns {per_turn(sw, sfw)}); "
                 f"budget <= {5 if big else 2}x", ratio(sw, sfw) <= (5 if big else 2))
            shutil.rmtree(tmp / "random")
            shutil.rmtree(shuffled.parent)
            (tmp / "floor.duckdb").unlink(missing_ok=True)
            base = tmp / f"nova{lines}"
            version = next((base / "warehouse").glob("nova_v*.duckdb"))
            share = version.stat().st_size / made["bytes"]
            line("  version file / CSV bytes", f"{version.stat().st_size / 2**20:6.0f} MiB = {share:.0%}",
                 "budget <= 50 % (aim 25 %)", share <= 0.5)
            lake = sum(f.stat().st_size for f in (base / "lake").rglob("*") if f.is_file()) / 2**20
            line("  lake (bronze + silver + summaries)", f"{lake:6.0f} MiB")

            if lines == max(sizes):
                drops = {"daily 1,000-line export": data / "suprimentos_2025-11-03.csv",
                         "1,000-line export into the month on hand": data / "suprimentos_2025-10-31.csv",
                         "stock snapshot": data / "estoque_2025-11-03.csv",
                         "ML forecast drop": data / "forecast_2025-11-03.parquet"}
                make_daily_export(drops["daily 1,000-line export"], 1_000)
                # the same, dated the export's last day: it merges into a month holding ~300,000 lines (a
                # plant's daily export during a month), where the one above starts a new month
                make_daily_export(drops["1,000-line export into the month on hand"], 1_000, day="2025-10-31", seed=8)
                make_resampled_stock(drops["stock snapshot"], export, day="03/11/2025", seed=12)
                make_forecast_for(drops["ML forecast drop"], export)
                print(f"  into the {lines:,}-line warehouse (each on a fresh copy of it):", flush=True)
                for name, drop in drops.items():
                    def incremental(i, drop=drop):
                        site = tmp / "inc"
                        if site.exists():
                            shutil.rmtree(site)
                        subprocess.run(["cp", "-a", str(base), str(site)], check=True)
                        folder = "ml_drops" if drop.suffix == ".parquet" else "landing"
                        shutil.copy(drop, site / folder / drop.name)
                        return ([*pipeline, "--config", str(site / "config.toml"), "build"],)
                    # each turn loads the 10M export bare right before the drop's build, so the ratio pairs
                    # runs minutes apart at most (this machine's floor drifted 9.3-12.2 s between runs)
                    drop_stages = StageTimes(tmp / "inc")
                    paired = in_turns(runs, {"floor": floor_cmd, "drop": incremental}, after={"drop": drop_stages.read})
                    (tmp / "floor.duckdb").unlink(missing_ok=True)
                    wall, rss, ws = paired["drop"]
                    fws = paired["floor"][2]
                    # the issue: "published in <= 5 s (<= 0.5x the floor's 10M load)"; on a machine whose floor
                    # is under 10 s the ratio is the tighter of the two, so both are judged
                    share = ratio(ws, fws)
                    line(f"    {name}", f"{wall:6.2f} s {rss:6.0f} MiB",
                         f"= {share:.2f}x the floor's load of these lines, turn by turn ({per_turn(ws, fws)}; floor "
                         f"{statistics.median(fws):.2f} s); budget <= 5 s and <= 0.5x, <= 1024 MiB",
                         wall <= 5 and share <= 0.5 and rss <= 1024)
                    line("      where its time went (s, medians)", "", drop_stages.summary(ws))
            shutil.rmtree(data)
            for p in tmp.iterdir():
                if p.is_dir():
                    shutil.rmtree(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
