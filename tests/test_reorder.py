"""gold.reorder_status against a plain-Python reading of section 5 of the data contract."""
import math
import statistics
from datetime import date, timedelta

import duckdb
import pytest
from conftest import STOCK_HEADER, write_export
from helpers import warehouse

from nova_pipeline.build import build

AS_OF = date(2025, 10, 10)
Z = statistics.NormalDist().inv_cdf(0.95)


def line(item, qty, req, buy, family="MATERIAL ELETRICO", unit="UN"):
    fmt = lambda d: d.strftime("%d/%m/%Y") if d else ""
    return f"ALMOX-BA;{item};ITEM {item};{family};FORN;{str(qty).replace('.', ',')};{unit};;1;{fmt(req)};{fmt(buy)}"


def expected(demand: dict, lead_times: list, on_hand, on_order, forecast_sum=None, default_lt=14, family_lts=None):
    days = [AS_OF - timedelta(days=i) for i in range(180)]
    series = [demand.get(d, 0) for d in days]
    d, s = statistics.mean(series), statistics.stdev(series)
    usable = [x for x in lead_times if x >= 0]
    lt = max(1, statistics.median(usable) if usable else statistics.median(family_lts) if family_lts else default_lt)
    # section 6: the lead time's spread joins the safety stock (item's with 3+ lead times, else family's)
    fam = [x for x in (family_lts or []) if x >= 0]
    s_l = statistics.stdev(usable) if len(usable) >= 3 else statistics.stdev(fam) if len(fam) >= 3 else 0.0
    ss = Z * math.sqrt(lt * s * s + d * d * s_l * s_l)
    rop = (forecast_sum if forecast_sum is not None else d * lt) + ss
    status = "stockout" if d > 0 and on_hand == 0 else "below_reorder" if d > 0 and on_hand + on_order <= rop else "ok"
    return dict(avg_daily_demand=d, demand_std=s, lead_time_days=lt, safety_stock=ss, reorder_point=rop,
                days_of_cover=on_hand / d if d else None,
                suggested_order_qty=math.ceil(max(0, rop + d * 7 - on_hand - on_order)), status=status)


@pytest.fixture
def reorder_site(site):
    a = {AS_OF - timedelta(days=k): q for k, q in ((1, 4), (3, 10), (10, 2.5), (40, 6), (179, 3))}
    lines = [line("100", q, d, d + timedelta(days=lt)) for (d, q), lt in zip(a.items(), (5, 7, 9, 4, 30))]
    lines.append(line("100", 2, AS_OF - timedelta(days=200), AS_OF - timedelta(days=230)))  # old, negative lead time
    lines.append(line("100", 50, AS_OF - timedelta(days=180), AS_OF - timedelta(days=170)))  # just outside history
    b = {AS_OF - timedelta(days=2): 8}
    lines.append(line("200", 8, AS_OF - timedelta(days=2), None))  # no lead time: family median
    c = {AS_OF - timedelta(days=5): 1}
    lines.append(line("300", 1, AS_OF - timedelta(days=5), None, family="EPI"))  # nothing: default
    lines.append(line("400", 3, AS_OF - timedelta(days=1), AS_OF + timedelta(days=2)))  # forecast basis, L = 3
    lines.append(line("500", 1, AS_OF - timedelta(days=1), AS_OF, family="SERVIÇOS TOMADOS", unit="SR"))
    write_export(site.landing / "suprimentos_x.csv", lines)
    stock = ["ALMOX-BA;100;I;UN;5;2;10/10/2025", "GERBA;100;I;UN;1;0;10/10/2025", "ALMOX-BA;200;I;UN;0;0;10/10/2025",
             "ALMOX-BA;300;I;UN;100;0;10/10/2025", "ALMOX-BA;400;I;UN;1;0;10/10/2025",
             "ALMOX-BA;500;I;UN;0;0;10/10/2025", "ALMOX-BA;600;I;UN;9;0;10/10/2025",
             "ALMOX-BA;100;I;UN;999;0;01/10/2025"]  # an older snapshot: not the as-of one
    write_export(site.landing / "estoque_x.csv", stock, header=STOCK_HEADER)
    con = duckdb.connect()
    for gen, values in (("2025-10-09 00:00:00+00", "10.0"), ("2025-10-08 00:00:00+00", "99.0")):
        con.execute(f"""COPY (SELECT '400' AS item_id, DATE '2025-10-11' + i::INTEGER AS "date", {values} + i AS forecast,
            'v-{gen[:10]}' AS model_version, TIMESTAMPTZ '{gen}' AS generated_at, 'ensemble' AS source, 'ds' AS dataset_id
            FROM range(5) t(i)) TO '{site.ml_drops / f"fc_{gen[:10]}.parquet"}' (FORMAT parquet)""")
    build(site)
    with warehouse(site) as wh:
        cols = [c[0] for c in wh.execute("DESCRIBE gold.reorder_status").fetchall()]
        rows = {r[0]: dict(zip(cols, r)) for r in wh.execute("SELECT * FROM gold.reorder_status").fetchall()}
    return rows, a, b, c


def _same(row, exp):
    for key, value in exp.items():
        if value is None or isinstance(value, str):
            assert row[key] == value, key
        else:
            assert row[key] == pytest.approx(value, rel=1e-9), key


def test_item_with_its_own_history(reorder_site):
    rows, a, _, _ = reorder_site
    _same(rows["100"], expected(a, [5, 7, 9, 4, 30, -30, 10], on_hand=6, on_order=2))
    assert rows["100"]["basis"] == "history" and rows["100"]["lead_time_source"] == "item"
    assert str(rows["100"]["as_of"]) == "2025-10-10"


def test_family_median_then_default_lead_time(reorder_site):
    rows, _, b, c = reorder_site
    family = [5, 7, 9, 4, 30, 10, 3]  # MATERIAL ELETRICO lines with a usable lead time
    _same(rows["200"], expected(b, [], on_hand=0, on_order=0, family_lts=family))
    assert rows["200"]["status"] == "stockout" and rows["200"]["lead_time_source"] == "family"
    _same(rows["300"], expected(c, [], on_hand=100, on_order=0))
    assert rows["300"]["lead_time_source"] == "default" and rows["300"]["lead_time_days"] == 14


def test_latest_forecast_run_replaces_demand_over_lead_time(reorder_site):
    rows, _, _, _ = reorder_site
    # L = 3 days; the newest run (generated 2025-10-09) forecasts 10, 11, 12 for the 3 days after as-of.
    # one lead time of its own: L is its median, s_L its family's (it needs 3 or more)
    family = [5, 7, 9, 4, 30, 10, 3]
    _same(rows["400"], expected({AS_OF - timedelta(days=1): 3}, [3], on_hand=1, on_order=0, forecast_sum=33.0,
                                family_lts=family))
    assert rows["400"]["basis"] == "forecast" and rows["400"]["model_version"] == "v-2025-10-09"


def test_services_are_excluded_and_idle_items_are_ok(reorder_site):
    rows, _, _, _ = reorder_site
    assert "500" not in rows
    assert rows["600"]["status"] == "ok" and rows["600"]["days_of_cover"] is None and rows["600"]["avg_daily_demand"] == 0
