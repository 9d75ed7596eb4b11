"""`nova-pipeline fetch-external`: ask the public services for what is new, land each answer as is.

The only part of the pipeline that uses the network, and a separate step: a failure here never
touches the lake or the warehouse. Each answer body is written to landing/external/ under a
temporary name, then renamed; `build` (or the daemon) ingests it like any drop.

Incremental: each series is asked from OVERLAP_DAYS before the last day the serving warehouse
holds of it (providers revise recent values), or from [external] start_date when it holds none.
"""
from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import httpx

from . import __version__
from .bronze import atomic_write
from .config import Config
from .publish import CURRENT
from .sources.external import LOCAL_TZ

log = logging.getLogger("nova.fetch")

OVERLAP_DAYS = 7
ATTEMPTS = 3
BACKOFF_SECONDS = 1.0      # waits 1 s, then 2 s, between attempts
RETRY_AFTER_MAX = 120.0    # a Retry-After longer than this is not waited for
RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Provider:
    name: str        # as the operator names it (--only)
    kind: str        # the drop kind its answers are ingested as
    config_key: str  # [external] key with its base URL
    url: Callable[[str, date, date, Config], str]


def _sgs(base: str, start: date, end: date, cfg: Config) -> str:
    return (f"{base}/dados/serie/bcdata.sgs.432/dados?formato=json"
            f"&dataInicial={start:%d/%m/%Y}&dataFinal={end:%d/%m/%Y}")


def _olinda(base: str, start: date, end: date, cfg: Config) -> str:
    return (f"{base}/olinda/servico/PTAX/versao/v1/odata/"
            "CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
            f"?@moeda='USD'&@dataInicial='{start:%m-%d-%Y}'&@dataFinalCotacao='{end:%m-%d-%Y}'"
            "&$format=json&$select=paridadeCompra,paridadeVenda,cotacaoCompra,cotacaoVenda,dataHoraCotacao,tipoBoletim")


def _sidra(base: str, start: date, end: date, cfg: Config) -> str:
    return f"{base}/values/t/1737/n1/all/v/63/p/{start:%Y%m}-{end:%Y%m}"


def _open_meteo(base: str, start: date, end: date, cfg: Config) -> str:
    e = cfg.values["external"]
    # The archive lags a few days; its missing hours come back as nulls and a later fetch fills them.
    return (f"{base}/v1/archive?latitude={e['latitude']}&longitude={e['longitude']}"
            f"&start_date={start:%Y-%m-%d}&end_date={end:%Y-%m-%d}"
            "&hourly=temperature_2m,relative_humidity_2m,precipitation,wind_speed_10m&timezone=GMT")


PROVIDERS = (
    Provider("selic", "external_selic", "bcb_sgs", _sgs),
    Provider("ptax", "external_ptax", "bcb_olinda", _olinda),
    Provider("ipca", "external_ipca", "ibge_sidra", _sidra),
    Provider("weather", "external_weather", "open_meteo", _open_meteo),
)

# Per series: the last day the warehouse holds of it (complete weather days only).
HELD_SQL = """SELECT max("date") FILTER (selic_pct IS NOT NULL), max("date") FILTER (ptax_usd_sell IS NOT NULL),
                     max("date") FILTER (ipca_month_pct IS NOT NULL), max("date") FILTER (temp_mean_c IS NOT NULL)
              FROM gold.external_daily"""


class FetchFailed(Exception):
    """One provider gave no usable answer; the message says why, in one line."""


def held(cfg: Config) -> dict[str, date | None]:
    """What the serving warehouse already holds of each series (nothing when it cannot be read)."""
    from .db import connect

    path = cfg.warehouse / CURRENT
    if not path.exists():
        return {p.kind: None for p in PROVIDERS}
    try:
        con = connect(path, read_only=True)
        try:
            row = con.execute(HELD_SQL).fetchone()
        finally:
            con.close()
    except Exception as exc:  # an older warehouse without the table, or an unreadable one: fetch it all
        log.info("event=fetch_from_start reason=%r", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return {p.kind: None for p in PROVIDERS}
    return dict(zip((p.kind for p in PROVIDERS), row))


def window(provider: Provider, last: date | None, cfg: Config, today: date) -> tuple[date, date]:
    first = date.fromisoformat(cfg.values["external"]["start_date"])
    if last is None:
        return first, today
    if provider.kind == "external_ipca":  # monthly: from the month before the last one held
        start = (last.replace(day=1) - timedelta(days=1)).replace(day=1)
    else:
        start = last - timedelta(days=OVERLAP_DAYS)
    return max(first, min(start, today)), today


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            return None


def get(client: httpx.Client, url: str, sleep: Callable[[float], None] = time.sleep) -> bytes:
    """GET with up to ATTEMPTS tries: retried on connection errors, timeouts, 5xx and 429."""
    why = ""
    for attempt in range(1, ATTEMPTS + 1):
        wait = BACKOFF_SECONDS * 2 ** (attempt - 1)
        try:
            response = client.get(url)
        except httpx.TimeoutException:
            why = f"no answer within {client.timeout.read:g} s"
        except httpx.TransportError as exc:
            why = f"cannot connect ({_transport_reason(exc)})"
        else:
            if response.status_code == 200:
                return response.content
            why = f"HTTP {response.status_code} {response.reason_phrase}".strip()
            if response.status_code not in RETRY_STATUS:
                raise FetchFailed(f"{why} (not retried; check the [external] base URL)")
            asked = _retry_after(response)
            if asked is not None:
                if asked > RETRY_AFTER_MAX:
                    raise FetchFailed(f"{why}, asked to retry after {asked:.0f} s; try again later")
                wait = asked
        log.info("event=fetch_retry url=%s attempt=%d why=%r", url, attempt, why)
        if attempt < ATTEMPTS:
            sleep(wait)
    raise FetchFailed(f"{why} after {ATTEMPTS} attempts")


def _transport_reason(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]


def land(body: bytes, folder: Path, kind: str, now: datetime) -> Path:
    """Write the body under a temporary name, fsync, rename into place."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{kind}_{now:%Y%m%dT%H%M%S%fZ}.json"
    atomic_write(target, body, durable=True)
    return target


@dataclass
class Outcome:
    provider: Provider
    start: date
    end: date
    path: Path | None = None
    size: int = 0
    error: str | None = None

    def line(self, site: Path) -> str:
        span = f"{self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"
        if self.error:
            return f"{self.provider.name} ({self.provider.config_key}): {self.error}"
        where = os.path.relpath(self.path, site) if self.path else "?"
        return f"{self.provider.name:<8} {span}  {self.size / 1024:,.1f} kB -> {where}"


def fetch_external(cfg: Config, only: tuple[str, ...] = (), timeout: float = 10.0,
                   today: date | None = None, sleep: Callable[[float], None] = time.sleep) -> list[Outcome]:
    """Fetch every provider (or those named in `only`) at the same time; one Outcome each, in order."""
    today = today or datetime.now(ZoneInfo(LOCAL_TZ)).date()
    last = held(cfg)
    headers = {"User-Agent": f"nova-pipeline/{__version__} (Nova Corrente plant analytics)",
               "Accept": "application/json"}
    chosen = [p for p in PROVIDERS if not only or p.name in only]
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client, \
            ThreadPoolExecutor(max_workers=len(PROVIDERS)) as pool:
        return list(pool.map(lambda p: _fetch_one(client, cfg, p, last[p.kind], today, sleep), chosen))


def _fetch_one(client: httpx.Client, cfg: Config, provider: Provider, last: date | None, today: date,
               sleep: Callable[[float], None]) -> Outcome:
    start, end = window(provider, last, cfg, today)
    outcome = Outcome(provider, start, end)
    url = provider.url(cfg.values["external"][provider.config_key].rstrip("/"), start, end, cfg)
    try:
        body = get(client, url, sleep)
    except FetchFailed as exc:
        outcome.error = str(exc)
        log.info("event=fetch_failed provider=%s url=%s why=%r", provider.name, url, str(exc))
        return outcome
    outcome.path = land(body, cfg.landing / "external", provider.kind, datetime.now(timezone.utc))
    outcome.size = len(body)
    if not _looks_like_json(body):
        outcome.error = (f"answered 200 but not with JSON; kept as {outcome.path.name}, "
                         f"which the next build rejects with its reason")
    log.info("event=fetched provider=%s url=%s bytes=%d file=%s", provider.name, url, len(body), outcome.path.name)
    return outcome


def _looks_like_json(body: bytes) -> bool:
    try:
        json.loads(body)
        return True
    except ValueError:
        return False
