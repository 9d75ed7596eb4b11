-- Gold: the dimensions, facts and reorder status the dashboard and analysts read.
-- Parameters: $history_days, $z, $service_level, $review_days, $default_lead_time_days, $has_previous,
-- $order_change_share.
-- gold.fact_requisition is made before it (nova_pipeline/facts.py). Temp tables made by build.py: holiday_calendar(date, name), previous_status(item_id, status,
-- suggested_order_qty, basis, model_version) from the previous version's reorder list;
-- temp views over the lake's silver (see silver.sql and nova_pipeline/silver.py): sum_req_* summaries
-- of every supplies line, per request month; sum_req_demand_recent, daily demand of the months the window and forecasts reach.
CREATE SCHEMA IF NOT EXISTS gold;

-- The as-of date: the latest stock snapshot's date (the supplies data's end when there is no snapshot).
CREATE TEMP TABLE as_of AS
SELECT coalesce((SELECT max(position_date) FROM silver.stock),
                (SELECT max(last_d) FROM sum_req_item)) AS as_of;

-- The reorder window's first day: demand, d and s, and the lines kept in gold.fact_requisition.
CREATE TEMP TABLE window_start AS SELECT as_of - ($history_days - 1) AS d FROM as_of;

-- Daily demand of stockable items, days with requests only, over the months the window and the
-- forecasts reach (the view has one row per item and day: a day lies in one month's summary only).
CREATE TEMP TABLE demand_all AS
SELECT item_id, "date", quantity, lines FROM sum_req_demand_recent;

-- Ties are broken by value so a full rebuild and an incremental one, which read rows in different
-- orders, pick the same: the newest description (then the greatest), the most frequent family and unit
-- (then the first alphabetically).
-- What the supplies lines say of each item, read from the summaries once. A table of its own, made
-- from the supplies alone, so a stock snapshot or a forecast drop keeps it as it was and makes only
-- gold.dim_item again from it (0.2-0.3 s at 10,000,000 lines when dim_item read the summaries itself).
-- carry by item: sum_req_item
CREATE TABLE gold.item_requests AS
WITH by_unit AS (  -- per item and unit, then per item
    SELECT item_id, unit, sum(lines) AS n, max(desc_key) AS desc_key, bool_and(all_service) AS all_service,
           min(first_d) AS first_d, max(last_d) AS last_d
    FROM sum_req_item GROUP BY item_id, unit
), req AS (
    SELECT item_id, nullif(max(desc_key).t, '') AS description, bool_and(all_service) AS is_service,
           min(first_d) AS first_request, max(last_d) AS last_request, sum(n)::BIGINT AS lines,
           arg_min(unit, (-n, unit)) FILTER (unit IS NOT NULL) AS unit  -- the most lines, then the first
    FROM by_unit GROUP BY item_id
), family AS (  -- the most lines, then the first
    SELECT item_id, family FROM (SELECT item_id, family, sum(lines) AS n FROM sum_req_item
                                 WHERE family IS NOT NULL GROUP BY ALL)
    QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY n DESC, family) = 1
)
SELECT req.item_id, req.description, family.family, req.unit, req.is_service, req.first_request, req.last_request,
       req.lines
FROM req LEFT JOIN family USING (item_id);

-- An item's family (from the supplies lines only: gold.item_lead_time reads it here rather than in
-- gold.dim_item, so a stock snapshot or a forecast drop leaves the lead times as they were).
CREATE TEMP TABLE item_family AS
SELECT item_id, family FROM gold.item_requests WHERE family IS NOT NULL;

-- The stock report's description and unit first (the newest snapshot's), then the requests'.
CREATE TABLE gold.dim_item AS
WITH ids AS (
    SELECT item_id FROM gold.item_requests UNION
    SELECT item_id FROM silver.stock UNION
    SELECT item_id FROM silver.forecast
), stk AS (
    SELECT item_id, arg_max(description, (position_date, depot)) AS description, arg_max(unit, (position_date, depot)) AS unit
    FROM silver.stock GROUP BY item_id
)
SELECT ids.item_id, coalesce(stk.description, req.description) AS description, req.family,
       coalesce(stk.unit, req.unit) AS unit, coalesce(req.is_service, false) AS is_service,
       stk.item_id IS NOT NULL AS is_stocked, req.first_request, req.last_request,
       coalesce(req.lines, 0)::BIGINT AS requisition_lines
FROM ids LEFT JOIN gold.item_requests req USING (item_id) LEFT JOIN stk USING (item_id);

CREATE TABLE gold.dim_depot AS
SELECT depot,
       CASE WHEN depot LIKE 'ALMOX%' THEN 'central store'
            WHEN depot LIKE 'ESCRIT%' THEN 'office'
            WHEN depot LIKE 'GER%' THEN 'regional store'
            ELSE 'site' END AS depot_type
FROM (SELECT depot FROM sum_req_depot UNION SELECT depot FROM silver.stock)
WHERE depot IS NOT NULL;

-- Which suppliers each item was bought from (all history), for the item screen.
-- carry by item: sum_req_supplier
CREATE TABLE gold.item_supplier AS
SELECT item_id, supplier, sum(lines)::BIGINT AS lines, min(first_purchase) AS first_purchase,
       max(last_purchase) AS last_purchase
FROM sum_req_supplier GROUP BY item_id, supplier ORDER BY item_id, last_purchase DESC NULLS LAST, supplier;

-- Suppliers, from the item-supplier pairs above (a few tens of thousands of rows, where the request
-- months' summaries hold millions at 10,000,000 lines).
CREATE TABLE gold.dim_supplier AS
SELECT supplier, sum(lines)::BIGINT AS requisition_lines, min(first_purchase) AS first_purchase,
       max(last_purchase) AS last_purchase, count(DISTINCT item_id) AS items
FROM gold.item_supplier GROUP BY supplier;

-- The public series side by side, one row per day from the first to the last day any of them covers.
-- PTAX: the day's closing (Fechamento bulletin) selling rate; none on days without a bulletin.
-- IPCA: the month's change on every day of that month. Weather: Salvador's local day (America/Bahia),
-- only for days with all 24 hourly values (the archive's last days arrive a few days late).
CREATE TABLE gold.external_daily AS
WITH ptax AS (
    SELECT "date", arg_max(sell_brl, quoted_at) AS sell FROM silver.external_ptax
    WHERE bulletin = 'Fechamento' GROUP BY "date"
), weather AS (
    SELECT local_date AS "date", avg(temperature_c) AS temp_mean_c, sum(precipitation_mm) AS precip_mm
    FROM silver.external_weather GROUP BY local_date
    HAVING count(temperature_c) = 24 AND count(precipitation_mm) = 24
), bounds AS (
    SELECT min(d) AS lo, max(d) AS hi
    FROM (SELECT "date" AS d FROM silver.external_selic UNION ALL SELECT "date" FROM ptax
          UNION ALL SELECT "month" FROM silver.external_ipca UNION ALL SELECT last_day("month") FROM silver.external_ipca
          UNION ALL SELECT "date" FROM weather)
)
SELECT t.d::DATE AS "date", s.selic_pct, p.sell AS ptax_usd_sell, i.ipca_pct AS ipca_month_pct,
       w.temp_mean_c, w.precip_mm
FROM bounds, range(bounds.lo, bounds.hi + INTERVAL 1 DAY, INTERVAL 1 DAY) AS t(d)
LEFT JOIN silver.external_selic s ON s."date" = t.d::DATE
LEFT JOIN ptax p ON p."date" = t.d::DATE
LEFT JOIN silver.external_ipca i ON i."month" = date_trunc('month', t.d)::DATE
LEFT JOIN weather w ON w."date" = t.d::DATE
WHERE bounds.lo IS NOT NULL
ORDER BY 1;

CREATE TABLE gold.dim_date AS
WITH bounds AS (
    SELECT least(min(d), (SELECT as_of FROM as_of)) AS lo, greatest(max(d), (SELECT as_of FROM as_of)) AS hi
    FROM data_days
)
SELECT d::DATE AS "date", year(d) AS "year", quarter(d) AS quarter, month(d) AS "month",
       weekofyear(d) AS week, isodow(d) AS day_of_week, isodow(d) >= 6 AS is_weekend,
       h.name IS NOT NULL AS is_holiday, h.name AS holiday_name
FROM bounds, range(bounds.lo, bounds.hi + INTERVAL 1 DAY, INTERVAL 1 DAY) AS t(d)
LEFT JOIN holiday_calendar h ON h."date" = d::DATE;

-- The supplies lines behind today's numbers: requested within the reorder window (or later), plus the
-- lines without a request date. Every line of all history stays in the lake (lake/silver/requisition).
-- gold.fact_requisition (the window's lines) is made before this script, by nova_pipeline/facts.py.

CREATE TABLE gold.fact_stock AS
SELECT position_date, depot, item_id, on_hand, on_order, unit,
       position_date = (SELECT as_of FROM as_of) AS is_latest, source_file, source_line
FROM silver.stock;

-- Daily demand of stockable items in the reorder window (from its first day on): days with requests
-- only (a day missing is a day without demand); the 7- and 30-day figures count those zero days.
-- carry by month: demand_all "date" sum_req_demand_recent 29 slides window_start
-- carry by item: sum_req_demand_recent demand_all
CREATE TABLE gold.demand_daily AS
SELECT item_id, "date", quantity, lines, rolling_avg_7d, total_30d FROM (
    SELECT item_id, "date", quantity, lines,
           sum(quantity) OVER w7 / 7 AS rolling_avg_7d, sum(quantity) OVER w30 AS total_30d
    FROM demand_all
    WHERE "date" >= (SELECT d FROM window_start) - 29
    WINDOW w7 AS (PARTITION BY item_id ORDER BY "date" RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW),
           w30 AS (PARTITION BY item_id ORDER BY "date" RANGE BETWEEN INTERVAL 29 DAYS PRECEDING AND CURRENT ROW)
)
WHERE "date" >= (SELECT d FROM window_start);

-- Monthly demand of stockable items over all history.
-- carry by month: sum_req_monthly "month" sum_req_monthly
CREATE TABLE gold.demand_monthly AS
SELECT item_id, "month", sum(quantity) AS quantity, sum(lines)::BIGINT AS lines,
       sum(days_with_demand)::BIGINT AS days_with_demand
FROM sum_req_monthly GROUP BY ALL;

-- Each family's lead-time figures from the usable lead times of its lines (the line's family, whichever
-- family its item mostly has), for gold.item_lead_time below.
CREATE TEMP TABLE family_lead_time AS
SELECT family, max(total)::BIGINT AS family_usable_lines,
       ((min(lt) FILTER (cum > (total - 1) // 2) + min(lt) FILTER (cum > total // 2)) / 2.0)::DOUBLE AS family_median_days,
       CASE WHEN max(total) >= 2 THEN sqrt(greatest(0, (max(total)::HUGEINT * sum(s2) - sum(s1) * sum(s1))::DOUBLE
                                                     / (max(total)::HUGEINT * (max(total) - 1))::DOUBLE)) END AS family_std_days
FROM (SELECT family, lt, n * lt AS s1, n * lt * lt AS s2,
             sum(n) OVER (PARTITION BY family ORDER BY lt ROWS UNBOUNDED PRECEDING) AS cum,
             sum(n) OVER (PARTITION BY family) AS total
      FROM (SELECT family, lt, sum(n)::HUGEINT AS n FROM sum_req_lead_time
            WHERE lt >= 0 AND family IS NOT NULL GROUP BY ALL))
GROUP BY family;

-- The evidence behind each item's lead time, over all history (the item screen shows it).
-- Medians come from the lead-time histograms: the mean of the values at positions floor((n-1)/2) and
-- floor(n/2) of the sorted lead times, which is what median() gives over the lines themselves.
-- The item's own figures here, its family's by the UPDATE below over every row: so a supplies export
-- makes again the rows of the items it requests, then the family figures of all.
-- carry by item: sum_req_lead_time sum_req_item item_family
CREATE TABLE gold.item_lead_time AS
WITH h AS (
    SELECT item_id, lt, bought, sum(n) AS n, max(last_purchase) AS last_purchase
    FROM sum_req_lead_time GROUP BY ALL
), own AS (
    SELECT item_id, coalesce(sum(n) FILTER (lt >= 0), 0)::BIGINT AS usable_lines,
           coalesce(sum(n) FILTER (lt < 0), 0)::BIGINT AS negative_lines,
           coalesce(sum(n) FILTER (NOT bought), 0)::BIGINT AS not_bought_lines,
           min(lt) FILTER (lt >= 0) AS min_days, max(lt) FILTER (lt >= 0) AS max_days, max(last_purchase) AS last_purchase
    FROM h GROUP BY item_id
), item_cum AS (
    SELECT item_id, lt, sum(n) OVER (PARTITION BY item_id ORDER BY lt ROWS UNBOUNDED PRECEDING) AS cum,
           sum(n) OVER (PARTITION BY item_id) AS total
    FROM (SELECT item_id, lt, sum(n) AS n FROM h WHERE lt >= 0 GROUP BY ALL)
), item_median AS (
    SELECT item_id, (min(lt) FILTER (cum > (total - 1) // 2) + min(lt) FILTER (cum > total // 2)) / 2.0 AS median_days
    FROM item_cum GROUP BY item_id
), item_spread AS (
    -- sample std of the usable lead times from exact integer sums: (n·Σx² − (Σx)²) / (n·(n − 1))
    SELECT item_id, sum(n)::HUGEINT AS k, sum(n * lt)::HUGEINT AS s1, sum(n * lt * lt)::HUGEINT AS s2
    FROM h WHERE lt >= 0 GROUP BY item_id
)
SELECT own.item_id, own.usable_lines, own.negative_lines, own.not_bought_lines, m.median_days::DOUBLE AS median_days,
       own.min_days, own.max_days, own.last_purchase, i.family, f.family_usable_lines, f.family_median_days,
       CASE WHEN isp.k >= 2 THEN sqrt(greatest(0, (isp.k * isp.s2 - isp.s1 * isp.s1)::DOUBLE / (isp.k * (isp.k - 1))::DOUBLE)) END
           AS std_days,
       f.family_std_days
FROM own LEFT JOIN item_family i USING (item_id) LEFT JOIN item_median m USING (item_id)
LEFT JOIN item_spread isp USING (item_id) LEFT JOIN family_lead_time f ON f.family = i.family;

-- The family's figures of the rows a drop kept (carry.py makes again only the rows of the items it
-- requests, yet their lines move their family's figures): the rows whose figures moved. (An UPDATE of
-- every row cost 0.1 s of a full build at 1,000,000 lines, where the rows have them already; the
-- UPDATE reads a table: from the subquery itself it took 0.3 s at 10M, against 0.06 s.)
UPDATE gold.item_lead_time t
SET family_usable_lines = f.family_usable_lines, family_median_days = f.family_median_days,
    family_std_days = f.family_std_days
FROM family_lead_time f WHERE t.family = f.family
    AND (t.family_usable_lines IS DISTINCT FROM f.family_usable_lines OR t.family_median_days IS DISTINCT FROM f.family_median_days
         OR t.family_std_days IS DISTINCT FROM f.family_std_days);

CREATE TABLE gold.fact_forecast AS
SELECT f.item_id, f."date", f.forecast, f.forecast_lower, f.forecast_upper, f.model_version,
       f.generated_at, f.source, f.dataset_id,
       CASE WHEN f."date" <= greatest((SELECT as_of FROM as_of), (SELECT max("date") FROM demand_all))
            THEN coalesce(d.quantity, 0) END AS actual_demand,
       f.source_file
FROM silver.forecast f LEFT JOIN demand_all d USING (item_id, "date");

-- Suppliers' lead times (request -> purchase, usable lines as the reorder method uses them), per
-- supplier and per supplier and family, from the summaries' histograms: median (mean of the two middle
-- values), p90 (nearest rank: the smallest lead time with at least 90 % of lines at or below it), spread,
-- and the share bought by the date the site needed it, where that date exists.
CREATE TEMP TABLE supplier_hist AS
SELECT supplier, coalesce(family, '(no family)') AS family, lt, quarter, sum(n) AS n,
       sum(with_required) AS with_required, sum(on_time) AS on_time
FROM sum_req_supplier_lt GROUP BY ALL;

CREATE TABLE gold.supplier_lead_time AS
WITH h AS (SELECT supplier, lt, sum(n) AS n FROM supplier_hist GROUP BY ALL),
cum AS (SELECT supplier, lt, n, sum(n) OVER (PARTITION BY supplier ORDER BY lt ROWS UNBOUNDED PRECEDING) AS c,
               sum(n) OVER (PARTITION BY supplier) AS total FROM h),
stats AS (
    SELECT supplier, max(total)::BIGINT AS usable_lines,
           (min(lt) FILTER (c > (total - 1) // 2) + min(lt) FILTER (c > total // 2)) / 2.0 AS median_days,
           min(lt) FILTER (c >= 0.9 * total) AS p90_days,
           CASE WHEN max(total) >= 2 THEN sqrt(greatest(0, (max(total) * sum(n * lt * lt) - sum(n * lt) * sum(n * lt))::DOUBLE
                                                         / (max(total) * (max(total) - 1))::DOUBLE)) END AS std_days
    FROM cum GROUP BY supplier
),
on_time AS (SELECT supplier, sum(with_required)::BIGINT AS with_required, sum(on_time)::BIGINT AS bought_on_time
            FROM supplier_hist GROUP BY supplier),
recent AS (  -- the median of each of the last 4 quarters with purchases, newest last, for the trend
    SELECT supplier, list(median_days ORDER BY quarter) AS quarter_medians, list(quarter ORDER BY quarter) AS quarters
    FROM (SELECT supplier, quarter,
                 (min(lt) FILTER (c > (total - 1) // 2) + min(lt) FILTER (c > total // 2)) / 2.0 AS median_days,
                 row_number() OVER (PARTITION BY supplier ORDER BY quarter DESC) AS k
          FROM (SELECT supplier, quarter, lt, sum(n) OVER (PARTITION BY supplier, quarter ORDER BY lt ROWS UNBOUNDED PRECEDING) AS c,
                       sum(n) OVER (PARTITION BY supplier, quarter) AS total
                FROM (SELECT supplier, quarter, lt, sum(n) AS n FROM supplier_hist GROUP BY ALL))
          GROUP BY supplier, quarter)
    WHERE k <= 4 GROUP BY supplier
)
SELECT d.supplier, d.requisition_lines AS lines, d.items, s.usable_lines, s.median_days, s.p90_days, s.std_days,
       o.with_required AS lines_with_required_date, o.bought_on_time,
       o.bought_on_time / nullif(o.with_required, 0) AS on_time_share,
       r.quarters AS last_quarters, r.quarter_medians AS last_quarter_medians,
       d.first_purchase, d.last_purchase
FROM gold.dim_supplier d LEFT JOIN stats s USING (supplier) LEFT JOIN on_time o USING (supplier)
LEFT JOIN recent r USING (supplier)
ORDER BY d.requisition_lines DESC, d.supplier;

CREATE TABLE gold.supplier_family_lead_time AS
WITH h AS (SELECT supplier, family, lt, sum(n) AS n, sum(with_required) AS wr, sum(on_time) AS ot FROM supplier_hist GROUP BY ALL),
cum AS (SELECT *, sum(n) OVER (PARTITION BY supplier, family ORDER BY lt ROWS UNBOUNDED PRECEDING) AS c,
               sum(n) OVER (PARTITION BY supplier, family) AS total FROM h)
SELECT supplier, family, max(total)::BIGINT AS usable_lines,
       (min(lt) FILTER (c > (total - 1) // 2) + min(lt) FILTER (c > total // 2)) / 2.0 AS median_days,
       min(lt) FILTER (c >= 0.9 * total) AS p90_days,
       sum(ot)::BIGINT / nullif(sum(wr), 0) AS on_time_share
FROM cum GROUP BY supplier, family ORDER BY supplier, family;

-- The planner's parameters: the newest loaded sheet holds for every item it lists (contract 2b).
CREATE TEMP TABLE planner AS
SELECT p.item_id, p.pack_size, p.min_order_qty, p.service_level, p.lead_time_days
FROM silver.parameters p
WHERE p.sha256 = (SELECT sha256 FROM silver.parameters ORDER BY ingested_at DESC, source_file DESC LIMIT 1);

-- Reorder status per stockable item, as sections 5 and 6 of the data contract say.
CREATE TABLE gold.reorder_status AS
WITH a AS (SELECT as_of FROM as_of),
stock AS (
    SELECT s.item_id, sum(s.on_hand) AS on_hand, sum(s.on_order) AS on_order
    FROM silver.stock s, a WHERE s.position_date = a.as_of GROUP BY s.item_id
),
items AS (
    SELECT s.*, i.description, i.family, i.unit
    FROM stock s JOIN gold.dim_item i USING (item_id) WHERE NOT i.is_service
),
daily AS (
    SELECT d.item_id, d."date", d.quantity AS q
    FROM demand_all d, a
    WHERE d."date" BETWEEN a.as_of - ($history_days - 1) AND a.as_of
),
stats AS (
    -- Days without requests count as 0: mean and sample variance over all $history_days days.
    -- The days with demand: how many (n), and the spread of their quantities (Syntetos–Boylan).
    SELECT item_id, sum(q) / $history_days AS d,
           sqrt(greatest(0, (sum(q * q) - sum(q) * sum(q) / $history_days) / ($history_days - 1))) AS s,
           count(*) FILTER (q > 0) AS n_days, avg(q) FILTER (q > 0) AS mean_nz, stddev_samp(q) FILTER (q > 0) AS sd_nz
    FROM daily GROUP BY item_id
),
lt_item AS (
    SELECT item_id, median_days AS lt, usable_lines AS n FROM gold.item_lead_time WHERE usable_lines > 0
),
lt_family AS (
    SELECT DISTINCT family, family_median_days AS lt FROM gold.item_lead_time WHERE family_median_days IS NOT NULL
),
spread AS (
    -- s_L: the item's lead-time spread with at least 3 usable lead times, else its family's, else 0
    SELECT item_id, CASE WHEN usable_lines >= 3 THEN std_days
                         WHEN family_usable_lines >= 3 THEN family_std_days END AS s_l,
           CASE WHEN usable_lines >= 3 THEN 'item' WHEN family_usable_lines >= 3 THEN 'family' END AS s_l_source
    FROM gold.item_lead_time
),
base AS (
    SELECT i.*, coalesce(st.d, 0) AS d, coalesce(st.s, 0) AS s, coalesce(st.n_days, 0) AS n_days,
           CASE WHEN st.n_days >= 2 THEN $history_days / st.n_days END AS adi,
           CASE WHEN st.n_days >= 2 THEN (st.sd_nz / st.mean_nz) ** 2 END AS cv2,
           greatest(1, coalesce(pl.lead_time_days, li.lt, lf.lt, $default_lead_time_days))::DOUBLE AS lt,
           CASE WHEN pl.lead_time_days IS NOT NULL THEN 'planner' WHEN li.lt IS NOT NULL THEN 'item'
                WHEN lf.lt IS NOT NULL THEN 'family' ELSE 'default' END AS lt_source,
           coalesce(li.n, 0) AS lt_evidence,
           coalesce(sp.s_l, 0) AS s_l, coalesce(sp.s_l_source, 'none') AS s_l_source,
           pl.pack_size, pl.min_order_qty, coalesce(pl.service_level, $service_level) AS service_level_i,
           coalesce(zl.z, $z) AS z_i, pl.item_id IS NOT NULL AS has_planner
    FROM items i LEFT JOIN stats st USING (item_id) LEFT JOIN lt_item li USING (item_id)
    LEFT JOIN lt_family lf ON lf.family = i.family LEFT JOIN spread sp USING (item_id)
    LEFT JOIN planner pl USING (item_id) LEFT JOIN z_levels zl ON zl.service_level = pl.service_level
),
runs AS (
    SELECT DISTINCT item_id, source_file, model_version, generated_at, ingested_at FROM silver.forecast
),
latest_run AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY item_id ORDER BY generated_at DESC, ingested_at DESC) AS k FROM runs
    ) WHERE k = 1
),
fc_days AS (
    -- how many of the ceil(L) days after A the item's newest run covers (it must cover all of them)
    SELECT b.item_id, lr.model_version, count(DISTINCT f."date") AS days, sum(f.forecast) AS total
    FROM base b CROSS JOIN a
    JOIN latest_run lr ON lr.item_id = b.item_id
    LEFT JOIN silver.forecast f ON f.item_id = lr.item_id AND f.source_file = lr.source_file
         AND f.generated_at = lr.generated_at AND f.model_version = lr.model_version
         AND f."date" BETWEEN a.as_of + 1 AND a.as_of + ceil(b.lt)::INTEGER
    GROUP BY b.item_id, lr.model_version, b.lt
),
fc AS (
    SELECT fd.item_id, fd.model_version, fd.total, fd.days, fd.days = ceil(b.lt) AS complete
    FROM fc_days fd JOIN base b USING (item_id)
),
-- The supplier to ask: the one the item was bought from most recently (then the one with most lines,
-- then the first alphabetically), with how many lines the history holds from it and from how many.
by_supplier AS (
    SELECT item_id, supplier, lines, last_purchase FROM gold.item_supplier
),
supplier AS (
    SELECT item_id, supplier, lines AS supplier_lines, count(*) OVER (PARTITION BY item_id) AS supplier_count
    FROM by_supplier
    QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY last_purchase DESC NULLS LAST, lines DESC, supplier) = 1
),
calc AS (
    SELECT b.*, CASE WHEN fc.complete THEN fc.model_version END AS model_version,
           CASE WHEN fc.complete THEN fc.total END AS fc_total,
           CASE WHEN fc.complete THEN 'model ' || fc.model_version || ' covers the ' || ceil(b.lt)::INTEGER
                                      || ' days after the as-of date'
                WHEN fc.item_id IS NOT NULL THEN 'the newest forecast for the item (model ' || fc.model_version
                                      || ') covers ' || fc.days || ' of the ' || ceil(b.lt)::INTEGER
                                      || ' days after the as-of date'
                ELSE 'no forecast drop has this item' END AS basis_note,
           b.z_i * sqrt(b.lt * b.s * b.s + b.d * b.d * b.s_l * b.s_l) AS safety_stock,
           CASE WHEN fc.complete THEN fc.total ELSE b.d * b.lt END AS demand_over_lead_time
    FROM base b LEFT JOIN fc USING (item_id)
),
ordered AS (
    -- the order before rounding; then ⌈raw⌉, or ⌈raw / P⌉ · P with a pack size, at least the minimum
    SELECT c.*, c.demand_over_lead_time + c.safety_stock + c.d * $review_days - c.on_hand - c.on_order AS raw_order
    FROM calc c
)
SELECT c.item_id, c.description, c.family, c.unit, a.as_of, c.on_hand, c.on_order,
       c.d AS avg_daily_demand, c.s AS demand_std, c.lt AS lead_time_days, c.lt_source AS lead_time_source,
       c.lt_evidence AS lead_time_evidence_lines,
       c.safety_stock, c.demand_over_lead_time + c.safety_stock AS reorder_point,
       CASE WHEN c.d > 0 THEN c.on_hand / c.d END AS days_of_cover,
       CASE WHEN c.raw_order <= 0 THEN 0
            ELSE greatest(CASE WHEN c.pack_size IS NOT NULL THEN ceil(c.raw_order / c.pack_size) * c.pack_size
                               ELSE ceil(c.raw_order) END,
                          coalesce(c.min_order_qty, 0)) END::DOUBLE AS suggested_order_qty,
       CASE WHEN c.d > 0 AND c.on_hand = 0 THEN 'stockout'
            WHEN c.d > 0 AND c.on_hand + c.on_order <= c.demand_over_lead_time + c.safety_stock THEN 'below_reorder'
            ELSE 'ok' END AS status,
       CASE WHEN c.fc_total IS NOT NULL THEN 'forecast' ELSE 'history' END AS basis,
       c.basis_note,
       c.model_version, c.demand_over_lead_time, c.service_level_i::DOUBLE AS service_level, c.z_i::DOUBLE AS z,
       $history_days::INTEGER AS history_days, $review_days::INTEGER AS review_days,
       -- the decision: when the stock on hand runs out at d, the last day an order placed then arrives
       -- in time (run-out − L), and whether a purchase made today arrives too late (cover < L)
       CASE WHEN c.d > 0 THEN a.as_of + floor(c.on_hand / c.d)::INTEGER END AS runout_date,
       CASE WHEN c.d > 0 THEN a.as_of + floor(c.on_hand / c.d - c.lt)::INTEGER END AS order_by_date,
       coalesce(c.d > 0 AND c.on_hand / c.d < c.lt, false) AS runs_out_before_delivery,
       sp.supplier, coalesce(sp.supplier_lines, 0)::BIGINT AS supplier_lines,
       coalesce(sp.supplier_count, 0)::BIGINT AS supplier_count,
       -- section 6: what kind of demand, what varies, what the planner said
       CASE WHEN c.n_days = 0 THEN 'no_demand' WHEN c.n_days = 1 THEN 'single'
            WHEN c.adi < 1.32 AND c.cv2 < 0.49 THEN 'smooth' WHEN c.adi < 1.32 THEN 'erratic'
            WHEN c.cv2 < 0.49 THEN 'intermittent' ELSE 'lumpy' END AS demand_class,
       c.n_days::INTEGER AS demand_days, c.adi, c.cv2, c.s_l AS lead_time_std, c.s_l_source AS lead_time_std_source,
       c.pack_size, c.min_order_qty, c.has_planner, c.raw_order,
       c.d * c.lt AS history_demand_over_lead_time, c.fc_total AS forecast_demand_over_lead_time,
       coalesce(c.fc_total IS NOT NULL AND abs(c.fc_total - c.d * c.lt) >= 1
                AND (c.fc_total < 0.5 * c.d * c.lt OR c.fc_total > 2 * c.d * c.lt), false) AS forecast_history_disagree,
       p.status AS previous_status, p.suggested_order_qty AS previous_suggested_order_qty, p.basis AS previous_basis
FROM ordered c CROSS JOIN a LEFT JOIN previous_status p USING (item_id) LEFT JOIN supplier sp USING (item_id);

ALTER TABLE gold.reorder_status ADD COLUMN newly_flagged BOOLEAN;
UPDATE gold.reorder_status SET newly_flagged =
    status <> 'ok' AND $has_previous AND coalesce(previous_status, 'ok') = 'ok';

-- What changed since the previous version, one row per item and kind of change: a status that got
-- worse (ok → below_reorder → stockout; an item new to the list counts as ok before) or better, a
-- suggested order that moved by more than $order_change_share of the previous one (any move from 0),
-- a basis that switched between forecast and history (with why).
CREATE TABLE gold.reorder_changes AS
WITH r AS (
    SELECT *, CASE status WHEN 'stockout' THEN 2 WHEN 'below_reorder' THEN 1 ELSE 0 END AS rank_now,
           CASE coalesce(previous_status, 'ok') WHEN 'stockout' THEN 2 WHEN 'below_reorder' THEN 1 ELSE 0 END AS rank_before
    FROM gold.reorder_status WHERE $has_previous
)
SELECT item_id, description, unit, status, change, previous_value, current_value, detail FROM (
    SELECT item_id, description, unit, status, CASE WHEN rank_now > rank_before THEN 'worse' ELSE 'better' END AS change,
           coalesce(previous_status, 'ok') AS previous_value, status AS current_value,
           coalesce(previous_status, 'ok (not listed)') || ' → ' || status AS detail, 0 AS k
    FROM r WHERE rank_now <> rank_before
    UNION ALL
    SELECT item_id, description, unit, status, 'order_moved', qty_text(previous_suggested_order_qty),
           qty_text(suggested_order_qty),
           'suggested order ' || qty_text(previous_suggested_order_qty) || ' → ' || qty_text(suggested_order_qty) ||
           CASE WHEN previous_suggested_order_qty > 0
                THEN ' (' || CASE WHEN suggested_order_qty > previous_suggested_order_qty THEN '+' ELSE '' END ||
                     round(100.0 * (suggested_order_qty - previous_suggested_order_qty) / previous_suggested_order_qty)::BIGINT || '%)'
                ELSE '' END, 1
    FROM r WHERE previous_suggested_order_qty IS NOT NULL
         AND abs(suggested_order_qty - previous_suggested_order_qty) > $order_change_share * previous_suggested_order_qty
    UNION ALL
    SELECT item_id, description, unit, status, 'basis_switched', previous_basis, basis,
           previous_basis || ' → ' || basis || ': ' || basis_note, 2
    FROM r WHERE previous_basis IS NOT NULL AND previous_basis <> basis
)
ORDER BY k, CASE status WHEN 'stockout' THEN 0 WHEN 'below_reorder' THEN 1 ELSE 2 END, item_id;

-- Status counts of this version beside the previous one's (the overview's cards).
CREATE TABLE gold.status_counts AS
WITH s(status, k) AS (VALUES ('stockout', 0), ('below_reorder', 1), ('ok', 2))
SELECT s.status, (SELECT count(*) FROM gold.reorder_status r WHERE r.status = s.status)::BIGINT AS items,
       CASE WHEN $has_previous THEN (SELECT count(*) FROM previous_status p WHERE p.status = s.status) END::BIGINT
           AS previous_items,
       (SELECT count(*) FROM gold.reorder_changes c WHERE c.current_value = s.status AND c.change = 'worse')::BIGINT
           AS worsened_into
FROM s ORDER BY s.k;
