"""nova-pipeline: parse arguments, call the library, map its errors to messages and exit codes."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .errors import NovaError

DESCRIPTION = """\
Nova Corrente plant pipeline. Drops (ERP CSV exports in `landing`, ML forecast Parquet in
`ml_drops`) are landed in a bronze archive, silver and gold are rebuilt with DuckDB, checked,
and published as one versioned warehouse file: warehouse/current.duckdb.
"""
EPILOG = """\
exit codes: 0 ok (published, or nothing new), 1 error, 2 a blocking check stopped publication,
75 another build holds the lock (try again when it ends).
config lookup: --config PATH, $NOVA_CONFIG, ./config.toml, /etc/nova/config.toml.
"""


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} level={record.levelname.lower()} {record.getMessage()}"


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger("nova")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nova-pipeline", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", metavar="PATH", help="config file (default: see lookup order below)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    build = sub.add_parser("build", help="land every new drop, rebuild, check and publish a new version once",
                           description="Land every drop not yet processed, rebuild silver and gold, run the checks and "
                                       "publish a new version. Exit 0 when it published or found nothing new, 1 on error, "
                                       "2 when a blocking check stopped publication (the previous version keeps serving).")
    build.add_argument("--full", action="store_true",
                       help="rebuild silver from every bronze file and publish, even with nothing new (after an "
                            "upgrade, a restore, or when in doubt); normally only what changed is recomputed")
    build.add_argument("--hold", metavar="PATH", action="append", default=[],
                       help="leave this file for a later build (watch passes files still being written)")
    sub.add_parser("watch", help="daemon: build whenever complete drops arrive (systemd Type=notify)",
                   description="Watch landing/ and ml_drops/ (inotify, or polling with [watch] polling = true), "
                               "take each file once its size and mtime are stable for [watch] settle_seconds, "
                               "coalesce bursts, and run one build at a time. Rescans every [watch] rescan_seconds. "
                               "Speaks the systemd notify protocol when $NOTIFY_SOCKET is set. SIGTERM/SIGINT: "
                               "stops within 10 s, abandoning a build in flight safely; exit 0.")
    status = sub.add_parser("status", help="current version, as-of date, last build, sources and rejects, in plain text")
    status.add_argument("--check", action="store_true",
                        help="one line for monitoring; exit 0 OK, 1 WARNING, 2 CRITICAL (Nagios convention)")
    rollback = sub.add_parser("rollback", help="point current at an older version (e.g. `rollback v12`)",
                              description="Make an older, retained version current again and record it in its "
                                          "meta.build.rolled_back_from. The next build publishes on top of it.")
    rollback.add_argument("version", help="version to serve, as vN or N")
    verify = sub.add_parser("verify", help="check a warehouse file's bytes and re-run its checks (exit 0/1)",
                            description="Compare the file with the sha256 recorded beside it when it was published "
                                        "(nova_vNNNNNN.duckdb.sha256); a file without one (an older version, a renamed "
                                        "copy) has every block of every table read back instead. Then re-run the "
                                        "checks. `verify FILE` needs no config file.")
    verify.add_argument("file", nargs="?", help="warehouse file (default: warehouse/current.duckdb)")
    fetch = sub.add_parser(
        "fetch-external", help="fetch the public series (Selic, PTAX, IPCA, weather) into landing/external",
        description="Ask Banco Central (SGS 432 Selic, Olinda PTAX USD), IBGE SIDRA (1737/63 IPCA) and the "
                    "Open-Meteo archive (hourly weather at [external] latitude/longitude) for what is new: from "
                    "7 days before the last day the warehouse holds of each series, or from [external] start_date. "
                    "Each answer is written as received to landing/external/ (temporary name, then rename); the "
                    "daemon or `build` ingests it. Up to 3 attempts per request on connection errors, timeouts, "
                    "5xx and 429 (Retry-After honoured). The only command that uses the network.",
        epilog="exit codes: 0 every provider answered, 1 at least one failed (one line each on stderr; the others "
               "are landed, the lake and the warehouse are not touched).")
    fetch.add_argument("--only", metavar="NAME", action="append", choices=("selic", "ptax", "ipca", "weather"),
                       help="fetch only this series (repeatable): selic, ptax, ipca or weather")
    fetch.add_argument("--timeout", metavar="SECONDS", type=float, default=10.0,
                       help="per-request timeout (default 10)")
    sub.add_parser("push", help="send to the remote store what it lacks: versions, manifests, bronze, silver/gold",
                   description="Send every retained version the [remote] store lacks (file, then its manifest with "
                               "sha256, size, built_at and as_of), the bronze files as they lie in the lake "
                               "(bucket nova-bronze, under the [site] id), and each silver and gold table of the "
                               "current version into its Delta table (nova-silver, nova-gold), replacing this "
                               "site's partition in one commit. Every build does this by itself when [remote] "
                               "endpoint is set; push catches up after the store was down. Credentials: "
                               "$NOVA_S3_ACCESS_KEY and $NOVA_S3_SECRET_KEY.")
    sub.add_parser("company-build", help="publish a company warehouse from every site's gold Delta tables in the store",
                   description="Read every site's gold tables from the [remote] store's Delta tables and publish one "
                               "company warehouse file with the plant's rules (temp file, checks, versions, current) "
                               "into [paths] warehouse: a site column on every gold table, meta.sites (each site's "
                               "version, as-of and push time) and gold.transfer_candidates (stock another plant can "
                               "spare for an item below its reorder point). Open it with nova-tui like any version.")
    pull = sub.add_parser("pull", help="download a version from the remote store, verified by its sha256",
                          description="Download the newest version (or --version N) from the [remote] store to DEST "
                                      "(a file, or a folder where it is saved as nova_vNNNNNN.duckdb). It is written "
                                      "under a temporary name and only replaces DEST once its sha256 and size match "
                                      "the manifest. Needs only [remote] in the config file and the credentials in "
                                      "$NOVA_S3_ACCESS_KEY and $NOVA_S3_SECRET_KEY.")
    pull.add_argument("dest", help="file or folder to save the version to")
    pull.add_argument("--version", metavar="N", help="which version (vN or N; default: the newest in the store)")
    sub.add_parser("export", help="write the gold tables to exports/ as Parquet and Excel-ready CSV, with a README",
                   description="Write every gold table of the current version to exports/gold_vNNNNNN/ as Parquet "
                               "and as CSV for Excel in Brazil (; separator, decimal comma, UTF-8 with BOM; text "
                               "that would start a formula gets a leading '), with a README of the tables.")
    demo = sub.add_parser("demo", help="lay out a site with the bundled real data and build it",
                          description="Create DIR with a config.toml, the real supplies export, a stock snapshot "
                                      "and an ML forecast drop, then build it. Open it with "
                                      "`nova-tui --config DIR/config.toml`.")
    demo.add_argument("dir", nargs="?", default="demo-site", help="site folder to create (default: demo-site)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    setup_logging()
    try:
        return _dispatch(args)
    except NovaError as exc:
        print(f"nova-pipeline: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("nova-pipeline: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # unexpected: one line for the operator, the traceback on request
        if os.environ.get("NOVA_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"nova-pipeline: unexpected error: {first} (set NOVA_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 1


def _dispatch(args) -> int:
    from .config import load_config

    if args.command == "demo":
        from .demo import make_demo

        cfg = make_demo(args.dir)
        return _build(cfg)
    if args.command == "verify" and args.file and not args.config and not os.environ.get("NOVA_CONFIG"):
        from .status import verify  # an analyst's copy: no config file needed

        ok, lines = verify(None, args.file)
        print("\n".join(lines))
        return 0 if ok else 1
    cfg = load_config(args.config)
    setup_logging(cfg.get("log", "level"))
    if args.command == "build":
        return _build(cfg, frozenset(Path(p).resolve() for p in args.hold), args.full)
    if args.command == "watch":
        from .watch import Watcher

        return Watcher(cfg).run()
    if args.command == "fetch-external":
        return _fetch(cfg, tuple(args.only or ()), args.timeout)
    if args.command in ("push", "pull", "export", "company-build"):
        return _transfer(cfg, args)
    if args.command == "status" and args.check:
        from .operate import check

        code, line = check(cfg)
        print(line)
        return code
    if args.command == "rollback":
        from .operate import rollback

        try:
            number = int(args.version.lower().removeprefix("v"))
        except ValueError:
            raise NovaError(f"{args.version!r} is not a version; write it as v12 or 12") from None
        print(rollback(cfg, number))
        return 0
    if args.command == "status":
        from .status import status_text

        print(status_text(cfg))
        return 0
    if args.command == "verify":
        from .status import verify

        ok, lines = verify(cfg, args.file)
        print("\n".join(lines))
        return 0 if ok else 1
    raise AssertionError(args.command)


def _fetch(cfg, only: tuple[str, ...], timeout: float) -> int:
    from .fetch import fetch_external

    if timeout <= 0:
        raise NovaError("--timeout must be a number of seconds above 0")
    if cfg.get("log", "level") != "debug":
        logging.getLogger("nova.fetch").setLevel(logging.WARNING)  # the lines below say it all
    outcomes = fetch_external(cfg, only, timeout)
    site = cfg.source.parent if cfg.source else Path.cwd()
    for outcome in outcomes:
        if outcome.error:
            print(f"nova-pipeline: fetch-external: {outcome.line(site)}", file=sys.stderr)
        else:
            print(outcome.line(site))
    failed = sum(1 for o in outcomes if o.error)
    if not failed:
        print(f"fetched {len(outcomes)} series; run `nova-pipeline build` (the daemon does it by itself)")
    return 1 if failed else 0


def _build(cfg, hold: frozenset = frozenset(), full: bool = False) -> int:
    from .progress import reporter
    from .run import run_build

    with reporter() as progress:
        out = run_build(cfg, progress, hold, full, progress)
    for drop in out.new_drops:
        extra = f" — {drop['reason']}" if drop.get("reason") else ""
        print(f"  {drop['status']:<9} {drop['file']}{extra}")
    if out.outcome in ("published", "nothing_new"):
        print(out.message)
    else:
        print(f"nova-pipeline: {out.message}", file=sys.stderr)
    if out.push:
        print(out.push)
    if out.push_error:
        print(f"nova-pipeline: {out.push_error}", file=sys.stderr)
    return out.exit_code


def _transfer(cfg, args) -> int:
    from .progress import reporter

    with reporter() as progress:
        if args.command == "push":
            from .remote import push

            print(push(cfg, progress).message)
        elif args.command == "company-build":
            from .company import company_build

            result = company_build(cfg, progress)
            print(f"published company v{result.version}: {len(result.sites)} site(s) "
                  f"({', '.join(s['site'] + ' v' + str(s['version']) for s in result.sites)}), {result.tables} gold "
                  f"table(s) in {result.seconds:.1f} s")
        elif args.command == "pull":
            from .remote import pull

            number = None
            if args.version:
                try:
                    number = int(args.version.lower().removeprefix("v"))
                except ValueError:
                    raise NovaError(f"{args.version!r} is not a version; write it as v12 or 12") from None
            info, target = pull(cfg, Path(args.dest), number, progress)
            print(f"pulled v{info['version']} (as of {info['as_of']}, built {info['built_at'][:16]}, "
                  f"{info['size'] / 1e6:,.1f} MB) to {target}; sha256 verified")
            print(f"open it with: nova-tui --warehouse {target}")
        else:
            from .export import export

            folder, counts = export(cfg, progress)
            print(f"exported {len(counts)} gold tables ({sum(n for _, n in counts):,} rows) to {folder}: "
                  "Parquet, Excel CSV and README.md")
    return 0
