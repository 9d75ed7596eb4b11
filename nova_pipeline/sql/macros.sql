-- Parsing the ERP's text, shared by ingestion (to reject rows) and silver (to type them),
-- so a row is rejected for exactly the reasons silver could not type it.
-- Brazilian number: thousands '.', decimal ','  ('1.234,5' -> 1234.5); blank -> NULL.
CREATE OR REPLACE TEMP MACRO br_number(s) AS
    try_cast(replace(replace(nullif(trim(s), ''), '.', ''), ',', '.') AS DOUBLE);
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
