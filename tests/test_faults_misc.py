"""Faults outside the sources, through the real command line where there is one: damaged and
newer bundles given to `lamptop open`, config mistakes, a bad rule pattern, a full disk (a real
64 KiB tmpfs), an unwritable snapshot directory, a terminal shrunk to 40x12; and security:
no credentials or (with --redact) client data in bundles, no shell anywhere.

Processes vanishing between listing and reading are in tests/test_system.py.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.incident.bundle import BundleError, write_bundle
from console.incident.rules import Trigger
from console.parsing.modstatus import parse_html
from tests.support.app import log_lines, make_app, screen_text
from tests.support.cli import lamptop
from tests.support.local_http import LocalServer, send, status_pages
from tests.support.need import unavailable
from tests.support.paths import ROOT
from tests.support.scripted import T0, scripted_recorder

# -- lamptop open ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "not a lamptop bundle (no snapshot.json)"),
        ('{"schema_version": 1, "records": [', "damaged (not valid JSON"),
        ('["a list"]', "not a lamptop snapshot (no schema_version)"),
        ('{"schema_version": 1, "created_at": "yesterday"}', "invalid: records: missing"),
        ('{"schema_version": 1, "records": [], "created_at": "yesterday"}', "created_at: expected"),
        ('{"schema_version": 4}', "written by a newer lamptop (schema 4, this one reads up to 3)"),
        ('{"schema_version": "1"}', "written by a newer lamptop"),
    ],
)
def test_open_refuses_a_bad_bundle_with_a_message(
    tmp_path: Path, content: str | None, said: str
) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    if content is not None:
        (bundle / "snapshot.json").write_text(content)
    out = lamptop("open", str(bundle), tmp=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("lamptop: ") and said in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


# -- config ----------------------------------------------------------------------------------


def test_unknown_keys_warn_by_name_and_record_still_runs(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("colour = 'red'\n[status]\nurll = 'x'\n[[log]]\npath = '/x'\nsize = 1\n")
    out = lamptop(
        "record", "--no-discover", "--config", str(cfg), "--duration", "0.5", tmp=tmp_path
    )
    assert out.returncode == 0, out.stderr
    for key in ("unknown key colour", "unknown key status.urll", "unknown key log.size"):
        assert f"lamptop: warning: {cfg}: {key} (ignored)" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("refresh = 'fast'\n", "refresh: expected int or float, got 'fast'"),
        ("[recorder]\nmax_records = 1.5\n", "recorder.max_records: expected a whole number"),
        ("[status]\nverify = 'yes'\n", "status.verify: expected true or false"),
        ("status = 3\n", "[status] must be a table"),
        ("[[log]]\nkind = 'apache-access'\n", '[[log]] number 1: needs path = "..."'),
        ("[rules.log_trouble]\npatterns = ['(']\n", "rules.log_trouble.patterns: bad regular"),
        ("[rules.memory_high]\npercent = 'lots'\n", "rules.memory_high.percent: expected"),
        ("[rules.nope]\n", "unknown rule(s): nope"),
        ("= broken toml\n", "Invalid"),
    ],
)
@pytest.mark.parametrize("command", [["record", "--duration", "1"], []])
def test_config_mistakes_are_a_message_and_exit_2(
    tmp_path: Path, text: str, said: str, command: list[str]
) -> None:
    """Through `lamptop record` and the console itself (which stops before any screen)."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    out = lamptop(*command, "--no-discover", "--config", str(cfg), tmp=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert said in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


# -- snapshots: a full disk, an unwritable place -----------------------------------------------


@contextlib.contextmanager
def small_tmpfs(size: str = "64k") -> Iterator[Path]:
    """A real tmpfs of ``size``, mounted for the test; where mounting is not allowed (not
    root, a container without the right), skips on a laptop and fails in CI."""
    where = Path(tempfile.mkdtemp(prefix="lamptop-full-"))
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        done = None
    if done is None or done.returncode != 0:
        where.rmdir()
        unavailable(f"cannot mount a tmpfs here: {done.stderr.strip() if done else 'no mount'}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


def _big_snapshot() -> object:
    recorder = scripted_recorder()
    from tests.support.scripted import access

    recorder.add_records(
        [access(i, T0, 200, f"/page/{i}?q={'x' * 50}", "192.0.2.1", i) for i in range(3000)]
    )
    recorder.release(force=True)
    return recorder.snapshot()


def test_a_real_full_disk_leaves_a_partial_bundle_that_says_so() -> None:
    snap = _big_snapshot()
    with small_tmpfs() as disk:
        with pytest.raises(BundleError) as err:
            write_bundle(snap, Trigger("key", T0), disk, host="web1")  # type: ignore[arg-type]
        msg = str(err.value)
        assert msg.startswith("snapshot incomplete (disk full): kept ")
        assert "-PARTIAL" in msg and "missing snapshot.json" in msg
        partial = [p for p in disk.iterdir() if p.name.endswith("-PARTIAL")]
        assert len(partial) == 1
        assert oct(partial[0].stat().st_mode & 0o777) == "0o700"
        # the space is free again for the next try: the file that did not fit is gone
        assert not (partial[0] / "snapshot.json").exists()


def test_record_with_an_unwritable_snapshot_dir_says_so_and_exits_0(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = lamptop(
        "record",
        "--no-discover",
        "--duration",
        "0.5",
        "--bundle-on-exit",
        "--snapshot-dir",
        str(blocker / "snaps"),
        tmp=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert f"bundle FAILED: cannot create {blocker / 'snaps'}: Not a directory" in out.stdout
    assert "Traceback" not in out.stderr


# -- the terminal ------------------------------------------------------------------------------


async def test_resize_200x60_to_40x12_and_back() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        for size, tiny in (((200, 60), False), ((40, 12), True), ((200, 60), False)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
            app.refresh_panes()
            await pilot.pause()
            header = screen_text(app.query_one("#header"))  # type: ignore[arg-type]
            assert "web1" in header and "busy 15/150" in header
            logs = [line.rstrip() for line in log_lines(app)]
            assert logs and all(line for line in logs), logs  # every row holds a record
            assert all(len(line) <= size[0] for line in logs)
            pane = app.query_one("#logs-pane")
            workers = app.query_one("#workers-pane")
            if tiny:
                # too short for the workers and memory panes: the log pane says so
                assert workers.region.height == 0
                assert pane.border_title == "logs · workers+memory need 20 rows"
                assert workers.border_title == "workers · memory needs 60 cols"
            else:
                assert workers.region.height >= 10 and app.query_one("#memory").region.width
                assert pane.border_title == "logs" and workers.border_title == "workers"
                board = " ".join(screen_text(app.query_one("#scoreboard")).split())  # type: ignore[arg-type]
                assert "RWWW" in board
        assert app.is_running


# -- security ----------------------------------------------------------------------------------


def _needs(user: str, password: str) -> Callable[[object], None]:
    import base64

    want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def respond(handler: object) -> None:
        h = handler  # BaseHTTPRequestHandler
        if h.headers.get("Authorization") != want:  # type: ignore[attr-defined]
            send(h, 401, b"no", WWW_Authenticate='Basic realm="s"')  # type: ignore[arg-type]
        else:
            status_pages(h)  # type: ignore[arg-type]

    return respond


def _bundle_files(snaps: Path) -> dict[str, str]:
    files = {str(p): p.read_text(errors="replace") for p in snaps.rglob("*") if p.is_file()}
    assert any(name.endswith("snapshot.json") for name in files), files.keys()
    for p in snaps.rglob("*"):
        mode = p.stat().st_mode & 0o777
        assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))
    return files


@pytest.mark.parametrize("where", ["url", "config", "env"])
def test_status_credentials_never_reach_a_bundle_or_sources_json(
    tmp_path: Path, local_server: Callable[..., LocalServer], where: str
) -> None:
    srv = local_server(_needs("opsuser", "Sekr1tPw"))
    url = f"http://127.0.0.1:{srv.port}/server-status"
    cfg = tmp_path / "c.toml"
    env: dict[str, str] = {}
    if where == "url":
        url = f"http://opsuser:Sekr1tPw@127.0.0.1:{srv.port}/server-status"
        cfg.write_text(f'[status]\nurl = "{url}"\n')
    elif where == "config":
        cfg.write_text(f'[status]\nurl = "{url}"\nuser = "opsuser"\npassword = "Sekr1tPw"\n')
    else:
        cfg.write_text(f'[status]\nurl = "{url}"\nuser = "opsuser"\n')
        env["LAMPTOP_STATUS_PASSWORD"] = "Sekr1tPw"
    snaps = tmp_path / "snaps"
    common = ["--no-discover", "--config", str(cfg)]
    out = lamptop(
        "record",
        *common,
        "--duration",
        "2",
        "--bundle-on-exit",
        "--snapshot-dir",
        str(snaps),
        tmp=tmp_path,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "source mod_status: ok" in out.stdout, out.stdout
    files = _bundle_files(snaps)
    for name, text in files.items():
        assert "Sekr1tPw" not in text and "opsuser" not in text, name
    assert "Sekr1tPw" not in out.stdout + out.stderr
    sources = lamptop("sources", *common, "--json", tmp=tmp_path, env=env)
    assert sources.returncode == 0, sources.stderr
    assert f"127.0.0.1:{srv.port}/server-status" in sources.stdout
    assert '"state": "ok"' in sources.stdout
    assert "Sekr1tPw" not in sources.stdout and "opsuser" not in sources.stdout
    text = lamptop("sources", *common, tmp=tmp_path, env=env)
    assert "Sekr1tPw" not in text.stdout and "opsuser" not in text.stdout


ACCESS = (
    '198.51.100.23 - alice [26/Nov/2026:15:06:30 +0000] "GET /report.php?month=11&token=abc '
    'HTTP/1.1" 500 12 "https://shop.example/?ref=mail" "curl/8"\n'
    '2001:db8:85a3::8a2e:370:7334 - - [26/Nov/2026:15:06:31 +0000] "GET /cart?id=42 HTTP/1.1" '
    '200 5 "-" "curl/8"\n'
)
ERRORS = (
    "[Thu Nov 26 15:06:30.123456 2026] [auth_basic:error] [pid 4242] [client 198.51.100.23:5555]"
    ' AH01617: user alice: authentication failure for "/admin": Password Mismatch\n'
    "[Thu Nov 26 15:06:31.000000 2026] [php:error] [pid 4243] [client 203.0.113.77:6000] PHP "
    "Fatal error:  Allowed memory size of 134217728 bytes exhausted in /srv/report.php on line 3,"
    " referer: http://bob:hunter2@shop.example/list?page=2\n"
)
SECRETS = (
    "198.51.100.23",
    "203.0.113.77",
    "2001:db8:85a3::8a2e:370:7334",
    "8a2e:370:7334",
    "month=11",
    "token=abc",
    "ref=mail",
    "id=42",
    "page=2",
    "alice",
    "bob:hunter2",
    "hunter2",
)


def test_redact_masks_clients_queries_and_users_in_every_bundle_file(
    tmp_path: Path, local_server: Callable[..., LocalServer]
) -> None:
    """`lamptop record --redact`: the log records, the workers in flight (the status page
    lists clients and requests with query strings), report.md and logs.txt hold none of them;
    without --redact they are there (so the check can fail)."""
    status_dir = ROOT / "tests/fixtures/status/prefork"
    auto, html = (status_dir / "auto_021.txt").read_bytes(), (status_dir / "html_021.html")
    status_html = html.read_text()

    def pages(h: object) -> None:  # a status page whose workers serve other clients
        send(h, 200, auto if h.path.endswith("?auto") else html.read_bytes())  # type: ignore[arg-type, attr-defined]

    srv = local_server(pages)
    at_work = [w for w in parse_html(status_html)[0] if w.mode not in "_."]  # samples keep these
    # 127.0.0.1 is also the server, in the status URL
    clients = sorted({w.client for w in at_work} - {"127.0.0.1", ""})
    queries = sorted({m.group(1) for w in at_work if (m := re.search(r"(\?[^ ]+)", w.request))})
    assert clients and queries, "the status fixture lists clients and query strings"
    results = {}
    for redact in (False, True):
        logs = tmp_path / f"logs{redact}"
        logs.mkdir()
        access, error = logs / "access.log", logs / "error.log"
        now = datetime.now(UTC) - timedelta(seconds=5)  # inside the bundle's window
        stamp_a, stamp_e = now.strftime("%d/%b/%Y:%H:%M:%S"), now.strftime("%a %b %d %H:%M:%S")
        access.write_text(re.sub(r"26/Nov/2026:15:06:3\d", stamp_a, ACCESS))
        error.write_text(re.sub(r"Thu Nov 26 15:06:3\d", stamp_e, ERRORS))
        snaps = tmp_path / f"snaps{redact}"
        cfg = tmp_path / "c.toml"
        cfg.write_text("[snapshot]\ntail = 0.5\n")  # the PHP fatal fires log_trouble
        out = lamptop(
            "record",
            "--no-discover",
            "--config",
            str(cfg),
            "--status",
            f"http://127.0.0.1:{srv.port}/server-status",
            "--log",
            f"{access}=apache-access",
            "--log",
            f"{error}=apache-error",
            "--duration",
            "2",
            "--bundle-on-exit",
            "--snapshot-dir",
            str(snaps),
            *(["--redact"] if redact else []),
            tmp=tmp_path,
        )
        assert out.returncode == 0, out.stderr
        results[redact] = "\n".join(_bundle_files(snaps).values())
    plain, masked = results[False], results[True]
    for secret in (*SECRETS[:3], "month=11", "alice", "hunter2", clients[0], queries[0]):
        assert secret in plain, secret
    for secret in (*SECRETS, *clients, *queries):
        assert secret not in masked, secret
    assert "198.51.x.x" in masked and "/report.php?…" in masked and "2001:db8:x::x" in masked


SSH_LINK = ROOT / "console" / "sources" / "remote" / "ssh.py"
"""The one module that starts a process: the system's ssh client, for ``--remote``."""


def test_no_shell_anywhere_in_lamptop() -> None:
    """lamptop runs one command only, the ssh client of ``--remote``, from one module, as an
    argument vector (never through a shell): no subprocess, os.system, os.popen, exec or spawn
    anywhere else in the product code, so no config value or log text can reach a shell."""
    pattern = re.compile(
        r"\b(subprocess|os\.system|os\.popen|os\.exec\w*|os\.spawn\w*|pty\.spawn|shell\s*=)"
    )
    hits = [
        f"{path}:{n}: {line.strip()}"
        for path in sorted([*ROOT.glob("console/**/*.py"), *ROOT.glob("widgets/**/*.py")])
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and path != SSH_LINK
    ]
    assert hits == []
    # the ssh link: create_subprocess_exec with argv, never create_subprocess_shell or shell=
    text = SSH_LINK.read_text()
    assert text.count("create_subprocess_exec(") == 1
    assert "create_subprocess_shell" not in text and not re.search(r"shell\s*=", text)
    assert re.search(r"os\.(system|popen|exec|spawn)", text) is None
