"""Section 6 of the data contract (planning for spare-parts demand) computed in plain Python from the
bundled files — the real supplies export, the stock snapshot, the ML forecast and the planner's
sheet made for the demo — and compared with the warehouse to 1e-6: demand class, ADI, CV², s_L,
safety stock, reorder point, suggested order (pack and minimum), and the service replay's points
and kept points per class. Nothing here uses the pipeline's SQL."""
from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import duckdb
import pytest

from conftest import ESTOQUE, FORECAST, SUPRIMENTOS, demo_file
from nova_pipeline.demo import PARAMETROS

W, REVIEW, DEFAULT_LT, SERVICE = 180, 7, 14, 0.95


def br_number(text: str) -> float | None:
    text = text.strip()
    return float(text.replace(".", "").replace(",", ".")) if text else None


def day(text: str) -> date | None:
    return datetime.strptime(text.strip(), "%d/%m/%Y").date() if text.strip() else None


def read_csv(name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(demo_file(name).read_bytes().decode("cp1252")), delimiter=";"))


def is_service(rec: dict) -> bool:
    fam = rec["FAMÍLIA"].strip().upper()
    return rec["U.M."].strip().upper() == "SR" or fam.startswith("SERVIÇO") or fam.startswith("SERVICO")


def expected_plan() -> tuple[dict, dict, date]:
    lines = read_csv(SUPRIMENTOS)
    stock = read_csv(ESTOQUE)
    as_of = max(day(r["DATA POSIÇÃO"]) for r in stock)
    first_day = min(day(r["DATA SOLICITADO"]) for r in lines if day(r["DATA SOLICITADO"]))
    on_hand, on_order = defaultdict(float), defaultdict(float)
    for r in stock:
        if day(r["DATA POSIÇÃO"]) == as_of:
            on_hand[r["PRODUTO"].strip()] += br_number(r["SALDO"])
            on_order[r["PRODUTO"].strip()] += br_number(r["EM PEDIDO"]) or 0
    demand: dict[str, Counter] = defaultdict(Counter)
    item_lts: dict[str, list[int]] = defaultdict(list)
    family_lts: dict[str, list[int]] = defaultdict(list)
    families: dict[str, Counter] = defaultdict(Counter)
    services: dict[str, list[bool]] = defaultdict(list)
    for r in lines:
        item, fam = r["PRODUTO/SERVIÇO"].strip(), r["FAMÍLIA"].strip() or None
        services[item].append(is_service(r))
        if fam:
            families[item][fam] += 1
        req, bought = day(r["DATA SOLICITADO"]), day(r["DATA DE COMPRA"])
        if req and not is_service(r):
            demand[item][req] += br_number(r["QUANTIDADE"])
        if req and bought and (bought - req).days >= 0:
            item_lts[item].append((bought - req).days)
            if fam:
                family_lts[fam].append((bought - req).days)

    def family_of(item):  # the most frequent family, then the first alphabetically (gold.dim_item)
        return sorted(families[item].items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if families[item] else None

    planner = {}
    for r in read_csv(PARAMETROS):
        values = [br_number(r[k]) for k in ("EMBALAGEM", "LOTE MÍNIMO", "NÍVEL DE SERVIÇO", "PRAZO (DIAS)")]
        if values[0] is not None and values[0] <= 0:
            continue  # the bad row: rejected, so the item has no parameters
        planner[r["PRODUTO"].strip()] = values
    forecast = {}
    con = duckdb.connect()  # only to read the Parquet drop
    runs = con.execute(f"SELECT item_id, \"date\", forecast, generated_at FROM '{demo_file(FORECAST)}'").fetchall()
    con.close()
    newest: dict[str, datetime] = {}
    for item, _d, _f, gen in runs:
        newest[item] = max(newest.get(item, gen), gen)
    for item, d, f, gen in runs:
        if gen == newest[item]:
            forecast.setdefault(item, {})[d] = f

    window = [as_of - timedelta(days=i) for i in range(W)]
    plan = {}
    for item in on_hand:
        if services[item] and all(services[item]):
            continue
        series = [demand[item][d] for d in window]
        d, s = statistics.mean(series), statistics.stdev(series)
        nonzero = [q for q in series if q > 0]
        n = len(nonzero)
        adi = W / n if n >= 2 else None
        cv2 = (statistics.stdev(nonzero) / statistics.mean(nonzero)) ** 2 if n >= 2 else None
        cls = ("no_demand" if n == 0 else "single" if n == 1 else
               ("smooth" if cv2 < 0.49 else "erratic") if adi < 1.32 else ("intermittent" if cv2 < 0.49 else "lumpy"))
        fam = family_of(item)
        own, fam_lts = item_lts[item], family_lts.get(fam, [])
        pack, minimum, level, prazo = planner.get(item, (None, None, None, None))
        measured = statistics.median(own) if own else statistics.median(fam_lts) if fam_lts else DEFAULT_LT
        lt = max(1, prazo if prazo is not None else measured)
        s_l = statistics.stdev(own) if len(own) >= 3 else statistics.stdev(fam_lts) if len(fam_lts) >= 3 else 0.0
        z = statistics.NormalDist().inv_cdf(level if level is not None else SERVICE)
        days_ahead = [as_of + timedelta(days=k) for k in range(1, math.ceil(lt) + 1)]
        fc = forecast.get(item, {})
        dlt = sum(fc[x] for x in days_ahead) if all(x in fc for x in days_ahead) else d * lt
        ss = z * math.sqrt(lt * s * s + d * d * s_l * s_l)
        rop = dlt + ss
        raw = rop + d * REVIEW - on_hand[item] - on_order[item]
        if raw <= 0:
            q = 0.0
        else:
            q = math.ceil(raw / pack) * pack if pack else math.ceil(raw)
            q = max(q, minimum or 0)
        # the replay: each weekly review point with a full window before it inside the data
        points = kept = 0
        k = 1
        while True:
            t = as_of - timedelta(days=7 * k)
            k += 1
            if t - timedelta(days=W) < first_day:
                break
            if t + timedelta(days=math.ceil(lt) - 1) > as_of:
                continue
            before = [demand[item][t - timedelta(days=i)] for i in range(1, W + 1)]
            d_t = statistics.mean(before)
            if d_t == 0:
                continue
            s_t = statistics.stdev(before)
            rop_t = d_t * lt + z * math.sqrt(lt * s_t * s_t + d_t * d_t * s_l * s_l)
            after = sum(demand[item][t + timedelta(days=i)] for i in range(math.ceil(lt)))
            points += 1
            kept += after <= rop_t
        plan[item] = dict(demand_class=cls, adi=adi, cv2=cv2, lead_time_std=s_l, lead_time_days=lt,
                          safety_stock=ss, reorder_point=rop, suggested_order_qty=q, points=points, kept=kept,
                          service_level=level if level is not None else SERVICE,
                          lead_time_source="planner" if prazo is not None else None)
    per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p in plan.values():
        per_class[p["demand_class"]][0] += p["points"]
        per_class[p["demand_class"]][1] += p["kept"]
    return plan, dict(per_class), as_of


@pytest.fixture(scope="module")
def planned(built_demo):
    con = duckdb.connect(str(built_demo.warehouse / "current.duckdb"), read_only=True)
    try:
        cur = con.execute("SELECT r.*, p.points, p.points_kept FROM gold.reorder_status r "
                          "JOIN gold.service_replay_item p USING (item_id)")
        names = [d[0] for d in cur.description]
        items = {r[0]: dict(zip(names, r)) for r in cur.fetchall()}
        classes = {r[0]: r[1:] for r in con.execute(
            "SELECT demand_class, points, points_kept, share_kept, service_level FROM gold.service_replay").fetchall()}
    finally:
        con.close()
    return items, classes


def test_every_item_matches_section_6(planned):
    items, _ = planned
    plan, _, as_of = expected_plan()
    assert set(items) == set(plan)
    for item, want in plan.items():
        got = items[item]
        for key in ("demand_class", "points"):
            assert got[key] == want[key], (item, key)
        assert got["points_kept"] == want["kept"], item
        for key in ("adi", "cv2"):
            assert (got[key] is None) == (want[key] is None) and (want[key] is None or
                                                                  got[key] == pytest.approx(want[key], abs=1e-6)), (item, key)
        for key in ("lead_time_std", "lead_time_days", "safety_stock", "reorder_point", "suggested_order_qty",
                    "service_level"):
            assert got[key] == pytest.approx(want[key], abs=1e-6), (item, key, got[key], want[key])
        if want["lead_time_source"]:
            assert got["lead_time_source"] == "planner"


def test_the_replay_per_class(planned):
    _, classes = planned
    _, per_class, _ = expected_plan()
    assert {c: (v[0], v[1]) for c, v in classes.items() if v[0]} == {c: tuple(v) for c, v in per_class.items() if v[0]}
    for c, (points, kept, share, level) in classes.items():
        if points:
            assert share == pytest.approx(kept / points)
            assert level == pytest.approx(SERVICE, abs=0.01)
    # the finding behind the issue: intermittent items are covered far less often than promised
    assert classes["intermittent"][2] < 0.9


def test_the_planners_sheet_takes_effect_and_its_bad_row_is_rejected(planned, built_demo):
    items, _ = planned
    assert items["011029"]["lead_time_source"] == "planner" and items["011029"]["lead_time_days"] == 10
    assert items["011029"]["pack_size"] == 25 and items["011029"]["min_order_qty"] == 200
    assert items["011029"]["suggested_order_qty"] % 25 == 0
    assert items["010004"]["service_level"] == pytest.approx(0.98)
    assert items["010004"]["z"] == pytest.approx(statistics.NormalDist().inv_cdf(0.98))
    assert not items["010826"]["has_planner"] and items["010826"]["pack_size"] is None
    con = duckdb.connect(str(built_demo.warehouse / "current.duckdb"), read_only=True)
    try:
        reasons = con.execute("SELECT line_number, reason FROM meta.rejected_rows WHERE file_name = ?",
                              [PARAMETROS]).fetchall()
        status = con.execute("SELECT status, rows_loaded, rows_rejected FROM meta.source_files WHERE file_name = ?",
                             [PARAMETROS]).fetchone()
    finally:
        con.close()
    assert reasons == [(8, "EMBALAGEM must be greater than 0, got -5")]
    assert status == ("loaded", 6, 1)


def test_a_planners_sheet_is_a_drop_like_any_other(tmp_path):
    """Unreadable: quarantined with its reason; the newest loaded sheet holds, whole; bad values are rows."""
    from conftest import HEADER, STOCK_HEADER, make_site, write_export
    from nova_pipeline.build import build

    cfg = make_site(tmp_path / "site")
    write_export(cfg.landing / "suprimentos_a.csv",
                 [f"ALMOX-BA;{i};ITEM {i};FAM;FORN;2;UN;;1;0{d}/10/2025;0{d + 1}/10/2025" for i in ("1", "2") for d in (1, 3, 5)],
                 header=HEADER)
    write_export(cfg.landing / "estoque_a.csv", ["ALMOX-BA;1;I;UN;1;0;09/10/2025", "ALMOX-BA;2;I;UN;1;0;09/10/2025"],
                 header=STOCK_HEADER)
    header = "PRODUTO;EMBALAGEM;LOTE MÍNIMO;NÍVEL DE SERVIÇO;PRAZO (DIAS)"
    write_export(cfg.landing / "parametros_1.csv", ["1;10;;;", "2;;50;0,99;"], header=header)
    assert build(cfg).outcome == "published"
    write_export(cfg.landing / "parametros_2.csv", ["1;5;;1,5;", "3;;;;0", "4;;;;3"], header=header)  # new sheet
    write_export(cfg.landing / "parametros_ruim.csv", ["1;2"], header="PRODUTO;EMBALAGEM")
    assert build(cfg).outcome == "published"
    con = duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True)
    try:
        files = dict(con.execute("SELECT file_name, coalesce(reason, status) FROM meta.source_files "
                                 "WHERE kind = 'parametros'").fetchall())
        rejected = con.execute("SELECT file_name, line_number, reason FROM meta.rejected_rows ORDER BY ALL").fetchall()
        planner = dict(con.execute("SELECT item_id, has_planner FROM gold.reorder_status").fetchall())
        pack = con.execute("SELECT pack_size FROM gold.reorder_status WHERE item_id = '1'").fetchone()[0]
    finally:
        con.close()
    assert files["parametros_ruim.csv"].startswith("not a parametros export: missing column(s) LOTE MÍNIMO")
    assert list((cfg.lake / "quarantine").rglob("*parametros_ruim.csv"))
    assert rejected == [("parametros_2.csv", 2, "NÍVEL DE SERVIÇO must be at most 0.999, got 1,5"),
                        ("parametros_2.csv", 3, "PRAZO (DIAS) must be at least 1, got 0")]
    # the newest sheet holds whole: item 1's row was rejected, item 2 is not in it: neither has parameters
    assert planner == {"1": False, "2": False} and pack is None


def test_supplier_lead_times_match_the_export(built_demo):
    """gold.supplier_lead_time against the raw export: medians, nearest-rank p90s, on-time shares."""
    per: dict[str, list[int]] = defaultdict(list)
    lines: Counter = Counter()
    items: dict[str, set] = defaultdict(set)
    required: Counter = Counter()
    on_time: Counter = Counter()
    for r in read_csv(SUPRIMENTOS):
        supplier = r["NOME FORNEC."].strip()
        if not supplier:
            continue
        lines[supplier] += 1
        req, bought, needed = day(r["DATA SOLICITADO"]), day(r["DATA DE COMPRA"]), day(r["DATA REQUISITADA"])
        if bought:
            items[supplier].add(r["PRODUTO/SERVIÇO"].strip())
        if req and bought and bought >= req:
            per[supplier].append((bought - req).days)
            if needed:
                required[supplier] += 1
                on_time[supplier] += bought <= needed
    con = duckdb.connect(str(built_demo.warehouse / "current.duckdb"), read_only=True)
    try:
        got = {r[0]: r[1:] for r in con.execute(
            "SELECT supplier, lines, usable_lines, median_days, p90_days, std_days, lines_with_required_date, "
            "bought_on_time, on_time_share FROM gold.supplier_lead_time").fetchall()}
    finally:
        con.close()
    assert set(got) == set(lines)
    for supplier, (n, usable, median, p90, std, with_req, kept, share) in got.items():
        lts = sorted(per[supplier])
        assert n == lines[supplier] and (usable or 0) == len(lts), supplier
        if lts:
            assert median == pytest.approx(statistics.median(lts)), supplier
            assert p90 == lts[math.ceil(0.9 * len(lts)) - 1], supplier
            if len(lts) >= 2:
                assert std == pytest.approx(statistics.stdev(lts), abs=1e-6), supplier
            assert (with_req, kept) == (required[supplier], on_time[supplier]), supplier
            assert share == (pytest.approx(kept / with_req) if with_req else None), supplier


def test_stock_health_per_snapshot_matches_the_files(tui_site):
    """Two snapshots (the bundled one and the next day's, where 010090 ran out): per date, goods
    stocked, those with demand in the 180 days ending that day, and stockouts among them."""
    lines = read_csv(SUPRIMENTOS)
    demand_days: dict[str, list] = defaultdict(list)
    for r in lines:
        req = day(r["DATA SOLICITADO"])
        if req and not is_service(r):
            demand_days[r["PRODUTO/SERVIÇO"].strip()].append(req)
    snapshots: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for f in sorted((tui_site / "landing").glob("estoque*.csv")):
        for r in csv.DictReader(io.StringIO(f.read_bytes().decode("cp1252")), delimiter=";"):
            snapshots[day(r["DATA POSIÇÃO"])][r["PRODUTO"].strip()] += br_number(r["SALDO"])
    con = duckdb.connect(str(tui_site / "warehouse" / "nova_v000002.duckdb"), read_only=True)
    try:
        got = {r[0]: r[1:] for r in con.execute(
            "SELECT snapshot_date, stocked_items, items_with_demand, stockouts, stockout_rate FROM gold.stock_health").fetchall()}
        history = con.execute("SELECT version, stockouts, below_reorder FROM meta.build_history ORDER BY version").fetchall()
        now = con.execute("SELECT count(*) FILTER (status = 'stockout'), count(*) FILTER (status = 'below_reorder') "
                          "FROM gold.reorder_status").fetchone()
    finally:
        con.close()
    assert set(got) == set(snapshots) and len(got) == 2
    for t, stock in snapshots.items():
        with_demand = [i for i in stock if any(t - timedelta(days=W) < d <= t for d in demand_days[i])]
        out = [i for i in with_demand if stock[i] == 0]
        assert got[t][:3] == (len(stock), len(with_demand), len(out)), t
        assert got[t][3] == pytest.approx(len(out) / len(with_demand))
    first, second = sorted(got)
    assert got[second][2] == got[first][2] + 1  # 010090 ran out on the second day
    # and each version's status counts are kept, so the trend survives
    assert [h[0] for h in history] == [1, 2] and history[1][1:] == now


@pytest.mark.parametrize("replay_weeks", [1, 52])
def test_stock_health_is_the_same_however_far_the_replay_reaches(tmp_path, replay_weeks):
    """Stock health sums the daily demand of its snapshots' windows itself, whatever the replay reads:
    with a snapshot 60 days old (before a 1-week replay's oldest day, within a 52-week one's), both
    equal the unbounded replay (replay_weeks = 0)."""
    from conftest import make_site, stock_snapshot
    from nova_pipeline.build import build
    from nova_pipeline.config import load_config

    tables = []
    for weeks in (replay_weeks, 0):
        root = tmp_path / f"w{weeks}"
        make_site(root, with_data=True)
        stock_snapshot(root, "25/08/2025", "010090", "0")
        cfg_file = root / "config.toml"
        cfg_file.write_text(re.sub(r"(?m)^replay_weeks = \d+", f"replay_weeks = {weeks}", cfg_file.read_text()))
        cfg = load_config(cfg_file)
        assert cfg.values["reorder"]["replay_weeks"] == weeks
        build(cfg)
        con = duckdb.connect(str(root / "warehouse" / "current.duckdb"), read_only=True)
        try:
            tables.append(con.execute("SELECT * FROM gold.stock_health ORDER BY ALL").fetchall())
        finally:
            con.close()
    assert len(tables[0]) == 2 and tables[0] == tables[1]
