"""CSV as people here open it: Excel in Brazil (`;` separator, decimal comma, UTF-8 with BOM).

Text that Excel would run as a formula (starting with = + - @, tab or CR) is prefixed with `'`;
numbers stay numbers. The same dialect serves `e` in the dashboard and `nova-tui report --format csv`.
"""
from __future__ import annotations

import csv
import io
import os
from datetime import datetime
from pathlib import Path

from .lists import Column, raw

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float):  # 3 decimals are more than any quantity here needs; no 0,1000000002
            text = f"{value:.3f}".rstrip("0").rstrip(".")
            return ("0" if text in ("-0", "") else text).replace(".", ",")
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(columns: tuple[Column, ...], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.key for c in columns])
    writer.writerows([cell(v) for v in record.values()] for record in raw(columns, rows))
    return out.getvalue()


def write_csv(folder: Path, stem: str, columns: tuple[Column, ...], rows: list[dict], now: datetime) -> Path:
    """Write atomically (temporary name, then rename) so a half-written export is never picked up."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}_{now:%Y%m%d-%H%M%S}.csv"
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text("\ufeff" + csv_text(columns, rows), encoding="utf-8", newline="")
    os.replace(tmp, path)
    return path
