"""`nova-tui`: open the dashboard, or print its lists (`report`). Parses arguments, maps errors to exits."""
from __future__ import annotations

import argparse
import dataclasses
import sys

from .config import ConfigError, load_config
from .report import REPORTS, report
from .warehouse import Target, WarehouseProblem

SCREENS = ("overview", "reorder", "forecast", "freshness", "changes", "suppliers", "context")

EPILOG = """\
keys: 1 Overview · 2 Reorder · 3 Forecast · 4 Freshness · 5 Changes · 6 Suppliers · 7 Context ·
      / filter · enter ·
      s sort · h hide ok · c copy item · e export CSV · r refresh · ? help · ctrl+p palette · q quit
The dashboard opens the warehouse read-only and follows new versions by itself. It remembers the
last screen, the reorder list's filter and sort, and the theme in $XDG_STATE_HOME/nova/tui.json
(~/.local/state/nova/tui.json); --no-state starts clean and saves nothing.
Times are plant time (America/Bahia) with their UTC offset, as in `nova-pipeline status`.
examples:
  nova-tui                                  the current version named by ./config.toml
  nova-tui --config demo-site/config.toml   the demo made by `make demo`
  nova-tui --version 12                     an older version, kept by retention
  nova-tui --warehouse copy.duckdb          a copy received by mail
  nova-tui report reorder --format csv      the reorder list for cron/mail (exit 1 on error)
  nova-tui report changes --config /etc/nova/config.toml
                                            what changed since the previous version
  nova-tui report replay                    does the method keep its promise, per class and item"""


def common(p: argparse.ArgumentParser, suppress: bool) -> None:
    """--config, --warehouse and --version, accepted before or after `report LIST`."""
    default = {"default": argparse.SUPPRESS} if suppress else {}
    p.add_argument("--config", metavar="PATH", help="config file (default: $NOVA_CONFIG, ./config.toml, /etc/nova/config.toml)",
                   **default)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--warehouse", metavar="FILE", help="open this warehouse file instead of the current version", **default)
    which.add_argument("--version", metavar="N", type=int, help="open version N from the warehouse folder", **default)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nova-tui", description="Nova Corrente operators' dashboard (read-only).",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(p, suppress=False)
    p.add_argument("--screen", choices=SCREENS, default=None,
                   help="screen to start on (default: the last one used, else overview)")
    p.add_argument("--no-state", action="store_true", help="neither read nor save the remembered screen, filter and sort")
    sub = p.add_subparsers(dest="command", metavar="report")
    r = sub.add_parser("report", help="print a list without the UI: " + ", ".join(REPORTS),
                       description="Print a list as the dashboard shows it; text for people, csv for Excel, json for "
                                   "scripts. reorder: the decision list, most urgent first; changes: what changed "
                                   "since the previous version; replay: does the reorder method keep its promised "
                                   "service level, per demand class and item, and forecast accuracy per model and "
                                   "class; trend: stockouts per stock snapshot and status counts per version; "
                                   "freshness: sources and rejected files.")
    r.add_argument("list", choices=REPORTS)
    r.add_argument("--format", choices=("text", "csv", "json"), default="text")
    common(r, suppress=True)
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
    from . import state
    from .app import make_app  # Textual only loads when the UI is wanted

    if not args.no_state:
        cfg = dataclasses.replace(cfg, state_file=state.default_path())
    make_app(cfg, target, args.screen).run()
    return 0
