"""`nova-tui report reorder|freshness`: the dashboard's lists without the UI, for cron and mail."""
from __future__ import annotations

import json

from . import format as fmt
from . import lists, planning_queries, queries
from .config import TuiConfig
from .export import csv_text
from .warehouse import Target, WarehouseProblem, connect, mark_changes

REPORTS = ("reorder", "changes", "replay", "trend", "freshness")


def text_table(columns: tuple[lists.Column, ...], rows: list[dict]) -> str:
    table = [[c.header for c in columns]] + lists.cells(columns, rows)
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    return "\n".join("  ".join(v.rjust(w) if c.numeric else v.ljust(w) for v, w, c in zip(r, widths, columns)).rstrip()
                     for r in table)


def report(cfg: TuiConfig, target: Target, name: str, form: str) -> str:
    import duckdb

    con, real = connect(target)
    try:
        return _report(cfg, con, real, name, form)
    except duckdb.Error as exc:  # a damaged block in a table the report reads
        raise WarehouseProblem("Unreadable warehouse", f"{real}: {str(exc).splitlines()[0]}",
                               "run `nova-pipeline verify` on it, or open another version") from None
    finally:
        try:
            con.close()
        except duckdb.Error:
            pass


def _report(cfg: TuiConfig, con, real, name: str, form: str) -> str:
    info = queries.build_info(con)
    if name == "reorder":
        rows = queries.reorder(con)
        mark_changes(rows, queries.changes(con))
        sections = {"reorder": (lists.REORDER, rows)}
    elif name == "changes":
        sections = {"changes": (lists.CHANGES, queries.changes(con))}
    elif name == "trend":
        sections = {"stock_health": (lists.HEALTH if queries.has_sites(con) else lists.HEALTH[1:], planning_queries.stock_health(con)),
                    "versions": (lists.VERSION_COUNTS, planning_queries.version_counts(con))}
    elif name == "replay":
        sections = {"replay": (lists.REPLAY, planning_queries.service_replay(con)),
                    "items": (lists.REPLAY_ITEMS, planning_queries.replay_items(con)),
                    "accuracy": (lists.ACCURACY, planning_queries.forecast_accuracy(con))}
    else:
        sources = lists.with_freshness(queries.sources(con), cfg.freshness_hours, cfg.clock())
        sections = {"sources": (lists.SOURCES, sources), "rejected": (lists.REJECTED, queries.rejected_files(con))}
    if form == "json":
        state, _text = fmt.data_age_text(info, cfg.clock(), cfg.as_of_days, cfg.as_of_critical_days)
        return json.dumps({"version": info["version"], "as_of": info["as_of"].isoformat(), "data_age": state,
                           "previous_version": info["previous_version"], "warehouse": str(real),
                           **{k: lists.raw(cols, rows) for k, (cols, rows) in sections.items()}},
                          ensure_ascii=False, indent=1)
    if form == "csv":
        return "\n".join(csv_text(cols, rows) for cols, rows in sections.values())
    head = f"Nova Corrente {name} · v{info['version']} · as of {fmt.day(info['as_of'])} · {real}"
    if name == "changes":
        head += (f"\nsince v{info['previous_version']}" if info["previous_version"] is not None else
                 "\nthe first version: nothing to compare with")
    _state, stale = fmt.data_age_text(info, cfg.clock(), cfg.as_of_days, cfg.as_of_critical_days)
    if stale:
        head += "\n" + stale
    return "\n\n".join([head] + [f"{k} ({len(rows)})\n{text_table(cols, rows)}" if rows else f"{k}: none"
                                 for k, (cols, rows) in sections.items()])
