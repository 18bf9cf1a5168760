"""The ``lamptop`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from console import __version__
from console.commands.remote_flags import add_remote_flags, with_remote_flags
from console.core.config import Config, ConfigError, load, parse_log_arg
from console.core.events import LOG_KINDS
from console.core.gctune import tune_gc
from console.incident.rules import RuleError

EPILOG = """\
commands:
  lamptop                     the live console (finds logs and mod_status by itself)
  lamptop demo                the console over a built-in simulated incident
  lamptop open BUNDLE         a saved snapshot bundle in the console, read-only
  lamptop sources [--json]    what lamptop will watch, and what it cannot see and why
  lamptop record              the flight recorder without a screen: bundles on spikes
  lamptop parse FILE          print the records lamptop reads from a log, one JSON per line

examples:
  lamptop
  lamptop demo --speed 2
  lamptop --status http://127.0.0.1:8080/server-status --log /srv/app/php.log=php-error
  lamptop --fpm-status unix:/run/php/php8.2-fpm.sock:/fpm-status sources
  lamptop sources
  lamptop --mysql unix:/run/mysqld/mysqld.sock --mysql-user lamptop
  lamptop record --duration 3600 --bundle-on-exit
  lamptop record --metrics 127.0.0.1:9177
  lamptop --remote web1 --remote web2
  lamptop --remote web1 --remote web2 --no-local --remote-command /opt/lamptop/bin/lamptop
  lamptop parse /var/log/apache2/access.log --kind apache-access | head

The config file is $XDG_CONFIG_HOME/lamptop/config.toml (see the README). The status
password comes from the config file or LAMPTOP_STATUS_PASSWORD, never from a flag; the
MySQL password from ~/.my.cnf [client], the config file or LAMPTOP_MYSQL_PASSWORD.
"""


def _watch_flags(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """The flags of every command that watches. On a subcommand they default to "not given",
    so that ``lamptop --status URL sources`` and ``lamptop sources --status URL`` agree."""
    g = p.add_argument_group("what to watch")
    kw: dict[str, Any] = {"default": argparse.SUPPRESS} if sub else {}
    g.add_argument(
        "--log",
        action="append",
        metavar="PATH[=KIND]",
        help=f"follow this log too (repeatable); KIND is one of: {', '.join(LOG_KINDS)}",
        **kw,
    )
    g.add_argument("--status", metavar="URL", help="mod_status URL (default: discovered)", **kw)
    g.add_argument(
        "--mysql",
        metavar="TARGET",
        help="MySQL/MariaDB server: unix:/run/mysqld/mysqld.sock or mysql://user@host:3306 "
        "(default: the socket my.cnf names); no password here",
        **kw,
    )
    g.add_argument(
        "--mysql-user",
        metavar="USER",
        help="MySQL user (default: ~/.my.cnf [client] user, else the login name)",
        **kw,
    )
    g.add_argument(
        "--fpm-status",
        action="append",
        metavar="TARGET",
        help="a PHP-FPM pool's status page (repeatable; default: every pool discovered): "
        "http://127.0.0.1/fpm-status, unix:/run/php/php8.2-fpm.sock:/fpm-status or "
        "tcp:127.0.0.1:9000:/fpm-status",
        **kw,
    )
    g.add_argument("--config", metavar="FILE", help="config file (default: XDG config path)", **kw)
    g.add_argument(
        "--no-discover",
        action="store_true",
        help="watch only what --log, --status and the config file name",
        **kw,
    )
    g.add_argument("--timezone", metavar="ZONE", help="zone of log times written without one", **kw)
    g.add_argument("--snapshot-dir", metavar="DIR", help="where snapshot bundles are saved", **kw)
    g.add_argument(
        "--redact",
        action="store_true",
        help="mask client IPs, query strings and basic-auth users on screen and in bundles",
        **kw,
    )
    g.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the status URL's HTTPS certificate",
        **kw,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lamptop",
        description="Live incident console for LAMP servers: the Apache scoreboard, memory and "
        "every log interleaved, with a flight recorder.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lamptop {__version__}")
    _watch_flags(parser)
    add_remote_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p_sources = sub.add_parser(
        "sources",
        help="list what lamptop will watch and the state of each source",
        description="List the logs and the status URL lamptop will watch, found or not, "
        "readable or not and why. Exits 1 when nothing at all can be read.",
        epilog="examples:\n  lamptop sources\n  lamptop sources --json | jq .",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _watch_flags(p_sources, sub=True)
    add_remote_flags(p_sources, sub=True)
    p_sources.add_argument("--json", action="store_true", help="print JSON")
    p_sources.add_argument(
        "--no-probe", action="store_true", help="do not ask the status URL whether it answers"
    )

    p_demo = sub.add_parser(
        "demo",
        help="the console over a built-in simulated incident (no LAMP server needed)",
        description="Runs the console over a simulated outage that goes through lamptop's "
        "real code paths: a loopback HTTP server answering like mod_status, log files "
        "written to a temp dir (removed on exit) and a simulated memory source. One PHP "
        "script, requested again and again, fills the workers and the memory; a spike rule "
        "saves a bundle; the server recovers; the story loops.",
        epilog="examples:\n  lamptop demo\n  lamptop demo --seed 7 --speed 3",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_demo.add_argument("--seed", type=int, default=1, help="makes the story repeatable")
    p_demo.add_argument(
        "--speed", type=float, default=1.0, help="play the story faster (2 = twice as fast)"
    )
    p_demo.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="config file (keys, rules)"
    )
    p_demo.add_argument(
        "--snapshot-dir", metavar="DIR", default=argparse.SUPPRESS, help="where bundles go"
    )

    p_open = sub.add_parser(
        "open",
        help="show a saved snapshot bundle in the console, read-only",
        description="Shows a bundle written by the console, lamptop record or a spike rule, "
        "in the same console. Filters, details and toggles work; nothing is collected.",
        epilog="examples:\n"
        "  lamptop open ~/.local/state/lamptop/snapshots/20261126T150630Z-web1-key",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_open.add_argument(
        "bundle",
        metavar="BUNDLE",
        help="bundle directory or its snapshot.json, or a stream saved by record --stream",
    )
    p_open.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="config file (keys)"
    )
    p_open.add_argument(
        "--redact",
        action="store_true",
        default=argparse.SUPPRESS,
        help="mask client IPs, query strings and basic-auth users on screen",
    )

    p_record = sub.add_parser(
        "record",
        help="run sources and spike rules without a screen; save bundles on spikes",
        description="The flight recorder without a screen, for tmux, systemd or cron. "
        "Prints one line per event (started, source state changes, rule fired, bundle "
        "path) and exits cleanly on SIGINT or SIGTERM.",
        epilog="examples:\n"
        "  lamptop record\n"
        "  lamptop record --duration 600 --bundle-on-exit --snapshot-dir /var/tmp/lamptop",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _watch_flags(p_record, sub=True)
    p_record.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop by itself after this long"
    )
    p_record.add_argument(
        "--bundle-on-exit", action="store_true", help="save a last bundle when stopping"
    )
    p_record.add_argument(
        "--metrics",
        metavar="HOST:PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (e.g. 127.0.0.1:9177)",
    )
    p_record.add_argument(
        "--stream",
        action="store_true",
        help="write what this host sees to stdout as JSON lines, for a remote console or a "
        "file that lamptop open reads (docs/stream.md); other lines go to stderr",
    )

    p_parse = sub.add_parser(
        "parse",
        help="print the records lamptop reads from a log file, as JSON lines",
        description="Parse FILE and print one JSON object per record (ts, kind, level, "
        "text, fields, lines). Use it to check that lamptop reads your logs.",
        epilog="examples:\n"
        "  lamptop parse /var/log/apache2/error.log\n"
        "  lamptop parse access.log --format '%h %l %u %t \"%r\" %>s %b %D'\n"
        "  lamptop parse status.txt --kind mod-status",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_parse.add_argument("file", metavar="FILE", help="log file, or - for standard input")
    p_parse.add_argument(
        "--kind", choices=(*LOG_KINDS, "mod-status"), help="format (default: detected)"
    )
    p_parse.add_argument("--format", metavar="LOGFORMAT", help="Apache LogFormat of the file")
    p_parse.add_argument("--timezone", metavar="ZONE", help="zone of times written without one")
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    overrides: dict[str, Any] = {
        "logs": tuple(parse_log_arg(a) for a in getattr(args, "log", []) or []),
        "status_url": getattr(args, "status", None),
        "fpm_status": getattr(args, "fpm_status", None),
        "timezone": getattr(args, "timezone", None),
        "snapshot_dir": getattr(args, "snapshot_dir", None),
        "mysql": getattr(args, "mysql", None),
        "mysql_user": getattr(args, "mysql_user", None),
        "metrics": getattr(args, "metrics", None),
    }
    if getattr(args, "no_discover", False):
        overrides["discover"] = False
    if getattr(args, "redact", False):
        overrides["redact"] = True
    if getattr(args, "insecure", False):
        overrides["status_verify"] = False
    for target in overrides["fpm_status"] or ():
        if "://" in target and "@" in target.split("//", 1)[-1].split("/", 1)[0]:
            print(
                "lamptop: warning: a password in --fpm-status is visible to every user in `ps`; "
                "put the target in the config file instead",
                file=sys.stderr,
            )
    url = overrides["status_url"]
    if url and "@" in url.split("//", 1)[-1].split("/", 1)[0]:
        print(
            "lamptop: warning: a password in --status is visible to every user in `ps`; "
            "put it in the config file or LAMPTOP_STATUS_PASSWORD instead",
            file=sys.stderr,
        )
    return with_remote_flags(load(getattr(args, "config", None), overrides=overrides), args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "parse":
            from console.commands.parse import cmd_parse

            return cmd_parse(args)
        cfg = config_from_args(args)
        for warning in cfg.warnings:
            print(f"lamptop: warning: {warning}", file=sys.stderr)
        if args.command == "sources":
            from console.commands.sources import cmd_sources

            return cmd_sources(cfg, as_json=args.json, probe=not args.no_probe)
        if args.command == "demo":
            from console.commands.demo import run_demo

            if args.speed <= 0:
                print("lamptop: --speed must be greater than 0", file=sys.stderr)
                return 2
            return run_demo(cfg, seed=args.seed, speed=args.speed)
        if args.command == "open":
            from console.commands.open import run_open

            return run_open(cfg, args.bundle)
        if args.command == "record" and args.stream:
            from console.commands.stream import run_stream

            return run_stream(cfg, duration=args.duration, bundle_on_exit=args.bundle_on_exit)
        if args.command == "record":
            import asyncio

            from console.commands.record import record

            tune_gc()
            return asyncio.run(
                record(cfg, duration=args.duration, bundle_on_exit=args.bundle_on_exit)
            )
        if cfg.remotes:
            from console.commands.remote import run_remote

            return run_remote(cfg)
        from console.commands.live import run_console

        return run_console(cfg)
    except (ConfigError, RuleError) as exc:
        print(f"lamptop: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


if __name__ == "__main__":
    raise SystemExit(main())
