"""What every table and column of the warehouse means: written into meta.tables, and the source
of docs/warehouse.md (`python -m nova_pipeline.catalog > docs/warehouse.md`)."""
from __future__ import annotations

# The lineage columns every public series' silver table has.
_FETCHED = {"source_file": "answer file (landing/external)", "ingested_at": "when that answer was landed"}

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "silver.requisition": ("Supplies export lines, typed and de-duplicated across overlapping exports. Every line of "
                           "all history; it stays in the lake (lake/silver/requisition/, Parquet per request month, "
                           "the files named in lake/silver/_manifest.json), not in the version file: read it with "
                           "`nova_pipeline.silver.open_lines(lake)`, which follows the manifest: a month may be "
                           "served by an export's own bronze file, whose lines carry no key (open_lines computes it).", {
        "requisition_key": "content hash of the line + its occurrence number among identical lines of its file",
        "depot": "requesting depot or site (DEPÓSITO)", "item_id": "ERP item code, a string (PRODUTO/SERVIÇO)",
        "description": "item description (MATERIAL)", "family": "item family (FAMÍLIA)",
        "supplier": "supplier name (NOME FORNEC.)", "quantity": "quantity in unit (QUANTIDADE)",
        "unit": "unit, normalised (M² -> M2)", "required_date": "date the site needed it (DATA REQUISITADA)",
        "request_no": "purchase request number (SOLICITAÇÃO)", "request_date": "demand date (DATA SOLICITADO)",
        "purchase_date": "purchase date (DATA DE COMPRA)", "source_file": "export the line was first seen in",
        "source_line": "line number in that export", "ingested_at": "when that export was landed",
    }),
    "silver.stock": ("Stock position rows, one per snapshot date, depot and item.", {
        "position_date": "snapshot date (DATA POSIÇÃO)", "depot": "depot (DEPÓSITO)", "item_id": "ERP item code",
        "description": "item description", "unit": "unit, normalised", "on_hand": "on hand (SALDO)",
        "on_order": "on order (EM PEDIDO), 0 when blank", "source_file": "snapshot file",
        "source_line": "line number in that file", "ingested_at": "when that file was landed",
    }),
    "silver.forecast": ("ML forecast rows as delivered, one per run, item and day.", {
        "item_id": "ERP item code", "date": "the day forecast", "forecast": "units per day, >= 0",
        "forecast_lower": "lower bound of the interval", "forecast_upper": "upper bound of the interval",
        "model_version": "model version of the run", "generated_at": "when the run was made (UTC)",
        "source": "model family (prophet, arima, ensemble, ...)", "dataset_id": "training data set of the run",
        "source_file": "drop file", "sha256": "sha256 of the drop", "ingested_at": "when the drop was landed",
    }),
    "silver.parameters": ("The planner's parameters sheets as delivered (contract 2b); gold uses the newest "
                          "loaded sheet, which holds for every item it lists.", {
        "item_id": "ERP item code", "pack_size": "EMBALAGEM: order in multiples of it", "min_order_qty": "LOTE MÍNIMO",
        "service_level": "NÍVEL DE SERVIÇO for the item", "lead_time_days": "PRAZO (DIAS): replaces the measured L",
        "source_file": "sheet file", "sha256": "sha256 of the sheet", "ingested_at": "when it was landed",
        "source_line": "line in the sheet",
    }),
    "silver.external_selic": ("Selic target rate per day (Banco Central SGS series 432), newest fetch wins.", {
        "date": "day", "selic_pct": "Selic target, % a year", **_FETCHED,
    }),
    "silver.external_ptax": ("PTAX USD quotes, every bulletin of every day (Banco Central Olinda).", {
        "date": "day of the quote", "quoted_at": "time of the bulletin (Brasília time, as published)",
        "bulletin": "Abertura, Intermediário or Fechamento (the day's closing)",
        "buy_brl": "cotacaoCompra, BRL per USD", "sell_brl": "cotacaoVenda, BRL per USD", **_FETCHED,
    }),
    "silver.external_ipca": ("IPCA monthly change (IBGE SIDRA table 1737, variable 63).", {
        "month": "first day of the month", "ipca_pct": "IPCA change in the month, %",
        "month_name": "month as IBGE names it (janeiro 2024)", **_FETCHED,
    }),
    "silver.external_weather": ("Hourly weather at the configured point (Open-Meteo archive); a null is an hour "
                                "the archive did not have yet.", {
        "time_utc": "start of the hour, UTC", "local_date": "the day in America/Bahia that hour belongs to",
        "temperature_c": "temperature at 2 m, °C", "humidity_pct": "relative humidity at 2 m, %",
        "precipitation_mm": "precipitation in the hour, mm", "wind_kmh": "wind speed at 10 m, km/h",
        "latitude": "grid point latitude Open-Meteo answered for", "longitude": "grid point longitude", **_FETCHED,
    }),
    "gold.dim_item": ("Every item seen in supplies, stock or forecasts.", {
        "item_id": "ERP item code", "description": "latest description (stock report first)",
        "family": "most frequent family in requisitions", "unit": "unit (stock report first)",
        "is_service": "all its lines are services (U.M. SR or family SERVIÇOS...): spend, not stock",
        "is_stocked": "appears in a stock snapshot", "first_request": "first request date",
        "last_request": "last request date", "requisition_lines": "number of requisition lines",
    }),
    "gold.item_requests": ("What the supplies lines say of each item requested (gold.dim_item puts the stock "
                           "report's description and unit first).", {
        "item_id": "ERP item code", "description": "the description of its newest request (then the greatest)",
        "family": "most frequent family in its lines (then the first)",
        "unit": "most frequent unit in its lines (then the first)",
        "is_service": "all its lines are services (U.M. SR or family SERVIÇOS...): spend, not stock",
        "first_request": "first request date", "last_request": "last request date",
        "lines": "number of requisition lines",
    }),
    "gold.dim_depot": ("Depots and sites.", {
        "depot": "depot code", "depot_type": "central store, regional store, office or site (from the code)",
    }),
    "gold.dim_supplier": ("Suppliers.", {
        "supplier": "supplier name as the ERP writes it", "requisition_lines": "lines bought from it",
        "first_purchase": "first purchase date", "last_purchase": "last purchase date",
        "items": "distinct items bought from it",
    }),
    "gold.external_daily": ("The public series side by side, one row per day from the first to the last day any covers.", {
        "date": "day", "selic_pct": "Selic target that day, % a year",
        "ptax_usd_sell": "PTAX USD closing selling rate (Fechamento bulletin's cotacaoVenda); empty on days without one",
        "ipca_month_pct": "the IPCA change of the day's month, % (same on every day of the month)",
        "temp_mean_c": "mean of the 24 hourly temperatures of the local day (America/Bahia), °C; empty for incomplete days",
        "precip_mm": "precipitation over the local day, mm; empty for incomplete days",
    }),
    "gold.dim_date": ("Calendar over the whole range of the data, with Brazil's and Bahia's holidays.", {
        "date": "day", "year": "year", "quarter": "quarter", "month": "month", "week": "ISO week",
        "day_of_week": "ISO day of week, 1 = Monday", "is_weekend": "Saturday or Sunday",
        "is_holiday": "national or Bahia state holiday", "holiday_name": "holiday name (holidays library)",
    }),
    "gold.fact_requisition": ("The supplies lines behind today's numbers: one row per distinct line requested within "
                              "the reorder window (history_days up to the as-of date) or later, and the lines without a "
                              "request date. Every line of all history is silver.requisition, in the lake.", {
        "requisition_key": "see silver.requisition", "item_id": "ERP item code",
        "description": "item description as written on the line (MATERIAL)", "depot": "depot or site",
        "family": "item family", "supplier": "supplier name", "quantity": "quantity (> 0)", "unit": "unit",
        "request_date": "demand date", "purchase_date": "purchase date", "required_date": "date needed on site",
        "request_no": "purchase request number",
        "lead_time_days": "purchase_date - request_date in days (may be negative: see lead_time_negative)",
        "lead_time_negative": "purchase before request: a data-entry error, kept and never used as a lead time",
        "is_service": "a service line (spend, not stock)", "source_file": "export file",
        "source_line": "line number in the export",
    }),
    "gold.fact_stock": ("Stock snapshots per date, depot and item.", {
        "position_date": "snapshot date", "depot": "depot", "item_id": "ERP item code", "on_hand": "on hand",
        "on_order": "on order", "unit": "unit", "is_latest": "belongs to the as-of snapshot",
        "source_file": "snapshot file", "source_line": "line number in that file",
    }),
    "gold.fact_forecast": ("Every forecast of every ML run, with the actual demand where it is known.", {
        "item_id": "ERP item code", "date": "the day forecast", "forecast": "units per day",
        "forecast_lower": "interval lower bound", "forecast_upper": "interval upper bound",
        "model_version": "model version", "generated_at": "run time (UTC)", "source": "model family",
        "dataset_id": "training data set", "actual_demand": "requested quantity that day; NULL after the data's end",
        "source_file": "drop file",
    }),
    "gold.demand_daily": ("Daily demand of goods (not services) per item in the reorder window (from its first day on): "
                          "one row per day with requests; a day without a row had no demand.", {
        "item_id": "ERP item code", "date": "day", "quantity": "sum of quantities requested that day",
        "lines": "requisition lines that day",
        "rolling_avg_7d": "mean daily quantity over the 7 days ending here (days without demand count as 0)",
        "total_30d": "quantity over the 30 days ending here",
    }),
    "gold.demand_monthly": ("Monthly demand of goods (not services) per item over all history.", {
        "item_id": "ERP item code", "month": "first day of the month", "quantity": "quantity requested in the month",
        "lines": "requisition lines in the month", "days_with_demand": "days of the month with at least one request",
    }),
    "gold.item_lead_time": ("The evidence behind each item's lead time L, over all history.", {
        "item_id": "ERP item code", "usable_lines": "lines with a purchase date on or after the request date",
        "negative_lines": "lines bought before they were requested (data-entry errors, never used)",
        "not_bought_lines": "lines without a purchase date", "median_days": "median request-to-purchase days of usable lines",
        "min_days": "shortest usable lead time", "max_days": "longest usable lead time",
        "last_purchase": "latest purchase date", "family": "the item's family (gold.dim_item)",
        "family_usable_lines": "usable lines of the whole family", "family_median_days": "the family's median lead time",
        "std_days": "sample standard deviation of the item's usable lead times (NULL with fewer than 2)",
        "family_std_days": "the same over the family's usable lead times",
    }),
    "gold.reorder_status": ("Reorder position per stockable item at the as-of date (data contract, section 5).", {
        "item_id": "ERP item code", "description": "item description", "family": "item family", "unit": "unit",
        "as_of": "date of the latest stock snapshot", "on_hand": "on hand, all depots of the snapshot",
        "on_order": "on order, all depots", "avg_daily_demand": "d: mean daily demand over history_days (zeros counted)",
        "demand_std": "s: sample standard deviation of daily demand", "lead_time_days": "L: median lead time, at least 1",
        "lead_time_source": "where L came from: planner (the parameters sheet's PRAZO), item, family or default",
        "lead_time_evidence_lines": "lines of the item with a usable lead time",
        "safety_stock": "SS = z * sqrt(L * s^2 + d^2 * s_L^2) (section 6; z * s * sqrt(L) when s_L = 0)", "reorder_point": "ROP = demand over lead time + SS",
        "days_of_cover": "on hand / d (NULL when d = 0)",
        "suggested_order_qty": "0 when raw_order <= 0; else ceil(raw_order), or ceil(raw_order / pack_size) * pack_size, "
                               "and at least min_order_qty",
        "status": "stockout, below_reorder or ok", "basis": "history (d * L) or forecast (sum of the ML forecast)",
        "model_version": "model of the forecast used, when basis = forecast",
        "demand_over_lead_time": "d * L, or the forecast's sum over the ceil(L) days after as_of",
        "service_level": "service level promised: the planner's for the item, else [reorder] service_level",
        "z": "z = NormalDist().inv_cdf(service_level)",
        "history_days": "days of history used", "review_days": "review period used",
        "previous_status": "status in the previous published version (NULL when new)",
        "newly_flagged": "flagged now but ok or absent in the previous version",
        "basis_note": "why this basis: the forecast that covers the lead time, or why none does",
        "runout_date": "projected run-out: as_of + floor(on hand / d) (NULL when d = 0)",
        "order_by_date": "last day to order so a purchase arrives before the run-out: as_of + floor(on hand / d - L)",
        "runs_out_before_delivery": "true when the stock on hand runs out before a purchase made today could arrive (days of cover < L)",
        "supplier": "the supplier to ask: the one the item was bought from most recently (NULL when never bought)",
        "supplier_lines": "requisition lines bought from that supplier",
        "supplier_count": "how many suppliers the item's history holds",
        "previous_suggested_order_qty": "suggested order in the previous published version (NULL when new or first)",
        "previous_basis": "basis in the previous published version (NULL when new or first)",
        "demand_class": "kind of demand over the history window (Syntetos–Boylan): smooth, erratic, intermittent, lumpy; "
                        "single (requested on one day), no_demand (none)",
        "demand_days": "days of the window with demand (n)",
        "adi": "average demand interval: window days / days with demand (NULL when fewer than 2 such days); "
               "1.32 or more means requests are far apart",
        "cv2": "squared coefficient of variation of the quantities on days with demand (NULL when fewer than 2); "
               "0.49 or more means the lumps vary a lot in size",
        "lead_time_std": "s_L: spread (sample std, days) of the item's lead times with 3 or more, else its family's, else 0",
        "lead_time_std_source": "where s_L came from: item, family or none",
        "pack_size": "planner's pack size: orders in multiples of it (NULL: none)",
        "min_order_qty": "planner's minimum order quantity (NULL: none)",
        "has_planner": "the planner's newest parameters sheet lists this item",
        "raw_order": "the order before rounding: ROP + d * review_days - on hand - on order (0 or less: no order)",
        "history_demand_over_lead_time": "d * L, what the history says the lead time will consume",
        "forecast_demand_over_lead_time": "the newest forecast's sum over the ceil(L) days after as_of (NULL when it does not cover them)",
        "forecast_history_disagree": "the forecast's demand over lead time is under half or over twice the history's "
                                     "(and differs by 1 unit or more): look before trusting either",
    }),
    "gold.stock_health": ("Stockouts over time: per stock snapshot date, how many stocked items had demand and "
                          "how many of them were out (the trend management was promised).", {
        "snapshot_date": "the stock snapshot's date (DATA POSIÇÃO)", "stocked_items": "goods in that snapshot",
        "items_with_demand": "of those, items requested in the history window ending that day",
        "stockouts": "of those, items with nothing on hand over the snapshot's depots",
        "stockout_rate": "stockouts / items_with_demand",
        "at_or_below_reorder": "items with demand whose on hand + on order was at or under a reorder point computed "
                               "from the data up to that day (history basis; today's L, s_L and z)",
    }),
    "gold.supplier_lead_time": ("Suppliers' lead times (request to purchase, usable lines as the reorder method "
                                "uses them: bought on or after the request), over all history.", {
        "supplier": "supplier (NOME FORNEC.)", "lines": "requisition lines with this supplier",
        "items": "items bought from it", "usable_lines": "lines with a usable lead time",
        "median_days": "median lead time, days", "p90_days": "90th percentile (nearest rank): 9 lines in 10 arrive within it",
        "std_days": "spread (sample std) of the lead times, days",
        "lines_with_required_date": "usable lines with DATA REQUISITADA, the date the site needed the item",
        "bought_on_time": "of those, lines bought by that date",
        "on_time_share": "bought_on_time / lines_with_required_date (NULL without required dates)",
        "last_quarters": "the last (up to 4) quarters of request with purchases, oldest first",
        "last_quarter_medians": "the median lead time in each of those quarters: the trend",
        "first_purchase": "first purchase", "last_purchase": "latest purchase",
    }),
    "gold.item_supplier": ("Which suppliers each item was bought from, over all history.", {
        "item_id": "ERP item code", "supplier": "supplier", "lines": "lines of the item with this supplier",
        "first_purchase": "first purchase", "last_purchase": "latest purchase",
    }),
    "gold.supplier_family_lead_time": ("Suppliers' lead times per family of the items bought.", {
        "supplier": "supplier", "family": "item family ('(no family)' when blank)",
        "usable_lines": "lines with a usable lead time", "median_days": "median lead time, days",
        "p90_days": "90th percentile (nearest rank), days",
        "on_time_share": "share bought by the required date, where one exists",
    }),
    "gold.service_replay_item": ("Does the method keep its promise, per item: the reorder point re-computed at each "
                                 "weekly review point of the history (history basis, the item's L, s_L and z), and "
                                 "whether it covered the demand of the lead time that followed (section 6).", {
        "item_id": "ERP item code", "demand_class": "the item's demand class at the as-of date",
        "service_level": "the service level promised (the planner's or the configured one)",
        "points": "review points t = as_of - 7k with a full window before and the lead time inside the data, "
                  "and demand in the window before t",
        "points_kept": "points where the demand of days t .. t + ceil(L) - 1 was at most the reorder point",
        "share_kept": "points_kept / points (NULL without points)",
    }),
    "gold.service_replay": ("Does the method keep its promise, per demand class (section 6).", {
        "demand_class": "demand class at the as-of date", "items": "items with at least one review point",
        "points": "review points", "points_kept": "points where the reorder point covered the lead-time demand",
        "share_kept": "points_kept / points", "service_level": "the service level promised (points-weighted mean)",
        "gap_points": "share kept minus promised, in percentage points (below -3: the method misses its promise)",
    }),
    "gold.forecast_accuracy": ("Forecast accuracy per model version and demand class, over the days where actual "
                               "demand is known; measures fit for intermittent demand.", {
        "model_version": "model version", "demand_class": "the item's demand class (not_stocked: no stock position)",
        "items": "items with actual demand known", "actual_days": "item-days compared",
        "wape": "sum |forecast - actual| / sum actual", "bias": "(sum forecast - sum actual) / sum actual",
        "mase": "sum |forecast - actual| / the same days' in-sample one-day naive error (mean |q_t - q_(t-1)| over the "
                "history window per item); below 1 beats repeating yesterday",
    }),
    "gold.reorder_changes": ("What changed in the reorder list since the previous published version (empty in the "
                             "first), one row per item and kind of change.", {
        "item_id": "ERP item code", "description": "item description", "unit": "unit", "status": "status now",
        "change": "worse (ok → below_reorder → stockout; an item new to the list was ok), better, order_moved "
                  "(the suggested order moved by more than [reorder] order_change_share of the previous one, or "
                  "away from 0) or basis_switched (forecast ↔ history)",
        "previous_value": "status, suggested order or basis before", "current_value": "the same now",
        "detail": "the change in words, with why a basis switched",
    }),
    "gold.status_counts": ("Items per reorder status, now and in the previous published version (the overview's cards).", {
        "status": "stockout, below_reorder or ok", "items": "items with that status now",
        "previous_items": "items with that status in the previous version (NULL in the first)",
        "worsened_into": "items that got worse into this status since the previous version",
    }),
    "meta.source_files": ("Every drop the pipeline has seen, with what became of it.", {
        "drop_key": "sha256 + hash of the path: one entry per file name and content",
        "file_name": "file name", "path": "path relative to the site", "sha256": "sha256 of its bytes",
        "kind": "suprimentos, estoque or forecast", "status": "loaded, rejected or duplicate",
        "rows_read": "data rows read", "rows_loaded": "rows loaded (landed in bronze for silver)", "rows_rejected": "rows refused (see meta.rejected_rows)",
        "reason": "why the file was rejected or is a duplicate", "received_at": "when it was processed",
        "data_from": "earliest data date in it", "data_to": "latest data date in it",
        "bronze_path": "its Parquet file, relative to the lake folder (absolute in entries written before 0.2)", "size_bytes": "file size",
    }),
    "meta.fact_requisition_parts": ("What gold.fact_requisition's lines were made from, so the next build changes "
                                    "only the partitions that changed (nova_pipeline/facts.py).", {
        "part": "request month (YYYY-MM) or none (undated lines)", "files": "the lake's silver files the lines came from",
        "window_start": "the reorder window's first day", "layout": "hash of the SQL that made the lines",
    }),
    "meta.holiday_calendar": ("Bahia's holidays over the data's years (the `holidays` library), kept so the next build "
                              "copies them while the years and the library's version stay (nova_pipeline/meta.py).", {
        "date": "the holiday", "name": "its name", "made_for": "the years and the library's version it was made for",
    }),
    "meta.replay_cache": ("The file of cumulative sums of daily demand the service replay and stock health read, "
                          "kept in the lake so the next build sums only the items that changed (nova_pipeline/replay.py).", {
        "file": "its Parquet file, relative to the lake folder",
        "origin": "the sums start the day after it (NULL: all history)",
        "key": "hash of the SQL that made them",
        "drops": "the supplies drops whose lines they hold (the items of any other are summed again)",
        "items": "the items they hold, sorted (an item not among them is summed again)",
    }),
    "meta.gold_keys": ("What each gold table of gold.sql was made from, as a key, so the next build keeps the tables "
                       "whose inputs did not change (nova_pipeline/carry.py).", {
        "table_name": "the gold table (gold.name)",
        "inputs_key": "hash of its SQL, the parameters it uses and the keys of the relations it reads",
        "partial_key": "for a table kept month by month (demand_daily, demand_monthly): the same, but for the "
                       "lake view of request months it reads",
        "parts": "for such a table: that view's request months and their files (JSON), to find the months that changed",
        "slide": "for a table of the reorder window (demand_daily): the window's first day it was made for, so a "
                 "window that moved on only drops the days before it",
        "item_key": "for a table kept item by item (item_requests, item_supplier, demand_daily): the key but for the "
                    "supplies summaries it reads, so a supplies drop makes again only the rows of the items it requests",
    }),
    "meta.sources": ("Every kind of drop the pipeline takes, with the freshness limit in force when this file was "
                     "built (config [freshness], defaults from nova_pipeline/sources/registry.py).", {
        "kind": "kind of drop", "label": "what it is", "folder": "landing or ml_drops",
        "pattern": "file names it takes", "freshness_hours": "older than this, the source is stale",
    }),
    "meta.waiting_files": ("Drops seen in a landing folder that cannot be read yet (permissions, I/O); each is taken "
                           "by the first build after it becomes readable.", {
        "path": "the file, relative to the site (landing/... or ml_drops/...)", "kind": "kind of drop its name says",
        "reason": "why it cannot be read, and what to do", "seen_at": "when the build that found it ran",
    }),
    "meta.rejected_rows": ("Rows that could not be read, with their line and reason.", {
        "sha256": "sha256 of the file", "file_name": "file name", "line_number": "line (CSV) or row (Parquet) number",
        "reason": "why it was refused", "raw_line": "the row as it was in the file",
    }),
    "meta.checks": ("Data checks run on this version.", {
        "name": "check name", "severity": "error (blocks publication) or warn",
        "passed": "passed", "detail": "what it checks, and how many rows offend; '(held: ...)' when the build "
                  "knew it passes without running it (the lines of a version where it passed, less some; for a "
                  "reference, with every key of its dimension kept), '(the lines new since ...)' when it checked "
                  "only the lines it inserted",
    }),
    "meta.build": ("This version's build record (exactly one row).", {
        "version": "version number", "built_at": "build time", "as_of": "as-of date",
        "code_version": "pipeline version", "previous_version": "version serving before this one",
        "inputs": "drops (loaded, rejected, duplicate) behind this version", "new_inputs": "drops new in this version",
        "config": "reorder settings used (JSON)", "complete": "completeness marker, written last",
        "rolled_back_from": "set when `rollback` made this version current again",
        "as_of_days": "[freshness] as_of_days: an as-of date older than this many days is stale data",
        "as_of_critical_days": "[freshness] as_of_critical_days: older than this, stale data is critical",
        "site_id": "[site] id: which plant built this file (NULL when not set)", "site_name": "[site] name",
        "replay_inputs": "hash of what the service replay read besides each item's figures and demand (history's "
                         "first day, parameters, SQL): when the next build's is equal, it copies the replay of every "
                         "item its new exports do not request and whose figures did not change",
    }),
    "meta.build_history": ("The recent builds, carried from version to version.", {
        "version": "version number", "built_at": "build time", "as_of": "as-of date", "new_inputs": "new drops",
        "checks_failed": "checks that did not pass", "outcome": "published",
        "stockouts": "items in stockout in that version (NULL in versions built before this was kept)",
        "below_reorder": "items below their reorder point in that version", "ok": "items ok in that version",
    }),
    "meta.build_stages": ("Where this build's time went: the wall seconds of each stage up to its checks, in the "
                          "order they ran (writing and publishing the file come after; `last_build.json` and the "
                          "event=build_stages log line have every stage).", {
        "step": "order of the stage (1 first)",
        "stage": "land (hash and land new drops in bronze), copy (copy the serving version's file to carry its "
                 "tables), silver (merge silver, make the summaries), gold (gold tables), replay (service replay, "
                 "forecast accuracy, stock health), checks (meta tables and quality checks)",
        "seconds": "wall seconds",
    }),
    "meta.tables": ("This catalogue: every table and column with its meaning.", {
        "schema_name": "schema", "table_name": "table", "column_name": "column (NULL for the table itself)",
        "data_type": "DuckDB type", "description": "meaning",
    }),
}


def catalog_rows(con) -> list[tuple]:
    """(schema, table, column, type, description) for every table in TABLES that exists."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    # one query for every table (one per table cost 0.09 s of each build)
    for schema, table, name, dtype in con.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() ORDER BY table_schema, table_name, ordinal_position").fetchall():
        found.setdefault((schema, table), []).append((name, dtype))
    rows = []
    for full, (about, columns) in TABLES.items():
        schema, table = full.split(".")
        rows.append((schema, table, None, None, about))
        rows.extend((schema, table, name, dtype, columns.get(name))
                    for name, dtype in found.get((schema, table), []) if name in columns)
    return rows


def markdown() -> str:
    lines = ["# The warehouse file", "",
             "Generated from `nova_pipeline/catalog.py` (the same text is in `meta.tables` inside every file).", ""]
    for full, (about, columns) in TABLES.items():
        lines += [f"## `{full}`", "", about, "", "| column | meaning |", "| --- | --- |"]
        lines += [f"| `{c}` | {d} |" for c, d in columns.items()]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
