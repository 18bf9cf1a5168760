"""``lamptop sources``: what lamptop will watch, and what it cannot see and why."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import stat
import sys
from collections.abc import Sequence
from typing import Any

from console.core.config import Config
from console.core.events import LogRecord, SourceState, StatusSample, SystemSample
from console.core.stack import FpmSample, MysqlSample
from console.sources import Poller
from console.sources.fpm.planned import PlannedFpm
from console.sources.plan import Plan, make_plan


def file_state(path: str) -> tuple[str, str]:
    """(state, detail) of a log path: found, missing, unreadable, not-a-file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "missing", "no such file (yet): lamptop will read it from its first line"
    except PermissionError:
        return "unreadable", "a folder on its path cannot be entered"
    except OSError as exc:
        return "error", exc.strerror or str(exc)
    if not stat.S_ISREG(st.st_mode):
        return "not-a-file", "not a regular file"
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        from console.sources.tail.lines import permission_hint

        return "unreadable", permission_hint(path, st)
    except OSError as exc:
        return "error", exc.strerror or str(exc)
    return "found", f"{st.st_size} bytes"


class _ProbeSink:
    def __init__(self) -> None:
        self.state: SourceState | None = None
        self.sample: StatusSample | None = None
        self.fpm: FpmSample | None = None
        self.mysql: MysqlSample | None = None

    def add_records(self, records: Sequence[LogRecord]) -> None:
        pass

    def add_status(self, sample: StatusSample) -> None:
        self.sample = sample

    def add_system(self, sample: SystemSample) -> None:
        pass

    def add_fpm(self, sample: FpmSample) -> None:
        self.fpm = sample

    def add_mysql(self, sample: MysqlSample) -> None:
        self.mysql = sample

    def set_state(self, state: SourceState) -> None:
        self.state = state


def probe_status(cfg: Config, url: str) -> tuple[str, str]:
    """Ask the status URL once: (status, what it said)."""
    from console.sources.status.poll import StatusPoller

    sink = _ProbeSink()
    auth = (cfg.status_user, cfg.status_password or "") if cfg.status_user else None
    poller = StatusPoller(url, sink, auth=auth, verify=cfg.status_verify)
    asyncio.run(poller.poll_once())
    if sink.sample is not None:
        s = sink.sample
        what = f"{s.server_version or 'Apache'} {s.mpm}, {s.busy} busy of {s.limit} slots"
        if not s.extended:
            what += "; ExtendedStatus is off, in-flight requests will not show"
        return "ok", what
    if sink.state is not None:
        return sink.state.status, sink.state.message
    return "error", "no answer"


def _once(poller: Poller) -> None:
    """One poll, then the poller let go of its connection (and of any request still waiting)."""

    async def once() -> None:
        try:
            await poller.poll_once()
        finally:
            poller.close()

    asyncio.run(once())


def probe_fpm(cfg: Config, pool: PlannedFpm) -> tuple[str, str, str]:
    """Ask a pool's status page once: (status, what it said, the fix when it failed)."""
    from console.sources.engine import fpm_poller

    sink = _ProbeSink()
    poller = fpm_poller(cfg, pool, sink)
    _once(poller)  # a request left waiting in a busy pool's queue ends with it
    if sink.fpm is not None:
        s = sink.fpm
        size = f" of pm.max_children {s.max_children}" if s.max_children else ""
        what = f"pool {s.pool} ({s.process_manager}), {s.active} active{size}, {s.idle} idle"
        if s.listen_queue:
            what += f", {s.listen_queue} waiting in its queue"
        return "ok", what, ""
    if sink.state is not None:
        return sink.state.status, sink.state.message, sink.state.hint
    return "error", "no answer", ""


def fpm_report(cfg: Config, plan: Plan, probe: bool) -> list[dict[str, Any]]:
    """Each pool: where it was found, where its status is read, and whether it answers."""
    out: list[dict[str, Any]] = []
    for pool in plan.fpm:
        item: dict[str, Any] = {
            "name": pool.name,
            "pool": pool.pool,
            "target": _shown_fpm(pool.target),
            "origin": pool.origin,
            "max_children": pool.max_children,
            "hint": "",
        }
        if probe:
            item["state"], item["detail"], item["hint"] = probe_fpm(cfg, pool)
        else:
            item["state"], item["detail"] = "unknown", "not asked (--no-probe)"
        out.append(item)
    for pool in plan.fpm_unpolled:
        out.append(
            {
                "name": pool.name,
                "pool": pool.pool,
                "target": None,
                "origin": pool.origin,
                "max_children": pool.max_children,
                "state": "no-status",
                "detail": pool.note,
                "hint": "",
            }
        )
    return out


def _shown_fpm(target: str) -> str:
    from console.sources.fpm.target import BadTarget, parse_target

    try:
        return str(parse_target(target))
    except BadTarget:
        return target


def probe_mysql(cfg: Config, plan: Plan) -> tuple[str, str, str]:
    """Ask the MySQL server once: (status, what it said, the hint)."""
    from console.sources.engine import mysql_poller

    if not plan.mysql:
        return (
            "missing",
            "no MySQL server found (no my.cnf, no socket at /run/mysqld/mysqld.sock)",
            "give --mysql unix:/path/to/mysqld.sock or --mysql mysql://user@host:3306",
        )
    if not plan.polls_mysql:
        return (
            "missing",
            f"no socket at {plan.mysql.removeprefix('unix:')}: is MariaDB running? "
            "(lamptop does not poll it)",
            "systemctl status mariadb; or point --mysql at the server",
        )
    sink = _ProbeSink()
    poller = mysql_poller(cfg, plan.mysql, plan.mysql_origin, sink)
    _once(poller)
    hint = sink.state.hint if sink.state is not None else ""
    login = poller.login
    if sink.mysql is not None:
        s = sink.mysql
        what = (
            f"{s.version}, {s.connected} of {s.max_connections} connections, "
            f"{len(s.running)} running"
        )
        if login is not None:
            what += f"; as '{login.user}' ({login.user_from})"
        return "ok", what, hint
    if sink.state is not None:
        return sink.state.status, sink.state.message, hint
    return "error", "no answer", ""


def _mysql_report(cfg: Config, plan: Plan, probe: bool) -> dict[str, Any]:
    shown = plan.mysql
    if plan.mysql:
        from console.core.mysqltarget import TargetError, parse_target

        try:
            shown = parse_target(plan.mysql).shown
        except TargetError:
            shown = "?"
    mysql: dict[str, Any] = {"target": shown, "origin": plan.mysql_origin}
    if probe or not plan.mysql or not plan.polls_mysql:
        mysql["state"], mysql["detail"], mysql["hint"] = probe_mysql(cfg, plan)
    else:
        mysql["state"], mysql["detail"], mysql["hint"] = "unknown", "not asked (--no-probe)", ""
    return mysql


def _shown_url(url: str | None) -> str | None:
    """The status URL as printed: without the ``user:password@`` it may carry."""
    if not url:
        return url
    from console.sources.status.http import split_url

    return split_url(url)[0]


def sources_report(cfg: Config, plan: Plan, probe: bool) -> dict[str, Any]:
    logs = []
    for log in plan.logs:
        state, detail = file_state(log.path)
        logs.append(
            {
                "name": log.name,
                "kind": log.kind,
                "path": log.path,
                "format": log.fmt,
                "origin": log.origin,
                "state": state,
                "detail": detail,
            }
        )
    status: dict[str, Any] = {
        "url": _shown_url(plan.status_url),
        "candidates": [_shown_url(u) for u in plan.status_candidates],
    }
    if plan.status_url and probe:
        status["state"], status["detail"] = probe_status(cfg, plan.status_url)
    elif plan.status_url:
        status["state"], status["detail"] = "unknown", "not asked (--no-probe)"
    else:
        status["state"], status["detail"] = "missing", "no status URL found: give --status URL"
    fpm = fpm_report(cfg, plan, probe)
    told = {item["detail"] for item in fpm if item["state"] == "no-status"}
    return {
        "logs": logs,
        "status": status,
        "fpm": fpm,
        "mysql": _mysql_report(cfg, plan, probe),
        "skipped": [{"path": p, "why": why} for p, why in plan.skipped],
        "notes": [note for note in plan.notes if note not in told],
        "local": cfg.local,
        "remotes": remotes_report(cfg),
    }


def remotes_report(cfg: Config) -> list[dict[str, Any]]:
    """Each remote host and the ssh command line that reaches it (not run here)."""
    from console.commands.remote_flags import argv_for

    return [
        {
            "dest": spec.dest,
            "command": spec.command or cfg.remote_command,
            "ssh": argv_for(cfg, spec),
        }
        for spec in cfg.remotes
    ]


def cmd_sources(cfg: Config, *, as_json: bool, probe: bool) -> int:
    plan = make_plan(cfg) if cfg.local else Plan(logs=(), status_url=None)
    report = sources_report(cfg, plan, probe)
    readable = any(item["state"] == "found" for item in report["logs"])
    readable = readable or report["status"]["state"] == "ok"
    readable = readable or any(item["state"] == "ok" for item in report["fpm"])
    readable = readable or report["mysql"]["state"] == "ok"
    readable = readable or not cfg.local  # only remote hosts: nothing here to read
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0 if readable else 1
    print("logs:")
    if not report["logs"]:
        print("  (none found: give --log PATH)")
    for i, item in enumerate(report["logs"], 1):
        key = str(i) if i <= 9 else " "
        print(f"  [{key}] {item['name']:<12} {item['kind']:<14} {item['state']:<10} {item['path']}")
        if item["state"] != "found":
            print(f"      {item['detail']}")
        if item["origin"]:
            print(f"      from {item['origin']}")
    my = report["mysql"]
    print("mysql:")
    print(f"  {my['target'] or '-'}  {my['state']}: {my['detail']}")
    if my["origin"]:
        print(f"      from {my['origin']}")
    if my["hint"]:
        print(f"      fix: {my['hint']}" if my["state"] != "ok" else f"      note: {my['hint']}")
    st = report["status"]
    print("status:")
    print(f"  {st['url'] or '-'}  {st['state']}: {st['detail']}")
    if report["fpm"]:
        print("php-fpm:")
    for item in report["fpm"]:
        print(f"  {item['name']:<14} {item['target'] or '-'}  {item['state']}: {item['detail']}")
        if item["hint"]:
            print(f"      fix: {item['hint']}")
        if item["origin"]:
            print(f"      from {item['origin']}")
    if report["remotes"]:
        print("remote hosts (over ssh):" + ("" if cfg.local else " (this host left out)"))
    for item in report["remotes"]:
        print(f"  {item['dest']:<14} {shlex.join(item['ssh'])}")
    for entry in report["skipped"]:
        print(f"skipped: {entry['path']}: {entry['why']}")
    for note in report["notes"]:
        print(f"note: {note}")
    if not readable:
        print("lamptop: nothing at all is readable here", file=sys.stderr)
    return 0 if readable else 1
