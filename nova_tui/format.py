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
    """The one rule for times people read, here and in `nova-pipeline status`: the plant's local time
    labelled with its UTC offset, e.g. `2025-10-25 08:00 -03`. The warehouse stores UTC."""
    if epoch is None:
        return "—"
    local = datetime.fromtimestamp(epoch, PLANT_TZ)
    offset = local.utcoffset().total_seconds() / 3600
    return f"{local:%Y-%m-%d %H:%M} {'+' if offset >= 0 else '-'}{abs(offset):02.0f}"


def plant_today(now: datetime) -> date:
    return now.astimezone(PLANT_TZ).date()


def data_age(as_of: date | None, now: datetime, warning_days: int, critical_days: int) -> tuple[str, int | None]:
    """ok, stale or critical: days between the as-of date and today at the plant (the pipeline's rule)."""
    if as_of is None:
        return "ok", None
    age = (plant_today(now) - as_of).days
    return ("critical" if age > critical_days else "stale" if age > warning_days else "ok"), age


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


def data_age_text(info: dict, now, override_days: int | None = None, override_critical: int | None = None) -> tuple[str, str]:
    """(state, text): state ok, stale or critical; text empty when ok."""
    warning = override_days or info.get("as_of_days") or 3
    critical = override_critical or info.get("as_of_critical_days") or 14
    state, age = data_age(info.get("as_of"), now, warning, critical)
    if state == "ok":
        return state, ""
    return state, (f"{'VERY ' if state == 'critical' else ''}STALE DATA · as of {day(info['as_of'])}, {age} d old "
                   f"(limit {warning} d) · see screen 4")


def short_day(value: date | None) -> str:
    """dd/mm/yy: a date in 8 columns, with its year."""
    return value.strftime("%d/%m/%y") if value else "—"


def supplier(row: dict, width: int = 24) -> str:
    """The supplier to ask, with how many the history holds: `ACME LTDA (+2)`."""
    name = row.get("supplier")
    if not name:
        return "— (never bought)"
    others = (row.get("supplier_count") or 1) - 1
    tail = f" (+{others})" if others else ""
    return name[: max(4, width - len(tail))] + tail


CLASS_SHORT = {"smooth": "smooth", "erratic": "errat", "intermittent": "inter", "lumpy": "lumpy", "single": "single",
               "no_demand": "none"}


SPARK = "▁▂▃▄▅▆▇█"


def spark(values: list[float | None], width: int = 24) -> str:
    """A one-line chart of the last `width` values (scaled from 0 to their maximum)."""
    vals = [v for v in values if v is not None][-width:]
    if not vals:
        return ""
    top = max(vals) or 1
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.5))] for v in vals)
