"""Finding, opening and reading one warehouse version, read-only.

Every failure becomes a `WarehouseProblem` that says what is wrong and what to do; the screens
show it, the report command prints it. Versions are opened by their real file name (not through the
`current.duckdb` link), so a new version is a new path and DuckDB's per-path instance cache can
never hand back the old one.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import planning_queries, queries
from .config import TuiConfig
from .queries import Row

CURRENT = "current.duckdb"
VERSION_FILE = re.compile(r"nova_v(\d{6})\.duckdb$")


class WarehouseProblem(Exception):
    def __init__(self, title: str, detail: str, hint: str):
        super().__init__(f"{title}: {detail}")
        self.title, self.detail, self.hint = title, detail, hint


@dataclass(frozen=True)
class Target:
    """What the user asked to see: the current version (followed as it moves) or one fixed file."""
    path: Path
    follows_current: bool

    @classmethod
    def choose(cls, cfg: TuiConfig, file: str | None = None, version: int | None = None) -> "Target":
        if file:
            return cls(Path(file), False)
        if version is not None:
            return cls(cfg.warehouse / f"nova_v{version:06d}.duckdb", False)
        return cls(cfg.warehouse / CURRENT, True)

    def resolved(self) -> Path | None:
        """The real file behind the target now, or None when there is none."""
        try:
            real = Path(os.path.realpath(self.path))
            return real if real.is_file() else None
        except OSError:
            return None

    def fingerprint(self) -> tuple | None:
        """Changes when a new version is published (the link moves) or the file is replaced."""
        real = self.resolved()
        if real is None:
            return None
        try:
            st = real.stat()
        except OSError:
            return None
        return (str(real), st.st_ino, st.st_mtime_ns)


def available_versions(folder: Path) -> list[int]:
    try:
        return sorted(int(m.group(1)) for p in folder.iterdir() if (m := VERSION_FILE.match(p.name)))
    except OSError:
        return []


DUCKDB_MAGIC = b"DUCK"  # bytes 8..11 of every DuckDB database file


def _check_readable(real: Path) -> None:
    """Say plainly what the file is before DuckDB does: unreadable, empty, or not a DuckDB file at all
    (DuckDB's own words for a CSV are "Cannot launch in-memory database in read-only mode!")."""
    try:
        with open(real, "rb") as fh:
            head = fh.read(16)
    except PermissionError:
        raise WarehouseProblem("Permission denied", f"{real} cannot be read by this user",
                               "ask for read access to the warehouse folder (the service's group), or open a copy") from None
    except OSError as exc:
        raise WarehouseProblem("Cannot read the file", f"{real}: {exc.strerror or exc}",
                               "check the disk and the path, or open another version") from None
    if head[8:12] != DUCKDB_MAGIC:
        what = ("it is empty" if not head else
                "it looks like text (a CSV export?)" if all(32 <= b < 127 or b in (9, 10, 13) or b >= 0x80 for b in head)
                else "it does not start like a DuckDB database")
        raise WarehouseProblem("Not a warehouse file", f"{real} is not a DuckDB file: {what}",
                               "open a file published by `nova-pipeline build` (nova_vNNNNNN.duckdb or current.duckdb)")


def _open(real: Path):
    """A read-only connection to the real file, its failures told as WarehouseProblems."""
    import duckdb

    try:
        return duckdb.connect(str(real), read_only=True, config={
            "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        if "conflicting lock" in first.lower() or "could not set lock" in first.lower():
            raise WarehouseProblem("File is being written", f"{real}: {first}",
                                   "a build holds it; open the published `current.duckdb` instead") from None
        if "corrupt" in first.lower() or "checksum" in first.lower():
            raise WarehouseProblem("Damaged warehouse file", f"{real}: {first}",
                                   "run `nova-pipeline verify` on it; open another version or pull it again") from None
        raise WarehouseProblem("Not a warehouse file", f"{real}: {first}",
                               "open a file published by `nova-pipeline build` (nova_vNNNNNN.duckdb)") from None


def connect(target: Target):
    """Open the target read-only. Raises WarehouseProblem with advice instead of a traceback."""
    import duckdb

    real = target.resolved()
    if real is None and target.path.is_dir():
        inside = target.path / CURRENT
        raise WarehouseProblem("That is a folder", f"{target.path} is a directory, not a warehouse file",
                               f"give a file: `--warehouse {inside}`" if inside.exists() else
                               "give a nova_vNNNNNN.duckdb file, or the folder's current.duckdb")
    if real is None:
        folder = target.path.parent
        versions = available_versions(folder)
        if target.follows_current:
            if versions:
                raise WarehouseProblem("No current version", f"{target.path} is missing, but {folder} holds "
                                       f"v{versions[0]}..v{versions[-1]}",
                                       f"run `nova-pipeline build`, or open one with `nova-tui --version {versions[-1]}`")
            demo = Path("demo-site") / "config.toml"
            hint = ("run `nova-pipeline build`; for the demo made by `make demo`, point at its site: "
                    f"`nova-tui --config {demo} …`" if demo.is_file() else
                    "run `nova-pipeline build` (or `make demo` to try the bundled data)")
            raise WarehouseProblem("No warehouse yet", f"nothing has been published in {folder}", hint)
        if VERSION_FILE.search(target.path.name) and versions:
            raise WarehouseProblem("No such version", f"{target.path} does not exist",
                                   f"versions kept here: {', '.join(f'v{v}' for v in versions[-8:])}")
        raise WarehouseProblem("File not found", f"{target.path} does not exist",
                               "check the path given with --warehouse")
    _check_readable(real)
    con = _open(real)
    try:
        missing = queries.missing_columns(con)
        if "meta.build" in missing:
            raise WarehouseProblem("Not a Nova Corrente warehouse", f"{real} has no meta.build table",
                                   "open a file published by `nova-pipeline build`")
        if missing:
            shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
            raise WarehouseProblem("Warehouse from another pipeline version", f"{real} lacks {shown}",
                                   "rebuild it with this release: `nova-pipeline build`, then reopen")
        if not queries.build_info(con)["complete"]:
            raise WarehouseProblem("Incomplete warehouse", f"{real} was not finished by its build",
                                   "open `current.duckdb`, which only ever points at complete versions")
    except WarehouseProblem:
        con.close()
        raise
    except duckdb.Error as exc:
        con.close()
        raise WarehouseProblem("Unreadable warehouse", f"{real}: {str(exc).splitlines()[0]}",
                               "run `nova-pipeline verify` on it") from None
    return con, real


@dataclass
class Snapshot:
    """Everything the list screens show, read in one go so screens switch without waiting."""
    path: Path
    info: Row
    counts: dict[str, int]
    reorder: list[Row]
    checks: list[Row]
    builds: list[Row]
    sources: list[Row]
    rejected: list[Row]
    models: list[Row]
    forecast_items: list[Row]
    families: list[Row] = field(default_factory=list)
    changes: list[Row] = field(default_factory=list)
    status_changes: list[Row] = field(default_factory=list)
    replay: list[Row] = field(default_factory=list)
    sites: list[Row] = field(default_factory=list)  # company files: meta.sites
    suppliers: list[Row] = field(default_factory=list)
    health: list[Row] = field(default_factory=list)
    version_counts: list[Row] = field(default_factory=list)
    accuracy: list[Row] = field(default_factory=list)

    @property
    def version(self) -> int:
        return self.info["version"]


# The one mark the reorder list shows per item, the most telling first; every change is in `changes`.
MARKS = (("worse", "WORSE"), ("better", "better"), ("order_moved", "ORDER"), ("basis_switched", "BASIS"))


def mark_changes(reorder: list[Row], changes: list[Row]) -> None:
    """Give each reorder row its change mark (NEW when newly flagged) and the details behind it."""
    per_item: dict[str, list[Row]] = {}
    for c in changes:
        per_item.setdefault(f"{c['site']}/{c['item_id']}" if "site" in c else c["item_id"], []).append(c)
    for r in reorder:  # keys only on the rows that changed: 30,000 rows stay small
        r["row_key"] = f"{r['site']}/{r['item_id']}" if "site" in r else r["item_id"]
        mine = per_item.get(r["row_key"])
        if r["newly_flagged"]:
            r["change"] = "NEW"
        if mine:
            kinds = {c["change"] for c in mine}
            r.setdefault("change", next((m for k, m in MARKS if k in kinds), ""))
            r["changes"] = [c["detail"] for c in mine]


def read_snapshot(con, path: Path) -> Snapshot:
    reorder, changes = queries.reorder(con), queries.changes(con)
    mark_changes(reorder, changes)
    return Snapshot(path=path, info=queries.build_info(con), counts=queries.status_counts(con),
                    reorder=reorder, checks=queries.checks(con), builds=queries.builds(con),
                    sources=queries.sources(con), rejected=queries.rejected_files(con),
                    models=queries.forecast_models(con), forecast_items=queries.forecast_items(con),
                    families=queries.forecast_families(con), changes=changes,
                    status_changes=queries.status_change_counts(con), replay=planning_queries.service_replay(con),
                    accuracy=planning_queries.forecast_accuracy(con), sites=queries.sites(con),
                    suppliers=planning_queries.suppliers(con), health=planning_queries.stock_health(con),
                    version_counts=planning_queries.version_counts(con))


def load(target: Target) -> tuple[object, Snapshot]:
    """Open and read a version; the caller owns (and must close) the returned connection."""
    import duckdb

    con, real = connect(target)
    try:
        snapshot = read_snapshot(con, real)
    except duckdb.Error as exc:
        raise WarehouseProblem("Unreadable warehouse", f"{real}: {str(exc).splitlines()[0]}",
                               "run `nova-pipeline verify` on it") from None
    finally:
        # Reading the snapshot leaves DuckDB holding what its queries used (35 MB for a 24,000-item
        # reorder list, bench/tui.py); closing the connection gives that back, and the screens' own
        # queries (charts, an item's history) get a fresh one on the same file.
        con.close()
    return _open(real), snapshot
