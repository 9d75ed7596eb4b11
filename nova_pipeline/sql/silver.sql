-- Views made by build.py over the lake's silver: sum_req_* (per-partition summaries of every supplies
-- line) and sum_req_demand_recent (the daily demand of the partitions the window and forecasts reach, one row per item and day);
-- and the small silver tables copied into the version (silver.stock, silver.forecast, silver.external_*).
-- Every day the data speaks of: the span of gold.dim_date and the years of its holiday calendar. A table,
-- read twice (a view scanned the summaries twice, 0.07 s each at 10M), and keyed by what it holds, so
-- gold.dim_date is kept while the span stays.
CREATE TEMP TABLE data_days AS
SELECT d FROM (
    SELECT min(first_d) AS d FROM sum_req_item UNION ALL SELECT max(last_d) FROM sum_req_item
    UNION ALL SELECT min(first_purchase) FROM sum_req_lead_time UNION ALL SELECT max(last_purchase) FROM sum_req_lead_time
    UNION ALL SELECT position_date FROM silver.stock UNION ALL SELECT "date" FROM silver.forecast
    UNION ALL SELECT "date" FROM silver.external_selic UNION ALL SELECT "date" FROM silver.external_ptax
    UNION ALL SELECT "month" FROM silver.external_ipca UNION ALL SELECT last_day("month") FROM silver.external_ipca
    UNION ALL SELECT local_date FROM silver.external_weather
)
WHERE d IS NOT NULL;
