"""`nova-pipeline demo DIR`: a site folder with the bundled real data, ready to build."""
from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from .config import Config, load_config

SUPRIMENTOS = "suprimentos_2024-10_a_2025-10.csv"
ESTOQUE = "estoque_2025-10-24.csv"
FORECAST = "forecast_ensemble-2025.10.1.parquet"
PARAMETROS = "parametros_2025-10-24.csv"  # a planner's sheet made for the demo (contract 2b), one bad row
# The recorded answers of the public services, landed as `fetch-external` would land them.
EXTERNAL = {
    "external/bcb_sgs_432_selic.json": "external_selic_recorded.json",
    "external/bcb_olinda_ptax_usd.json": "external_ptax_recorded.json",
    "external/ibge_sidra_ipca.json": "external_ipca_recorded.json",
    "external/open_meteo_archive_salvador.json": "external_weather_recorded.json",
}


def demo_file(name: str) -> Path:
    return Path(str(resources.files("nova_pipeline").joinpath("demo_data", *name.split("/"))))


def site_config_text() -> str:
    """A config with the defaults written out (config.toml at the repository top explains each key)."""
    return "\n".join([
        "# Demo site made by `nova-pipeline demo`. Every key is shown with its default.",
        '[paths]', 'landing = "landing"', 'ml_drops = "ml_drops"', 'lake = "lake"',
        'warehouse = "warehouse"', 'exports = "exports"', '',
        '[reorder]', 'history_days = 180', 'service_level = 0.95', 'review_days = 7',
        'default_lead_time_days = 14', 'order_change_share = 0.25', 'replay_weeks = 52', '',
    ])


def make_demo(directory: str | Path) -> Config:
    site = Path(directory)
    for sub in ("landing", "ml_drops", "lake", "warehouse", "exports"):
        (site / sub).mkdir(parents=True, exist_ok=True)
    config = site / "config.toml"
    if not config.exists():
        config.write_text(site_config_text(), encoding="utf-8")
    files = [(SUPRIMENTOS, f"landing/{SUPRIMENTOS}"), (ESTOQUE, f"landing/{ESTOQUE}"), (PARAMETROS, f"landing/{PARAMETROS}"),
             (FORECAST, f"ml_drops/{FORECAST}")]
    files += [(name, f"landing/external/{landed}") for name, landed in EXTERNAL.items()]
    for name, rel in files:
        target = site / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(demo_file(name), target)
    return load_config(config)
