"""The dashboard's view of config.toml: only the keys it reads, validated strictly.

The pipeline owns the file and validates all of it; the dashboard reads `[paths] warehouse`,
`[paths] exports` and `[freshness]`, and ignores sections it has no use for. Same lookup order as
the pipeline: --config PATH, $NOVA_CONFIG, ./config.toml, /etc/nova/config.toml, else defaults.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

SYSTEM_CONFIG = Path("/etc/nova/config.toml")


class ConfigError(Exception):
    """A config file that is missing or wrong; the message names the file and the key."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class TuiConfig:
    warehouse: Path
    exports: Path
    # Overrides only: the limits in force are written by each build into the file (meta.sources).
    freshness_hours: dict[str, int] = field(default_factory=dict)
    source: Path | None = None
    # as-of limits overriding the file's (meta.build), from [freshness] as_of_days / as_of_critical_days
    as_of_days: int | None = None
    as_of_critical_days: int | None = None
    # where the dashboard remembers its screen, filter, sort and theme; None = remember nothing
    state_file: Path | None = None
    # Test hooks: a fixed clock and no version watching make snapshots deterministic.
    clock: Callable[[], datetime] = utc_now
    watch_seconds: float = 1.0


def find_config_file(explicit: str | os.PathLike | None) -> Path | None:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (given with --config)")
        return path
    env = os.environ.get("NOVA_CONFIG")
    if env:
        if not Path(env).is_file():
            raise ConfigError(f"{env}: config file not found (named by $NOVA_CONFIG)")
        return Path(env)
    for candidate in (Path("config.toml"), SYSTEM_CONFIG):
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: str | os.PathLike | None = None) -> TuiConfig:
    path = find_config_file(explicit)
    if path is None:
        return TuiConfig(warehouse=Path("warehouse").resolve(), exports=Path("exports").resolve())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    base = path.resolve().parent

    def value(section: str, key: str, kind: type, default):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        got = table.get(key, default)
        if not isinstance(got, kind) or isinstance(got, bool):
            raise ConfigError(f"{path}: [{section}] {key} must be {kind.__name__}, got {got!r}")
        return got

    # Every `<kind>_hours` key counts, so kinds the pipeline adds later get their limit too.
    hours: dict[str, int] = {}
    for key in data.get("freshness", {}) if isinstance(data.get("freshness"), dict) else ():
        if key.endswith("_hours"):
            hours[key.removesuffix("_hours")] = value("freshness", key, int, None)
    for kind, limit in hours.items():
        if limit <= 0:
            raise ConfigError(f"{path}: [freshness] {kind}_hours must be > 0, got {limit}")
    as_of = {key: value("freshness", key, int, None) for key in ("as_of_days", "as_of_critical_days")
             if key in (data.get("freshness") or {})}
    return TuiConfig(warehouse=base / value("paths", "warehouse", str, "warehouse"),
                     exports=base / value("paths", "exports", str, "exports"),
                     freshness_hours=hours, source=path, **as_of)
