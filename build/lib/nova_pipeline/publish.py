"""Publishing: a complete, checked temp file becomes nova_vNNNNNN.duckdb and current.duckdb points to it.

Field notes this follows: each CREATE TABLE is its own commit, so only a fresh temp file validated
before the swap is safe; renaming a file with a .wal beside it loses tables silently, so we
CHECKPOINT, close, assert no .wal, fsync, rename, fsync the folder. Readers of an older version keep
their inode through os.replace, so a publish never breaks them.
"""
from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

from .bronze import atomic_write, fsync_dir, sha256_file
from .errors import BuildLocked, WarehouseError

VERSION_RE = re.compile(r"^nova_v(\d{6})\.duckdb$")
CURRENT = "current.duckdb"
TEMP_PREFIX = ".building-"
PUBLISHING = ".publishing-v"  # marker: version N renamed into place but `current` not yet swapped
SHA_SUFFIX = ".sha256"        # beside each version: its sha256, in `sha256sum` format


def version_file(warehouse: Path, version: int) -> Path:
    return warehouse / f"nova_v{version:06d}.duckdb"


def versions(warehouse: Path) -> list[int]:
    if not warehouse.is_dir():
        return []
    return sorted(int(m.group(1)) for p in warehouse.iterdir() if (m := VERSION_RE.match(p.name)))


def current_version(warehouse: Path) -> int | None:
    link = warehouse / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        return None
    m = VERSION_RE.match(Path(target).name)
    return int(m.group(1)) if m and (warehouse / Path(target).name).exists() else None


def next_version(warehouse: Path) -> int:
    return max(versions(warehouse), default=0) + 1


class BuildLock:
    """One build at a time per warehouse folder (flock: released by the kernel if we die)."""

    def __init__(self, warehouse: Path):
        self.path = warehouse / ".build.lock"
        self.fd: int | None = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            holder = self.holder()
            who = f" (pid {holder})" if holder else ""
            raise BuildLocked(f"another build is running on {self.path.parent}{who}, lock {self.path}; "
                              "try again when it ends") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def holder(self) -> int | None:
        """The pid the lock's holder wrote into the lock file, if any."""
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def temp_file(warehouse: Path) -> Path:
    warehouse.mkdir(parents=True, exist_ok=True)
    return warehouse / f"{TEMP_PREFIX}{os.getpid()}.duckdb"


def remove_orphans(warehouse: Path) -> list[Path]:
    """Temp files of killed builds (call with the build lock held)."""
    removed = []
    if warehouse.is_dir():
        for p in warehouse.iterdir():
            if p.name.startswith(TEMP_PREFIX) or p.name.startswith(".current.duckdb."):
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def finalize(temp: Path, warehouse: Path, version: int) -> Path:
    """Make the closed, checkpointed temp file version N and point current at it, atomically.

    Its sha256 is written beside it first (verify and pull check it). A marker says "vN renamed,
    current not swapped yet" until the swap: a build killed in between leaves a complete version
    that the next build serves (recover_unserved) instead of publishing a copy of it."""
    wal = temp.with_name(temp.name + ".wal")
    if wal.exists():
        raise WarehouseError(f"{wal} still exists after close: refusing to publish a file whose tables may be in the WAL")
    with open(temp, "rb") as fh:
        os.fsync(fh.fileno())
    target = version_file(warehouse, version)
    if target.exists():
        raise WarehouseError(f"{target} already exists; versions are never overwritten")
    write_sha256(target, sha256_file(temp))
    marker = warehouse / f"{PUBLISHING}{version}"
    marker.touch()
    fsync_dir(warehouse)
    os.rename(temp, target)
    fsync_dir(warehouse)
    point_current(warehouse, version)
    marker.unlink(missing_ok=True)
    return target


def sha_file(version_path: Path) -> Path:
    return version_path.with_name(version_path.name + SHA_SUFFIX)


def write_sha256(version_path: Path, digest: str) -> None:
    atomic_write(sha_file(version_path), f"{digest}  {version_path.name}\n")


def recorded_sha256(version_path: Path) -> str | None:
    """The sha256 recorded when the version was published (None for files published before it was)."""
    try:
        return sha_file(version_path).read_text().split()[0]
    except (OSError, IndexError):
        return None


def recover_unserved(warehouse: Path, validate) -> int | None:
    """A build killed between renaming vN into place and swapping `current` left a whole version that
    was never served: serve it if it validates, else remove it. Call with the build lock held."""
    served = None
    if not warehouse.is_dir():
        return None
    for marker in sorted(warehouse.glob(f"{PUBLISHING}*")):
        try:
            version = int(marker.name.removeprefix(PUBLISHING))
        except ValueError:
            marker.unlink(missing_ok=True)
            continue
        path = version_file(warehouse, version)
        if path.exists() and current_version(warehouse) != version:
            try:
                validate(path)
                if recorded_sha256(path) != sha256_file(path):
                    raise WarehouseError(f"{path}: sha256 differs from the one recorded at publish")
                point_current(warehouse, version)
                served = version
            except Exception:
                path.unlink(missing_ok=True)
                sha_file(path).unlink(missing_ok=True)
        marker.unlink(missing_ok=True)
    return served


def point_current(warehouse: Path, version: int) -> None:
    """Swap the current.duckdb symlink to version N in one rename."""
    tmp_link = warehouse / f".current.duckdb.{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    os.symlink(version_file(warehouse, version).name, tmp_link)
    os.replace(tmp_link, warehouse / CURRENT)
    fsync_dir(warehouse)


def apply_retention(warehouse: Path, keep: int) -> list[int]:
    """Remove all but the newest `keep` versions; never the one current points to.
    Readers holding a removed file keep reading it; its space is freed when they close it."""
    current = current_version(warehouse)
    all_versions = versions(warehouse)
    doomed = [v for v in all_versions[:-keep] if v != current] if len(all_versions) > keep else []
    for v in doomed:
        version_file(warehouse, v).unlink(missing_ok=True)
        sha_file(version_file(warehouse, v)).unlink(missing_ok=True)
    return doomed
