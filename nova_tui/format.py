"""How numbers, dates and ages read on screen and in reports. Pure functions, no widgets."""
from __future__ import annotations

import math
from datetime import date, datetime, timezone

try:
    from zoneinfo import ZoneInfo
    PLANT_TZ = ZoneInfo("America/Bahia")  # the plant's clock; timestamps are stored in UTC
except Exception:  # no tz database on this machine: show UTC rather than fail
    PLANT_TZ = timezone.utc


def qty(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def days(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def local_time(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, PLANT_TZ).strftime("%Y-%m-%d %H:%M")


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def age_hours(epoch: float | None, now: datetime) -> float | None:
    return None if epoch is None else (now.timestamp() - epoch) / 3600


def age(epoch: float | None, now: datetime) -> str:
    """'3 min', '5 h', '2 d' — coarse on purpose, so the header does not tick every second."""
    hours = age_hours(epoch, now)
    if hours is None:
        return "never"
    minutes = max(0.0, hours * 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{int(minutes)} min ago"
    if hours < 48:
        return f"{int(hours)} h ago"
    return f"{int(hours // 24)} d ago"


STATUS_LABEL = {"stockout": "STOCKOUT", "below_reorder": "below", "ok": "ok"}
