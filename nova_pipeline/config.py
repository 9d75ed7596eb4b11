"""Configuration: one TOML file, validated strictly.

Lookup order: --config PATH, $NOVA_CONFIG, ./config.toml, /etc/nova/config.toml.
Relative paths resolve against the folder of the config file, so a site folder can be moved whole.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .sources.registry import SOURCES

SYSTEM_CONFIG = Path("/etc/nova/config.toml")

# section -> key -> (type, default). Paths are strings resolved later.
SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], Any]]] = {
    "paths": {
        "landing": (str, "landing"),
        "ml_drops": (str, "ml_drops"),
        "lake": (str, "lake"),
        "warehouse": (str, "warehouse"),
        "exports": (str, "exports"),
    },
    "reorder": {
        "history_days": (int, 180),
        "service_level": (float, 0.95),
        "review_days": (int, 7),
        "default_lead_time_days": (int, 14),
        "order_change_share": (float, 0.25),
        "replay_weeks": (int, 52),
    },
    "publish": {
        "retention": (int, 14),
    },
    "build": {
        "memory_limit": (str, "512MB"),
        "threads": (int, 0),
    },
    "ingest": {
        "max_quantity": (float, 1_000_000.0),
    },
    # free space on the filesystems of the lake and the warehouse, for `status --check`
    "disk": {
        "warn_free_mb": (int, 2048),
        "critical_free_mb": (int, 512),
    },
    # one limit per kind of drop, defaults from the source registry (sources/registry.py)
    "freshness": {**{f"{s.kind}_hours": (int, s.freshness_hours) for s in SOURCES},
                  # the data's own age: days between the as-of date (the newest stock snapshot's date)
                  # and today at the plant; past the first the data is stale, past the second critical
                  "as_of_days": (int, 3), "as_of_critical_days": (int, 14)},
    "external": {
        "bcb_sgs": (str, "https://api.bcb.gov.br"),
        "bcb_olinda": (str, "https://olinda.bcb.gov.br"),
        "ibge_sidra": (str, "https://apisidra.ibge.gov.br"),
        "open_meteo": (str, "https://archive-api.open-meteo.com"),
        "latitude": (float, -12.97),
        "longitude": (float, -38.45),
        "start_date": (str, "2024-01-01"),
    },
    "watch": {
        "settle_seconds": (float, 2.0),
        "rescan_seconds": (float, 60.0),
        "polling": (bool, False),
        "retry_max_seconds": (float, 300.0),
    },
    "site": {
        "id": (str, ""),
        "name": (str, ""),
    },
    "remote": {
        "endpoint": (str, ""),
        "secure": (bool, True),
        "bucket": (str, "nova-warehouse"),
    },
    "log": {
        "level": (str, "info"),
    },
}

PATH_KEYS = tuple(SCHEMA["paths"])
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class Config:
    source: Path | None  # the file it came from; None = built-in defaults
    landing: Path
    ml_drops: Path
    lake: Path
    warehouse: Path
    exports: Path
    values: dict[str, dict[str, Any]]

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]

    @property
    def quarantine(self) -> Path:
        return self.lake / "quarantine"


def find_config_file(explicit: str | os.PathLike | None = None) -> Path:
    """Return the config file to use, following the documented lookup order."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (given with --config)")
        return path
    env = os.environ.get("NOVA_CONFIG")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (named by $NOVA_CONFIG)")
        return path
    for candidate in (Path.cwd() / "config.toml", SYSTEM_CONFIG):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        "no config file: pass --config PATH, set $NOVA_CONFIG, or create ./config.toml "
        "(`nova-pipeline demo DIR` writes a complete one)"
    )


def _check(file: Path, section: str, key: str, value: Any, expected) -> Any:
    # bool is an int in Python; a TOML `true` must not pass as a number.
    if isinstance(value, bool) and expected is not bool:
        ok = False
    elif expected is float:
        ok = isinstance(value, (int, float))
        value = float(value) if ok else value
    else:
        ok = isinstance(value, expected)
    if not ok:
        name = expected.__name__ if isinstance(expected, type) else "/".join(t.__name__ for t in expected)
        raise ConfigError(f"{file}: [{section}] {key} must be a {name}, got {value!r}")
    return value


def parse_config(data: dict[str, Any], file: Path, extra_schema: dict | None = None) -> dict[str, dict[str, Any]]:
    """Validate a parsed TOML document against SCHEMA; return values with defaults filled in."""
    schema = {s: dict(keys) for s, keys in SCHEMA.items()}
    for section, keys in (extra_schema or {}).items():
        schema.setdefault(section, {}).update(keys)
    values: dict[str, dict[str, Any]] = {s: {k: d for k, (_, d) in keys.items()} for s, keys in schema.items()}
    for section, table in data.items():
        if section not in schema:
            raise ConfigError(f"{file}: unknown section [{section}] (known: {', '.join(schema)})")
        if not isinstance(table, dict):
            raise ConfigError(f"{file}: {section} must be a table, like [{section}]")
        for key, value in table.items():
            if key not in schema[section]:
                raise ConfigError(
                    f"{file}: unknown key [{section}] {key} (known: {', '.join(schema[section])})"
                )
            expected, _ = schema[section][key]
            values[section][key] = _check(file, section, key, value, expected)
    _validate_ranges(file, values)
    return values


def _validate_ranges(file: Path, v: dict[str, dict[str, Any]]) -> None:
    r = v["reorder"]
    if not 0.5 <= r["service_level"] < 1:
        raise ConfigError(f"{file}: [reorder] service_level must be at least 0.5 and below 1, got {r['service_level']}")
    for key, smallest in (("history_days", 2), ("default_lead_time_days", 1)):
        if r[key] < smallest:
            raise ConfigError(f"{file}: [reorder] {key} must be at least {smallest}, got {r[key]}")
    if r["review_days"] < 0:
        raise ConfigError(f"{file}: [reorder] review_days cannot be negative")
    if r["replay_weeks"] < 0:
        raise ConfigError(f"{file}: [reorder] replay_weeks must be 0 (every week of the history) or more, got {r['replay_weeks']}")
    if not r["order_change_share"] > 0:
        raise ConfigError(f"{file}: [reorder] order_change_share must be above 0 (0.25 = a move of more than 25 %), "
                          f"got {r['order_change_share']}")
    d = v["disk"]
    if not 0 <= d["critical_free_mb"] <= d["warn_free_mb"]:
        raise ConfigError(f"{file}: [disk] critical_free_mb must be between 0 and warn_free_mb, got "
                          f"{d['critical_free_mb']} and {d['warn_free_mb']}")
    site = v["site"]["id"]
    if site and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", site):
        raise ConfigError(f"{file}: [site] id must be a short slug of lower-case letters, digits and '-' (such as "
                          f"\"ba-salvador\"), got {site!r}")
    if v["remote"]["endpoint"] and not site:
        raise ConfigError(f"{file}: [site] id is required once [remote] is set: every object this plant writes to the "
                          "store is keyed by it, so plants sharing a store never overwrite each other (add "
                          "[site] id = \"ba-salvador\", a short slug, and name = \"Salvador\")")
    f = v["freshness"]
    if not 1 <= f["as_of_days"] <= f["as_of_critical_days"]:
        raise ConfigError(f"{file}: [freshness] as_of_days must be at least 1 and at most as_of_critical_days, "
                          f"got {f['as_of_days']} and {f['as_of_critical_days']}")
    if v["publish"]["retention"] < 1:
        raise ConfigError(f"{file}: [publish] retention must keep at least 1 version")
    b = v["build"]
    if not re.fullmatch(r"\s*\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)\s*", b["memory_limit"], re.IGNORECASE):
        raise ConfigError(f"{file}: [build] memory_limit must be a size such as \"512MB\" or \"2GB\", got {b['memory_limit']!r}")
    if b["threads"] < 0:
        raise ConfigError(f"{file}: [build] threads must be 0 (every core) or more, got {b['threads']}")
    if not v["ingest"]["max_quantity"] > 0:
        raise ConfigError(f"{file}: [ingest] max_quantity must be above 0, got {v['ingest']['max_quantity']}")
    w = v["watch"]
    if w["settle_seconds"] < 0 or w["rescan_seconds"] < 1 or w["retry_max_seconds"] < 1:
        raise ConfigError(f"{file}: [watch] settle_seconds must be >= 0, rescan_seconds and retry_max_seconds >= 1")
    e = v["external"]
    for key in ("bcb_sgs", "bcb_olinda", "ibge_sidra", "open_meteo"):
        if not e[key].startswith(("http://", "https://")):
            raise ConfigError(f"{file}: [external] {key} must be a base URL starting with http:// or https://, got {e[key]!r}")
    if not (-90 <= e["latitude"] <= 90 and -180 <= e["longitude"] <= 180):
        raise ConfigError(f"{file}: [external] latitude must be within -90..90 and longitude within -180..180")
    try:
        date.fromisoformat(e["start_date"])
    except ValueError:
        raise ConfigError(f"{file}: [external] start_date must be a date written yyyy-mm-dd, got {e['start_date']!r}") from None
    endpoint = v["remote"]["endpoint"]
    if "://" in endpoint or "/" in endpoint:
        raise ConfigError(f"{file}: [remote] endpoint is host:port, without scheme or path (got {endpoint!r}); "
                          "say https with secure = true, http with secure = false")
    if v["log"]["level"] not in LOG_LEVELS:
        raise ConfigError(f"{file}: [log] level must be one of {', '.join(LOG_LEVELS)}")


def load_config(explicit: str | os.PathLike | None = None) -> Config:
    file = find_config_file(explicit).resolve()
    try:
        with open(file, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    values = parse_config(data, file)
    base = file.parent
    paths = {k: (base / values["paths"][k]).resolve() for k in PATH_KEYS}
    return Config(source=file, values=values, **paths)
