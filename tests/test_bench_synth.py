"""The bench's synthetic export has the real export's shape, its order included (issue 12: "generate the
synthetic data with the shape of the real export"): `make bench` judges the build on it."""
from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import synth  # noqa: E402

from nova_pipeline.demo import SUPRIMENTOS, demo_file  # noqa: E402


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    made = {}
    for order in ("erp", "random"):
        made[order] = root / f"{order}.csv"
        synth.make_resampled_export(made[order], 30_000, order=order)
    return made


def _lines(path: Path) -> list[tuple]:
    """The lines without their request number (numbered by request date or by line, depending on order)."""
    con = duckdb.connect()
    rows = con.execute(f"SELECT * EXCLUDE (column08) FROM read_csv('{path}', delim=';', header=false, skip=1, "
                       "quote='\"', escape='\"', all_varchar=true, encoding='latin-1', null_padding=true) ORDER BY ALL").fetchall()
    con.close()
    return rows


def test_erp_order_is_as_far_out_of_order_as_the_real_export(exports):
    real = synth.order_stats(demo_file(SUPRIMENTOS))["days_out_of_place"]
    erp = synth.order_stats(exports["erp"])
    shuffled = synth.order_stats(exports["random"])
    # within a factor two of the real export's median and 90th percentile, days out of purchase-date order
    for made, seen in zip(erp["days_out_of_place"][:2], real[:2]):
        assert seen / 2 <= made <= seen * 2, (erp, real)
    assert erp["position_purchase"] > 0.95
    assert shuffled["days_out_of_place"][0] > 100 and abs(shuffled["position_purchase"]) < 0.05


def test_orders_hold_the_same_lines(exports):
    assert _lines(exports["erp"]) == _lines(exports["random"])


def test_request_numbers_rise_with_the_request_date(exports):
    con = duckdb.connect()
    backwards, total = con.execute(
        f"""SELECT count(*) FILTER (rd < lag_rd), count(*) FROM (
                SELECT rd, lag(rd) OVER (ORDER BY request_no, rd) AS lag_rd FROM (
                SELECT column08::BIGINT AS request_no, try_strptime(column09, '%d/%m/%Y') AS rd FROM read_csv('{exports["erp"]}', delim=';', header=false, skip=1, quote='"', escape='"', all_varchar=true,
                              encoding='latin-1', null_padding=true)))""").fetchone()
    assert total == 30_000 and backwards == 0


def test_unknown_order_is_refused(tmp_path):
    with pytest.raises(ValueError, match="order must be one of"):
        synth.make_resampled_export(tmp_path / "x.csv", 10, order="sorted")
