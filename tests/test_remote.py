"""The remote store against a real S3-compatible server (SeaweedFS on loopback), and `export`."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import duckdb
import pytest

from conftest import make_site, run_cli
from helpers import one, warehouse
from seaweed import ENV, SECRET_KEY, Weed

pytestmark = pytest.mark.slow


SITE = "ba-salvador"


def with_remote(cfg, endpoint: str, site: str = SITE) -> Path:
    with open(cfg.source, "a") as fh:
        fh.write(f'\n[site]\nid = "{site}"\nname = "{site.title()}"\n\n[remote]\nendpoint = "{endpoint}"\nsecure = false\n')
    return cfg.source


def delta_options(store) -> dict:
    from seaweed import ACCESS_KEY
    return {"AWS_ENDPOINT_URL": f"http://{store.endpoint}", "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}


def delta_rows(store, layer: str, table: str, sql: str = "SELECT * FROM t", version: int | None = None) -> list[tuple]:
    """Read a Delta table of the store the way a central team would (delta-rs' QueryBuilder, then DuckDB)."""
    from deltalake import DeltaTable, QueryBuilder

    dt = DeltaTable(f"s3://nova-{layer}/{table}", storage_options=delta_options(store), version=version)
    reader = QueryBuilder().register("t", dt).execute(sql)
    assert reader is not None  # DuckDB finds the Arrow stream by its variable name
    return duckdb.sql("SELECT * FROM reader").fetchall()


def cli(config: Path, *args: str, env: dict | None = None):
    return run_cli("--config", str(config), *args, env=ENV if env is None else env)


def read_object(client, bucket: str, key: str) -> bytes:
    response = client.get_object(bucket, key)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def no_secret_anywhere(*texts: str, folders: tuple[Path, ...] = ()) -> None:
    for text in texts:
        assert SECRET_KEY not in text
    for folder in folders:
        for f in folder.rglob("*"):
            if f.is_file():
                assert SECRET_KEY.encode() not in f.read_bytes(), f


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    weed = Weed(tmp_path_factory.mktemp("weed")).start()
    yield weed
    weed.stop()


@pytest.fixture(scope="module")
def pushed(store, tmp_path_factory):
    """The bundled site built once with the remote store configured: the build pushes by itself."""
    cfg = make_site(tmp_path_factory.mktemp("pushed") / "site", with_data=True)
    config = with_remote(cfg, store.endpoint)
    result = cli(config, "build")
    assert result.returncode == 0, result.stderr
    return cfg, result


def test_publish_uploads_the_version_and_its_manifest(pushed, store):
    cfg, result = pushed
    assert "remote store: sent v1, 8 bronze file(s)" in result.stdout, result.stdout + result.stderr
    assert "event=progress stage=push done=0" in result.stderr  # off a terminal: progress as log lines
    local = cfg.warehouse / "nova_v000001.duckdb"
    client = store.client()
    assert read_object(client, "nova-warehouse", f"{SITE}/versions/nova_v000001.duckdb") == local.read_bytes()
    manifest = json.loads(read_object(client, "nova-warehouse", f"{SITE}/versions/nova_v000001.manifest.json"))
    with warehouse(cfg) as con:
        built_at, as_of = con.execute("SELECT built_at, as_of FROM meta.build").fetchone()
    assert manifest == {"version": 1, "file": "nova_v000001.duckdb", "size": local.stat().st_size,
                        "sha256": hashlib.sha256(local.read_bytes()).hexdigest(),
                        "built_at": built_at.isoformat(), "as_of": "2025-10-24"}
    assert str(as_of) == "2025-10-24"
    status = cli(cfg.source, "status")
    assert f"remote      {store.endpoint}: in sync at v1" in status.stdout
    no_secret_anywhere(result.stdout, result.stderr, status.stdout, folders=(cfg.warehouse, cfg.lake))


def test_layers_are_delta_tables_partitioned_by_site(pushed, store):
    cfg, _ = pushed
    client = store.client()
    bronze = {o.object_name for o in client.list_objects("nova-bronze", recursive=True)}
    local = {f"{SITE}/{p.relative_to(cfg.lake / 'bronze').as_posix()}" for p in (cfg.lake / "bronze").rglob("*.parquet")}
    assert bronze == local and len(bronze) == 8
    assert all("/year=" in k and "/month=" in k and "/day=" in k for k in bronze)
    with warehouse(cfg) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                             "WHERE schema_name IN ('silver', 'gold')").fetchall()
        for layer in ("silver", "gold"):
            keys = {o.object_name for o in client.list_objects(f"nova-{layer}", recursive=True)}
            held = {k.split("/")[0] for k in keys if not k.startswith("_sites/")}
            assert held == {t for s, t in tables if s == layer}
            assert all(k.startswith("_sites/") or "/_delta_log/" in k or f"/site={SITE}/" in k for k in keys)
        assert json.loads(read_object(client, "nova-gold", f"_sites/{SITE}.json"))["version"] == 1
        # a table read back from the store is the table in the warehouse, with the site's id
        theirs = delta_rows(store, "gold", "reorder_status", "SELECT * FROM t ORDER BY item_id")
        mine = con.execute(f"SELECT '{SITE}' AS site, * FROM gold.reorder_status ORDER BY item_id").fetchall()
        assert [tuple(r) for r in theirs] == mine
        for schema, table in tables:
            n = delta_rows(store, schema, table, "SELECT count(*) FROM t")[0][0]
            assert n == one(con, f"SELECT count(*) FROM {schema}.{table}"), (schema, table)


def test_a_second_push_sends_nothing(pushed):
    cfg, _ = pushed
    result = cli(cfg.source, "push")
    assert result.returncode == 0 and "remote store: already in sync" in result.stdout


def test_pull_is_byte_for_byte_and_a_corrupted_object_is_refused(pushed, store, tmp_path):
    cfg, _ = pushed
    # an analyst's config: only [remote] and which plant's versions
    analyst = tmp_path / "analyst.toml"
    analyst.write_text(f'[site]\nid = "{SITE}"\n\n[remote]\nendpoint = "{store.endpoint}"\nsecure = false\n')
    result = cli(analyst, "pull", str(tmp_path / "copy.duckdb"))
    assert result.returncode == 0, result.stderr
    assert "pulled v1 (as of 2025-10-24" in result.stdout and "sha256 verified" in result.stdout
    original = (cfg.warehouse / "nova_v000001.duckdb").read_bytes()
    assert (tmp_path / "copy.duckdb").read_bytes() == original
    into_folder = cli(analyst, "pull", str(tmp_path), "--version", "v1")
    assert into_folder.returncode == 0 and (tmp_path / "nova_v000001.duckdb").read_bytes() == original
    missing = cli(analyst, "pull", str(tmp_path), "--version", "7")
    assert missing.returncode == 1 and "v7 is not in the remote store (it holds v1–v1" in missing.stderr

    client = store.client()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0xFF
    client.put_object("nova-warehouse", f"{SITE}/versions/nova_v000001.duckdb", io.BytesIO(bytes(damaged)), len(damaged))
    try:
        (tmp_path / "copy.duckdb").write_bytes(b"the analyst's previous copy")
        refused = cli(analyst, "pull", str(tmp_path / "copy.duckdb"))
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert "v1 in the store does not match its manifest" in refused.stderr and "was not touched" in refused.stderr
        assert (tmp_path / "copy.duckdb").read_bytes() == b"the analyst's previous copy"
        assert not list(tmp_path.glob(".*.part"))
    finally:
        client.put_object("nova-warehouse", f"{SITE}/versions/nova_v000001.duckdb", io.BytesIO(original), len(original))
    no_secret_anywhere(result.stdout, result.stderr, refused.stderr, folders=(tmp_path,))


def test_missing_credentials_say_what_to_do_and_the_build_still_publishes(tmp_path, store):
    cfg = make_site(tmp_path / "site", with_data=True)
    with_remote(cfg, store.endpoint)
    result = cli(cfg.source, "build", env={"NOVA_S3_ACCESS_KEY": "", "NOVA_S3_SECRET_KEY": ""})
    assert result.returncode == 0 and "published v1" in result.stdout
    assert "credentials are not set: export NOVA_S3_ACCESS_KEY and NOVA_S3_SECRET_KEY" in result.stderr
    wrong = cli(cfg.source, "push", env={"NOVA_S3_ACCESS_KEY": "nova-test-access", "NOVA_S3_SECRET_KEY": "not-the-secret"})
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr and "not-the-secret" not in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1


def test_store_down_never_blocks_a_publish_and_catches_up_when_back(tmp_path):
    weed = Weed(tmp_path / "weed")  # ports chosen, nothing listening yet: the store is down
    try:
        cfg = make_site(tmp_path / "site", with_data=True)
        with_remote(cfg, weed.endpoint)
        down = cli(cfg.source, "build")
        assert down.returncode == 0 and "published v1" in down.stdout
        assert "cannot connect" in down.stderr and "goes with the next build or `nova-pipeline push`" in down.stderr
        status = cli(cfg.source, "status").stdout
        assert f"remote      {weed.endpoint}: v1 not sent yet; last attempt" in status
        weed.start()
        back = cli(cfg.source, "build")  # nothing new to publish, but the store is caught up
        assert back.returncode == 0, back.stderr
        assert "nothing new: v1 keeps serving" in back.stdout and "remote store: sent v1, 8 bronze file(s)" in back.stdout
        client = weed.client()
        assert read_object(client, "nova-warehouse", f"{SITE}/versions/nova_v000001.duckdb") == \
            (cfg.warehouse / "nova_v000001.duckdb").read_bytes()
        assert f"remote      {weed.endpoint}: in sync at v1" in cli(cfg.source, "status").stdout
    finally:
        weed.stop()


def test_export_writes_parquet_excel_csv_and_a_readme(built_demo):
    result = run_cli("--config", str(built_demo.source), "export")
    assert result.returncode == 0, result.stderr
    folder = built_demo.exports / "gold_v000001"
    assert f"to {folder}" in result.stdout
    with warehouse(built_demo) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'gold'").fetchall()]
        for t in tables:
            assert duckdb.sql(f"SELECT count(*) FROM '{folder / (t + '.parquet')}'").fetchall()[0][0] == one(con, f"SELECT count(*) FROM gold.{t}")
            raw = (folder / f"{t}.csv").read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf")
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
            assert len(rows) - 1 == one(con, f"SELECT count(*) FROM gold.{t}")
        # numbers stay numbers, with a decimal comma; dates ISO
        rows = list(csv.DictReader(io.StringIO((folder / "external_daily.csv").read_text("utf-8-sig")), delimiter=";"))
        day = next(r for r in rows if r["date"] == "2025-10-31")
        assert day["selic_pct"] == "15,0" and day["ptax_usd_sell"] == "5,3843" and day["ipca_month_pct"] == "0,09"
    readme = (folder / "README.md").read_text()
    assert all(f"| {t} |" in readme for t in tables) and "decimal comma" in readme


def test_export_neutralises_formulas_but_not_numbers(site, tmp_path):
    from nova_pipeline.export import excel_select

    con = duckdb.connect()
    con.execute("CREATE SCHEMA gold; CREATE TABLE gold.t (txt VARCHAR, qty DOUBLE, n INTEGER)")
    con.execute("INSERT INTO gold.t VALUES ('=HYPERLINK(\"x\")', -1.5, -3), ('+55 71', 2.25, 4), ('-x', 0.5, 5), "
                "('@SUM(A1)', 1e6, 6), (chr(9) || 'tab', 3, 7), (chr(13) || 'cr', 3, 8), ('plain - text', 10, 9), (NULL, NULL, NULL)")
    got = con.execute(excel_select(con, "gold.t")).fetchall()
    assert got == [("'=HYPERLINK(\"x\")", "-1,5", -3), ("'+55 71", "2,25", 4), ("'-x", "0,5", 5),
                   ("'@SUM(A1)", "1000000,0", 6), ("'\ttab", "3,0", 7), ("'\rcr", "3,0", 8),
                   ("plain - text", "10,0", 9), (None, None, None)]


def test_a_bucket_made_by_another_plant_in_the_meantime_is_used(store, tmp_path, monkeypatch):
    """Two plants pushing at once both see no bucket and both make it: the second's 'already owned'
    answer from the store means the bucket is there, not that the push failed."""
    import minio

    from nova_pipeline import remote
    from nova_pipeline.config import load_config

    first = make_site(tmp_path / "first", with_data=True)
    assert cli(with_remote(first, store.endpoint, site="ba-first"), "build").returncode == 0  # the buckets exist now
    second = make_site(tmp_path / "second", with_data=True)
    assert cli(second.source, "build").returncode == 0  # built before the store was configured
    config = load_config(with_remote(second, store.endpoint, site="ba-second"))
    monkeypatch.setattr(minio.Minio, "bucket_exists", lambda self, bucket: False)  # the race's window
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    result = remote.push(config)
    assert result.versions == [1] and result.layer_tables > 0
