"""The Source registry is the one list of kinds, and the limits it gives travel inside the file."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import make_site
from helpers import warehouse

from nova_pipeline.build import build
from nova_pipeline.config import SCHEMA
from nova_pipeline.demo import make_demo
from nova_pipeline.silver_tables import TABLES
from nova_pipeline.sources.registry import SOURCES


def test_every_kind_has_a_freshness_default_and_a_silver_table():
    kinds = {s.kind for s in SOURCES}
    assert {k for k in SCHEMA["freshness"] if k.endswith("_hours")} == {f"{k}_hours" for k in kinds}
    assert {k for t in TABLES for k in t.kinds} == kinds


def test_the_limits_in_force_are_written_into_the_file_and_the_dashboard_reads_them(tmp_path):
    cfg = make_demo(tmp_path / "site")
    with open(cfg.source, "a") as fh:
        fh.write("\n[freshness]\nestoque_hours = 3\n")
    from nova_pipeline.config import load_config

    cfg = load_config(cfg.source)
    build(cfg)
    with warehouse(cfg) as con:
        limits = dict(con.execute("SELECT kind, freshness_hours FROM meta.sources").fetchall())
    assert limits["estoque"] == 3 and limits["suprimentos"] == 48 and limits["forecast"] == 192
    # an analyst's copy, no config at all: the dashboard's report still knows the limits
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes((cfg.warehouse / "current.duckdb").read_bytes())
    out = subprocess.run([sys.executable, "-m", "nova_tui", "--warehouse", str(copy), "report", "freshness",
                          "--format", "json"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    shown = {r["kind"]: r["limit_hours"] for r in json.loads(out.stdout)["sources"]}
    assert shown["estoque"] == 3 and shown["suprimentos"] == 48


def test_a_kind_with_no_drop_yet_builds_from_its_empty_bronze(tmp_path):
    cfg = make_site(tmp_path / "site")
    (cfg.landing / "estoque_x.csv").write_bytes(
        "DEPÓSITO;PRODUTO;DESCRIÇÃO;U.M.;SALDO;EM PEDIDO;DATA POSIÇÃO\r\nA;1;X;UN;1;0;01/10/2025\r\n".encode("cp1252"))
    assert build(cfg).outcome == "published"
    with warehouse(cfg) as con:
        assert con.execute("SELECT count(*) FROM gold.fact_requisition").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM silver.stock").fetchone()[0] == 1
