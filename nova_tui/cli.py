"""`nova-tui`: open the dashboard, or print its lists (`report`). Parses arguments, maps errors to exits."""
from __future__ import annotations

import argparse
import sys

from .config import ConfigError, load_config
from .report import REPORTS, report
from .warehouse import Target, WarehouseProblem

EPILOG = """\
keys: 1 Overview · 2 Reorder · 3 Forecast · 4 Freshness · / filter · enter details ·
      e export CSV · r refresh · ? help · ctrl+p command palette · q quit
The dashboard opens the warehouse read-only and follows new versions by itself.
examples:
  nova-tui                                 the current version named by ./config.toml
  nova-tui --version 12                    an older version, kept by retention
  nova-tui --warehouse copy.duckdb         a copy received by mail
  nova-tui report reorder --format csv     the reorder list for cron/mail (exit 1 on error)"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nova-tui", description="Nova Corrente operators' dashboard (read-only).",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="PATH", help="config file (default: $NOVA_CONFIG, ./config.toml, /etc/nova/config.toml)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--warehouse", metavar="FILE", help="open this warehouse file instead of the current version")
    which.add_argument("--version", metavar="N", type=int, help="open version N from the warehouse folder")
    p.add_argument("--screen", choices=("overview", "reorder", "forecast", "freshness"), default="overview",
                   help="screen to start on (default: overview)")
    sub = p.add_subparsers(dest="command", metavar="report")
    r = sub.add_parser("report", help="print the reorder or freshness list without the UI",
                       description="Print a list as the dashboard shows it; text for people, csv for Excel, json for scripts.")
    r.add_argument("list", choices=REPORTS)
    r.add_argument("--format", choices=("text", "csv", "json"), default="text")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"nova-tui: {exc}", file=sys.stderr)
        return 2
    target = Target.choose(cfg, args.warehouse, args.version)
    if args.command == "report":
        try:
            sys.stdout.write(report(cfg, target, args.list, args.format) + "\n")
        except WarehouseProblem as problem:
            print(f"nova-tui: {problem.title}: {problem.detail}. {problem.hint}", file=sys.stderr)
            return 1
        return 0
    from .app import make_app  # Textual only loads when the UI is wanted

    make_app(cfg, target, args.screen).run()
    return 0
