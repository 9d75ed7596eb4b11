"""Every example query of docs/queries.md runs, as written, on the bundled demo's warehouse and returns
rows (the rejected-rows query: the demo planner sheet's one bad row)."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "queries.md"
QUERIES = re.findall(r"## (\d+)\. ([^\n]+)\n```sql\n(.*?)```", DOC.read_text(), re.S)


def test_the_doc_has_a_dozen_queries():
    assert len(QUERIES) >= 12


@pytest.mark.parametrize("number,title,sql", QUERIES, ids=[f"q{n}" for n, _, _ in QUERIES])
def test_example_query_runs_on_the_demo(built_demo, number, title, sql):
    con = duckdb.connect(str(built_demo.warehouse / "current.duckdb"), read_only=True,
                         config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    if number == "12":  # the demo is a first version: nothing changed yet, the query still runs
        assert rows == []
    else:
        assert rows, f"query {number} ({title}) returned nothing on the demo"
