"""Data checks in the spirit of dbt tests. Each is one SELECT that counts offending rows.

`error` checks block publication; `warn` checks are recorded. The same list runs at build time
and in `nova-pipeline verify` against a read-only file, so they are plain SELECTs.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from .meta import has_prev


@dataclass(frozen=True)
class Check:
    name: str
    severity: str  # error | warn
    sql: str       # SELECT returning one number: offending rows (0 = pass)
    what: str
    screen: str | None = None  # a cheaper SELECT that returns 0 only when `sql` would; `sql` runs when it does not


def _unique(table: str, key: str) -> str:
    return f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1)"


def _distinct_hashes(table: str, key: str) -> str:
    """0 when the key's hashes are distinct, so the keys are: on 1.7 million lines a third of the time of
    the GROUP BY in _unique, which runs (to count the offending rows) only when this is not 0."""
    return f"SELECT count(*) - count(DISTINCT hash({key})) FROM {table}"


def _within(rows: str | None) -> str:
    return f"({rows}) AND " if rows else ""


def _not_null(table: str, cols: str, rows: str | None = None) -> str:
    """Rows (of those meeting `rows`) with a NULL in any of cols."""
    return f"SELECT count(*) FROM {table} WHERE {_within(rows)}(" + " OR ".join(f"{c} IS NULL" for c in cols.split(", ")) + ")"


def _both(a: str, b: str) -> str:
    return f"SELECT ({a}) + ({b})"


def _fk(table: str, col: str, dim: str, dim_col: str, rows: str | None = None) -> str:
    """Rows (of those meeting `rows`) whose col is not a key of dim."""
    return (f"SELECT count(*) FROM {table} t WHERE {_within(rows)}t.{col} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {dim} d WHERE d.{dim_col} = t.{col})")


def _null_share(table: str, col: str, limit: float = 0.01) -> str:
    # Offending rows reported only when the share of NULLs reaches the limit.
    return (f"SELECT CASE WHEN count(*) > 0 AND count(*) FILTER (WHERE {col} IS NULL) >= {limit} * count(*) "
            f"THEN count(*) FILTER (WHERE {col} IS NULL) ELSE 0 END FROM {table}")


# gold.fact_requisition's columns that are never NULL, and its references: check -> (its column, the dimension, the dimension's key, what it checks)
REQUISITION_PRESENT = "requisition_key, item_id, quantity"
REQUISITION_FKS: dict[str, tuple[str, str, str, str]] = {
    "requisition_item_exists": ("item_id", "gold.dim_item", "item_id", "every requisition's item is in gold.dim_item"),
    "requisition_depot_exists": ("depot", "gold.dim_depot", "depot", "every requisition's depot is in gold.dim_depot"),
    "requisition_supplier_exists": ("supplier", "gold.dim_supplier", "supplier",
                                    "every requisition's supplier is in gold.dim_supplier"),
    "requisition_date_exists": ("request_date", "gold.dim_date", '"date"', "every request date is in gold.dim_date"),
}

CHECKS: tuple[Check, ...] = (
    Check("build_complete", "error",
          "SELECT CASE WHEN (SELECT count(*) FROM meta.build WHERE complete) = 1 THEN 0 ELSE 1 END",
          "the file carries exactly one completed build record"),
    Check("dim_item_key", "error", _both(_unique("gold.dim_item", "item_id"), _not_null("gold.dim_item", "item_id")),
          "gold.dim_item.item_id is not null and unique"),
    Check("dim_depot_key", "error", _unique("gold.dim_depot", "depot"), "gold.dim_depot.depot is unique"),
    Check("dim_supplier_key", "error", _unique("gold.dim_supplier", "supplier"), "gold.dim_supplier.supplier is unique"),
    Check("dim_date_key", "error", _unique("gold.dim_date", '"date"'), "gold.dim_date.date is unique"),
    Check("fact_requisition_key", "error",
          _both(_unique("gold.fact_requisition", "requisition_key"),
                _not_null("gold.fact_requisition", REQUISITION_PRESENT)),
          "gold.fact_requisition: key unique, item and quantity present",
          _both(_distinct_hashes("gold.fact_requisition", "requisition_key"),
                _not_null("gold.fact_requisition", REQUISITION_PRESENT))),
    Check("fact_stock_key", "error", _unique("gold.fact_stock", "position_date, depot, item_id"),
          "one stock row per snapshot date, depot and item",
          _distinct_hashes("gold.fact_stock", "position_date, depot, item_id")),
    Check("fact_forecast_key", "error",
          _unique("gold.fact_forecast", 'item_id, "date", model_version, generated_at, source, dataset_id'),
          "one forecast per run, item and day",
          _distinct_hashes("gold.fact_forecast", 'item_id, "date", model_version, generated_at, source, dataset_id')),
    Check("reorder_status_key", "error", _unique("gold.reorder_status", "item_id"), "one reorder row per item"),
    *(Check(name, "error", _fk("gold.fact_requisition", col, dim, dim_col), what)
      for name, (col, dim, dim_col, what) in REQUISITION_FKS.items()),
    Check("stock_item_exists", "error", _fk("gold.fact_stock", "item_id", "gold.dim_item", "item_id"),
          "every stock row's item is in gold.dim_item"),
    Check("forecast_item_exists", "warn", _fk("gold.fact_forecast", "item_id", "gold.dim_item", "item_id"),
          "every forecast item is a known item"),
    Check("status_accepted_values", "error",
          "SELECT count(*) FROM gold.reorder_status WHERE status NOT IN ('stockout', 'below_reorder', 'ok') "
          "OR basis NOT IN ('history', 'forecast')", "status and basis take only their accepted values"),
    Check("source_status_accepted_values", "error",
          "SELECT count(*) FROM meta.source_files WHERE status NOT IN ('loaded', 'rejected', 'duplicate')",
          "meta.source_files.status is loaded, rejected or duplicate"),
    Check("quantity_positive", "error", "SELECT count(*) FROM gold.fact_requisition WHERE NOT quantity > 0",
          "requisition quantities are > 0"),
    Check("forecast_non_negative", "error", "SELECT count(*) FROM gold.fact_forecast WHERE NOT forecast >= 0",
          "forecasts are >= 0"),
    Check("stock_non_negative", "error", "SELECT count(*) FROM gold.fact_stock WHERE on_hand < 0 OR on_order < 0",
          "stock on hand and on order are >= 0"),
    Check("reorder_numbers_sane", "error",
          "SELECT count(*) FROM gold.reorder_status WHERE avg_daily_demand < 0 OR demand_std < 0 "
          "OR lead_time_days < 1 OR safety_stock < 0 OR suggested_order_qty < 0",
          "reorder figures are within their ranges"),
    Check("request_date_null_share", "warn", _null_share("gold.fact_requisition", "request_date"),
          "under 1 % of requisitions lack a request date"),
    Check("item_null_share", "warn", _null_share("gold.fact_requisition", "family"),
          "under 1 % of requisitions lack a family"),
    Check("external_daily_key", "error", _unique("gold.external_daily", '"date"'), "one gold.external_daily row per day"),
    Check("external_date_exists", "error", _fk("gold.external_daily", '"date"', "gold.dim_date", '"date"'),
          "every day of the public series is in gold.dim_date"),
    Check("conservation", "error",
          "SELECT count(*) FROM meta.source_files WHERE status <> 'duplicate' AND rows_read <> rows_loaded + rows_rejected",
          "per file: rows read = rows loaded + rows rejected"),
    Check("rejected_rows_accounted", "error",
          "SELECT count(*) FROM (SELECT s.file_name, s.rows_rejected, count(r.line_number) AS n FROM meta.source_files s "
          "LEFT JOIN meta.rejected_rows r ON r.sha256 = s.sha256 WHERE s.status <> 'duplicate' "
          "GROUP BY ALL HAVING n <> s.rows_rejected)",
          "every rejected row of every file is in meta.rejected_rows"),
    Check("negative_lead_times", "warn", "SELECT coalesce(sum(negative_lines), 0) FROM gold.item_lead_time",
          "purchase dates before their request dates (kept, flagged, never used as lead times)"),
    Check("tables_described", "warn",
          "SELECT count(*) FROM information_schema.columns c WHERE c.table_schema IN ('silver', 'gold', 'meta') "
          "AND NOT EXISTS (SELECT 1 FROM meta.tables t WHERE t.schema_name = c.table_schema "
          "AND t.table_name = c.table_name AND t.column_name = c.column_name)",
          "every column is described in meta.tables"),
)


def new_keys_check(inserted: str) -> str:
    """fact_requisition_key for a table whose other rows passed it: the keys of the rows meeting
    `inserted` (every row a build inserted) held more than once among all rows, and those rows' missing
    values. A key that only old rows hold twice is not looked for: they passed."""
    t = "gold.fact_requisition"
    return _both(f"SELECT count(*) FROM (SELECT requisition_key FROM {t} WHERE requisition_key IN "
                 f"(SELECT requisition_key FROM {t} WHERE {inserted}) GROUP BY ALL HAVING count(*) > 1)",
                 _not_null(t, REQUISITION_PRESENT, inserted))


def new_refs_check(name: str, inserted: str) -> str:
    """A REQUISITION_FKS check over the rows meeting `inserted` only (the others passed it against a
    dimension holding no more keys than this one)."""
    col, dim, dim_col, _ = REQUISITION_FKS[name]
    return _fk("gold.fact_requisition", col, dim, dim_col, inserted)


def dimension_lost_keys(name: str) -> str:
    """How many of the serving version's keys (attached as prev) of a REQUISITION_FKS check's dimension
    this one lacks (0: it holds every one of them)."""
    _, dim, dim_col, _ = REQUISITION_FKS[name]
    return f"SELECT count(*) FROM (SELECT {dim_col} FROM prev.{dim} EXCEPT SELECT {dim_col} FROM {dim})"


def held_checks(con, inserted: str | None) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """gold.fact_requisition's checks where the serving version passed them and the table started from
    its copy (facts.copy_previous checked the copy's bytes against the sha256 recorded at publish):
    (held, narrowed) for run_checks. `inserted`: the condition the rows a build inserted meet
    (silver.MergeResult.lines_inserted: 'false' when none was, None when the table did not start from a copy).
    - The key check (a screen over 1.8 million keys at 10M: 0.17-0.3 s). Nothing inserted (a stock
      snapshot moving the window on, an ML drop): held, not run. A subset of distinct, present keys is
      distinct and present. Lines inserted (a supplies export): only the keys of the rows inserted (a
      condition facts.update gives, which may take in more rows) are looked for among all rows, and only
      those rows are checked for values: the others passed in the serving version (0.05 s instead).
    - The references to the dimensions (0.15-0.2 s together at 10M), where the dimension still holds
      every key it held in the serving version: held when nothing was inserted, else run over the
      inserted rows only. A row that found its key there finds it here.
    `verify` runs every check whole on the file."""
    if inserted is None or not has_prev(con):
        return {}, {}
    try:
        version = con.execute("SELECT version FROM prev.meta.build").fetchone()[0]
        passed = {n for (n,) in con.execute("SELECT name FROM prev.meta.checks WHERE passed").fetchall()}
    except duckdb.Error:
        return {}, {}
    # check -> (why it is held when nothing was inserted, its SELECT over the inserted rows, why that)
    eligible: dict[str, tuple[str, str, str]] = {}
    if "fact_requisition_key" in passed:
        eligible["fact_requisition_key"] = (f"held: v{version}'s lines less some; passed there", new_keys_check(inserted),
                                            f"the lines new since v{version} against all; the others passed there")
    for name in (n for n in REQUISITION_FKS if n in passed):
        try:
            kept = con.execute(dimension_lost_keys(name)).fetchone()[0] == 0
        except duckdb.Error:  # a serving version without that dimension
            kept = False
        if kept:
            eligible[name] = (f"held: v{version}'s lines less some, and every key they found; passed there",
                              new_refs_check(name, inserted),
                              f"the lines new since v{version}; the others passed there, and every key they found is kept")
    if inserted == "false":
        return {n: why for n, (why, _, _) in eligible.items()}, {}
    return {}, {n: (sql, why) for n, (_, sql, why) in eligible.items()}


def run_checks(con: duckdb.DuckDBPyConnection, skip: tuple[str, ...] = (), held: dict[str, str] | None = None,
               narrowed: dict[str, tuple[str, str]] | None = None) -> list[tuple[str, str, bool, str]]:
    """Run every check (but those in skip); return rows (name, severity, passed, detail). `held`: checks
    the build knows pass without running them (name -> why, appended to the detail); `narrowed`: checks
    run as another SELECT over the rows that changed (name -> (sql, what it covers, appended))."""
    results = []
    for check in CHECKS:
        if check.name in skip:
            continue
        if held and check.name in held:
            results.append((check.name, check.severity, True, f"{check.what} ({held[check.name]})"))
            continue
        sql, screen, note = check.sql, check.screen, ""
        if narrowed and check.name in narrowed:
            sql, screen, note = narrowed[check.name][0], None, f" ({narrowed[check.name][1]})"
        try:
            bad = 1 if screen is None else con.execute(screen).fetchone()[0]
            if bad:
                bad = con.execute(sql).fetchone()[0]
            detail = (check.what if bad == 0 else f"{bad} offending row(s): {check.what}") + note
            results.append((check.name, check.severity, bad == 0, detail))
        except duckdb.Error as exc:
            results.append((check.name, check.severity, False, f"could not run: {str(exc).splitlines()[0]}"))
    return results


def blocking_failures(results) -> list[tuple[str, str, bool, str]]:
    return [r for r in results if r[1] == "error" and not r[2]]
