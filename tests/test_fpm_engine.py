"""The PHP-FPM source in the whole: found in a pool config, planned, run by the engine into the
recorder, listed and probed by ``lamptop sources``, chosen with ``--fpm-status``."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from console.cli import build_parser, config_from_args, main
from console.commands.sources import sources_report
from console.core.config import Config
from console.core.recorder import Recorder
from console.sources.engine import Engine
from console.sources.fpm.poll import FpmPoller
from console.sources.plan import make_plan
from tests.support.fpm_server import FpmServer
from tests.support.paths import FIXTURES
from tests.support.wait import async_wait_for

CORPUS = FIXTURES / "configs" / "php-fpm"


def tree_for(root: Path, fpm: FpmServer, *, api_status: bool = True) -> None:
    """A Debian tree whose pool www listens on the real php-fpm's socket (a link to it), and
    whose pool api has (or has not) a status path."""
    pool_d = root / "etc/php/8.2/fpm/pool.d"
    pool_d.mkdir(parents=True)
    shutil.copyfile(CORPUS / "php-fpm.conf", root / "etc/php/8.2/fpm/php-fpm.conf")
    shutil.copyfile(CORPUS / "www.conf", pool_d / "www.conf")
    api = (CORPUS / "api.conf").read_text()
    if not api_status:
        api = api.replace("pm.status_path = /fpm-status-api", "")
    (pool_d / "api.conf").write_text(api)
    (root / "run/php").mkdir(parents=True)
    os.symlink(fpm.socket, root / "run/php/php8.2-fpm.sock")


@pytest.mark.fpm
async def test_engine_polls_the_discovered_pool_into_the_recorder(
    fpm: FpmServer, tmp_path: Path
) -> None:
    tree_for(tmp_path, fpm)
    cfg = Config(fpm_interval=0.2, system_interval=0.5, scan_interval=1.0)
    plan = make_plan(cfg, root=str(tmp_path))
    assert [p.name for p in plan.fpm] == ["php-fpm:api", "php-fpm:www"]
    recorder = Recorder(reorder=0.1)
    engine = Engine(cfg, recorder, plan)
    pollers = {name: src for name, src in engine.sources if isinstance(src, FpmPoller)}
    assert sorted(pollers) == ["php-fpm:api", "php-fpm:www"]
    assert pollers["php-fpm:www"].interval == 0.2 and pollers["php-fpm:www"].max_children == 8
    task = asyncio.create_task(engine.run())
    try:
        snap = await async_wait_for(
            lambda: (s := recorder.snapshot()).fpm and "php-fpm:api" in s.states and s,
            what="a sample of pool www and a state for pool api",
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    sample = snap.latest_fpm[0]
    assert (sample.source, sample.pool, sample.max_children) == ("php-fpm:www", "www", 8)
    assert snap.states["php-fpm:www"].status == "ok"
    api = snap.states["php-fpm:api"]
    assert api.status == "missing" and "no such socket" in api.message
    assert api.kind == "php-fpm-status"


@pytest.mark.fpm
def test_sources_lists_each_pool_probes_it_and_says_the_fix(fpm: FpmServer, tmp_path: Path) -> None:
    tree_for(tmp_path, fpm, api_status=False)
    cfg = Config()
    report = sources_report(cfg, make_plan(cfg, root=str(tmp_path)), probe=True)
    www, api = report["fpm"]
    assert www["name"] == "php-fpm:www" and www["state"] == "ok", www
    assert www["detail"].startswith("pool www (dynamic), ")
    assert "of pm.max_children 8" in www["detail"]
    assert www["origin"] == "php/8.2/fpm/pool.d/www.conf:5 listen"
    assert api == {
        "name": "php-fpm:api",
        "pool": "api",
        "target": None,
        "origin": "php/8.2/fpm/pool.d/api.conf [api]",
        "max_children": 6,
        "state": "no-status",
        "detail": "pool api (php/8.2/fpm/pool.d/api.conf) has no status page: add "
        "pm.status_path = /fpm-status to pool api, then systemctl reload php8.2-fpm",
        "hint": "",
    }
    assert not [n for n in report["notes"] if "has no status page" in n]  # said once


@pytest.mark.fpm
def test_lamptop_sources_with_fpm_status_flags(
    fpm: FpmServer, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = "unix:/nonexistent/php8.2-fpm.sock:/fpm-status"
    code = main(["sources", "--no-discover", "--fpm-status", fpm.target, "--fpm-status", missing])
    out = capsys.readouterr().out
    assert code == 0  # a pool answered: something is readable
    assert "php-fpm:\n" in out
    assert f"  php-fpm:fpm-status {fpm.target}  ok: pool www (dynamic)" in out
    assert (
        f"  php-fpm:fpm-status-2 {missing}  missing: no such socket /nonexistent/php8.2-fpm.sock"
        in out
    )
    assert "      fix: start it (systemctl start php8.2-fpm)" in out
    code = main(["sources", "--no-discover", "--fpm-status", missing, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["fpm"][0]["state"] == "missing"


def test_fpm_status_flag_is_repeatable_and_overrides_the_config(tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('[fpm]\nstatus = "unix:/run/php/php8.2-fpm.sock"\ninterval = 0.5\n')
    args = build_parser().parse_args(
        ["--config", str(conf), "--fpm-status", "tcp:9000", "--fpm-status", "http://h/fpm-status"]
    )
    cfg = config_from_args(args)
    assert cfg.fpm_status == ("tcp:9000", "http://h/fpm-status") and cfg.fpm_interval == 0.5
    sub = build_parser().parse_args(["sources", "--config", str(conf)])
    assert config_from_args(sub).fpm_status == ("unix:/run/php/php8.2-fpm.sock",)
    later = build_parser().parse_args(["record", "--fpm-status", "tcp:9001"])
    assert later.fpm_status == ["tcp:9001"]


def test_a_password_in_fpm_status_is_warned_about(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["--fpm-status", "http://u:secret@127.0.0.1/fpm-status"])
    config_from_args(args)
    assert "a password in --fpm-status is visible" in capsys.readouterr().err
