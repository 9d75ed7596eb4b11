"""The lake: the append-only bronze archive, the ledger of processed drops, and the quarantine.

Every file here is written under a temporary name and renamed into place, so a killed build
leaves either nothing or a whole file. A drop counts as processed only once its ledger entry
exists, and the ledger entry is written last; bronze files without one are orphans of a killed
build and are ignored (and cleaned at start).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from .db import sql_path

LEDGER_COLUMNS = (
    "drop_key VARCHAR, file_name VARCHAR, path VARCHAR, sha256 VARCHAR, kind VARCHAR, status VARCHAR, "
    "rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, reason VARCHAR, "
    "received_at TIMESTAMPTZ, data_from DATE, data_to DATE, bronze_path VARCHAR, size_bytes BIGINT"
)
REJECT_COLUMNS = "sha256 VARCHAR, file_name VARCHAR, line_number BIGINT, reason VARCHAR, raw_line VARCHAR"


@dataclass(frozen=True)
class Drop:
    """A file found in a landing folder."""

    path: Path
    rel: str       # path relative to the site, e.g. landing/suprimentos_2025.csv: the drop's name in meta
    kind: str
    sha256: str
    size: int

    @property
    def key(self) -> str:
        return f"{self.sha256}__{hashlib.sha1(self.rel.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class BronzeTarget:
    """Where a drop's bronze file goes, for a reader that writes it while it checks the rows (the supplies
    export: its checked rows go to bronze in the same pass, one write of the lines instead of three).
    The reader writes `tmp`; ingest renames it into place (Lake.commit_bronze) or discards it."""

    path: Path
    file_name: str
    sha256: str
    at: datetime

    @property
    def tmp(self) -> Path:
        return tmp_name(self.path)

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tmp_name(path: Path) -> Path:
    """The temporary name a file is written under before it is renamed into place (Lake.prepare
    removes leftovers of this shape)."""
    return path.with_name(f".{path.name}.tmp")


def fsync_file(path: Path) -> None:
    """Flush a file DuckDB wrote (and closed) to disk."""
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def put_in_place(tmp: Path, target: Path) -> None:
    """Durably rename a finished temporary file into place: fsync the file, rename, fsync its folder."""
    fsync_file(tmp)
    os.replace(tmp, target)
    fsync_dir(target.parent)


def atomic_write(path: Path, data: str | bytes, durable: bool = False) -> None:
    """Write a small file under a temporary name and rename it into place: readers see the old file
    or the new one, never half of it. durable: fsync the file and its folder too."""
    tmp = tmp_name(path)
    with open(tmp, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)


def atomic_copy_to(con: duckdb.DuckDBPyConnection, query: str, target: Path, params=None) -> None:
    """COPY a query to a Parquet file under a temporary name, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(target)
    con.execute(f"COPY ({query}) TO '{sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)", params)
    put_in_place(tmp, target)


class Lake:
    def __init__(self, root: Path):
        self.root = root
        self.ledger = root / "ledger" / "drops"
        self.rejects = root / "ledger" / "rejected_rows"
        self.quarantine = root / "quarantine"
        self.tmp = root / "tmp"
        self._hash_cache_path = root / "ledger" / "hash_cache.json"

    def prepare(self) -> None:
        for d in (self.ledger, self.rejects, self.quarantine, self.tmp):
            d.mkdir(parents=True, exist_ok=True)
        # Leftovers of a killed build: staging files and half-written Parquet.
        for leftover in self.tmp.iterdir():
            if leftover.is_file():
                leftover.unlink()
        for leftover in self.root.rglob(".*.tmp"):
            leftover.unlink(missing_ok=True)

    # -- identity -------------------------------------------------------------------------------
    def hash_of(self, path: Path, cache: dict, key: str | None = None, hasher=None) -> tuple[str, int]:
        """sha256 of a file, remembered by (size, mtime) so unchanged drops are not re-read. `key` names
        the file in the cache: the drop's path relative to the site, so a site that is moved or restored
        elsewhere does not re-read every export (a 10,000,000-line one costs about 2.5 s to hash).
        `hasher` (default sha256_file) may do more in the same read (text.hash_and_inspect)."""
        st = path.stat()
        key = key or str(path)
        hit = cache.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2], st.st_size
        digest = (hasher or sha256_file)(path)
        cache[key] = [st.st_size, st.st_mtime_ns, digest]
        return digest, st.st_size

    def load_hash_cache(self) -> dict:
        try:
            return json.loads(self._hash_cache_path.read_text())
        except (OSError, ValueError):
            return {}

    def save_hash_cache(self, cache: dict) -> None:
        atomic_write(self._hash_cache_path, json.dumps(cache))

    # -- ledger ---------------------------------------------------------------------------------
    def ledger_glob(self) -> str:
        return sql_path(self.ledger / "*.parquet")

    def rejects_glob(self) -> str:
        return sql_path(self.rejects / "*.parquet")

    def has_ledger(self) -> bool:
        return any(self.ledger.glob("*.parquet"))

    def has_rejects(self) -> bool:
        return any(self.rejects.glob("*.parquet"))

    def known(self, con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
        """(drop keys, sha256s) already in the ledger."""
        if not self.has_ledger():
            return set(), set()
        rows = con.execute(f"SELECT drop_key, sha256, status FROM read_parquet('{self.ledger_glob()}')").fetchall()
        return {r[0] for r in rows}, {r[1] for r in rows if r[2] != "duplicate"}

    def record(self, con: duckdb.DuckDBPyConnection, drop: Drop, **fields) -> None:
        """Write the drop's ledger entry: the last step, after which the drop counts as processed."""
        row = {
            "drop_key": drop.key, "file_name": drop.path.name, "path": drop.rel, "sha256": drop.sha256,
            "kind": drop.kind, "size_bytes": drop.size, "rows_read": 0, "rows_loaded": 0,
            "rows_rejected": 0, "reason": None, "data_from": None, "data_to": None, "bronze_path": None,
        } | fields
        names = [c.split()[0] for c in LEDGER_COLUMNS.split(", ")]
        types = {c.split()[0]: c.split()[1] for c in LEDGER_COLUMNS.split(", ")}
        select = ", ".join(f"${n}::{types[n]} AS {n}" for n in names)
        atomic_copy_to(con, f"SELECT {select}", self.ledger / f"{drop.key}.parquet", {n: row[n] for n in names})

    # -- bronze ---------------------------------------------------------------------------------
    def relative(self, path: Path) -> str:
        """A bronze path as the ledger stores it: relative to the lake, so a moved site still builds."""
        return path.relative_to(self.root).as_posix()

    def resolve(self, stored: str) -> Path:
        """The bronze file a ledger entry names. Entries written before paths were relative hold an
        absolute path: it is used when it exists, else its part from `bronze/` on is found in this lake."""
        p = Path(stored)
        if not p.is_absolute():
            return self.root / p
        if p.exists():
            return p
        parts = p.parts
        if "bronze" in parts:
            i = len(parts) - 1 - parts[::-1].index("bronze")
            return self.root.joinpath(*parts[i:])
        return p

    def bronze_path(self, kind: str, drop: Drop, when: datetime) -> Path:
        return (self.root / "bronze" / kind / f"year={when:%Y}" / f"month={when:%m}" / f"day={when:%d}"
                / f"{drop.sha256}.parquet")

    def bronze_target(self, drop: Drop, when: datetime) -> BronzeTarget:
        return BronzeTarget(self.bronze_path(drop.kind, drop, when), drop.path.name, drop.sha256, when)

    def commit_bronze(self, target: BronzeTarget) -> Path:
        """Put a bronze file its reader wrote under `target.tmp` into place, as atomic_copy_to does."""
        put_in_place(target.tmp, target.path)
        return target.path

    def write_bronze(self, con, table: str, drop: Drop, when: datetime) -> Path:
        target = self.bronze_path(drop.kind, drop, when)
        atomic_copy_to(
            con,
            f"SELECT *, $file_name AS file_name, $sha AS sha256, $at::TIMESTAMPTZ AS ingested_at FROM {table}",
            target,
            {"file_name": drop.path.name, "sha": drop.sha256, "at": when},
        )
        return target

    def write_rejects(self, con, table: str, drop: Drop) -> None:
        if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
            atomic_copy_to(
                con,
                f"SELECT $sha AS sha256, $file_name AS file_name, line_number, reason, raw_line FROM {table}",
                self.rejects / f"{drop.sha256}.parquet",
                {"sha": drop.sha256, "file_name": drop.path.name},
            )

    # -- quarantine -----------------------------------------------------------------------------
    def quarantine_file(self, drop: Drop, reason: str, when: datetime, copy: bool = True) -> Path:
        """Keep a copy of a rejected drop with its reason beside it; the original is left alone.
        copy=False (a link refused unread): only the reason is written, nothing of the target."""
        folder = self.quarantine / f"{when:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{drop.sha256[:12]}__{drop.path.name}"
        if copy:
            tmp = folder / f".{target.name}.tmp"
            shutil.copyfile(drop.path, tmp)
            os.replace(tmp, target)
        target.with_name(target.name + ".reason.txt").write_text(
            f"file: {drop.rel}\nsha256: {drop.sha256}\nrejected_at: {when.isoformat()}\nreason: {reason}\n",
            encoding="utf-8",
        )
        return target
