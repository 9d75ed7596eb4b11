"""Gold tables carried over from the serving version when nothing they are made from has changed.

A build that starts from a copy of the serving version (facts.py) used to drop every gold table and
make it again: about 2 s of a forecast drop's or a stock snapshot's 3-4 s at 10,000,000 lines, most of
it spent on tables the drop cannot change (a forecast does not move the lead times, a stock snapshot
does not move the monthly demand). So `sql/gold.sql` is run statement by statement, and each table
it makes gets a key:

- the key of a statement is a hash of its text, the values of the `$parameters` it uses, and the keys
  of every relation it names: an earlier table of the script, or one made before it;
- a relation made before the script is keyed by what it holds: a temp view by its definition (the
  lake's silver files it reads are never rewritten in place, and are named by the build that wrote
  them) plus the keys of the relations it names; a table by its row count and the sum of its rows'
  hashes;
- every key also holds the macros' text, DuckDB's version and `FORMAT`.

A gold table whose key equals the one the serving version recorded (meta.gold_keys) is kept from the
copy. A table with a directive may be kept in part: by item (`-- carry by item:`, ByItem: the rows of
the items new supplies drops request made again), by month (`-- carry by month:`, ByMonth: the rows from
the first month that changed, or but for the days a sliding window left behind). Every other one is
dropped and made again, with the temp tables it needs. Without a copy (a first build, `--full`, a copy
refused) every table is made. The keys are conservative: a name that
merely appears in a statement (a column called like a table) only makes it recompute more often.
`tests/test_incremental.py` holds the result to a full rebuild, table by table.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

from .db import insert_rows, split_statements, sql_path, sql_text

log = logging.getLogger("nova.build")

FORMAT = "1"  # change when what a key covers changes
EAGER = {"as_of", "window_start"}  # one-row temp tables: made while planning, keyed by what they hold
LATER = {"as_of"}  # temp tables of the script that Python reads after it (meta.py); sql/replay.sql's are found in it
SCRIPT = "gold"
TARGET = re.compile(r"^\s*(?:CREATE\s+(?:OR\s+REPLACE\s+)?(TEMP\s+|TEMPORARY\s+)?TABLE|ALTER\s+TABLE|UPDATE)\s+"
                    r"([A-Za-z_][\w.]*)", re.IGNORECASE)
NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?")
COMMENT = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class ByMonth:
    """A gold table whose rows of a month come from the rows of `reads` of that month and the `lookback`
    days before it, `reads` being made from the partitions (request months) of the lake view `view`:
    `-- carry by month: <reads> <column> <view> [<lookback days>] [slides <table>]` on the line before
    its CREATE. With `slides`, the one-row temp table <table> (the window's first day) only drops the
    rows before it: when it moves on and nothing else changed, the rows before the new day are deleted
    and the others kept."""
    reads: str
    column: str
    view: str
    lookback: int = 0
    slides: str | None = None


@dataclass(frozen=True)
class ByItem:
    """A gold table whose rows of an item come from that item's rows of the relations `names` (supplies
    summaries of the lake, and temp tables of the script made from them alone, item by item), the rest
    of what it reads being unchanged: `-- carry by item: <name> [<name> ...]` on a line before its CREATE.
    When only those changed, and only through the supplies drops new since the serving version, the rows
    of the items those drops request (temp table ITEMS, made by build.py) are deleted and made again from
    those items' rows of `names`, the other rows kept. A table may also carry by month: by item is tried
    first."""
    names: tuple[str, ...]


ITEMS = "touched_items"  # temp table (item_id): the items requested in supplies drops new since the serving version


@dataclass
class Unit:
    """The statements that make one table (its CREATE, then any ALTER or UPDATE of it), or one
    statement that makes no table (run every time)."""
    target: str | None
    temp: bool
    statements: list[str] = field(default_factory=list)
    by_month: ByMonth | None = None
    by_item: ByItem | None = None


BY_MONTH = re.compile(r"^--\s*carry by month:\s*(\w+)\s+(\"?\w+\"?)\s+(\w+)(?:\s+(\d+))?(?:\s+slides\s+(\w+))?\s*$")
BY_ITEM = re.compile(r"^--\s*carry by item:\s*(\w+(?:\s+\w+)*)\s*$")


def units(text: str) -> list[Unit]:
    directives = _directives(text)
    out: list[Unit] = []
    for statement in split_statements(text):
        m = TARGET.match(statement)
        if m is None:
            out.append(Unit(None, False, [statement]))
            continue
        target = m[2].lower()
        if out and out[-1].target == target and not statement.lstrip().upper().startswith("CREATE"):
            out[-1].statements.append(statement)
        else:
            found = directives.get(statement, [])
            out.append(Unit(target, bool(m[1]) or "." not in target, [statement],
                            next((d for d in found if isinstance(d, ByMonth)), None),
                            next((d for d in found if isinstance(d, ByItem)), None)))
    return out


def _directives(text: str) -> dict[str, list[ByMonth | ByItem]]:
    """statement -> the `-- carry by month:` and `-- carry by item:` lines right before it (comments
    between them allowed)."""
    found: dict[str, list[ByMonth | ByItem]] = {}
    pending, current = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            m = BY_MONTH.match(stripped)
            if m and not "".join(current).strip():
                pending.append(ByMonth(m[1].lower(), m[2], m[3].lower(), int(m[4] or 0), m[5] and m[5].lower()))
            m = BY_ITEM.match(stripped)
            if m and not "".join(current).strip():
                pending.append(ByItem(tuple(sorted(v.lower() for v in m[1].split()))))
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip()
            if pending:
                found[statement] = pending
            pending, current = [], []
    return found


def gold_tables(text: str | None = None) -> set[str]:
    """The gold tables the script makes ('gold.name', lower case)."""
    return {u.target for u in units(text or sql_text(SCRIPT)) if u.target and not u.temp}


def names_in(sql: str) -> set[str]:
    """Every name and dotted name in `sql` (comments left out), lower-cased: a superset of the
    relations it reads."""
    found = set()
    for m in NAME.finditer(COMMENT.sub("", sql)):
        word = m[0].lower()
        found.add(word)
        found.update(word.split("."))
    return found


def _h(*parts) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()


class Keys:
    """The keys of the relations that exist before the script (made on demand, each once)."""

    def __init__(self, con, lake_root: str):
        self.con, self.lake_root = con, lake_root
        self.views = {n.lower(): sql for n, sql in con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE temporary AND NOT internal").fetchall()}
        self.tables = {}
        for schema, name, temporary in con.execute(
                "SELECT schema_name, table_name, temporary FROM duckdb_tables() "
                "WHERE temporary OR database_name = current_database()").fetchall():
            self.tables[(name if temporary else f"{schema}.{name}").lower()] = f'"{schema}"."{name}"' if not temporary else f'"{name}"'
        self.done: dict[str, str] = {}

    def known(self) -> set[str]:
        return set(self.views) | set(self.tables)

    def of(self, name: str, seen: frozenset = frozenset()) -> str:
        if name in self.done:
            return self.done[name]
        if name in self.views:
            text = self.views[name].replace(sql_path(self.lake_root), "<lake>")
            inner = sorted(n for n in names_in(text) & self.known() if n != name and n not in seen)
            key = _h("view", text, *(f"{n}={self.of(n, seen | {name})}" for n in inner))
        else:
            n, total = self.con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM {self.tables[name]} t").fetchone()
            key = _h("table", n, total)
        self.done[name] = key
        return key


@dataclass
class Plan:
    keys: dict[str, str]          # gold table -> its key, recorded in meta.gold_keys
    carried: set[str]
    run: list[Unit]               # in the script's order
    partial_keys: dict[str, str] = field(default_factory=dict)  # by-month tables: the key but their view
    months: dict[str, date] = field(default_factory=dict)       # by-month tables made again from this day on
    eager: set[str] = field(default_factory=set)                # temp tables made while planning
    slid: dict[str, date] = field(default_factory=dict)         # sliding tables whose rows before this day go
    slides: dict[str, str] = field(default_factory=dict)        # sliding table -> its window's first day now
    items: set[str] = field(default_factory=set)                # by-item tables: the touched items' rows made again
    item_keys: dict[str, str] = field(default_factory=dict)     # by-item tables: the key but their supplies views


def plan(con, lake_root: str, params: dict, previous: dict[str, tuple], copied: set[str],
         text: str | None = None, later: set[str] = frozenset(),
         partitions: dict[str, dict[str, list[str]]] | None = None, by_item: bool = False) -> Plan:
    """Which units to run, given what the serving version recorded (`previous`: table -> (key, key but
    its view, its view's partitions as JSON, its window's first day, key but its supplies views); empty
    when there is no usable copy) and the gold tables
    present in the copy. The temp tables named in `later` are made in any case (the steps after the
    script read them); those in EAGER are made here and keyed by what they hold. `partitions`: the lake
    view -> its partitions' files, for the by-month tables. `by_item`: temp table ITEMS holds every item
    whose rows in the supplies views changed since the serving version (for the by-item tables)."""
    script = units(text or sql_text(SCRIPT))
    base = Keys(con, lake_root)
    made = {u.target for u in script if u.target}
    common = _h(FORMAT, duckdb.__version__, sql_text("macros"))
    refs: dict[int, set[str]] = {}
    eager: set[str] = set()

    def keyed(neutral: frozenset[str] = frozenset(), sliding: frozenset[str] = frozenset()) -> dict[str, str]:
        key: dict[str, str] = {}
        for i, u in enumerate(script):
            body = "\n".join(u.statements)
            names = names_in(body)
            earlier = {n for n in names if n in key and n != u.target}
            outside = {n for n in names & base.known() if n not in made}
            refs[i] = earlier
            used = sorted(f"{k}={v!r}" for k, v in params.items() if f"${k}" in body)
            if u.target in EAGER:
                if u.target not in eager:
                    for statement in u.statements:
                        _execute(con, statement, params)
                    eager.add(u.target)
                key[u.target] = "sliding" if u.target in sliding else _h("content", *con.execute(
                    f"SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM {u.target} t").fetchone())
            elif u.target:
                key[u.target] = _h(common, body, *used, *(f"{n}={key[n]}" for n in sorted(earlier)),
                                   *(f"{n}={'partitioned' if n in neutral else base.of(n)}" for n in sorted(outside)))
        return key

    key = keyed()
    partial: dict[str, str] = {}
    for view, slides in sorted({(u.by_month.view, u.by_month.slides) for u in script if u.by_month}, key=str):
        other = keyed(frozenset([view]), frozenset([slides] if slides else []))
        partial.update({u.target: other[u.target] for u in script
                        if u.by_month and (u.by_month.view, u.by_month.slides) == (view, slides)})
    item_keys: dict[str, str] = {}
    for names in sorted({u.by_item.names for u in script if u.by_item}):
        other = keyed(frozenset(names) - made)  # the lake's views; the script's temp tables follow from them
        item_keys.update({u.target: other[u.target] for u in script if u.by_item and u.by_item.names == names})
    touched = by_item and con.execute(f"SELECT count(*) FROM {ITEMS}").fetchone()[0] > 0
    slide_days = {u.by_month.slides: _day_in(con, u.by_month.slides) for u in script if u.by_month and u.by_month.slides}
    carried, months, slid, items = set(), {}, {}, set()
    for u in script:
        if not u.target or u.temp or u.target not in copied or u.target not in previous:
            continue
        was_key, was_partial, was_parts, was_slide, was_items = previous[u.target]
        if was_key == key[u.target]:
            carried.add(u.target)
        elif u.by_item and touched and was_items == item_keys[u.target]:
            items.add(u.target)  # only the views changed, through the touched items' lines
        elif u.by_month and was_partial == partial.get(u.target) and was_parts is not None and partitions:
            b = u.by_month
            now, before = (slide_days.get(b.slides), _as_day(was_slide)) if b.slides else (None, None)
            if b.slides and (now is None or before is None or now < before):
                continue  # the window moved back (or its day is unknown): made whole
            # a sliding table's rows from `now` on read nothing before now - lookback
            since = f"{now - timedelta(days=b.lookback):%Y-%m}" if now else ""
            changed = _changed(json.loads(was_parts), partitions.get(b.view, {}), since)
            if "none" in changed:
                continue  # undated lines changed: made whole
            start = date.fromisoformat(min(changed) + "-01") if changed else None
            if start is not None:
                months[u.target] = start
            if now is not None and now > before:
                slid[u.target] = now
            if start is None and u.target not in slid:
                continue  # no month changed, yet the key did: made whole
    needed: set[str] = set(later)
    run: list[Unit] = []
    for i in reversed(range(len(script))):
        u = script[i]
        if u.target in eager:
            continue
        if u.target is None or (not u.temp and u.target not in carried) or (u.temp and u.target in needed):
            run.append(u)
            needed |= refs[i]
    run.reverse()
    gold = {u.target: key[u.target] for u in script if u.target and not u.temp}
    slides = {u.target: slide_days[u.by_month.slides].isoformat() for u in script
              if u.by_month and u.by_month.slides and slide_days.get(u.by_month.slides)}
    return Plan(gold, carried, run, partial, months, eager, slid, slides, items, item_keys)


def _day_in(con, table: str) -> date | None:
    """The day a one-row temp table holds (the window's first day), None when it holds none."""
    row = con.execute(f"SELECT * FROM {table}").fetchone()
    return row[0] if row and isinstance(row[0], date) else None


def _as_day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _changed(before: dict[str, list[str]], now: dict[str, list[str]], since: str = "") -> set[str]:
    """The partitions (request months, "none" for undated lines) whose files changed, leaving out months
    before `since` (YYYY-MM)."""
    return {p for p in set(before) | set(now) if before.get(p) != now.get(p) and (p == "none" or p >= since)}


def _execute(con, statement: str, params: dict) -> None:
    used = {k: v for k, v in params.items() if f"${k}" in statement}
    con.execute(statement, used) if used else con.execute(statement)


def _by_month_statements(u: Unit, start: date) -> list[str]:
    """Delete the table's rows from `start` on and insert them again from what it reads from
    `start - lookback` on (its CREATE ... AS made an INSERT)."""
    b = u.by_month
    create = u.statements[0]
    select = re.sub(r"^\s*CREATE\s+TABLE\s+\S+\s+AS\s+", "", create, count=1, flags=re.IGNORECASE)
    day = f"DATE '{start.isoformat()}'"
    narrowed = f"(SELECT * FROM {b.reads} WHERE {b.column} >= {day} - {b.lookback})"
    select = re.sub(rf"\b{re.escape(b.reads)}\b", lambda _: narrowed, select)
    return [f"DELETE FROM {u.target} WHERE {b.column} >= {day}",
            f"INSERT INTO {u.target} SELECT * FROM ({select.rstrip().rstrip(';')}) WHERE {b.column} >= {day}"]


def _by_item_statements(u: Unit) -> list[str]:
    """Delete the touched items' rows and insert them again from those items' rows of the views (its
    CREATE ... AS made an INSERT; the other relations it reads are whole, the result is narrowed); then
    its UPDATEs, over every row."""
    touched = f"(SELECT item_id FROM {ITEMS})"
    select = re.sub(r"^\s*CREATE\s+TABLE\s+\S+\s+AS\s+", "", u.statements[0], count=1, flags=re.IGNORECASE)
    for name in u.by_item.names:
        select = re.sub(rf"\b{re.escape(name)}\b", lambda _: f"(SELECT * FROM {name} WHERE item_id IN {touched})", select)
    return [f"DELETE FROM {u.target} WHERE item_id IN {touched}",
            f"INSERT INTO {u.target} SELECT * FROM ({select.rstrip().rstrip(';')}) WHERE item_id IN {touched}",
            *u.statements[1:]]  # its UPDATEs over every row, as they are


def previous_keys(con) -> dict[str, tuple]:
    """What the attached serving version recorded per gold table: (key, key but its view, its view's
    partitions, its window's first day, key but its supplies views); none from a version made before them."""
    for columns in ("inputs_key, partial_key, parts, slide, item_key", "inputs_key, partial_key, parts, slide, NULL"):
        try:  # a version from before the by-item keys: none of them
            return {t: tuple(rest) for t, *rest in con.execute(
                f"SELECT table_name, {columns} FROM prev.meta.gold_keys").fetchall()}
        except duckdb.Error:
            continue
    return {}


def run(con, lake_root: str, params: dict, copy_used: bool,
        partitions: dict[str, dict[str, list[str]]] | None = None, by_item: bool = False) -> Plan:
    """Run sql/gold.sql, keeping the copied version's gold tables whose keys did not change, and making
    a by-month table's changed months only; record every gold table's keys in meta.gold_keys."""
    copied = set()
    previous = {}
    if copy_used:
        copied = {f"gold.{n}".lower() for (n,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'gold'").fetchall()}
        previous = previous_keys(con)
    p = plan(con, lake_root, params, previous, copied, later=names_in(sql_text("replay")) | LATER,
             partitions=partitions, by_item=by_item)
    dropped = [t for t in copied if t in p.keys and t not in p.carried and t not in p.months and t not in p.slid
               and t not in p.items]
    for t in dropped:
        con.execute(f"DROP TABLE {t}")
    if dropped:
        con.execute("CHECKPOINT")  # their blocks are free for the tables made again
    for u in p.run:
        kept = u.target in p.months or u.target in p.slid
        trim = [f"DELETE FROM {u.target} WHERE {u.by_month.column} < DATE '{p.slid[u.target].isoformat()}'"] \
            if u.target in p.slid else []
        statements = (trim + (_by_month_statements(u, p.months[u.target]) if u.target in p.months else [])
                      if kept else _by_item_statements(u) if u.target in p.items else u.statements)
        for statement in statements:
            _execute(con, statement, params)
    con.execute("CREATE TABLE meta.gold_keys (table_name VARCHAR, inputs_key VARCHAR, partial_key VARCHAR, parts VARCHAR, "
                "slide VARCHAR, item_key VARCHAR)")
    views = {u.target: u.by_month.view for u in units(sql_text(SCRIPT)) if u.by_month}
    insert_rows(con, "meta.gold_keys", [
        (t, k, p.partial_keys.get(t),
         json.dumps((partitions or {}).get(views[t], {}), sort_keys=True) if t in views and partitions is not None else None,
         p.slides.get(t), p.item_keys.get(t))
        for t, k in sorted(p.keys.items())])
    log.info("event=gold_carried carried=%d by_month=%d slid=%d by_item=%d made=%d months_from=%r slid_to=%r "
             "items_of=%r tables=%r",
             len(p.carried), len(p.months), len(set(p.slid) - set(p.months)), len(p.items),
             len(p.keys) - len(p.carried) - len(set(p.months) | set(p.slid)) - len(p.items),
             {t.split(".", 1)[1]: d.isoformat() for t, d in sorted(p.months.items())},
             {t.split(".", 1)[1]: d.isoformat() for t, d in sorted(p.slid.items())},
             sorted(t.split(".", 1)[1] for t in p.items),
             sorted(t.split(".", 1)[1] for t in p.carried))
    return p
