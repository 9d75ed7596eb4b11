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
copy; every other one is dropped and made again, with the temp tables it needs. Without a copy (a
first build, `--full`, a copy refused) every table is made. The keys are conservative: a name that
merely appears in a statement (a column called like a table) only makes it recompute more often.
`tests/test_incremental.py` holds the result to a full rebuild, table by table.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

import duckdb

from .db import insert_rows, split_statements, sql_path, sql_text

log = logging.getLogger("nova.build")

FORMAT = "1"  # change when what a key covers changes
LATER = {"as_of"}  # temp tables of the script that Python reads after it (meta.py); sql/replay.sql's are found in it
SCRIPT = "gold"
TARGET = re.compile(r"^\s*(?:CREATE\s+(?:OR\s+REPLACE\s+)?(TEMP\s+|TEMPORARY\s+)?TABLE|ALTER\s+TABLE|UPDATE)\s+"
                    r"([A-Za-z_][\w.]*)", re.IGNORECASE)
NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?")
COMMENT = re.compile(r"--[^\n]*")


@dataclass
class Unit:
    """The statements that make one table (its CREATE, then any ALTER or UPDATE of it), or one
    statement that makes no table (run every time)."""
    target: str | None
    temp: bool
    statements: list[str] = field(default_factory=list)


def units(text: str) -> list[Unit]:
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
            out.append(Unit(target, bool(m[1]) or "." not in target, [statement]))
    return out


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


def plan(con, lake_root: str, params: dict, previous: dict[str, str], copied: set[str],
         text: str | None = None, later: set[str] = frozenset()) -> Plan:
    """Which units to run, given the keys the serving version recorded (`previous`, empty when there is
    no usable copy) and the gold tables present in the copy. The temp tables named in `later` are
    made in any case (the steps after the script read them)."""
    script = units(text or sql_text(SCRIPT))
    base = Keys(con, lake_root)
    made = {u.target for u in script if u.target}
    common = _h(FORMAT, duckdb.__version__, sql_text("macros"))
    key: dict[str, str] = {}
    refs: dict[int, set[str]] = {}
    for i, u in enumerate(script):
        body = "\n".join(u.statements)
        names = names_in(body)
        earlier = {n for n in names if n in key and n != u.target}
        outside = {n for n in names & base.known() if n not in made}
        refs[i] = earlier
        used = sorted(f"{k}={v!r}" for k, v in params.items() if f"${k}" in body)
        if u.target:
            key[u.target] = _h(common, body, *used, *(f"{n}={key[n]}" for n in sorted(earlier)),
                               *(f"{n}={base.of(n)}" for n in sorted(outside)))
    carried = {u.target for u in script if u.target and not u.temp and u.target in copied
               and previous.get(u.target) == key[u.target]}
    needed: set[str] = set(later)
    run: list[Unit] = []
    for i in reversed(range(len(script))):
        u = script[i]
        if u.target is None or (not u.temp and u.target not in carried) or (u.temp and u.target in needed):
            run.append(u)
            needed |= refs[i]
    run.reverse()
    gold = {u.target: key[u.target] for u in script if u.target and not u.temp}
    return Plan(gold, carried, run)


def previous_keys(con) -> dict[str, str]:
    """The keys the attached serving version recorded; none from a version made before them."""
    try:
        return dict(con.execute("SELECT table_name, inputs_key FROM prev.meta.gold_keys").fetchall())
    except duckdb.Error:
        return {}


def run(con, lake_root: str, params: dict, copy_used: bool) -> Plan:
    """Run sql/gold.sql, keeping the copied version's gold tables whose keys did not change; record
    every gold table's key in meta.gold_keys."""
    copied = set()
    previous = {}
    if copy_used:
        copied = {f"gold.{n}".lower() for (n,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'gold'").fetchall()}
        previous = previous_keys(con)
    p = plan(con, lake_root, params, previous, copied, later=names_in(sql_text("replay")) | LATER)
    dropped = [t for t in copied if t in p.keys and t not in p.carried]
    for t in dropped:
        con.execute(f"DROP TABLE {t}")
    if dropped:
        con.execute("CHECKPOINT")  # their blocks are free for the tables made again
    for u in p.run:
        for statement in u.statements:
            used = {k: v for k, v in params.items() if f"${k}" in statement}
            con.execute(statement, used) if used else con.execute(statement)
    con.execute("CREATE TABLE meta.gold_keys (table_name VARCHAR, inputs_key VARCHAR)")
    insert_rows(con, "meta.gold_keys", sorted(p.keys.items()))
    log.info("event=gold_carried carried=%d made=%d tables=%r", len(p.carried), len(p.keys) - len(p.carried),
             sorted(t.split(".", 1)[1] for t in p.carried))
    return p
