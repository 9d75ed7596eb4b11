"""Readers for the public series `fetch-external` lands in landing/external/ (JSON answer bodies).

Each body is parsed by DuckDB's built-in json functions, set-based: one row per array element
(or per hour for Open-Meteo). A body that is not the shape its provider answers with is rejected
whole; an element with an unreadable or impossible value is a rejected row, the others load.
Every staged table has a "date" column: the day (or the month's first day, IPCA) it describes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..db import sql_path
from ..errors import DropRejected

LOCAL_TZ = "America/Bahia"  # Open-Meteo hours are UTC; a day is a day in Salvador.


@dataclass(frozen=True)
class ExternalKind:
    kind: str
    provider: str           # who answers, for messages
    shape: str              # what a good body looks like, for messages
    columns: dict[str, str]  # bronze columns and their types (after line_number)
    rows: str               # SQL: one row per element of `doc(j JSON)`: line_number, raw_line, then columns
    reason: str             # SQL CASE arms over those columns: why a row is refused
    body_check: str = "NULL"  # SQL over doc(j): why the whole body is refused, or NULL

    @property
    def pattern(self) -> str:
        return f"{self.kind}*.json"


_ELEMENTS = """
    el AS (SELECT unnest(json_extract(j, '$[*]')) AS e, generate_subscripts(json_extract(j, '$[*]'), 1) AS n FROM doc)
"""

SELIC = ExternalKind(
    kind="external_selic",
    provider="Banco Central SGS series 432 (Selic)",
    shape='a JSON array of {"data": "dd/mm/yyyy", "valor": "11.75"}',
    columns={"date": "DATE", "selic_pct": "DOUBLE"},
    rows=_ELEMENTS + """
    SELECT n AS line_number, e::VARCHAR AS raw_line, e->>'data' AS data_text, e->>'valor' AS value_text,
           try_strptime(e->>'data', '%d/%m/%Y')::DATE AS "date", try_cast(e->>'valor' AS DOUBLE) AS selic_pct
    FROM el""",
    reason="""
        WHEN json_type(raw_line::JSON) <> 'OBJECT' THEN 'element is not an object: ' || left(raw_line, 80)
        WHEN data_text IS NULL THEN 'data is missing'
        WHEN "date" IS NULL THEN 'data is not a dd/mm/yyyy date: ' || data_text
        WHEN value_text IS NULL THEN 'valor is missing'
        WHEN selic_pct IS NULL THEN 'valor is not a number: ' || value_text
        WHEN selic_pct < 0 OR selic_pct > 100 THEN 'Selic must be between 0 and 100 % a year, got ' || value_text""",
    body_check="CASE WHEN json_type(j) <> 'ARRAY' THEN 'expected a JSON array, got ' || json_type(j) END",
)

PTAX = ExternalKind(
    kind="external_ptax",
    provider="Banco Central Olinda PTAX (USD)",
    shape='a JSON object {"value": [{"cotacaoVenda": ..., "dataHoraCotacao": ..., "tipoBoletim": ...}]}',
    columns={"date": "DATE", "quoted_at": "TIMESTAMP", "bulletin": "VARCHAR", "buy": "DOUBLE", "sell": "DOUBLE"},
    rows="""
    el AS (SELECT unnest(json_extract(j, '$.value[*]')) AS e,
                  generate_subscripts(json_extract(j, '$.value[*]'), 1) AS n FROM doc)
    SELECT n AS line_number, e::VARCHAR AS raw_line, e->>'dataHoraCotacao' AS time_text,
           e->>'cotacaoVenda' AS sell_text,
           try_strptime(e->>'dataHoraCotacao', ['%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M:%S'])::DATE AS "date",
           try_strptime(e->>'dataHoraCotacao', ['%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M:%S']) AS quoted_at,
           nullif(trim(e->>'tipoBoletim'), '') AS bulletin,
           try_cast(e->>'cotacaoCompra' AS DOUBLE) AS buy, try_cast(e->>'cotacaoVenda' AS DOUBLE) AS sell
    FROM el""",
    reason="""
        WHEN time_text IS NULL THEN 'dataHoraCotacao is missing'
        WHEN quoted_at IS NULL THEN 'dataHoraCotacao is not a yyyy-mm-dd hh:mm:ss time: ' || time_text
        WHEN bulletin IS NULL THEN 'tipoBoletim is missing'
        WHEN sell IS NULL THEN 'cotacaoVenda is missing or not a number'
        WHEN sell <= 0 OR sell > 1000 OR buy <= 0 OR buy > 1000 THEN 'a USD quote must be above 0 and at most 1000 BRL, got ' || sell_text""",
    body_check="""CASE WHEN json_type(j) <> 'OBJECT' THEN 'expected a JSON object, got ' || json_type(j)
                       WHEN json_type(j, '$.value') IS DISTINCT FROM 'ARRAY' THEN 'no "value" array in the answer' END""",
)

IPCA = ExternalKind(
    kind="external_ipca",
    provider="IBGE SIDRA table 1737 variable 63 (IPCA)",
    shape='a JSON array whose first element is the header row ({"V": "Valor", "D3C": "Mês (Código)", ...})',
    columns={"date": "DATE", "ipca_pct": "DOUBLE", "month_name": "VARCHAR"},
    rows=_ELEMENTS + """
    SELECT n - 1 AS line_number, e::VARCHAR AS raw_line, e->>'V' AS value_text, e->>'D3C' AS month_text,
           e->>'D2C' AS variable, try_strptime(e->>'D3C', '%Y%m')::DATE AS "date",
           try_cast(e->>'V' AS DOUBLE) AS ipca_pct, e->>'D3N' AS month_name
    FROM el WHERE n > 1""",
    reason="""
        WHEN variable IS DISTINCT FROM '63' THEN 'not variable 63 (IPCA monthly change): D2C = ' || coalesce(variable, 'missing')
        WHEN "date" IS NULL THEN 'D3C is not a yyyymm month: ' || coalesce(month_text, 'missing')
        WHEN ipca_pct IS NULL THEN 'V is not a number: ' || coalesce(value_text, 'missing')
        WHEN ipca_pct < -50 OR ipca_pct > 100 THEN 'a monthly IPCA must be between -50 and 100 %, got ' || value_text""",
    body_check="""CASE WHEN json_type(j) <> 'ARRAY' THEN 'expected a JSON array, got ' || json_type(j)
                       WHEN json_extract_string(j, '$[0].V') IS DISTINCT FROM 'Valor' THEN 'the first element is not SIDRA''s header row (V = "Valor")' END""",
)

_HOURLY = ('{"time": ["VARCHAR"], "temperature_2m": ["VARCHAR"], "relative_humidity_2m": ["VARCHAR"], '
           '"precipitation": ["VARCHAR"], "wind_speed_10m": ["VARCHAR"]}')

WEATHER = ExternalKind(
    kind="external_weather",
    provider="Open-Meteo archive (hourly weather)",
    shape='a JSON object {"utc_offset_seconds": 0, "hourly": {"time": [...], "temperature_2m": [...], ...}}',
    columns={"date": "DATE", "time_utc": "TIMESTAMP", "temperature_c": "DOUBLE", "humidity_pct": "DOUBLE",
             "precipitation_mm": "DOUBLE", "wind_kmh": "DOUBLE", "latitude": "DOUBLE", "longitude": "DOUBLE"},
    rows=f"""
    h AS (SELECT json_transform(j->'hourly', '{_HOURLY}') AS h, coalesce(try_cast(j->>'utc_offset_seconds' AS INTEGER), 0) AS offset_s,
                 try_cast(j->>'latitude' AS DOUBLE) AS latitude, try_cast(j->>'longitude' AS DOUBLE) AS longitude FROM doc),
    hours AS (SELECT unnest(h.time) AS time_text, unnest(h.temperature_2m) AS t, unnest(h.relative_humidity_2m) AS rh,
                     unnest(h.precipitation) AS p, unnest(h.wind_speed_10m) AS w, generate_subscripts(h.time, 1) AS n,
                     offset_s, latitude, longitude FROM h),
    typed AS (SELECT *, try_strptime(time_text, ['%Y-%m-%dT%H:%M', '%Y-%m-%dT%H:%M:%S']) - to_seconds(offset_s) AS time_utc
              FROM hours)
    SELECT n AS line_number,
           json_object('time', time_text, 'temperature_2m', t, 'relative_humidity_2m', rh, 'precipitation', p,
                       'wind_speed_10m', w)::VARCHAR AS raw_line,
           time_text, t, rh, p, w,
           timezone('{LOCAL_TZ}', timezone('UTC', time_utc))::DATE AS "date", time_utc,
           try_cast(t AS DOUBLE) AS temperature_c, try_cast(rh AS DOUBLE) AS humidity_pct,
           try_cast(p AS DOUBLE) AS precipitation_mm, try_cast(w AS DOUBLE) AS wind_kmh, latitude, longitude
    FROM typed""",
    # A null hour is a value the archive does not have yet (its last days): kept, and a later
    # fetch fills it. A value that is there must be a plausible one.
    reason="""
        WHEN time_utc IS NULL THEN 'time is not a yyyy-mm-ddThh:mm time: ' || coalesce(time_text, 'missing')
        WHEN (t IS NOT NULL AND temperature_c IS NULL) OR (rh IS NOT NULL AND humidity_pct IS NULL)
             OR (p IS NOT NULL AND precipitation_mm IS NULL) OR (w IS NOT NULL AND wind_kmh IS NULL)
             THEN 'a value is not a number'
        WHEN temperature_c < -40 OR temperature_c > 60 THEN 'temperature_2m must be between -40 and 60 °C, got ' || t
        WHEN humidity_pct < 0 OR humidity_pct > 100 THEN 'relative_humidity_2m must be between 0 and 100 %, got ' || rh
        WHEN precipitation_mm < 0 OR precipitation_mm > 500 THEN 'precipitation must be between 0 and 500 mm in an hour, got ' || p
        WHEN wind_kmh < 0 OR wind_kmh > 400 THEN 'wind_speed_10m must be between 0 and 400 km/h, got ' || w""",
    body_check="""CASE WHEN json_type(j) <> 'OBJECT' THEN 'expected a JSON object, got ' || json_type(j)
                       WHEN j->>'error' = 'true' THEN 'Open-Meteo answered an error: ' || coalesce(j->>'reason', 'no reason given')
                       WHEN json_type(j, '$.hourly.time') IS DISTINCT FROM 'ARRAY' THEN 'no "hourly.time" array in the answer' END""",
)

KINDS = {k.kind: k for k in (SELIC, PTAX, IPCA, WEATHER)}


def read_external(con: duckdb.DuckDBPyConnection, kind: str, path: Path) -> tuple[str, str]:
    """Stage `<kind>_ok` and `<kind>_rejected`; raise DropRejected for an unusable body."""
    spec = KINDS[kind]
    if path.stat().st_size == 0:
        raise DropRejected("empty file (0 bytes)")
    src = f"read_text('{sql_path(path)}')"
    try:
        valid, head = con.execute(f"SELECT json_valid(content), left(content, 60) FROM {src}").fetchone()
    except duckdb.Error as exc:  # not UTF-8, unreadable
        raise DropRejected(f"cannot read the answer as text: {str(exc).splitlines()[0][:160]}") from None
    if not valid:
        raise DropRejected(f"not valid JSON (starts with {head.strip()[:40]!r}): cut off, or an error page "
                           f"instead of {spec.provider}'s answer; fetch it again")
    doc = f"doc AS (SELECT content::JSON AS j FROM {src})"
    cols = ", ".join(f'"{c}"' for c in spec.columns)
    try:
        problem = con.execute(f"WITH {doc} SELECT {spec.body_check} FROM doc").fetchone()[0]
        if problem:
            raise DropRejected(f"{problem}: {spec.provider} answers with {spec.shape}")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _ext AS
            WITH {doc}, {spec.rows.strip()}""")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ext_reason AS SELECT *, CASE {spec.reason} END AS reason FROM _ext")
    except duckdb.Error as exc:
        raise DropRejected(f"cannot read {spec.provider}'s answer: {str(exc).splitlines()[0][:200]}") from None
    con.execute(f"CREATE OR REPLACE TEMP TABLE {kind}_ok AS SELECT line_number, {cols} FROM _ext_reason WHERE reason IS NULL")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {kind}_rejected AS "
                "SELECT line_number, reason, raw_line FROM _ext_reason WHERE reason IS NOT NULL")
    con.execute("DROP TABLE _ext; DROP TABLE _ext_reason")
    if con.execute(f"SELECT (SELECT count(*) FROM {kind}_ok) + (SELECT count(*) FROM {kind}_rejected)").fetchone()[0] == 0:
        raise DropRejected(f"no values in the answer: {spec.provider} answers with {spec.shape}")
    return f"{kind}_ok", f"{kind}_rejected"
