"""The real pipeline on the bundled real data, then the file it wrote, reopened."""
from pathlib import Path

from helpers import lake_lines, one, warehouse

from nova_pipeline.build import build


def test_real_export_lands_whole(built_demo):
    with lake_lines(built_demo) as lake:
        assert one(lake, "SELECT count(*) FROM lines") == 4207
    with warehouse(built_demo) as con:
        # the version keeps the lines of the reorder window (180 days to the as-of date) and undated ones
        assert one(con, "SELECT count(*) FROM gold.fact_requisition") == 2453
        assert one(con, "SELECT min(request_date) FROM gold.fact_requisition") == \
            one(con, "SELECT as_of - 179 FROM meta.build")
        rows = con.execute("SELECT kind, status, rows_read, rows_loaded, rows_rejected FROM meta.source_files ORDER BY kind").fetchall()
        assert rows == [("estoque", "loaded", 81, 81, 0), ("external_ipca", "loaded", 22, 22, 0),
                        ("external_ptax", "loaded", 2344, 2344, 0), ("external_selic", "loaded", 681, 681, 0),
                        ("external_weather", "loaded", 9768, 9768, 0), ("forecast", "loaded", 600, 600, 0),
                        ("parametros", "loaded", 7, 6, 1), ("suprimentos", "loaded", 4207, 4207, 0)]
        # the one rejected row is the planner's sheet's bad row, made on purpose for the demo
        assert con.execute("SELECT file_name, reason FROM meta.rejected_rows").fetchall() == \
            [("parametros_2025-10-24.csv", "EMBALAGEM must be greater than 0, got -5")]


def test_item_codes_stay_strings_and_units_are_normalised(built_demo):
    with warehouse(built_demo) as con:
        assert one(con, "SELECT count(*) FROM gold.dim_item WHERE item_id = '010825'") == 1
    with lake_lines(built_demo) as con:
        assert one(con, "SELECT count(*) FROM lines WHERE unit IN ('M²', 'M³')") == 0
        assert one(con, "SELECT count(*) FROM lines WHERE unit = 'M2'") == 15  # 12 M2 + 3 M²
        assert one(con, "SELECT count(*) FROM lines WHERE unit = 'M3'") == 16


def test_quoted_fields_and_decimal_commas_are_read(built_demo):
    with warehouse(built_demo) as con:
        desc = one(con, "SELECT description FROM gold.dim_item WHERE item_id = '010825'")
        assert desc == 'PREGO 2.1/2"X10MM'
    with lake_lines(built_demo) as con:
        assert one(con, "SELECT quantity FROM lines WHERE item_id = '011029' AND source_line = 6") == 1643.4


def test_identical_lines_inside_one_export_stay_separate(built_demo):
    with lake_lines(built_demo) as con:
        # 84 groups of identical lines in the real export: each copy is its own fact row.
        dupes = one(con, """SELECT count(*) FROM (SELECT * EXCLUDE (requisition_key, source_line)
                            FROM lines GROUP BY ALL HAVING count(*) > 1)""")
        assert dupes == 84


def test_services_are_spend_not_stock(built_demo):
    with lake_lines(built_demo) as con:
        assert one(con, "SELECT count(*) FROM lines WHERE is_service") == 817
    with warehouse(built_demo) as con:
        assert one(con, "SELECT count(*) FROM gold.demand_daily d JOIN gold.dim_item i USING (item_id) WHERE i.is_service") == 0
        assert one(con, "SELECT count(*) FROM gold.reorder_status r JOIN gold.dim_item i USING (item_id) WHERE i.is_service") == 0


def test_negative_lead_times_are_flagged_never_used(built_demo):
    with lake_lines(built_demo) as con:
        in_history = one(con, "SELECT count(*) FROM lines WHERE lead_time_negative")
    with warehouse(built_demo) as con:
        neg = one(con, "SELECT count(*) FROM gold.fact_requisition WHERE lead_time_days < 0")
        assert neg > 0
        assert one(con, "SELECT count(*) FROM gold.fact_requisition WHERE lead_time_negative") == neg
        assert one(con, "SELECT sum(negative_lines) FROM gold.item_lead_time") == in_history > neg
        detail = one(con, "SELECT detail FROM meta.checks WHERE name = 'negative_lead_times'")
        assert detail.startswith(f"{in_history} offending")  # counted over all history, not the window


def test_as_of_and_meta_describe_the_file(built_demo):
    with warehouse(built_demo) as con:
        assert str(one(con, "SELECT as_of FROM meta.build")) == "2025-10-24"
        assert one(con, "SELECT complete FROM meta.build") is True
        assert one(con, "SELECT count(*) FROM meta.checks WHERE severity = 'error' AND NOT passed") == 0
        undescribed = one(con, """SELECT count(*) FROM information_schema.columns c
            WHERE table_schema IN ('silver', 'gold', 'meta') AND NOT EXISTS (SELECT 1 FROM meta.tables t
            WHERE t.schema_name = c.table_schema AND t.table_name = c.table_name AND t.column_name = c.column_name)""")
        assert undescribed == 0


def test_bronze_is_partitioned_parquet_with_lineage(built_demo):
    files = sorted((built_demo.lake / "bronze").rglob("*.parquet"))
    assert len(files) == 8  # 4 company drops (with the planner's sheet) + the 4 recorded public series
    for f in files:
        parts = f.relative_to(built_demo.lake / "bronze").parts
        assert parts[1].startswith("year=") and parts[2].startswith("month=") and parts[3].startswith("day=")
    import duckdb
    con = duckdb.connect()
    sup = next(f for f in files if f.parts[-5] == "suprimentos")
    row = con.execute(f"SELECT file_name, line_number, length(sha256), ingested_at IS NOT NULL, quantity "
                      f"FROM read_parquet('{sup}') ORDER BY line_number LIMIT 1").fetchone()
    assert row == ("suprimentos_2024-10_a_2025-10.csv", 2, 64, True, "10")


def test_forecast_actuals_and_demand_windows(built_demo):
    with warehouse(built_demo) as con:
        assert one(con, "SELECT count(*) FROM gold.fact_forecast") == 600
        # actuals only up to the data's end (2025-10-24); the forecast starts 2025-10-25
        assert one(con, "SELECT count(*) FROM gold.fact_forecast WHERE actual_demand IS NOT NULL") == 0
        # the rolling figures count the days before the window too (and the days without demand as 0)
        for item, day in con.execute("SELECT item_id, \"date\" FROM gold.demand_daily ORDER BY item_id, \"date\" LIMIT 40").fetchall():
            with lake_lines(built_demo) as lake:
                expected = lake.execute("SELECT sum(quantity), sum(quantity) FILTER (request_date > ?::DATE - 7) FROM lines "
                                        "WHERE NOT is_service AND item_id = ? AND request_date BETWEEN ?::DATE - 29 AND ?",
                                        [day, item, day, day]).fetchone()
            got = con.execute("SELECT total_30d, rolling_avg_7d * 7 FROM gold.demand_daily WHERE item_id = ? AND \"date\" = ?",
                              [item, day]).fetchone()
            assert got[0] == expected[0] and abs(got[1] - expected[1]) < 1e-9


def test_dim_date_covers_the_data_with_bahia_holidays(built_demo):
    with warehouse(built_demo) as con:
        lo, hi = con.execute('SELECT min("date"), max("date") FROM gold.dim_date').fetchone()
        with lake_lines(built_demo) as lake:
            first = one(lake, "SELECT least(min(request_date), min(purchase_date)) FROM lines")
        assert lo == first and str(hi) == "2025-11-23"  # the last forecast day
        assert one(con, "SELECT is_holiday FROM gold.dim_date WHERE \"date\" = DATE '2025-07-02'") is True  # Bahia independence
        assert one(con, "SELECT is_holiday FROM gold.dim_date WHERE \"date\" = DATE '2024-12-25'") is True
        assert one(con, "SELECT is_holiday FROM gold.dim_date WHERE \"date\" = DATE '2025-07-03'") is False


def test_second_build_with_nothing_new_publishes_nothing(demo_site):
    first = build(demo_site)
    second = build(demo_site)
    assert (first.outcome, first.version) == ("published", 1)
    assert (second.outcome, second.version) == ("nothing_new", 1)
    assert sorted(p.name for p in Path(demo_site.warehouse).glob("nova_v*.duckdb")) == ["nova_v000001.duckdb"]


def test_the_catalog_lists_each_column_once_in_a_version_built_over_another(tmp_path):
    """meta.tables lists a column once, also when the build had the serving version attached (it read
    both files' columns and listed every column twice in each version after the first)."""
    from conftest import make_site, stock_snapshot

    cfg = make_site(tmp_path / "site", with_data=True)
    assert build(cfg).outcome == "published"
    with warehouse(cfg) as con:
        first = one(con, "SELECT count(*) FROM meta.tables")
    stock_snapshot(cfg.source.parent, "25/10/2025", "010090", "0")
    assert build(cfg).version == 2
    with warehouse(cfg) as con:
        assert one(con, "SELECT count(*) FROM meta.tables") == first
        assert one(con, "SELECT count(*) FROM (SELECT schema_name, table_name, column_name FROM meta.tables "
                        "GROUP BY ALL HAVING count(*) > 1)") == 0
