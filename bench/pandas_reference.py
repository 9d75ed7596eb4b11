"""The reference issue 12 measures against: a plain pandas pipeline, bronze -> silver -> reorder,
the approach the original plan describes. Not part of the product (pandas and pyarrow are bench-only
dependencies, requirements-bench.txt).

    python bench/pandas_reference.py SITE   (reads SITE/landing/suprimentos*.csv and estoque*.csv,
                                             writes SITE/pandas/{bronze,silver,gold}/*.parquet)

It does what a plain but correct script would: reads every export as text (codes keep their zeros),
keeps it as bronze, types it (Brazilian numbers and dates), de-duplicates lines present in two
exports while keeping identical lines of one export, and computes section 5's reorder status. It
validates nothing and keeps no record of bad rows: what the product does on top is not in it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from statistics import NormalDist

COLS = ["depot", "item_id", "description", "family", "supplier", "quantity", "unit", "required_date",
        "request_no", "request_date", "purchase_date"]
STOCK = ["depot", "item_id", "description", "unit", "on_hand", "on_order", "position_date"]


def read(path: Path, names: list[str]) -> pd.DataFrame:
    for enc in ("utf-8", "cp1252"):
        try:
            df = pd.read_csv(path, sep=";", header=0, names=names, dtype=str, keep_default_na=False,
                             encoding=enc, quotechar='"')
            break
        except UnicodeDecodeError:
            continue
    df["source_file"] = path.name
    df["source_line"] = np.arange(2, len(df) + 2)
    return df


def br_number(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False), errors="coerce")


def br_date(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="%d/%m/%Y", errors="coerce")


def main(site: Path, history_days: int = 180, service_level: float = 0.95, review_days: int = 7,
         default_lt: int = 14) -> None:
    out = site / "pandas"
    for layer in ("bronze", "silver", "gold"):
        (out / layer).mkdir(parents=True, exist_ok=True)
    exports = [read(p, COLS) for p in sorted((site / "landing").glob("suprimentos*.csv"))]
    stocks = [read(p, STOCK) for p in sorted((site / "landing").glob("estoque*.csv"))]
    bronze = pd.concat(exports, ignore_index=True)
    bronze.to_parquet(out / "bronze" / "suprimentos.parquet", index=False)
    stock_bronze = pd.concat(stocks, ignore_index=True)
    stock_bronze.to_parquet(out / "bronze" / "estoque.parquet", index=False)

    # silver: identical lines of one export stay separate (occurrence), a line in two exports is one
    # (a row hash stands in for the 11 fields: pandas groups one uint64 column much faster)
    row_hash = pd.util.hash_pandas_object(bronze[COLS], index=False)
    occurrence = row_hash.groupby([bronze["source_file"], row_hash]).cumcount()
    silver = bronze[~pd.DataFrame({"h": row_hash, "o": occurrence}).duplicated(keep="first").to_numpy()].copy()
    silver["quantity"] = br_number(silver["quantity"])
    for c in ("required_date", "request_date", "purchase_date"):
        silver[c] = br_date(silver[c])
    silver["unit"] = silver["unit"].str.upper().str.replace("²", "2").str.replace("³", "3")
    silver = silver[silver["item_id"].ne("") & silver["quantity"].gt(0)]
    silver.to_parquet(out / "silver" / "requisition.parquet", index=False)
    stock = stock_bronze.copy()
    stock["on_hand"] = br_number(stock["on_hand"])
    stock["on_order"] = br_number(stock["on_order"]).fillna(0)
    stock["position_date"] = br_date(stock["position_date"])
    stock.to_parquet(out / "silver" / "stock.parquet", index=False)

    # gold: section 5
    service = silver["unit"].eq("SR") | silver["family"].str.upper().str.startswith(("SERVIÇO", "SERVICO"))
    goods = silver[~service]
    as_of = stock["position_date"].max()
    start = as_of - pd.Timedelta(days=history_days - 1)
    window = goods[(goods["request_date"] >= start) & (goods["request_date"] <= as_of)]
    daily = window.groupby(["item_id", "request_date"])["quantity"].sum()
    sums = daily.groupby(level=0).agg(["sum", lambda q: (q * q).sum()])
    sums.columns = ["s1", "s2"]
    d = sums["s1"] / history_days
    s = np.sqrt(np.maximum(0, (sums["s2"] - sums["s1"] ** 2 / history_days) / (history_days - 1)))
    lt_lines = silver.assign(lt=(silver["purchase_date"] - silver["request_date"]).dt.days)
    lt_lines = lt_lines[lt_lines["lt"] >= 0]
    lt_item = lt_lines.groupby("item_id")["lt"].median()
    lt_family = lt_lines.groupby("family")["lt"].median()
    counts = silver.groupby(["item_id", "family"]).size().rename("n").reset_index()
    family = counts.sort_values(["item_id", "n", "family"], ascending=[True, False, True]) \
        .drop_duplicates("item_id").set_index("item_id")["family"]
    latest = stock[stock["position_date"] == as_of].groupby("item_id")[["on_hand", "on_order"]].sum()
    g = latest.join(d.rename("d")).join(s.rename("s")).join(lt_item.rename("lt_item")).join(family.rename("family"))
    g = g.reset_index()
    g["lt"] = g["lt_item"].fillna(g["family"].map(lt_family)).fillna(default_lt).clip(lower=1)
    g[["d", "s"]] = g[["d", "s"]].fillna(0)
    z = NormalDist().inv_cdf(service_level)
    g["safety_stock"] = z * g["s"] * np.sqrt(g["lt"])
    g["reorder_point"] = g["d"] * g["lt"] + g["safety_stock"]
    g["suggested_order_qty"] = np.ceil(np.maximum(0, g["reorder_point"] + g["d"] * review_days
                                                  - g["on_hand"] - g["on_order"]))
    g["status"] = np.where((g["d"] > 0) & (g["on_hand"] == 0), "stockout",
                           np.where((g["d"] > 0) & (g["on_hand"] + g["on_order"] <= g["reorder_point"]),
                                    "below_reorder", "ok"))
    g.to_parquet(out / "gold" / "reorder_status.parquet", index=False)
    print(f"pandas reference: {len(silver):,} silver lines, {len(g):,} items, "
          f"{(g['status'] != 'ok').sum():,} flagged")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
