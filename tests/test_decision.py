"""The morning decision in the warehouse (issue 13): run-out and order-by dates, the late mark, the
supplier to ask, and what changed since the previous version — each against a plain-Python
computation from the bundled files and the two versions' reorder lists."""
from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime, timedelta

import pytest

from conftest import SUPRIMENTOS, demo_file
from helpers import dict_rows


def rows(path, sql: str) -> list[dict]:
    return dict_rows(path, sql)


def day(text: str) -> date | None:
    return datetime.strptime(text.strip(), "%d/%m/%Y").date() if text.strip() else None


def expected_suppliers() -> dict[str, tuple[str, int, int]]:
    """Per item, from the raw export: the supplier bought from most recently (then most lines, then by
    name), its lines, and how many suppliers the item has."""
    text = demo_file(SUPRIMENTOS).read_bytes().decode("cp1252")
    per: dict[str, dict[str, list]] = {}
    for rec in csv.DictReader(io.StringIO(text), delimiter=";"):
        supplier = rec["NOME FORNEC."].strip()
        if not supplier:
            continue
        s = per.setdefault(rec["PRODUTO/SERVIÇO"].strip(), {}).setdefault(supplier, [0, None])
        s[0] += 1
        bought = day(rec["DATA DE COMPRA"])
        if bought and (s[1] is None or bought > s[1]):
            s[1] = bought
    out = {}
    for item, suppliers in per.items():
        best = sorted(suppliers.items(), key=lambda kv: (-(kv[1][1] or date.min).toordinal(), -kv[1][0], kv[0]))[0]
        out[item] = (best[0], best[1][0], len(suppliers))
    return out


def test_decision_columns_follow_their_definitions(built_demo):
    found = rows(built_demo.warehouse / "current.duckdb", "SELECT * FROM gold.reorder_status")
    suppliers = expected_suppliers()
    late = 0
    for r in found:
        d, lt, as_of = r["avg_daily_demand"], r["lead_time_days"], r["as_of"]
        if d > 0:
            cover = r["on_hand"] / d
            assert r["runout_date"] == as_of + timedelta(days=math.floor(cover)), r["item_id"]
            assert r["order_by_date"] == as_of + timedelta(days=math.floor(cover - lt)), r["item_id"]
            assert r["runs_out_before_delivery"] == (cover < lt), r["item_id"]
            late += cover < lt
        else:
            assert r["runout_date"] is None and r["order_by_date"] is None and r["runs_out_before_delivery"] is False
        want = suppliers.get(r["item_id"], (None, 0, 0))
        assert (r["supplier"], r["supplier_lines"], r["supplier_count"]) == want, r["item_id"]
        assert r["unit"]
    assert late > 0  # the bundled data has items that run out before a purchase could arrive
    assert any(r["supplier_count"] > 1 for r in found)


@pytest.fixture(scope="module")
def two_versions(tui_site):
    v1, v2 = (rows(tui_site / "warehouse" / f"nova_v00000{n}.duckdb", "SELECT * FROM gold.reorder_status")
              for n in (1, 2))
    changes = rows(tui_site / "warehouse" / "nova_v000002.duckdb", "SELECT * FROM gold.reorder_changes")
    return {r["item_id"]: r for r in v1}, {r["item_id"]: r for r in v2}, changes


def test_changes_list_exactly_what_moved(two_versions):
    before, now, changes = two_versions
    rank = {"ok": 0, "below_reorder": 1, "stockout": 2}
    expected = set()
    for item, r in now.items():
        old = before.get(item)
        was = old["status"] if old else "ok"
        if rank[r["status"]] != rank[was]:
            expected.add((item, "worse" if rank[r["status"]] > rank[was] else "better", was, r["status"]))
        if old is None:
            continue
        a, b = old["suggested_order_qty"], r["suggested_order_qty"]
        if abs(b - a) > 0.25 * a:
            text = lambda x: str(int(x)) if x == int(x) else str(round(x, 3))  # noqa: E731
            expected.add((item, "order_moved", text(a), text(b)))
        if old["basis"] != r["basis"]:
            expected.add((item, "basis_switched", old["basis"], r["basis"]))
    got = {(c["item_id"], c["change"], c["previous_value"], c["current_value"]) for c in changes}
    assert got == expected
    assert ("010090", "worse", "below_reorder", "stockout") in got or ("010090", "worse", "ok", "stockout") in got
    for c in changes:  # the previous values are also on the item's row
        r = now[c["item_id"]]
        assert r["previous_status"] == before[c["item_id"]]["status"]
        assert r["previous_suggested_order_qty"] == before[c["item_id"]]["suggested_order_qty"]
        if c["change"] == "basis_switched":
            assert c["detail"].endswith(r["basis_note"])


def test_the_first_version_has_no_changes_and_counts_without_before(tui_site):
    v1 = tui_site / "warehouse" / "nova_v000001.duckdb"
    assert rows(v1, "SELECT count(*) AS n FROM gold.reorder_changes") == [{"n": 0}]
    counts = rows(v1, "SELECT * FROM gold.status_counts")
    assert [c["status"] for c in counts] == ["stockout", "below_reorder", "ok"]
    assert all(c["previous_items"] is None for c in counts)


def test_status_counts_hold_both_versions(two_versions, tui_site):
    before, now, changes = two_versions
    counts = rows(tui_site / "warehouse" / "nova_v000002.duckdb", "SELECT * FROM gold.status_counts")
    for c in counts:
        assert c["items"] == sum(r["status"] == c["status"] for r in now.values())
        assert c["previous_items"] == sum(r["status"] == c["status"] for r in before.values())
        assert c["worsened_into"] == sum(x["change"] == "worse" and x["current_value"] == c["status"] for x in changes)


def test_a_basis_note_says_why_the_forecast_is_not_used(built_demo):
    found = rows(built_demo.warehouse / "current.duckdb", "SELECT basis, basis_note, model_version FROM gold.reorder_status")
    for r in found:
        if r["basis"] == "forecast":
            assert r["basis_note"].startswith(f"model {r['model_version']} covers the ")
        else:
            assert r["basis_note"] == "no forecast drop has this item" or " covers " in r["basis_note"]
    assert {r["basis"] for r in found} == {"forecast", "history"}
