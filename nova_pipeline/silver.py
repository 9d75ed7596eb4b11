"""Silver in the lake: typed, de-duplicated Parquet per table, partitioned, kept up to date by merging
only what changed.

Layout: lake/silver/<table>/<build id>/data_<i>.parquet (with a `part` column), and
lake/silver/_manifest.json, which names the file serving each partition and the drops merged so far. A build:

1. types the rows of the drops not merged yet (read from their bronze files, so a full rebuild and
   an incremental one run the very same SQL),
2. finds the partitions those rows fall in (the month of the date in the table's key),
3. rewrites only those partitions: the old file's rows plus the new rows, one row per key, the
   winner chosen by the table's rule (first seen for supplies lines, newest delivery otherwise),
4. writes the manifest (temporary name, fsync, rename): until then nothing that serves changed,
   and files no manifest names are leftovers of a killed build, removed at the next start.

A key always falls in one partition (the partition is a function of the key), so merging a
partition with the new rows gives exactly what one pass over every drop would: `--full` (or a
manifest that does not match the ledger) starts from an empty manifest and proves it.

The supplies lines of one export into an empty table (the first build, or a full build of one export)
are not copied at all: the export's bronze file already holds every line checked, parsed and hashed,
so the manifest names that file (`../bronze/...`) for each partition and readers select its loaded
lines of those months, typed by the same SELECT. The first later drop into a month rewrites that
month into a silver file as above; the bronze file keeps serving the other months.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from .bronze import atomic_write, fsync_file
from .db import sql_path
from .errors import WarehouseError
from .silver_tables import BY_NAME, FORMAT, SUMMARIES, TABLES, SilverTable, month_part
from .silver_sql import (SAME_ITEM_DAY, bronze_sql, create_empty_views, files_serving, in_list,  # noqa: F401
                         line_fields, month_filter, no_hash, parquet_columns, parquet_sql, served_by_bronze)
from .sources.erp_csv import with_occurrence

log = logging.getLogger("nova.silver")

MANIFEST = "_manifest.json"
# Parquet bytes of supplies partitions summarised at once: about 1.7 million lines of a bronze file
# without content hashes (64 MB held as many with them; 96 to 256 MB were slower: the temp table spills)
SUMMARY_BATCH_BYTES = 32 << 20
# Tables whose first delivery wins, so a later drop's new lines can be appended to a partition as a file
# of their own; a partition served by this many files is rewritten into one at the next drop into it.
APPENDS = {"requisition"}
APPEND_MAX_FILES = 8


@dataclass
class MergeResult:
    merged_drops: int
    rewritten: dict[str, int]  # table -> partitions rewritten
    full: bool
    views: dict = field(default_factory=dict)  # gold's lake view -> its partitions' files (set by build.py)
    # gold.fact_requisition's rows inserted by this build meet this condition; 'false': none was (the copy's
    # lines less some); None: the table was written whole (set by build.py from facts.update)
    lines_inserted: str | None = None


class SilverStore:
    def __init__(self, lake_root: Path):
        self.root = lake_root / "silver"
        self.path = self.root / MANIFEST

    # -- the manifest ---------------------------------------------------------------------------
    def manifest(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return self.empty()
        return data if data.get("format") == FORMAT else self.empty()

    @staticmethod
    def empty() -> dict:
        return {"format": FORMAT, "drops": [], "tables": {name: {} for name in [*BY_NAME, *SUMMARIES]}}

    def relation(self, table: str, manifest: dict | None = None, parts=None, keyed: bool = True) -> str:
        """SQL for the table's rows, of all partitions or of `parts` (an empty typed relation for none).

        A file holds every partition its build wrote, with a `part` column; the manifest says which files
        serve which partition (a supplies partition may be a file and the files of new lines appended to
        it since), so each file is read for the partitions it still serves. keyed=False: see _bronze_rows."""
        m = manifest or self.manifest()
        held = {p: rels for p, rels in m["tables"].get(table, {}).items() if parts is None or p in parts}
        return self.relation_of(table, held, keyed)

    def relation_of(self, table: str, held: dict[str, list[str]], keyed: bool = True) -> str:
        """SQL for the table's rows of the files named per partition in `held` (part -> files)."""
        by_file = files_serving(held)
        if not by_file:
            return f"(SELECT * FROM _empty_{table})"
        return "(" + " UNION ALL ".join(
            f"SELECT * EXCLUDE (part) FROM {self._bronze_rows(BY_NAME[table], self.root / f, ps, keyed)}"
            if served_by_bronze(f)
            else f"SELECT * EXCLUDE (part) FROM {parquet_sql([self.root / f])} WHERE part IN ({in_list(ps)})"
            for f, ps in sorted(by_file.items())) + ")"

    @staticmethod
    def _bronze_rows(table: SilverTable, file: Path, parts, keyed: bool = True) -> str:
        """The table's rows, with `part`, of `parts` (None: all) of a bronze file that serves them. keyed=False
        skips numbering repeated lines (their key is then wrong): for the summaries, which read no key."""
        return SilverStore._keyed_rows(table, SilverStore._bronze_lines(table, file, parts), keyed)

    @staticmethod
    def _bronze_lines(table: SilverTable, file: Path, parts, like: str | None = None) -> str:
        """A bronze file's loaded lines (its fields as exported) of `parts` (None: all); `like`, a table of
        supplies lines (item_id, request_date): only the lines of an item and request date it holds (the
        item as exported is trimmed as silver's is). Repeated lines share both, so their occurrence numbers
        stay those of the whole file."""
        where = f" AND ({month_filter(table.bronze_date, parts)})" if parts is not None else ""
        if like:
            where += " AND " + SAME_ITEM_DAY.format(item='trim("item_id")', day="_p_request_date", like=like)
        return (f"(SELECT * EXCLUDE (raw, reason){no_hash(file)} FROM {parquet_sql([file])} "
                f"WHERE reason IS NULL{where})")

    @staticmethod
    def _keyed_rows(table: SilverTable, lines: str, keyed: bool = True) -> str:
        """The table's rows, with `part`, of bronze `lines` (see _bronze_rows)."""
        rows = (with_occurrence(lines, by="sha256", fields=line_fields(table)) if keyed
                else f"(SELECT *, 1 AS occurrence FROM {lines})")
        return f"(SELECT *, {table.partition} AS part FROM ({table.select.format(bronze=rows)}))"

    def entry(self, file: Path) -> str:
        """How the manifest names a file: relative to silver (a bronze file serving partitions: ../bronze/...)."""
        return Path(os.path.relpath(file, self.root)).as_posix()

    def _write_manifest(self, data: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps(data, indent=0), durable=True)

    def clean(self) -> int:
        """Remove files no manifest names (a killed build's, or partitions replaced since). Build lock held."""
        if not self.root.is_dir():
            return 0
        named = {rel for t in self.manifest()["tables"].values() for rels in t.values() for rel in rels}
        removed = 0
        for f in self.root.rglob("*.parquet"):
            if self.entry(f) not in named:
                f.unlink(missing_ok=True)
                removed += 1
        for d in sorted((p for p in self.root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            if not any(d.iterdir()):
                d.rmdir()
        return removed

    # -- merging --------------------------------------------------------------------------------
    def merge(self, con: duckdb.DuckDBPyConnection, loaded: list[tuple[str, str, str]], build_id: str,
              full: bool = False, progress=None) -> MergeResult:
        """Merge the loaded drops (drop_key, kind, bronze file) that the manifest lacks.

        `loaded` is in ledger order (received_at). Returns what was done; writes the new manifest."""
        manifest = self.empty() if full else self.manifest()
        if not full:
            ledger_keys = {k for k, _, _ in loaded}
            if not set(manifest["drops"]) <= ledger_keys:  # the lake was restored or edited: start over
                log.warning("event=silver_rebuild reason='manifest names drops the ledger lacks'")
                manifest, full = self.empty(), True
        done = set(manifest["drops"])
        todo = [(k, kind, path) for k, kind, path in loaded if k not in done]
        missing = [p for _, _, p in todo if not Path(p).exists()]
        if missing:
            raise WarehouseError(f"bronze file missing from the lake: {missing[0]} "
                                 "(restore it from backup or the remote store)")
        rewritten: dict[str, int] = {}
        new_manifest = {"format": FORMAT, "drops": manifest["drops"] + [k for k, _, _ in todo],
                        "tables": {name: dict(parts) for name, parts in manifest["tables"].items()},
                        "built_at": datetime.now(timezone.utc).isoformat()}
        for i, table in enumerate(TABLES):
            if progress:
                progress("silver", i, len(TABLES))
            files = [p for _, kind, p in todo if kind in table.kinds]
            if not files:
                continue
            written, rows = self._merge_table(con, table, files, manifest, new_manifest, build_id)
            rewritten[table.name] = len(rows)
            if table.name == "requisition":
                self._summarise(con, written, rows, new_manifest, build_id)
        if todo or full:
            self._write_manifest(new_manifest)
        if progress:
            progress("silver", len(TABLES), len(TABLES))
        return MergeResult(len(todo), rewritten, full)

    def _merge_table(self, con, table: SilverTable, bronze_files: list[str], old: dict, new: dict,
                     build_id: str) -> tuple[Path, dict[str, int]]:
        """Write the table's new file; return it with its rows per partition (each now served by it, after
        the files serving it before when the new lines were appended)."""
        append = False
        files = [Path(f) for f in bronze_files]
        names = parquet_columns(con, files)
        bronze = bronze_sql(con, files, table.parsed, names, line_fields(table))
        incoming = f"SELECT *, {table.partition} AS part FROM ({table.select.format(bronze=bronze)})"
        held = old["tables"].get(table.name, {})
        if held or len(bronze_files) > 1 or not table.unique_in_drop:
            # the partitions the new rows fall in, and the rows those partitions hold already
            con.execute(f"CREATE OR REPLACE TEMP TABLE _incoming AS {incoming}")
            parts = [r[0] for r in con.execute("SELECT DISTINCT part FROM _incoming ORDER BY 1").fetchall()]
            on_hand = {p for p in parts if p in held}
            source = "SELECT * EXCLUDE (part) FROM _incoming"
            if self._appends(con, table, old, held, on_hand):
                # Only the lines the partitions lack, in a file of their own appended to each partition: the
                # lines held keep their rows, as a full rebuild's winner rule keeps them (first delivery, and
                # every held line was delivered before these). A month's daily export writes its 1,000 lines,
                # not the month's 300,000 again.
                append = True
                self._held_keys(con, table, {p: held[p] for p in on_hand}, "_incoming")
                rows = (f"SELECT i.* FROM _incoming i ANTI JOIN _held_keys h USING ({table.key}) "
                        f"QUALIFY row_number() OVER (PARTITION BY {table.key} ORDER BY {table.winner}) = 1")
            else:
                if on_hand:
                    source = f"SELECT * FROM {self.relation(table.name, old, set(parts))} UNION ALL BY NAME {source}"
                rows = (f"SELECT *, {table.partition} AS part FROM ({source}) "
                        f"QUALIFY row_number() OVER (PARTITION BY {table.key} ORDER BY {table.winner}) = 1")
        elif table.bronze_date and table.parsed[0][0] in names[str(file := files[0])]:
            # One drop, checked and parsed into its bronze file, into an empty table: that file serves its
            # partitions as they are (a full build of one 10,000,000-line export writes its lines once, not
            # twice). A later drop into one of them rewrites that partition into a silver file.
            # grouped by the month's first day, named after (a string a row cost 0.16 s at 10,000,000 lines; 0.09)
            counts = dict(con.execute(
                f"SELECT {month_part('m')} AS part, sum(n)::BIGINT FROM ("
                f"SELECT date_trunc('month', {table.bronze_date}) AS m, count(*) AS n FROM {parquet_sql([file])} "
                "WHERE reason IS NULL GROUP BY m) GROUP BY part ORDER BY part").fetchall())
            for p in counts:
                new["tables"].setdefault(table.name, {})[p] = [self.entry(file)]
            return file, counts
        else:  # one drop into an empty table: its keys are unique already, nothing to merge with
            rows = incoming
        # One file per table and build, with a `part` column, serving every partition it holds: a plain
        # COPY streams (bounded memory) and costs about 0.6x a partitioned one (one open file, not one
        # per month); readers select a partition with `WHERE part IN (...)` (see relation()).
        out = self.root / table.name / build_id / "data_0.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY ({rows}) TO '{sql_path(out)}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)")
        fsync_file(out)
        # every partition of the new rows has rows in the file (a key's winner stays in the key's partition)
        counts = dict(con.execute(f"SELECT part, count(*) FROM {parquet_sql([out])} GROUP BY part ORDER BY part").fetchall())
        for p in counts:
            new["tables"].setdefault(table.name, {})[p] = (held.get(p, []) if append else []) + [self.entry(out)]
        con.execute("DROP TABLE IF EXISTS _incoming")
        con.execute("DROP TABLE IF EXISTS _held_keys")
        return out, counts

    def _held_keys(self, con, table: SilverTable, held: dict[str, list[str]], like: str) -> None:
        """Temp table _held_keys: the keys of the lines the partitions in `held` (part -> files) hold of an
        item and request date the table `like` holds: only those lines can carry a key `like` has. A bronze
        file's such lines are read once into a temp table, then numbered and hashed (a month's 300,000
        lines at 10M, numbered and hashed through a view that reads the file three times, cost 0.3 s)."""
        con.execute(f"CREATE OR REPLACE TEMP TABLE _held_keys AS SELECT {table.key} FROM _empty_{table.name}")
        for f, ps in sorted(files_serving(held).items()):
            if served_by_bronze(f):
                con.execute(f"CREATE OR REPLACE TEMP TABLE _held_lines AS SELECT * FROM "
                            f"{self._bronze_lines(table, self.root / f, ps, like)}")
                con.execute(f"INSERT INTO _held_keys SELECT {table.key} FROM {self._keyed_rows(table, '_held_lines')}")
                con.execute("DROP TABLE _held_lines")
            else:
                con.execute(f"INSERT INTO _held_keys SELECT {table.key} FROM {parquet_sql([self.root / f])} "
                            f"WHERE part IN ({in_list(ps)}) AND "
                            + SAME_ITEM_DAY.format(item="item_id", day="request_date", like=like))

    def _appends(self, con, table: SilverTable, old: dict, held: dict, on_hand: set[str]) -> bool:
        """Whether the new rows can be appended to the partitions holding rows already (`on_hand`): a table
        whose first delivery wins, each partition under APPEND_MAX_FILES files (then it is rewritten
        whole, into one), and every new row delivered after every held one (a clock set back since would
        let a full rebuild pick the new row: then the partitions are rewritten, by that very rule)."""
        if table.name not in APPENDS or not on_hand or any(len(held[p]) + 1 > APPEND_MAX_FILES for p in on_hand):
            return False
        newest_held = con.execute(f"SELECT max(ingested_at) FROM {self.relation(table.name, old, on_hand, keyed=False)}").fetchone()[0]
        first_new = con.execute("SELECT min(ingested_at) FROM _incoming").fetchone()[0]
        return newest_held is not None and first_new is not None and first_new > newest_held

    def _summarise(self, con, written: Path, counts: dict[str, int], new: dict, build_id: str) -> None:
        """Rewrite the summaries of the requisition partitions this build wrote (`written`, with its rows
        per partition): one file per summary (with a `part` column), made in batches of about
        SUMMARY_BATCH_BYTES of Parquet read into a narrow temp table (bounded memory), each summary a
        GROUP BY over it. A partition's bytes are its share of the file's rows."""
        size, total = written.stat().st_size, sum(counts.values()) or 1
        req = BY_NAME["requisition"]
        # partitions the written file holds only the appended lines of: summarised from all their files
        # (four to a batch: a month of the 10M bench export is a few MB of Parquet)
        appended = {p for p in counts if new["tables"][req.name][p] != [self.entry(written)]}
        batches: list[list[str]] = [[]]
        held = 0
        for p in sorted(counts):
            bytes_ = SUMMARY_BATCH_BYTES // 4 if p in appended else size * counts[p] // total
            if batches[-1] and held + bytes_ > SUMMARY_BATCH_BYTES:
                batches.append([])
                held = 0
            batches[-1].append(p)
            held += bytes_
        served = served_by_bronze(self.entry(written))
        for i, batch in enumerate(b for b in batches if b):
            if appended & set(batch):
                source = f"(SELECT *, {req.partition} AS part FROM {self.relation(req.name, new, set(batch), keyed=False)})"
            elif served:
                source = self._bronze_rows(req, written, batch, keyed=False)
            else:
                source = f"(SELECT * FROM {parquet_sql([written])} WHERE part IN ({in_list(batch)}))"
            rows = (f"SELECT item_id, family, unit, description, depot, supplier, quantity, request_date, purchase_date, "
                    f"required_date, is_service(unit, family) AS svc, part FROM {source}")
            con.execute(f"CREATE OR REPLACE TEMP TABLE _written AS {rows}")
            con.execute(f"CREATE OR REPLACE TEMP TABLE _demand AS {SUMMARIES['req_demand'].format(rows='_written')}")
            for name, sql in SUMMARIES.items():
                out = self.root / name / build_id / f"data_{i}.parquet"
                out.parent.mkdir(parents=True, exist_ok=True)
                query = "SELECT * FROM _demand" if name == "req_demand" else sql.format(rows="_written", demand="_demand")
                con.execute(f"COPY ({query}) TO '{sql_path(out)}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)")
                fsync_file(out)
                rel = self.entry(out)
                for p in batch:
                    new["tables"].setdefault(name, {})[p] = [rel]
            con.execute("DROP TABLE _written")
            con.execute("DROP TABLE _demand")


def open_lines(lake_root: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the view `lines`: every supplies line of all history from the lake
    (silver.requisition), with gold.fact_requisition's derived columns. For analysts and tests."""
    from .db import connect

    con = connect()
    store = SilverStore(lake_root)
    create_empty_views(con)
    con.execute(f"""CREATE TEMP VIEW lines AS SELECT *, purchase_date - request_date AS lead_time_days,
                        coalesce(purchase_date < request_date, false) AS lead_time_negative,
                        is_service(unit, family) AS is_service
                    FROM {store.relation('requisition')}""")
    return con
