"""The silver and gold layers as Delta tables in the remote store (delta-rs), one partition per site.

A push replaces its own site's partition of each table in one commit (an overwrite with the
predicate site = '<id>', streamed from DuckDB through the Arrow C stream, no pandas); readers see
whole commits, and the table's history gives time travel to any earlier push. A commit that races
another plant's is retried with backoff (delta-rs reports the conflict; the S3 gateway's conditional
PUT makes the commit itself safe without a lock). The store's layout is in nova_pipeline/remote.py.
"""
from __future__ import annotations

import logging
import time

from . import publish
from .config import Config
from .db import connect
from .progress import Progress
from .remote import LAYER_BUCKETS, RemoteError, Store

log = logging.getLogger("nova.remote")

COMMIT_RETRIES = 8  # a commit racing another plant's is retried with backoff (0.2 s doubling, with jitter)


def delta_uri(layer: str, table: str) -> str:
    return f"s3://{LAYER_BUCKETS[layer]}/{table}"


def push_layers(cfg: Config, store: Store, current: int, progress: Progress) -> tuple[int, object, object]:
    """Each silver and gold table of the current version into its Delta table: the site's partition
    replaced in one commit per table, streamed from DuckDB (Arrow C stream), retried when it races.
    Returns the number of tables and the version's as-of date and build time (for _sites/<site>.json)."""
    con = connect(publish.version_file(cfg.warehouse, current), read_only=True)
    try:
        as_of, built_at = con.execute("SELECT as_of, built_at FROM meta.build").fetchone()
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                             "WHERE schema_name IN ('silver', 'gold') ORDER BY 1, 2").fetchall()
        for i, (schema, table) in enumerate(tables):
            progress("delta", i, len(tables))
            began = time.monotonic()
            written = write_site_partition(con, store, schema, table, f"{schema}.{table}")
            log.debug("event=delta_pushed table=%s.%s version=%d seconds=%.2f", schema, table, written,
                      time.monotonic() - began)
        progress("delta", len(tables), len(tables))
    finally:
        con.close()
    return len(tables), as_of, built_at


def write_site_partition(con, store: Store, layer: str, table: str, source: str, site: str | None = None) -> int:
    """Replace one site's partition of a Delta table with the rows of `source` (a table or a
    parenthesised query), a `site` column first; create the table first when it does not exist.
    Returns the table version written."""
    import random

    from deltalake import DeltaTable, write_deltalake
    from deltalake.exceptions import CommitFailedError, DeltaError

    site = site or store.site  # a validated slug ([a-z0-9-]): safe inside the SQL literal
    uri, options = delta_uri(layer, table), store.delta_options
    select = f"SELECT '{site}' AS site, * FROM {source}"
    for attempt in range(COMMIT_RETRIES + 1):
        try:
            if not DeltaTable.is_deltatable(uri, storage_options=options):
                # created once, empty, before any data: first writers racing on data would race on metadata
                write_deltalake(uri, con.sql(f"{select} WHERE false"), partition_by=["site"], mode="append",
                                storage_options=options)
            write_deltalake(uri, con.sql(select), partition_by=["site"], mode="overwrite", predicate=f"site = '{site}'",
                            schema_mode="merge", storage_options=options)
            return DeltaTable(uri, storage_options=options).version()
        except (CommitFailedError, DeltaError) as exc:
            text = str(exc).lower()
            retryable = isinstance(exc, CommitFailedError) or "concurrent" in text or "already exists" in text
            if attempt == COMMIT_RETRIES or not retryable:
                raise RemoteError(f"Delta table {uri}: {str(exc).splitlines()[0]}") from None
            time.sleep(0.2 * 2 ** min(attempt, 5) * (0.5 + random.random()))
    raise AssertionError("unreachable")
