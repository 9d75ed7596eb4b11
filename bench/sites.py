"""`make bench` (issue 15): many plants pushing to one store at once, then a company build.

N plant sites (default 20, NOVA_BENCH_SITES) are built from the bundled real data, each with its own
[site] id, then push at the same moment to one SeaweedFS on loopback (`weed server -s3`). Printed:
the wall time of the whole wave, each push's time, that every commit landed (each Delta table's
history holds one overwrite per site, and each site's partition equals its warehouse), and the
company build over all of them.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]


def main() -> int:
    import duckdb
    from deltalake import DeltaTable, QueryBuilder

    from seaweed import ACCESS_KEY, ENV, SECRET_KEY, Weed

    n = int(os.environ.get("NOVA_BENCH_SITES", 20))
    py = sys.executable
    with tempfile.TemporaryDirectory(dir=os.environ.get("NOVA_BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        weed = Weed(tmp / "weed").start()
        try:
            sites = []
            for i in range(n):
                site = tmp / f"plant{i:02d}"
                subprocess.run([py, "-m", "nova_pipeline", "demo", str(site)], check=True, capture_output=True)
                with open(site / "config.toml", "a") as fh:
                    fh.write(f'\n[site]\nid = "plant-{i:02d}"\n\n[remote]\nendpoint = "{weed.endpoint}"\nsecure = false\n')
                sites.append(site)
            print(f"{n} plants built from the bundled data; pushing all at once to SeaweedFS on loopback", flush=True)
            start = time.perf_counter()
            procs = [(subprocess.Popen([py, "-m", "nova_pipeline", "--config", str(s / "config.toml"), "push"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       env={**os.environ, **ENV}), time.perf_counter()) for s in sites]
            each = []
            failed = 0
            for proc, began in procs:
                out, err = proc.communicate()
                each.append(time.perf_counter() - began)
                if proc.returncode != 0:
                    failed += 1
                    print(f"  push failed: {err.strip().splitlines()[-1] if err.strip() else out}")
            wave = time.perf_counter() - start
            print(f"  wave of {n} pushes: {wave:.1f} s wall; each push median {statistics.median(each):.1f} s, "
                  f"slowest {max(each):.1f} s; failed: {failed}")
            options = {"AWS_ENDPOINT_URL": f"http://{weed.endpoint}", "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                       "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
            con = duckdb.connect(str(sites[0] / "warehouse" / "current.duckdb"), read_only=True)
            tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                                 "WHERE schema_name IN ('silver', 'gold') ORDER BY ALL").fetchall()
            expected = {t: con.execute(f"SELECT count(*) FROM {s}.{t}").fetchone()[0] for s, t in tables}
            con.close()
            landed = missing = 0
            for schema, table in tables:
                dt = DeltaTable(f"s3://nova-{schema}/{table}", storage_options=options)
                overwrites = sum(1 for h in dt.history() if h.get("operationParameters", {}).get("mode") == "Overwrite")
                reader = QueryBuilder().register("t", dt).execute("SELECT site, count(*) AS n FROM t GROUP BY site")
                assert reader is not None
                counts = dict(duckdb.sql("SELECT * FROM reader").fetchall())
                ok = overwrites == n and all(counts.get(f"plant-{i:02d}", 0) == expected[table] for i in range(n))
                landed += ok
                missing += not ok
                if not ok:
                    print(f"  {schema}.{table}: {overwrites} overwrite commit(s), partitions {sorted(counts.items())[:3]}…")
            print(f"  every commit landed: {landed} of {len(tables)} tables hold {n} overwrites and {n} whole partitions"
                  + ("" if not missing else f"; {missing} table(s) NOT"))
            central = tmp / "central"
            central.mkdir()
            (central / "config.toml").write_text(f'[site]\nid = "company"\n\n[remote]\nendpoint = "{weed.endpoint}"\n'
                                                 "secure = false\n")
            start = time.perf_counter()
            result = subprocess.run([py, "-m", "nova_pipeline", "--config", str(central / "config.toml"), "company-build"],
                                    capture_output=True, text=True, env={**os.environ, **ENV})
            print(f"  company-build over {n} sites: {time.perf_counter() - start:.1f} s — "
                  f"{result.stdout.strip() or result.stderr.strip().splitlines()[-1]}")
        finally:
            weed.stop()
    print(f"cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
