-- Parsing the ERP's text, shared by ingestion (to reject rows) and silver (to type them),
-- so a row is rejected for exactly the reasons silver could not type it.
-- Brazilian number: digits, optionally in '.'-separated groups of three, and an optional ',' decimal
-- part ('1.234,5' -> 1234.5; '-3' is a number, for the minimum check to explain). Anything else is
-- NULL, so '2.5', '1,234.50', '1_000', '1e300' and '+5' are rejected rather than mis-read; blank -> NULL.
CREATE OR REPLACE TEMP MACRO br_number(s) AS
    CASE WHEN regexp_full_match(trim(s), '-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?')
         THEN replace(replace(trim(s), '.', ''), ',', '.')::DOUBLE END;
-- A short, printable excerpt of a value for a reason: never more than n characters of the file.
CREATE OR REPLACE TEMP MACRO excerpt(s, n) AS
    CASE WHEN length(s) > n THEN regexp_replace(left(s, n), '[\x00-\x1f\x7f]', '?', 'g') || '…'
         ELSE regexp_replace(s, '[\x00-\x1f\x7f]', '?', 'g') END;
-- dd/mm/yyyy -> DATE; blank or impossible (31/02) -> NULL.
CREATE OR REPLACE TEMP MACRO br_date(s) AS
    try_strptime(nullif(trim(s), ''), '%d/%m/%Y')::DATE;
-- Dates a purchasing export can hold; anything else is a typing error upstream.
CREATE OR REPLACE TEMP MACRO plausible_date(d) AS
    d BETWEEN DATE '2000-01-01' AND DATE '2099-12-31';
-- Unit spellings vary: 'm²', 'M²' and 'M2' are one unit.
CREATE OR REPLACE TEMP MACRO norm_unit(s) AS
    nullif(replace(replace(upper(trim(s)), '²', '2'), '³', '3'), '');
-- Blank text is NULL; text is trimmed.
CREATE OR REPLACE TEMP MACRO clean_text(s) AS nullif(trim(s), '');
-- Services are spend, not stock.
CREATE OR REPLACE TEMP MACRO is_service(unit, family) AS
    coalesce(norm_unit(unit) = 'SR', false) OR coalesce(upper(trim(family)) LIKE 'SERVIÇO%', false)
    OR coalesce(upper(trim(family)) LIKE 'SERVICO%', false);
-- A quantity as people write it: 461, 7.5 (no trailing .0, at most 3 decimals).
CREATE OR REPLACE TEMP MACRO qty_text(x) AS
    CASE WHEN x IS NULL THEN NULL WHEN x = round(x) THEN round(x)::BIGINT::VARCHAR ELSE round(x, 3)::VARCHAR END;
