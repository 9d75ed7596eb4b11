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

from . import queries
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


def connect(target: Target):
    """Open the target read-only. Raises WarehouseProblem with advice instead of a traceback."""
    import duckdb

    real = target.resolved()
    if real is None:
        folder = target.path.parent
        versions = available_versions(folder)
        if target.follows_current:
            if versions:
                raise WarehouseProblem("No current version", f"{target.path} is missing, but {folder} holds "
                                       f"v{versions[0]}..v{versions[-1]}",
                                       f"run `nova-pipeline build`, or open one with `nova-tui --version {versions[-1]}`")
            raise WarehouseProblem("No warehouse yet", f"nothing has been published in {folder}",
                                   "run `nova-pipeline build` (or `make demo` to try the bundled data)")
        if VERSION_FILE.search(target.path.name) and versions:
            raise WarehouseProblem("No such version", f"{target.path} does not exist",
                                   f"versions kept here: {', '.join(f'v{v}' for v in versions[-8:])}")
        raise WarehouseProblem("File not found", f"{target.path} does not exist",
                               "check the path given with --warehouse")
    try:
        con = duckdb.connect(str(real), read_only=True, config={
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
    families: list[str] = field(default_factory=list)

    @property
    def version(self) -> int:
        return self.info["version"]


def read_snapshot(con, path: Path) -> Snapshot:
    return Snapshot(path=path, info=queries.build_info(con), counts=queries.status_counts(con),
                    reorder=queries.reorder(con), checks=queries.checks(con), builds=queries.builds(con),
                    sources=queries.sources(con), rejected=queries.rejected_files(con),
                    models=queries.forecast_models(con), forecast_items=queries.forecast_items(con),
                    families=queries.forecast_families(con))


def load(target: Target) -> tuple[object, Snapshot]:
    """Open and read a version; the caller owns (and must close) the returned connection."""
    import duckdb

    con, real = connect(target)
    try:
        return con, read_snapshot(con, real)
    except duckdb.Error as exc:
        con.close()
        raise WarehouseProblem("Unreadable warehouse", f"{real}: {str(exc).splitlines()[0]}",
                               "run `nova-pipeline verify` on it") from None
