"""fetch-external against a real HTTP server on 127.0.0.1 replaying the recorded answers, then the
build: values in gold.external_daily checked against the recordings read independently here."""
from __future__ import annotations

import json
import socket
import subprocess
import time
from datetime import date, datetime, timezone
from pathlib import Path
from statistics import mean
from zoneinfo import ZoneInfo

import pytest

from helpers import one, warehouse
from conftest import make_site, run_cli
from nova_pipeline.demo import demo_file
from nova_pipeline.fetch import PROVIDERS

RECORDING = {"selic": "external/bcb_sgs_432_selic.json", "ptax": "external/bcb_olinda_ptax_usd.json",
             "ipca": "external/ibge_sidra_ipca.json", "weather": "external/open_meteo_archive_salvador.json"}
KEY = {p.name: p.config_key for p in PROVIDERS}


def site_with(root: Path, bases: dict[str, str], extra: str = ""):
    """A site whose [external] base URLs point at the replay server (or anywhere)."""
    make_site(root)
    urls = "\n".join(f'{KEY[name]} = "{url}"' for name, url in bases.items())
    (root / "config.toml").write_text(f'[paths]\nlanding = "landing"\n\n[external]\n{urls}\n{extra}', encoding="utf-8")
    return root / "config.toml"


def fetch(config: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli("--config", str(config), "fetch-external", *args)


def landed(root: Path) -> list[Path]:
    folder = root / "landing" / "external"
    return sorted(folder.iterdir()) if folder.exists() else []


def recording(name: str):
    return json.loads(demo_file(RECORDING[name]).read_bytes())


# -- the happy path, and the values ------------------------------------------------------------

@pytest.fixture(scope="module")
def fetched(replay, tmp_path_factory):
    root = tmp_path_factory.mktemp("fetched") / "site"
    config = site_with(root, {name: f"{replay.base}/ok" for name in KEY})
    result = fetch(config)
    assert result.returncode == 0, result.stderr
    build = run_cli("--config", str(config), "build")
    assert build.returncode == 0, build.stderr
    from nova_pipeline.config import load_config
    return root, load_config(config), result


def test_each_answer_is_landed_byte_for_byte(fetched):
    root, cfg, result = fetched
    files = landed(root)
    assert [f.name.split("_2")[0] for f in files] == ["external_ipca", "external_ptax", "external_selic", "external_weather"]
    for f in files:
        name = f.name.split("_")[1]
        assert f.read_bytes() == demo_file(RECORDING[name]).read_bytes()
    assert not list((root / "landing" / "external").glob(".*"))  # no temporary file left
    assert result.stdout.count(" kB -> landing/external/") == 4 and result.stderr == ""


def test_first_fetch_asks_from_start_date_with_the_real_paths(fetched, replay):
    sgs = replay.requests("/ok/dados/serie/bcdata.sgs.432/dados?formato=json&dataInicial=01/01/2024&dataFinal=")
    ptax = replay.requests("/ok/olinda/servico/PTAX/versao/v1/odata/CotacaoMoedaPeriodo(moeda=@moeda,"
                           "dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)?@moeda='USD'&@dataInicial='01-01-2024'")
    sidra = replay.requests("/ok/values/t/1737/n1/all/v/63/p/202401-")
    meteo = replay.requests("/ok/v1/archive?latitude=-12.97&longitude=-38.45&start_date=2024-01-01&end_date=")
    assert len(sgs) == len(ptax) == len(sidra) == len(meteo) == 1


def test_selic_ptax_and_ipca_match_the_recordings(fetched):
    root, cfg, _ = fetched
    selic = {e["data"]: float(e["valor"]) for e in recording("selic")}
    closing = {e["dataHoraCotacao"][:10]: e["cotacaoVenda"] for e in recording("ptax")["value"]
               if e["tipoBoletim"] == "Fechamento"}
    ipca = {e["D3C"]: float(e["V"]) for e in recording("ipca")[1:]}
    with warehouse(cfg) as con:
        for day in ("2024-01-02", "2024-06-19", "2025-03-05", "2025-10-31"):
            d = date.fromisoformat(day)
            row = con.execute("SELECT selic_pct, ptax_usd_sell, ipca_month_pct FROM gold.external_daily "
                              "WHERE \"date\" = ?", [d]).fetchone()
            assert row == (selic[f"{d:%d/%m/%Y}"], closing[day], ipca[f"{d:%Y%m}"]), day
        # no Fechamento bulletin on a Sunday or on Carnival Tuesday: no PTAX that day
        assert one(con, "SELECT ptax_usd_sell FROM gold.external_daily WHERE \"date\" = '2025-03-04'") is None
        assert one(con, "SELECT ptax_usd_sell FROM gold.external_daily WHERE \"date\" = '2025-03-09'") is None
        # the month's IPCA on every day of it
        assert con.execute("SELECT DISTINCT ipca_month_pct FROM gold.external_daily "
                           "WHERE \"date\" BETWEEN '2025-02-01' AND '2025-02-28'").fetchall() == [(ipca["202502"],)]


def test_salvador_daily_weather_is_by_local_day(fetched):
    root, cfg, _ = fetched
    hourly = recording("weather")["hourly"]
    bahia = ZoneInfo("America/Bahia")
    by_day: dict[date, list[tuple[float, float]]] = {}
    for t, temp, rain in zip(hourly["time"], hourly["temperature_2m"], hourly["precipitation"]):
        local = datetime.fromisoformat(t).replace(tzinfo=timezone.utc).astimezone(bahia).date()
        by_day.setdefault(local, []).append((temp, rain))
    with warehouse(cfg) as con:
        for day in (date(2024, 10, 1), date(2025, 1, 15), date(2025, 5, 2), date(2025, 11, 10)):
            temps, rains = zip(*by_day[day])
            assert len(temps) == 24
            got = con.execute("SELECT temp_mean_c, precip_mm FROM gold.external_daily WHERE \"date\" = ?", [day]).fetchone()
            assert got == pytest.approx((mean(temps), sum(rains)), abs=1e-9), day
        # the recording starts at 00:00 UTC = 21:00 in Salvador the day before: 3 hours are not a day
        assert len(by_day[date(2024, 9, 30)]) == 3
        assert one(con, "SELECT temp_mean_c FROM gold.external_daily WHERE \"date\" = '2024-09-30'") is None


def test_calendar_has_brazil_and_bahia_holidays_over_the_series(fetched):
    root, cfg, _ = fetched
    with warehouse(cfg) as con:
        rows = dict(con.execute("SELECT \"date\"::VARCHAR, holiday_name FROM gold.dim_date WHERE \"date\" IN "
                                "('2024-01-01', '2024-11-20', '2024-12-25', '2025-04-18', '2025-07-02', '2025-07-03')").fetchall())
        assert rows == {"2024-01-01": "Universal Fraternization Day", "2024-11-20": "National Day of Zumbi and Black Awareness",
                        "2024-12-25": "Christmas Day", "2025-04-18": "Good Friday",
                        "2025-07-02": "Bahia Independence Day", "2025-07-03": None}
        # the calendar covers the public series even without any company data
        assert con.execute("SELECT min(\"date\"), max(\"date\") FROM gold.dim_date").fetchone() == (date(2024, 1, 1), date(2025, 11, 11))
        assert one(con, "SELECT is_weekend FROM gold.dim_date WHERE \"date\" = '2025-07-05'") is True


def test_second_fetch_asks_from_a_week_before_what_is_held(fetched, replay, tmp_path):
    root, cfg, _ = fetched
    before = {name: len(replay.requests(f"/ok/{piece}")) for name, piece in
              (("selic", "dados/serie"), ("ptax", "olinda"), ("ipca", "values/t/1737"), ("weather", "v1/archive"))}
    assert fetch(cfg.source).returncode == 0
    assert replay.requests("/ok/dados/serie")[before["selic"]]["path"].count("dataInicial=04/11/2025") == 1
    assert "@dataInicial='11-03-2025'" in replay.requests("/ok/olinda")[before["ptax"]]["path"]  # last closing 11-10
    assert "/p/202509-" in replay.requests("/ok/values/t/1737")[before["ipca"]]["path"]  # a month before Oct 2025
    assert "start_date=2025-11-03&" in replay.requests("/ok/v1/archive")[before["weather"]]["path"]  # last full day 11-10
    # the same answers again: duplicates, which still count as a fresh delivery
    assert run_cli("--config", str(cfg.source), "build").returncode == 0
    with warehouse(cfg) as con:
        assert one(con, "SELECT count(*) FROM meta.source_files WHERE status = 'duplicate'") == 4
    check = run_cli("--config", str(cfg.source), "status", "--check")
    assert check.returncode == 0 and "fresh, no rejects" in check.stdout, check.stdout


# -- failures ------------------------------------------------------------------------------------

def test_503_twice_then_200_is_retried_with_backoff(replay, tmp_path):
    config = site_with(tmp_path / "site", {"selic": f"{replay.base}/flaky/sgs503/2"})
    result = fetch(config, "--only", "selic")
    assert result.returncode == 0, result.stderr
    tries = replay.requests("/flaky/sgs503/")
    assert [t["status"] for t in tries] == [503, 503, 200]
    assert tries[1]["at"] - tries[0]["at"] >= 0.9 and tries[2]["at"] - tries[1]["at"] >= 1.9  # 1 s, then 2 s
    assert len(landed(tmp_path / "site")) == 1


def test_429_honours_retry_after(replay, tmp_path):
    config = site_with(tmp_path / "site", {"ipca": f"{replay.base}/busy/sidra429"})
    result = fetch(config, "--only", "ipca")
    assert result.returncode == 0, result.stderr
    tries = replay.requests("/busy/sidra429/")
    assert [t["status"] for t in tries] == [429, 200] and tries[1]["at"] - tries[0]["at"] >= 0.9


def test_timeout_fails_that_provider_only(replay, tmp_path):
    root = tmp_path / "site"
    config = site_with(root, {"selic": f"{replay.base}/slow/3", "ipca": f"{replay.base}/ok"})
    result = fetch(config, "--only", "selic", "--only", "ipca", "--timeout", "0.5")
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["nova-pipeline: fetch-external: selic (bcb_sgs): no answer within 0.5 s after 3 attempts"]
    assert [f.name.split("_2")[0] for f in landed(root)] == ["external_ipca"]  # the other one still landed


def test_404_is_not_retried(replay, tmp_path):
    root = tmp_path / "site"
    config = site_with(root, {"weather": f"{replay.base}/status/404"})
    result = fetch(config, "--only", "weather")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == ("nova-pipeline: fetch-external: weather (open_meteo): HTTP 404 Not Found "
                                     "(not retried; check the [external] base URL)")
    assert len(replay.requests("/status/404/")) == 1 and landed(root) == []


def test_malformed_json_is_landed_then_rejected_with_its_reason(replay, tmp_path):
    root = tmp_path / "site"
    config = site_with(root, {"ptax": f"{replay.base}/malformed", "selic": f"{replay.base}/ok"})
    result = fetch(config, "--only", "ptax", "--only", "selic")
    assert result.returncode == 1
    assert "ptax (bcb_olinda): answered 200 but not with JSON" in result.stderr
    build = run_cli("--config", str(config), "build")
    assert build.returncode == 0, build.stderr
    from nova_pipeline.config import load_config
    cfg = load_config(config)
    with warehouse(cfg) as con:
        rows = dict(con.execute("SELECT kind, status || ': ' || coalesce(reason, '') FROM meta.source_files").fetchall())
        assert rows["external_selic"] == "loaded: "
        assert rows["external_ptax"].startswith("rejected: not valid JSON (starts with '{\"@odata.context\"")
        assert one(con, "SELECT count(*) FROM gold.external_daily WHERE selic_pct IS NOT NULL") == 681  # good data kept
    reasons = list((root / "lake" / "quarantine").rglob("*external_ptax*.reason.txt"))
    assert len(reasons) == 1 and "not valid JSON" in reasons[0].read_text()


def test_no_server_at_all_one_line_per_provider_and_nothing_touched(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = tmp_path / "site"
    config = site_with(root, {name: f"http://127.0.0.1:{port}" for name in KEY})
    started = time.monotonic()
    result = fetch(config)
    assert result.returncode == 1 and "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line.split(": ")[2].split(" ")[0] for line in lines] == ["selic", "ptax", "ipca", "weather"]
    assert all("cannot connect" in line and line.endswith("after 3 attempts") for line in lines)
    assert time.monotonic() - started < 10  # providers are fetched side by side: 1 s + 2 s of backoff, once
    assert landed(root) == [] and not (root / "lake" / "ledger").exists()


def test_build_works_offline_with_nothing_fetched(demo_site):
    """The warehouse never needs the network: the bundled site builds with no server anywhere."""
    result = run_cli("--config", str(demo_site.source), "build")
    assert result.returncode == 0 and "published v1" in result.stdout


# -- bad values inside a good answer ---------------------------------------------------------------

def test_impossible_values_are_rejected_rows_and_the_rest_loads(site):
    folder = site.landing / "external"
    folder.mkdir(parents=True)
    (folder / "external_selic_hand.json").write_text(json.dumps(
        [{"data": "01/01/2024", "valor": "11.75"}, {"data": "02/01/2024", "valor": "abc"},
         {"data": "31/02/2024", "valor": "11.75"}, {"data": "03/01/2024", "valor": "-3"}]))
    hourly = recording("weather")["hourly"]
    day = {k: v[3:27] for k, v in hourly.items()}  # one whole local day: 2024-10-01
    day["temperature_2m"][5] = 99.0
    (folder / "external_weather_hand.json").write_text(json.dumps({"utc_offset_seconds": 0, "hourly": day}))
    (folder / "external_ipca_hand.json").write_text(json.dumps({"error": True, "reason": "Tabela não encontrada"}))
    (folder / "external_weather_error.json").write_text(json.dumps({"error": True, "reason": "Parameter 'end_date' is out of allowed range"}))
    assert run_cli("--config", str(site.source), "build").returncode == 0
    with warehouse(site) as con:
        reasons = [r[0] for r in con.execute("SELECT reason FROM meta.rejected_rows ORDER BY file_name, line_number").fetchall()]
        assert reasons == ["valor is not a number: abc", "data is not a dd/mm/yyyy date: 31/02/2024",
                           "Selic must be between 0 and 100 % a year, got -3",
                           "temperature_2m must be between -40 and 60 °C, got 99.0"]
        assert one(con, "SELECT selic_pct FROM gold.external_daily WHERE \"date\" = '2024-01-01'") == 11.75
        # the day with a refused hour has 23 hours: no daily mean rather than a wrong one
        assert one(con, "SELECT count(*) FROM silver.external_weather WHERE local_date = '2024-10-01'") == 23
        assert one(con, "SELECT count(temp_mean_c) FROM gold.external_daily WHERE \"date\" = '2024-10-01'") == 0
        files = dict(con.execute("SELECT file_name, reason FROM meta.source_files WHERE status = 'rejected'").fetchall())
    assert files["external_ipca_hand.json"].startswith("expected a JSON array, got OBJECT: IBGE SIDRA")
    assert files["external_weather_error.json"].startswith(
        "Open-Meteo answered an error: Parameter 'end_date' is out of allowed range")


def test_config_rejects_a_bad_start_date_and_a_base_that_is_not_a_url(tmp_path):
    root = tmp_path / "site"
    config = site_with(root, {"selic": "api.bcb.gov.br"})
    result = fetch(config)
    assert result.returncode == 1 and "[external] bcb_sgs must be a base URL starting with http://" in result.stderr
    config = site_with(root, {"selic": "http://x"}, 'start_date = "01/01/2024"\n')
    result = fetch(config)
    assert "[external] start_date must be a date written yyyy-mm-dd, got '01/01/2024'" in result.stderr


def test_window_is_incremental_per_series():
    from nova_pipeline.config import parse_config
    from nova_pipeline.fetch import window

    class Cfg:
        values = parse_config({}, Path("x.toml"))
    today = date(2026, 11, 23)
    selic, _, ipca, _ = PROVIDERS
    assert window(selic, None, Cfg, today) == (date(2024, 1, 1), today)
    assert window(selic, date(2026, 11, 20), Cfg, today) == (date(2026, 11, 13), today)
    assert window(ipca, date(2026, 10, 31), Cfg, today) == (date(2026, 9, 1), today)
    assert window(ipca, date(2026, 1, 31), Cfg, today) == (date(2025, 12, 1), today)
    assert window(selic, date(2024, 1, 3), Cfg, today) == (date(2024, 1, 1), today)  # never before start_date
