"""Text and files written by an attacker, through every place lamptop reads and writes them.

The strings in HOSTILE are what a stranger can put in a request line, a user agent, a PHP
message, a mod_status column or a process title. None of them may reach a terminal as a control
sequence, render as markup, a Markdown link/image/HTML, or break the XML of a saved screen.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.core.events import LogRecord, ProcInfo, StatusSample, SystemSample, Worker
from console.core.recorder import Recorder, Snapshot
from console.core.stack import FpmSample, MysqlSample
from console.core.text import bound, clean, is_clean, mask_secrets, md_code
from console.incident.bundle import BundleError, write_bundle
from console.incident.bundle_read import read_bundle
from console.incident.redact import redact_snapshot
from console.incident.rules import Trigger
from console.parsing import make_parser
from console.parsing.modstatus import NotModStatus, build_sample
from console.view.filters import redact
from tests.support.cli import lamptop
from tests.support.hostile import ESC, FORBIDDEN, HOSTILE, assert_inert
from tests.support.need import need_root
from tests.support.stack_samples import fpm, mysql, proc, thread

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)

# -- cleaning where text enters -----------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_clean_makes_every_control_visible(text: str) -> None:
    out = clean(text)
    assert is_clean(out) and FORBIDDEN.search(out) is None and "\n" not in out
    if ESC in text:
        assert "\\x1b" in out
    if "\u202e" in text:
        assert "<U+202E>" in out
    assert clean(out) == out  # cleaning twice changes nothing


def php_lines(payload: str) -> bytes:
    payload = payload.replace("\n", " ")
    return (
        f"[26-Nov-2026 15:00:01 UTC] PHP Fatal error:  Allowed memory size of 134217728 bytes "
        f"exhausted (tried to allocate 20480 bytes) in /var/www/x.php on line 3{payload}\n"
        f"[26-Nov-2026 15:00:02 UTC] PHP Warning:  {payload}\n"
    ).encode()


async def test_the_tail_cleans_every_line_it_reads(tmp_path: Path) -> None:
    from console.sources.tail.follow import FileTail

    log = tmp_path / "php.log"
    log.write_bytes(b"".join(php_lines(h) for h in HOSTILE))
    recorder = Recorder(reorder=0)
    tail = FileTail(log, make_parser("php-error", "php"), recorder, name="php")
    await tail.poll_once()
    await tail.poll_once()
    recorder.release(force=True)
    records = recorder.records
    assert len(records) >= len(HOSTILE)
    for r in records:
        for text in (r.text, r.raw, *r.lines, *map(str, r.fields.values())):
            assert_inert(text, f"record {r.seq}")


def test_parse_prints_no_control_sequence(tmp_path: Path) -> None:
    log = tmp_path / "php.log"
    log.write_bytes(b"".join(php_lines(h) for h in HOSTILE))
    out = lamptop("parse", str(log), "--kind", "php-error", text=False)
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert_inert(text, "lamptop parse")
    assert len(text.splitlines()) == 2 * len(HOSTILE)
    assert "\\\\x1b]0;owned title" in text  # shown, as an escape inside the JSON string


def test_parse_keeps_a_huge_line_bounded(tmp_path: Path) -> None:
    big = tmp_path / "big.log"
    with big.open("wb") as f:
        f.write(b'192.0.2.1 - - [26/Nov/2026:15:00:00 +0000] "GET /' + b"a" * (50 << 20))
        f.write(b' HTTP/1.1" 200 5\n')
    out = lamptop("parse", str(big), "--kind", "apache-access", timeout=120, text=False)
    assert out.returncode == 0, out.stderr
    [row] = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(out.stdout) < 200_000  # 50 MB in, a bounded record out
    assert row["text"].startswith('192.0.2.1 - - [26/Nov/2026:15:00:00 +0000] "GET /aaa')


def test_parse_of_an_endless_stream_stays_small() -> None:
    """``lamptop parse /dev/zero``: no line ever ends; memory must stay bounded meanwhile."""
    import psutil

    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "parse", "/dev/zero", "--kind", "apache-access"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        ps = psutil.Process(proc.pid)
        peak = 0
        for _ in range(30):  # about 3 s of reading, tens of GB of zeros offered
            try:
                peak = max(peak, ps.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            proc.wait(0.1) if proc.poll() is not None else None
            asyncio.run(asyncio.sleep(0.1))
        assert proc.poll() is None  # still reading, not crashed
        assert peak < 150 << 20, f"{peak >> 20} MB"
    finally:
        proc.kill()
        proc.wait()


def test_one_entry_with_a_million_continuation_lines_is_bounded() -> None:
    parser = make_parser("php-error", "php")
    first = "[26-Nov-2026 15:00:01 UTC] PHP Fatal error:  Uncaught Exception: x in /a.php:3"
    lines = [first] + [f"#{i} /a.php(3): f()" for i in range(1_000_000)]
    records = parser.feed(lines, T0) + parser.flush(T0)
    [rec] = records
    assert len(rec.lines) <= 2001
    assert rec.lines[-1].startswith("…[cut:") and "more lines]" in rec.lines[-1]
    assert sum(map(len, rec.lines)) < 300_000


def test_a_million_slot_scoreboard_is_refused_not_stored() -> None:
    text = "localhost\nServerMPM: prefork\nScoreboard: " + "W" * 1_000_000 + "\n"
    with pytest.raises(NotModStatus, match="1,000,000 slots"):
        build_sample(T0, "http://127.0.0.1/server-status", text)


def test_a_fifo_given_as_a_log_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "access.fifo"
    os.mkfifo(fifo)
    out = lamptop(
        "sources",
        "--no-discover",
        "--no-probe",
        "--log",
        str(fifo),
        "--json",
        tmp=tmp_path,
    )
    doc = json.loads(out.stdout)
    said = [s["why"] for s in doc["skipped"]] + [log["detail"] for log in doc["logs"]]
    assert any("not a regular file" in s for s in said), doc


# -- escaping where text leaves ---------------------------------------------------------------


def hostile_snapshot() -> Snapshot:
    records = tuple(
        LogRecord(
            ts=T0 + timedelta(seconds=i),
            source="php" if i % 2 else "access",
            kind="php-error" if i % 2 else "apache-access",
            level="error",
            text=clean(h),
            fields={"url": clean(h), "status": 500, "client": clean(h), "message": clean(h)},
            seq=i + 1,
        )
        for i, h in enumerate(HOSTILE)
    )
    worker = Worker(
        slot="0",
        pid=41,
        mode="W",
        cpu=0.0,
        seconds=9.0,
        req_ms=0.0,
        client=clean(HOSTILE[0]),
        vhost=clean(HOSTILE[10]),
        request=f"GET {clean(HOSTILE[10])} HTTP/1.1",
    )
    status = StatusSample(
        ts=T0,
        url="http://127.0.0.1/server-status",
        fields={},
        scoreboard="W_",
        counts={"W": 1, "_": 1},
        workers=(worker,),
        server_version=clean(HOSTILE[1]),
        busy=1,
        idle=1,
        limit=2,
        extended=True,
    )
    proc = ProcInfo(
        pid=41,
        name=clean(HOSTILE[2]),
        cmdline=clean(HOSTILE[11]),
        rss=1 << 26,
        growth=1 << 25,
        cpu=1.0,
    )
    system = SystemSample(
        ts=T0,
        mem_total=1 << 30,
        mem_used=1 << 29,
        mem_available=1 << 29,
        swap_total=0,
        swap_used=0,
        load1=1.0,
        load5=1.0,
        load15=1.0,
        cpu_percent=10.0,
        top=(proc,),
    )
    return Snapshot(
        taken_at=T0 + timedelta(seconds=30),
        records=records,
        status=(status,),
        system=(system,),
        states={},
        fpm=hostile_fpm(),
        mysql=hostile_mysql(),
    )


def hostile_fpm() -> tuple[FpmSample, ...]:
    """A pool at its limit whose name, requests, scripts and users are the hostile strings."""
    procs = tuple(
        proc(100 + i, clean(h), 60.0 - i, script=clean(h), user=clean(h), method=clean(h))
        for i, h in enumerate(HOSTILE)
    )
    return (
        fpm(0, pool=clean(HOSTILE[1]), active=8, idle=0, reached=1),
        fpm(1, pool=clean(HOSTILE[1]), active=8, idle=0, queue=3, reached=2, processes=procs),
    )


def hostile_mysql() -> tuple[MysqlSample, ...]:
    """A server running the hostile strings as queries, for hostile users from hostile hosts."""
    threads = tuple(
        thread(i, 100.0 - i, clean(h), user=clean(h), db=clean(h), host=clean(h), state=clean(h))
        for i, h in enumerate(HOSTILE)
    )
    return (mysql(1, threads=threads, status={"Threads_connected": 150}),)


def render_markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like").render(text)


def test_every_bundle_file_is_inert(tmp_path: Path) -> None:
    snap = hostile_snapshot()
    trigger = Trigger(
        "rule",
        T0,
        rule="log_trouble",
        message=clean(HOSTILE[10]),
        values={"line": clean(HOSTILE[11])},
    )
    screen = f"<svg xmlns='http://www.w3.org/2000/svg'><text>{ESC}[2J raw</text></svg>"
    path = write_bundle(
        snap, trigger, tmp_path / "snaps", window=3600, tail=60, host="web1", screen_svg=screen
    )
    for f in path.iterdir():
        assert_inert(f.read_text(), f.name)
    json.loads((path / "snapshot.json").read_text())
    ET.fromstring((path / "screen.svg").read_text())  # well-formed XML
    html = render_markdown((path / "report.md").read_text())
    for tag in ("<img", "<a ", "<script", "<iframe"):
        assert tag not in html, tag
    assert "evil.example" in html  # the text is there, as text
    report = (path / "report.md").read_text()
    for title in ("## PHP-FPM", "## MySQL/MariaDB", "At the trigger:"):
        assert title in report, title  # the hostile pool and queries went through the report
    back, _ = read_bundle(path)
    assert back.fpm == snap.fpm and back.mysql == snap.mysql


def test_stack_rules_say_hostile_text_inert_with_and_without_redact(tmp_path: Path) -> None:
    from console.incident.redact import redact_trigger
    from console.incident.rules import DEFAULTS, RuleBook, build_rules

    book = RuleBook(build_rules({"fpm_max_children": {"seconds": 0.0}}))
    fired = [t for s in hostile_fpm() for t in book.on_fpm(s)]
    fired += [t for s in hostile_mysql() for t in book.on_mysql(s)]
    assert {t.rule for t in fired} == {
        "fpm_max_children",
        "mysql_connections_high",
        "mysql_long_query",
    }
    assert set(DEFAULTS) >= {t.rule for t in fired}
    for t in fired:
        for said in (t.message, redact_trigger(t).message):
            assert_inert(said, f"{t.rule} message")
        path = write_bundle(hostile_snapshot(), t, tmp_path, window=3600, host="web1", redact=True)
        for f in path.iterdir():
            assert_inert(f.read_text(), f"{t.rule}: {f.name}")


@pytest.mark.parametrize("text", HOSTILE)
def test_md_code_renders_as_code_only(text: str) -> None:
    html = render_markdown(f"| a | b |\n|---|---|\n| {md_code(text, in_table=True)} | 1 |\n")
    assert "<img" not in html and "<a " not in html and "<script" not in html
    assert html.count("<td>") == 2  # the pipe did not split the cell


def test_bound_says_it_cut() -> None:
    assert bound("x" * 100, 20) == "x" * 14 + "…[cut]" and len(bound("x" * 100, 20)) == 20
    assert bound("short", 20) == "short"


# -- lamptop open: crafted bundles ------------------------------------------------------------


def good_doc() -> dict[str, object]:
    return {
        "schema_version": 1,
        "created_at": "2026-11-26T15:00:00Z",
        "trigger": {"kind": "key", "at": "2026-11-26T15:00:00Z", "message": "m"},
        "records": [
            {
                "ts": "2026-11-26T15:00:00Z",
                "source": "php",
                "kind": "php-error",
                "level": "error",
                "text": "x",
            }
        ],
        "status": [],
        "system": [],
    }


def bundle_with(tmp_path: Path, doc: object) -> Path:
    b = tmp_path / "b"
    b.mkdir()
    (b / "snapshot.json").write_text(json.dumps(doc))
    return b


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"created_at": 1700000000}, "created_at: expected text, got a number"),
        ({"trigger": ["a", "list"]}, "trigger: expected an object"),
        (
            {
                "records": [
                    {
                        "ts": "2026-11-26T15:00:00Z",
                        "source": "php",
                        "kind": "k",
                        "level": ["x"],
                        "text": "t",
                    }
                ]
            },
            "records[0].level: expected one of",
        ),
        (
            {
                "records": [
                    {
                        "ts": "2026-11-26T15:00:00",
                        "source": "php",
                        "kind": "k",
                        "level": "info",
                        "text": "t",
                    }
                ]
            },
            "records[0].ts: expected an ISO 8601",
        ),
        (
            {"status": [{"ts": "2026-11-26T15:00:00Z", "scoreboard": "W" * 70_000}]},
            "status[0].scoreboard: 70000 slots",
        ),
        (
            {"system": [{"ts": "2026-11-26T15:00:00Z", "mem_total": "1"}]},
            "system[0].mem_total: expected",
        ),
        (
            {"status": [{"ts": "2026-11-26T15:00:00Z", "workers": [{"slot": 1}]}]},
            "status[0].workers[0].slot: expected",
        ),
    ],
)
def test_open_names_the_bad_field(tmp_path: Path, change: dict[str, object], said: str) -> None:
    doc = good_doc() | change
    with pytest.raises(BundleError, match=re.escape(said)):
        read_bundle(bundle_with(tmp_path, doc))


def test_open_cleans_what_it_reads(tmp_path: Path) -> None:
    doc = good_doc()
    doc["records"] = [dict(doc["records"][0], text=HOSTILE[0], source=HOSTILE[5])]  # type: ignore[index]
    snap, meta = read_bundle(bundle_with(tmp_path, doc | {"trigger": {"message": HOSTILE[1]}}))
    assert_inert(snap.records[0].text + snap.records[0].source, "record")
    assert_inert(json.dumps(meta, ensure_ascii=False), "metadata")


def test_open_refuses_deep_nesting(tmp_path: Path) -> None:
    b = tmp_path / "b"
    b.mkdir()
    (b / "snapshot.json").write_text(
        '{"schema_version": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    with pytest.raises(BundleError, match="nested too deeply"):
        read_bundle(b)


def test_open_never_follows_a_symlink(tmp_path: Path) -> None:
    b = tmp_path / "b"
    b.mkdir()
    (b / "snapshot.json").symlink_to("/etc/passwd")
    with pytest.raises(BundleError, match="symlink"):
        read_bundle(b)


def test_open_refuses_a_fifo_without_waiting(tmp_path: Path) -> None:
    b = tmp_path / "b"
    b.mkdir()
    os.mkfifo(b / "snapshot.json")
    with pytest.raises(BundleError, match="not a regular file"):
        read_bundle(b)


def test_open_refuses_a_huge_file_before_reading_it(tmp_path: Path) -> None:
    b = tmp_path / "b"
    b.mkdir()
    with (b / "snapshot.json").open("wb") as f:
        f.truncate(245 << 20)  # sparse: costs no disk
    with pytest.raises(BundleError, match="more than the 48 MB"):
        read_bundle(b)


def test_open_of_a_crafted_bundle_exits_2_with_one_line(tmp_path: Path) -> None:
    b = bundle_with(tmp_path, good_doc() | {"trigger": 7})
    out = lamptop("open", str(b), tmp=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "trigger: expected an object" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


# -- secrets ---------------------------------------------------------------------------------


def test_passwords_are_masked_in_command_lines_and_urls() -> None:
    from console.sources.system.sampler import _one_line

    own = ["lamptop", "--status", "http://admin:Sup3rS3cret@127.0.0.1/server-status"]
    assert "Sup3rS3cret" not in _one_line(own, "lamptop")
    assert "admin:****@" in _one_line(own, "lamptop")
    for line in (
        "worker mysql://dbadmin:PASSWORD@db/shop",
        "mysqldump -uroot -pPASSWORD shop",
        "app --password=PASSWORD",
        "curl https://x/?password=PASSWORD&a=1",
    ):
        assert "PASSWORD" not in mask_secrets(line), line


def test_redact_covers_path_parameters_encoded_queries_and_users() -> None:
    assert "ABC123" not in redact("GET /cart;jsessionid=ABC123 HTTP/1.1")
    assert "secret" not in redact("GET /search%3Fq%3Dsecret HTTP/1.1")
    assert "bob" not in redact("http://bob:pw@host/x")
    snap = redact_snapshot(hostile_snapshot())
    assert snap.system[0].top[0].cmdline.endswith("…")
    assert "evil" not in snap.system[0].top[0].cmdline


def test_a_readable_config_with_a_password_warns_and_errors_hide_secrets(tmp_path: Path) -> None:
    from console.core.config import ConfigError, load

    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text('[status]\nurl = "http://127.0.0.1/server-status"\npassword = "pw"\n')
    cfg_file.chmod(0o644)
    cfg = load(str(cfg_file), env={})
    assert any("chmod 600" in w and "password" in w for w in cfg.warnings)
    cfg_file.chmod(0o600)
    assert not any("chmod 600" in w for w in load(str(cfg_file), env={}).warnings)
    cfg_file.write_text("[status]\npassword = 123456789\n")
    with pytest.raises(ConfigError) as err:
        load(str(cfg_file), env={})
    assert "123456789" not in str(err.value) and "password" in str(err.value)


# -- the snapshot dir, like ssh's ~/.ssh --------------------------------------------------------


def small_snapshot() -> Snapshot:
    return replace(hostile_snapshot(), status=(), system=())


def save(where: Path) -> Path:
    return write_bundle(small_snapshot(), Trigger("key", T0), where, window=3600, host="web1")


def test_a_missing_snapshot_dir_is_created_private(tmp_path: Path) -> None:
    path = save(tmp_path / "new" / "snaps")
    assert (tmp_path / "new" / "snaps").stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o700
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in path.iterdir())


def test_a_shared_or_foreign_snapshot_dir_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(BundleError, match=r"can be written by group and others \(mode 1777\)"):
        save(shared)
    assert list(shared.iterdir()) == []
    group = tmp_path / "group"
    group.mkdir()
    group.chmod(0o770)
    with pytest.raises(BundleError, match="can be written by its group"):
        save(group)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "new", target_is_directory=True)
    (tmp_path / "new").mkdir(mode=0o700)
    with pytest.raises(BundleError, match="is a symlink"):
        save(link)
    assert list((tmp_path / "new").iterdir()) == []


def test_a_dir_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    need_root("play a second, real user")
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(BundleError, match="belongs to nobody"):
        save(theirs)
    assert list(theirs.iterdir()) == []


def as_nobody(fn: Callable[..., int], *args: object) -> int:
    """Fork a child that drops to the real user nobody and runs ``fn(*args)``; its pid. The
    child's result (an int) is its exit status (0..255)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        code = 255
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            code = min(fn(*args), 254)
        finally:
            os._exit(code)
    return pid


def wait_child(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def plant_symlink(target: str, link: str) -> int:
    os.symlink(target, link)
    return 0


def make_open_dir(path: str) -> int:
    os.mkdir(path)
    os.chmod(path, 0o777)
    return 0


def race(base: str, victim: str, seconds: float) -> int:
    """Replace whatever lamptop's dir holds with symlinks to the victim, as fast as possible;
    how many links got in."""
    planted = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            names = os.listdir(base)
        except OSError:
            names = []
        for name in names + ["x"]:
            for f in ("", "snapshot.json", "report.md", "logs.txt"):
                try:
                    os.symlink(
                        victim, os.path.join(base, name, f) if f else os.path.join(base, name)
                    )
                    planted += 1
                except OSError:
                    pass
    return planted


def test_a_second_user_cannot_redirect_a_bundle_into_a_root_file(tmp_path: Path) -> None:
    """The README's old example, /var/tmp/lamptop, in a sticky world-writable dir: a real second
    user (nobody) races lamptop, and lamptop (root) must never write through their links."""
    need_root("play a second, real user")
    base = Path(tempfile.mkdtemp(prefix="lamptop-race-"))  # pytest's tmp_path is root's alone
    try:
        base.chmod(0o755)
        race_in(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def race_in(tmp_path: Path) -> None:
    shared = tmp_path / "vartmp"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "victim.conf"
    victim.write_text("root's own file\n")
    victim.chmod(0o644)
    # 1. they got there first with a symlink to a root-owned dir: refused, nothing written
    trap = tmp_path / "rootdir"
    trap.mkdir(mode=0o700)
    assert wait_child(as_nobody(plant_symlink, str(trap), str(shared / "lamptop"))) == 0
    assert (shared / "lamptop").is_symlink()
    with pytest.raises(BundleError, match="is a symlink"):
        save(shared / "lamptop")
    assert list(trap.iterdir()) == []
    os.unlink(shared / "lamptop")
    # 1b. they got there first with a directory of their own, open to all: refused
    assert wait_child(as_nobody(make_open_dir, str(shared / "lamptop"))) == 0
    with pytest.raises(BundleError, match="belongs to nobody"):
        save(shared / "lamptop")
    assert list((shared / "lamptop").iterdir()) == []
    os.rmdir(shared / "lamptop")
    # 2. lamptop creates it (0700): the attacker races every write and gets nowhere
    save(shared / "lamptop")
    attacker = as_nobody(race, str(shared / "lamptop"), str(victim), 3.0)
    saved = [save(shared / "lamptop") for _ in range(20)]
    assert wait_child(attacker) == 0  # not one link could be planted
    assert victim.read_text() == "root's own file\n"
    assert all(
        (p / "snapshot.json").is_file() and not (p / "snapshot.json").is_symlink() for p in saved
    )


# -- a hostile server: the status page, its reason phrase and its redirect ---------------------


class _Hostile(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        if self.path.startswith("/redirect"):
            self.send_response(302, f"Found{ESC}]0;title\x07")
            self.send_header("Location", f"/x{ESC}[2J\x9b2J")
            self.end_headers()
            return
        if self.path.startswith("/moved"):
            self.send_response(301)
            self.send_header("Location", f"/elsewhere{ESC}]0;title\x07{ESC}[2J")
            self.end_headers()
            return
        if self.path.startswith("/reason"):
            self.send_response(418, f"Teapot{ESC}]52;c;Y3VybA==\x07")
            self.end_headers()
            return
        body = (
            f"localhost\nServerVersion: Apache/2.4{ESC}]0;pwned\x07\u202e\nServerMPM: prefork\n"
            "Scoreboard: W_\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_status_source_cleans_what_the_server_says(hostile_server: str) -> None:
    from console.sources.status.poll import StatusPoller

    recorder = Recorder(reorder=0)
    for path in ("/server-status", "/redirect", "/reason", "/moved"):
        poller = StatusPoller(hostile_server + path, recorder, extended=False)
        await poller.poll_once()
    [sample] = recorder.status
    assert_inert(sample.server_version, "ServerVersion")
    assert "\\x1b]0;pwned" in sample.server_version
    said = [f"{s.message} {s.hint}" for s in recorder.state_history]
    assert any("headers are not text" in s for s in said) and any("418" in s for s in said)
    assert any("redirected to" in s and "\\x1b[2J" in s for s in said), said
    for s in said:
        assert_inert(s, "state")


@pytest.mark.parametrize("path", ["/redirect", "/reason", "/moved"])
def test_sources_prints_no_control_sequence(hostile_server: str, path: str, tmp_path: Path) -> None:
    out = lamptop(
        "sources",
        "--no-discover",
        "--status",
        hostile_server + path,
        tmp=tmp_path,
    )
    said = ("HTTP 418", "headers are not text", "redirected to")
    assert any(s in out.stdout for s in said), out.stdout
    assert_inert(out.stdout + out.stderr, "lamptop sources")


def test_report_html_is_self_contained_and_inert(tmp_path: Path) -> None:
    import html.parser

    snap = hostile_snapshot()
    also = [{"rule": "<script>x</script>", "at": "2026-11-26T15:00:05Z", "message": "m"}]
    trigger = Trigger(
        "rule",
        T0 + timedelta(seconds=6),
        rule="http_5xx_burst",
        message=clean(HOSTILE[10]),
        values={"also_fired": also},
    )
    path = write_bundle(snap, trigger, tmp_path / "snaps", window=3600, tail=60, host="web1")
    page = (path / "report.html").read_text()
    assert_inert(page, "report.html")

    class Tags(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, dict[str, str | None]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, dict(attrs)))

    parser = Tags()
    parser.feed(page)
    names = {t for t, _ in parser.tags}
    assert not names & {"script", "img", "a", "iframe", "object", "embed", "link", "form"}
    for _, attrs in parser.tags:  # nothing is fetched from anywhere
        for key in ("src", "href"):
            assert key not in attrs or attrs[key] is None, attrs
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    drawn = ET.fromstring(svg)  # the timeline is well-formed XML
    labels = [t.text or "" for t in drawn.iter("{http://www.w3.org/2000/svg}text")]
    assert "<script>x</script>" in labels and "http_5xx_burst" in labels  # escaped text
    assert page.index("Likely culprit") < page.index("Timeline") < page.index("In-flight")


@pytest.mark.parametrize(
    ("sql", "masked"),
    [
        ("CREATE USER 'bob'@'%' IDENTIFIED BY 'Hunter2x'", "IDENTIFIED BY '****'"),
        ("ALTER USER bob IDENTIFIED WITH mysql_native_password AS '*Hunter2x'", "AS '****'"),
        ("SET PASSWORD FOR 'bob'@'%' = PASSWORD('Hunter2x')", "PASSWORD('****')"),
        ('SET PASSWORD = "Hunter2x"', "SET PASSWORD = '****'"),
        (
            "CHANGE MASTER TO MASTER_PASSWORD='Hunter2x', MASTER_HOST='db2'",
            "MASTER_PASSWORD='****'",
        ),
        ("GRANT ALL ON *.* TO bob IDENTIFIED BY PASSWORD '*Hunter2x'", "BY PASSWORD '****'"),
        ("CREATE USER x IDENTIFIED VIA ed25519 USING PASSWORD('Hunter2x')", "PASSWORD('****')"),
        ("ALTER USER u IDENTIFIED BY 'it''s \\' Hunter2x'", "IDENTIFIED BY '****'"),
    ],
)
def test_passwords_in_sql_are_masked(sql: str, masked: str) -> None:
    out = mask_secrets(sql)
    assert "Hunter2x" not in out and masked in out, out
    plain = "SELECT password FROM users WHERE id = 1"
    assert mask_secrets(plain) == plain
