-- Views over silver made by build.py: silver_requisition (the lake's Parquet, every supplies line)
-- and the small silver tables copied into the version (silver.stock, silver.forecast, silver.external_*).
-- Every day the data speaks of: the span of gold.dim_date and the years of its holiday calendar.
CREATE TEMP VIEW data_days AS
SELECT d FROM (
    SELECT min(request_date) AS d FROM silver_requisition UNION ALL SELECT max(request_date) FROM silver_requisition
    UNION ALL SELECT min(purchase_date) FROM silver_requisition UNION ALL SELECT max(purchase_date) FROM silver_requisition
    UNION ALL SELECT position_date FROM silver.stock UNION ALL SELECT "date" FROM silver.forecast
    UNION ALL SELECT "date" FROM silver.external_selic UNION ALL SELECT "date" FROM silver.external_ptax
    UNION ALL SELECT "month" FROM silver.external_ipca UNION ALL SELECT last_day("month") FROM silver.external_ipca
    UNION ALL SELECT local_date FROM silver.external_weather
)
WHERE d IS NOT NULL;
