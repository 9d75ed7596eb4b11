-- After gold.sql: the service replay (section 6), forecast accuracy and stock health, over the history.
-- Parameters: $history_days, $replay_weeks, $reuse_replay, $cum_from, $cum_cached, $health_from. With $reuse_replay (set
-- by build.py when the serving version's replay read the same inputs), the items in replay_redo are
-- computed and every other item's row is the serving version's (replay_carried: an ML drop carries all
-- of them, a daily export all but the items it requests). With $cum_cached (nova_pipeline/replay.py),
-- the cumulative sums of demand are the lake's (temp view replay_cache, starting the day after
-- $cum_from) but for the items in cum_stale, summed here. $health_from: the day before the oldest stock
-- snapshot's window.

-- Service replay (section 6): would the method, run at each weekly review point t = A − 7k over the
-- history, have covered the demand of the ⌈L⌉ days after t? d_t and s_t from the W days before t,
-- history basis, the item's L, s_L and z as today. Sums over any span come from per-item cumulative
-- sums of the sparse daily demand (an ASOF join finds the last day with demand at or before a day),
-- so the cost follows the days with demand, never items × days. Items get integer keys and the
-- point table stays narrow: at 10,000,000 lines that halves the joins' time under the memory limit.
-- [reorder] replay_weeks bounds k (0: every week the data allows, as the contract says).
CREATE TEMP TABLE replay_items AS
SELECT row_number() OVER (ORDER BY item_id)::INTEGER AS ik, item_id, as_of, lead_time_days AS lt,
       ceil(lead_time_days)::INTEGER AS lt_days, lead_time_std AS s_l, z, service_level, demand_class,
       NOT $reuse_replay OR item_id IN (SELECT item_id FROM replay_redo) AS redo
FROM gold.reorder_status;

-- first_day: the supplies data's first day (a review point's window starts on it or after)
CREATE TEMP TABLE replay_bounds AS
SELECT (SELECT min(first_d) FROM sum_req_item) AS first_day;

-- The cumulative sums of daily demand of the items replayed: the lake's, but for the items summed here
-- (sum_req_demand has one row per item and day: its partitions are months of the day). Every stocked
-- item's when they are made for all (record_cum writes them to the lake then).
CREATE TEMP TABLE replay_cum AS
SELECT i.ik, c."date", c.c1, c.c2 FROM replay_cache c JOIN replay_items i USING (item_id)
WHERE $cum_cached AND i.redo AND c."date" IS NOT NULL AND i.item_id NOT IN (SELECT item_id FROM cum_stale)
UNION ALL
SELECT ik, "date", sum(q) OVER w AS c1, sum(q * q) OVER w AS c2
FROM (SELECT i.ik, d."date", d.quantity AS q
      FROM sum_req_demand d JOIN replay_items i USING (item_id)
      -- a parameter, a constant: it reaches the lake's files and skips the older months
      WHERE (CAST($cum_from AS DATE) IS NULL OR d."date" > CAST($cum_from AS DATE))
        AND (NOT $cum_cached OR (i.redo AND i.item_id IN (SELECT item_id FROM cum_stale))))
WINDOW w AS (PARTITION BY ik ORDER BY "date" ROWS UNBOUNDED PRECEDING);

CREATE TEMP TABLE replay_points AS
SELECT ik, t, (t - 1)::DATE AS before_end, (t - $history_days - 1)::DATE AS before_start,
       (t + lt_days - 1)::DATE AS after_end
FROM (SELECT i.ik, i.lt_days, i.as_of, (i.as_of - 7 * k::INTEGER) AS t
      FROM replay_items i, replay_bounds b,
           range(1, CASE WHEN $replay_weeks > 0 THEN $replay_weeks + 1
                         ELSE greatest(1, (i.as_of - b.first_day) // 7 + 2) END) r(k)
      WHERE b.first_day IS NOT NULL AND i.redo), replay_bounds b
WHERE t + lt_days - 1 <= as_of AND t - $history_days >= b.first_day;

-- The three look-ups of each point (the day before t, the day before its window, the last day of its
-- lead time) stacked into one ASOF join, so the cumulative sums are sorted once, not three times.
CREATE TEMP TABLE replay_sums AS
WITH look AS (
    SELECT ik, t, 0 AS which, before_end AS d FROM replay_points
    UNION ALL SELECT ik, t, 1, before_start FROM replay_points
    UNION ALL SELECT ik, t, 2, after_end FROM replay_points
), found AS (
    SELECT l.ik, l.t, l.which, c.c1, c.c2 FROM look l
    ASOF LEFT JOIN (SELECT * FROM replay_cum WHERE ik IN (SELECT ik FROM replay_items WHERE redo)) c
         ON l.ik = c.ik AND l.d >= c."date"
)
SELECT ik, t, coalesce(sum(c1) FILTER (which = 0), 0) - coalesce(sum(c1) FILTER (which = 1), 0) AS s1,
       coalesce(sum(c2) FILTER (which = 0), 0) - coalesce(sum(c2) FILTER (which = 1), 0) AS s2,
       coalesce(sum(c1) FILTER (which = 2), 0) - coalesce(sum(c1) FILTER (which = 0), 0) AS after
FROM found GROUP BY ik, t;

CREATE TEMP TABLE replay_checked AS
SELECT i.item_id, r.t, r.after <= r.d_t * i.lt + i.z * sqrt(i.lt * r.s_t2 + r.d_t * r.d_t * i.s_l * i.s_l) AS kept
FROM (SELECT *, s1 / $history_days AS d_t, greatest(0, (s2 - s1 * s1 / $history_days) / ($history_days - 1)) AS s_t2
      FROM replay_sums WHERE s1 > 0) r
JOIN replay_items i USING (ik);

CREATE TABLE gold.service_replay_item AS
SELECT * FROM (
    SELECT r.item_id, r.demand_class, r.service_level, count(c.t)::BIGINT AS points,
           count(c.t) FILTER (c.kept)::BIGINT AS points_kept,
           count(c.t) FILTER (c.kept) / nullif(count(c.t), 0) AS share_kept
    FROM gold.reorder_status r ANTI JOIN replay_carried k USING (item_id) LEFT JOIN replay_checked c USING (item_id)
    GROUP BY ALL
    UNION ALL BY NAME SELECT * FROM replay_carried
) ORDER BY item_id;

CREATE TABLE gold.service_replay AS
SELECT demand_class, count(*) FILTER (points > 0)::BIGINT AS items, sum(points)::BIGINT AS points,
       sum(points_kept)::BIGINT AS points_kept, sum(points_kept) / nullif(sum(points), 0) AS share_kept,
       coalesce(sum(service_level * points) / nullif(sum(points), 0), avg(service_level)) AS service_level,
       (sum(points_kept) / nullif(sum(points), 0)
        - coalesce(sum(service_level * points) / nullif(sum(points), 0), avg(service_level))) * 100 AS gap_points
FROM gold.service_replay_item GROUP BY demand_class
ORDER BY CASE demand_class WHEN 'smooth' THEN 0 WHEN 'erratic' THEN 1 WHEN 'intermittent' THEN 2
         WHEN 'lumpy' THEN 3 WHEN 'single' THEN 4 ELSE 5 END;

-- Forecast accuracy fit for intermittent demand, per model version and demand class, over the days
-- where actual demand is known: WAPE, bias and MASE (the forecast's absolute error over the items'
-- in-sample one-day naive error in the history window, weighted by each item's days).
CREATE TEMP TABLE naive_error AS
WITH w AS (
    SELECT d.item_id, d."date" AS t, d.quantity AS q,
           lag(d."date") OVER (PARTITION BY d.item_id ORDER BY d."date") AS prev_t,
           lag(d.quantity) OVER (PARTITION BY d.item_id ORDER BY d."date") AS prev_q,
           lead(d."date") OVER (PARTITION BY d.item_id ORDER BY d."date") AS next_t
    FROM demand_all d, as_of, window_start
    WHERE d."date" BETWEEN window_start.d AND as_of.as_of
      AND d.item_id IN (SELECT item_id FROM silver.forecast)
)
-- Σ|q_t − q_(t−1)| over the dense window from its days with demand: a step up into each of them,
-- a step down after each one not followed by another, the difference between consecutive ones
SELECT item_id, sum(CASE WHEN t = window_start.d THEN 0 WHEN prev_t = t - 1 THEN abs(q - prev_q) ELSE q END
                    + CASE WHEN (next_t IS NULL OR next_t > t + 1) AND t < as_of.as_of THEN q ELSE 0 END)
                / ($history_days - 1) AS naive_mae
FROM w, as_of, window_start GROUP BY item_id;

CREATE TABLE gold.forecast_accuracy AS
WITH f AS (
    SELECT f.model_version, coalesce(r.demand_class, 'not_stocked') AS demand_class, f.item_id,
           f.forecast, f.actual_demand, coalesce(n.naive_mae, 0) AS naive_mae
    FROM gold.fact_forecast f LEFT JOIN gold.reorder_status r USING (item_id) LEFT JOIN naive_error n USING (item_id)
    WHERE f.actual_demand IS NOT NULL
)
SELECT model_version, demand_class, count(DISTINCT item_id)::BIGINT AS items, count(*)::BIGINT AS actual_days,
       sum(abs(forecast - actual_demand)) / nullif(sum(actual_demand), 0) AS wape,
       (sum(forecast) - sum(actual_demand)) / nullif(sum(actual_demand), 0) AS bias,
       sum(abs(forecast - actual_demand)) FILTER (naive_mae > 0) / nullif(sum(naive_mae) FILTER (naive_mae > 0), 0) AS mase
FROM f GROUP BY ALL ORDER BY model_version, demand_class;

-- Stock health per stock snapshot date t (issue 16): items stocked (goods), those with demand in the
-- W days ending at t, stockouts among them (nothing on hand over the snapshot's depots), the stockout
-- rate, and the items at or below a reorder point computed from the data up to t (history basis,
-- the item's L, s_L and z as today). The window sums straight from the daily demand of the days the
-- snapshots' windows reach ($health_from on, a constant: the lake's older months are skipped): a few
-- snapshot dates look at a few months, where an ASOF join over every item's cumulative sums sorted all
-- of them (0.2 s at 10,000,000 lines).
CREATE TEMP TABLE health_points AS
SELECT i.ik, s.position_date AS t, s.on_hand, s.on_order, (s.position_date - $history_days)::DATE AS before_start
FROM (SELECT position_date, item_id, sum(on_hand) AS on_hand, sum(on_order) AS on_order FROM silver.stock GROUP BY ALL) s
JOIN gold.dim_item d USING (item_id) JOIN replay_items i USING (item_id)
WHERE NOT d.is_service;

CREATE TEMP TABLE health_sums AS
WITH demand AS (
    SELECT i.ik, d."date", d.quantity AS q
    FROM sum_req_demand d JOIN replay_items i USING (item_id)
    WHERE d."date" > CAST($health_from AS DATE)
), sums AS (  -- the W days ending at t: after before_start, up to t
    SELECT p.ik, p.t, coalesce(sum(d.q), 0) AS s1, coalesce(sum(d.q * d.q), 0) AS s2
    FROM health_points p LEFT JOIN demand d ON d.ik = p.ik AND d."date" > p.before_start AND d."date" <= p.t
    GROUP BY p.ik, p.t
)
SELECT p.*, s.s1, s.s2 FROM health_points p JOIN sums s USING (ik, t);

CREATE TABLE gold.stock_health AS
WITH x AS (
    SELECT h.t, h.on_hand, h.on_order, h.s1 > 0 AS has_demand,
           h.s1 / $history_days AS d, greatest(0, (h.s2 - h.s1 * h.s1 / $history_days) / ($history_days - 1)) AS s_2,
           i.lt, i.s_l, i.z
    FROM health_sums h JOIN replay_items i USING (ik)
)
SELECT t AS snapshot_date, count(*)::BIGINT AS stocked_items,
       count(*) FILTER (has_demand)::BIGINT AS items_with_demand,
       count(*) FILTER (has_demand AND on_hand = 0)::BIGINT AS stockouts,
       count(*) FILTER (has_demand AND on_hand = 0) / nullif(count(*) FILTER (has_demand), 0) AS stockout_rate,
       count(*) FILTER (has_demand AND on_hand + on_order <= d * lt + z * sqrt(lt * s_2 + d * d * s_l * s_l))::BIGINT
           AS at_or_below_reorder
FROM x GROUP BY t ORDER BY t;
