-- Silver: typed, normalised, de-duplicated rows from bronze (views bronze_* made by build.py).
CREATE SCHEMA IF NOT EXISTS silver;

-- A line present in two exports is one line; identical lines inside one export stay separate:
-- the key is the line's content plus its occurrence number among identical lines of its file.
-- content_hash and occurrence are computed once per file at ingestion (see sources/erp_csv.py).
CREATE TABLE silver.requisition AS
SELECT content_hash || '-' || occurrence AS requisition_key,
       clean_text(depot) AS depot, trim(item_id) AS item_id, clean_text(description) AS description,
       clean_text(family) AS family, clean_text(supplier) AS supplier, br_number(quantity) AS quantity,
       norm_unit(unit) AS unit, br_date(required_date) AS required_date,
       clean_text(request_no) AS request_no, br_date(request_date) AS request_date,
       br_date(purchase_date) AS purchase_date,
       file_name AS source_file, line_number AS source_line, sha256, ingested_at, content_hash, occurrence
FROM bronze_suprimentos
QUALIFY row_number() OVER (PARTITION BY content_hash, occurrence ORDER BY ingested_at, file_name, line_number) = 1;

-- One row per snapshot date, depot and item; a snapshot delivered twice keeps its newest delivery.
CREATE TABLE silver.stock AS
SELECT * EXCLUDE (newest)
FROM (
    SELECT br_date(position_date) AS position_date, trim(depot) AS depot, trim(item_id) AS item_id,
           clean_text(description) AS description, norm_unit(unit) AS unit,
           br_number(on_hand) AS on_hand, coalesce(br_number(on_order), 0) AS on_order,
           file_name AS source_file, line_number AS source_line, ingested_at,
           row_number() OVER (PARTITION BY br_date(position_date), trim(depot), trim(item_id)
                              ORDER BY ingested_at DESC, line_number DESC) AS newest
    FROM bronze_estoque
)
WHERE newest = 1;

-- Forecast rows as the ML environment delivered them (typed at ingestion), one per run, item and day.
CREATE TABLE silver.forecast AS
SELECT * EXCLUDE (newest)
FROM (
    SELECT trim(item_id) AS item_id, "date", forecast, forecast_lower, forecast_upper,
           model_version, generated_at, source, dataset_id,
           file_name AS source_file, sha256, ingested_at,
           row_number() OVER (PARTITION BY model_version, generated_at, source, dataset_id, trim(item_id), "date"
                              ORDER BY ingested_at DESC) AS newest
    FROM bronze_forecast
)
WHERE newest = 1;

-- Public series (fetch-external). Fetches overlap by design, so one value per day (per hour, per
-- bulletin, per month): the newest fetch wins, except that an hour the archive did not have yet
-- never replaces one it had.
CREATE TABLE silver.external_selic AS
SELECT "date", selic_pct, file_name AS source_file, ingested_at
FROM bronze_external_selic
QUALIFY row_number() OVER (PARTITION BY "date" ORDER BY ingested_at DESC, line_number DESC) = 1;

CREATE TABLE silver.external_ptax AS
SELECT "date", quoted_at, bulletin, buy AS buy_brl, sell AS sell_brl, file_name AS source_file, ingested_at
FROM bronze_external_ptax
QUALIFY row_number() OVER (PARTITION BY quoted_at, bulletin ORDER BY ingested_at DESC, line_number DESC) = 1;

CREATE TABLE silver.external_ipca AS
SELECT "date" AS "month", ipca_pct, month_name, file_name AS source_file, ingested_at
FROM bronze_external_ipca
QUALIFY row_number() OVER (PARTITION BY "date" ORDER BY ingested_at DESC, line_number DESC) = 1;

CREATE TABLE silver.external_weather AS
SELECT time_utc, "date" AS local_date, temperature_c, humidity_pct, precipitation_mm, wind_kmh,
       latitude, longitude, file_name AS source_file, ingested_at
FROM bronze_external_weather
QUALIFY row_number() OVER (PARTITION BY time_utc
                           ORDER BY temperature_c IS NULL, ingested_at DESC, line_number DESC) = 1;

-- Every day the data speaks of: the span of gold.dim_date and the years of its holiday calendar.
CREATE TEMP VIEW data_days AS
SELECT d FROM (
    SELECT request_date AS d FROM silver.requisition UNION ALL SELECT purchase_date FROM silver.requisition
    UNION ALL SELECT position_date FROM silver.stock UNION ALL SELECT "date" FROM silver.forecast
    UNION ALL SELECT "date" FROM silver.external_selic UNION ALL SELECT "date" FROM silver.external_ptax
    UNION ALL SELECT "month" FROM silver.external_ipca UNION ALL SELECT last_day("month") FROM silver.external_ipca
    UNION ALL SELECT local_date FROM silver.external_weather
)
WHERE d IS NOT NULL;
