"""The remote store (any S3-compatible server, MinIO client): versions, manifests and layers.

Layout, so other servers and tools can use it without this code. Every object a plant writes is keyed
by its `[site] id`, so plants sharing one store never overwrite each other:

    <bucket>/<site>/versions/nova_v000012.duckdb          the published file, byte for byte
    <bucket>/<site>/versions/nova_v000012.manifest.json   version, sha256, size, built_at, as_of (written last)
    nova-bronze/<site>/<kind>/year=/month=/day=/<sha256>.parquet   bronze as it lies in the lake (append-only)
    nova-silver/<table>/   one Delta table per silver table, partitioned by `site`
    nova-gold/<table>/     one Delta table per gold table, partitioned by `site`
    nova-gold/_sites/<site>.json                          which version the site's partitions hold (written last)

A push replaces its own site's partition of each Delta table in one commit (nova_pipeline/delta.py).
Pushing is a diff of what is here against what is there, so whatever a down store missed is sent by
the next build or `nova-pipeline push`; the outcome is kept in warehouse/remote.json for `status`.
Credentials come only from $NOVA_S3_ACCESS_KEY / $NOVA_S3_SECRET_KEY.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import publish
from .bronze import Lake, atomic_write, fsync_dir, sha256_file
from .config import Config
from .db import connect
from .errors import NovaError
from .progress import Progress, silent

log = logging.getLogger("nova.remote")

LAYER_BUCKETS = {"bronze": "nova-bronze", "silver": "nova-silver", "gold": "nova-gold"}
STATE_FILE = "remote.json"
ENV_KEYS = ("NOVA_S3_ACCESS_KEY", "NOVA_S3_SECRET_KEY")
CHUNK = 1 << 20


class RemoteError(NovaError):
    """The remote store cannot be reached, refuses us, or holds something wrong."""


def configured(cfg: Config) -> bool:
    return bool(cfg.values["remote"]["endpoint"])


@dataclass
class Store:
    client: object  # minio.Minio
    bucket: str
    endpoint: str
    site: str = ""
    delta_options: dict = field(default_factory=dict)

    @property
    def versions_prefix(self) -> str:
        return f"{self.site}/versions/"

    def keys(self, bucket: str, prefix: str = "") -> dict[str, int]:
        return {o.object_name: o.size for o in self.client.list_objects(bucket, prefix=prefix, recursive=True)}


def open_store(cfg: Config) -> Store:
    import urllib3
    from minio import Minio

    r = cfg.values["remote"]
    if not r["endpoint"]:
        raise RemoteError("no remote store configured: set [remote] endpoint (host:port) in the config file")
    access, secret = (os.environ.get(k, "") for k in ENV_KEYS)
    if not access or not secret:
        raise RemoteError("the remote store's credentials are not set: export NOVA_S3_ACCESS_KEY and "
                          "NOVA_S3_SECRET_KEY (under systemd: /etc/nova/nova.env, see docs/operations.md)")
    # Short connect timeout and few retries: a store that is down must not hold a build for minutes.
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=5, read=120), maxsize=4,
                               retries=urllib3.Retry(total=2, backoff_factor=0.5, status_forcelist=(500, 502, 503, 504)))
    client = Minio(r["endpoint"], access_key=access, secret_key=secret, secure=r["secure"], http_client=http)
    site = cfg.values["site"]["id"]
    if not site:
        raise RemoteError("[site] id is not set: every object in the store is keyed by it (a short slug such as "
                          "ba-salvador)")
    # delta-rs (object_store) speaks to the same endpoint; conditional PUT ("etag") makes commits safe
    # without a lock on stores that honour If-Match / If-None-Match (MinIO, SeaweedFS, AWS S3)
    delta = {"AWS_ENDPOINT_URL": f"{'https' if r['secure'] else 'http'}://{r['endpoint']}",
             "AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "us-east-1",
             "AWS_ALLOW_HTTP": "false" if r["secure"] else "true", "AWS_CONDITIONAL_PUT": "etag",
             "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false"}
    return Store(client, r["bucket"], r["endpoint"], site, delta)


def _why(exc: Exception) -> str:
    """One line that says what went wrong, never the credentials (S3 errors carry none)."""
    from minio.error import S3Error

    if isinstance(exc, S3Error):
        return f"{exc.code}: {exc.message}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Connection refused" in text or "NewConnectionError" in text or "Max retries" in text:
        return "cannot connect (connection refused or unreachable)"
    return text[:200]


class _Bytes:
    """minio's progress protocol (set_meta, update), turned into our (stage, done, total) calls."""

    def __init__(self, progress: Progress, done: int, total: int):
        self.progress, self.done, self.total, self.last = progress, done, total, 0.0

    def set_meta(self, object_name: str, total_length: int) -> None:
        pass

    def update(self, size: int) -> None:
        self.done += size
        now = time.monotonic()
        if now - self.last >= 0.5:  # at most twice a second, also in the log when not on a terminal
            self.last = now
            self.progress("push", self.done, self.total)


# -- push ----------------------------------------------------------------------------------------

@dataclass
class PushResult:
    versions: list[int] = field(default_factory=list)
    bronze_files: int = 0
    layer_tables: int = 0
    bytes: int = 0
    seconds: float = 0.0

    @property
    def message(self) -> str:
        if not (self.versions or self.bronze_files or self.layer_tables):
            return "remote store: already in sync"
        sent = ", ".join(f"v{v}" for v in self.versions) or "no version"
        return (f"remote store: sent {sent}, {self.bronze_files} bronze file(s), {self.layer_tables} silver/gold "
                f"table(s), {self.bytes / 1e6:,.1f} MB in {self.seconds:.1f} s")


def manifest(path: Path, version: int) -> dict:
    con = connect(path, read_only=True)
    try:
        built_at, as_of = con.execute("SELECT built_at, as_of FROM meta.build").fetchone()
    finally:
        con.close()
    return {"version": version, "file": path.name, "sha256": publish.recorded_sha256(path) or sha256_file(path), "size": path.stat().st_size,
            "built_at": built_at.isoformat(), "as_of": as_of.isoformat() if as_of else None}


def push(cfg: Config, progress: Progress = silent) -> PushResult:
    """Send what the store lacks: versions (+ manifests), bronze files, the current silver and gold."""
    started = time.monotonic()
    try:
        result = _push(cfg, open_store(cfg), progress)
    except RemoteError as exc:
        _save_state(cfg, ok=False, error=str(exc))
        raise
    except Exception as exc:  # network, S3 refusals: one line, remembered for status
        why = _why(exc)
        _save_state(cfg, ok=False, error=why)
        raise RemoteError(f"remote store {cfg.values['remote']['endpoint']}: {why}") from None
    result.seconds = time.monotonic() - started
    _save_state(cfg, ok=True, result=result)
    log.info("event=remote_pushed versions=%s bronze=%d tables=%d bytes=%d seconds=%.2f",
             ",".join(map(str, result.versions)) or "-", result.bronze_files, result.layer_tables, result.bytes,
             result.seconds)
    return result


def _push(cfg: Config, store: Store, progress: Progress) -> PushResult:
    from minio.error import S3Error

    from .delta import push_layers  # deltalake is heavy: loaded when a push sends layers

    client = store.client
    for bucket in (store.bucket, *LAYER_BUCKETS.values()):
        if not client.bucket_exists(bucket):
            try:
                client.make_bucket(bucket)
            except S3Error as exc:  # another plant pushing at the same moment made it first
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
    result = PushResult()
    current = publish.current_version(cfg.warehouse)
    there = store.keys(store.bucket, store.versions_prefix)
    todo: list[tuple[str, str, Path]] = []  # (bucket, key, local file)
    manifests: dict[str, dict] = {}
    for v in publish.versions(cfg.warehouse):
        path = publish.version_file(cfg.warehouse, v)
        key = f"{store.versions_prefix}{path.stem}.manifest.json"
        if key not in there:
            todo.append((store.bucket, f"{store.versions_prefix}{path.name}", path))
            manifests[f"{store.versions_prefix}{path.name}"] = {"key": key, "version": v, "path": path}
    bronze_there = store.keys(LAYER_BUCKETS["bronze"], f"{store.site}/")
    bronze_root = cfg.lake / "bronze"
    for path in _bronze_files(cfg, current):
        key = f"{store.site}/{path.relative_to(bronze_root).as_posix()}"
        if bronze_there.get(key) != path.stat().st_size:
            todo.append((LAYER_BUCKETS["bronze"], key, path))
    send_layers = current is not None and _layers_version(store) != current
    total = sum(p.stat().st_size for _, _, p in todo)
    meter = _Bytes(progress, 0, total)
    progress("push", 0, total)
    for bucket, key, path in todo:
        client.fput_object(bucket, key, str(path), progress=meter)
        result.bytes += path.stat().st_size
        if key in manifests:  # the manifest goes up after its file: a manifest means a whole file
            m = manifests[key]
            _put_json(client, bucket, m["key"], manifest(m["path"], m["version"]))
            result.versions.append(m["version"])
        else:
            result.bronze_files += 1
    if send_layers:
        result.layer_tables, as_of, built_at = push_layers(cfg, store, current, progress)
        _put_json(client, LAYER_BUCKETS["gold"], f"_sites/{store.site}.json",
                  {"site": store.site, "name": cfg.values["site"]["name"], "version": current,
                   "as_of": as_of.isoformat() if as_of else None, "built_at": built_at.isoformat(),
                   "pushed_at": datetime.now(timezone.utc).isoformat()})
    progress("push", total, total)
    return result


def _layers_version(store: Store) -> int | None:
    """The version the site's partitions of the Delta tables hold (None: never pushed)."""
    from minio.error import S3Error

    try:
        return _get_json(store.client, LAYER_BUCKETS["gold"], f"_sites/{store.site}.json").get("version")
    except S3Error:
        return None


def _get_json(client, bucket: str, key: str) -> dict:
    response = client.get_object(bucket, key)
    try:
        return json.loads(response.read())
    finally:
        response.close()
        response.release_conn()


def _put_json(client, bucket: str, key: str, data: dict) -> None:
    import io

    body = json.dumps(data, indent=1).encode()
    client.put_object(bucket, key, io.BytesIO(body), len(body), content_type="application/json")


def _bronze_files(cfg: Config, current: int | None) -> list[Path]:
    """The bronze files the serving version was built from (orphans of a killed build are not sent)."""
    if current is None:
        return []
    con = connect(publish.version_file(cfg.warehouse, current), read_only=True)
    try:
        lake = Lake(cfg.lake)
        paths = [lake.resolve(p) for (p,) in con.execute(
            "SELECT bronze_path FROM meta.source_files WHERE status = 'loaded' AND bronze_path IS NOT NULL").fetchall()]
    finally:
        con.close()
    return [p for p in paths if p.exists()]


# -- state, for status -----------------------------------------------------------------------------

def _save_state(cfg: Config, ok: bool, error: str | None = None, result: PushResult | None = None) -> None:
    if not cfg.warehouse.is_dir():
        return
    path = cfg.warehouse / STATE_FILE
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        state = {}
    now = datetime.now(timezone.utc).isoformat()
    state.update({"endpoint": cfg.values["remote"]["endpoint"], "last_attempt": now, "ok": ok, "error": error})
    if ok:
        state.update({"last_success": now, "synced_version": publish.current_version(cfg.warehouse)})
    atomic_write(path, json.dumps(state, indent=1))


def state_lines(cfg: Config) -> list[str]:
    """What `status` says about the remote store (nothing when none is configured)."""
    if not configured(cfg):
        return []
    try:
        state = json.loads((cfg.warehouse / STATE_FILE).read_text())
    except (OSError, ValueError):
        return [f"remote      {cfg.values['remote']['endpoint']}: nothing pushed yet (`nova-pipeline push`)"]
    synced = state.get("synced_version")
    waiting = [v for v in publish.versions(cfg.warehouse) if synced is None or v > synced]
    if state.get("ok") and not waiting:
        return [f"remote      {state['endpoint']}: in sync at v{synced} (pushed {state['last_success'][:19]})"]
    line = f"remote      {state['endpoint']}: {', '.join(f'v{v}' for v in waiting) or 'nothing'} not sent yet"
    if not state.get("ok"):
        line += f"; last attempt {state['last_attempt'][:19]} failed: {state['error']}"
    return [line, "            the next build or `nova-pipeline push` sends it"]


# -- pull ----------------------------------------------------------------------------------------

def pull(cfg: Config, dest: Path, version: int | None = None, progress: Progress = silent) -> tuple[dict, Path]:
    """Download a version (the newest by default), verify its sha256, and only then put it at dest."""
    store = open_store(cfg)
    try:
        return _pull(store, dest, version, progress)
    except (RemoteError, OSError):
        raise
    except Exception as exc:
        raise RemoteError(f"remote store {store.endpoint}: {_why(exc)}") from None


def _pull(store: Store, dest: Path, version: int | None, progress: Progress) -> tuple[dict, Path]:
    client = store.client
    if not client.bucket_exists(store.bucket):
        raise RemoteError(f"bucket {store.bucket} does not exist on {store.endpoint}: nothing has been pushed there")
    held = sorted(int(k.split("nova_v")[1][:6]) for k in store.keys(store.bucket, store.versions_prefix)
                  if k.endswith(".manifest.json"))
    if not held:
        raise RemoteError(f"no version of site {store.site} in {store.bucket} on {store.endpoint} yet")
    wanted = held[-1] if version is None else version
    if wanted not in held:
        raise RemoteError(f"v{wanted} is not in the remote store (it holds v{held[0]}–v{held[-1]}, {len(held)} versions)")
    name = f"nova_v{wanted:06d}"
    info = _get_json(client, store.bucket, f"{store.versions_prefix}{name}.manifest.json")
    target = dest / f"{name}.duckdb" if dest.is_dir() else dest
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    digest, done = hashlib.sha256(), 0
    response = client.get_object(store.bucket, f"{store.versions_prefix}{name}.duckdb")
    try:
        with open(tmp, "wb") as out:
            for chunk in response.stream(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                progress("pull", done, info["size"])
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        response.close()
        response.release_conn()
    if done != info["size"] or digest.hexdigest() != info["sha256"]:
        tmp.unlink(missing_ok=True)
        raise RemoteError(
            f"v{wanted} in the store does not match its manifest (sha256 {digest.hexdigest()[:16]}…, {done} bytes; "
            f"manifest {info['sha256'][:16]}…, {info['size']} bytes): refused, {target} was not touched. "
            f"Push it again from the plant server, or pull another version with --version")
    os.replace(tmp, target)
    fsync_dir(target.parent)
    return info, target


def site_records(store: Store) -> list[dict]:
    """Every site that has pushed its layers: nova-gold/_sites/<site>.json."""
    return [_get_json(store.client, LAYER_BUCKETS["gold"], key)
            for key in sorted(store.keys(LAYER_BUCKETS["gold"], "_sites/"))]


def layer_tables(store: Store, layer: str) -> list[str]:
    """The Delta tables of a layer in the store."""
    return sorted({k.split("/")[0] for k in store.keys(LAYER_BUCKETS[layer]) if not k.startswith("_sites/")})
