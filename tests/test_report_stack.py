"""report.md's PHP-FPM and MySQL/MariaDB sections and verdict lines, on built samples and on
pages PHP-FPM really wrote."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from console.core.recorder import Snapshot
from console.core.stack import FpmSample, MysqlSample
from console.incident.bundle import write_bundle
from console.incident.report import make_report
from console.incident.report_stack import QUERY_TEXT, QUERY_WIDTH, stack_verdict
from console.incident.rules import Trigger
from console.incident.stack_figures import counter_rise, status_rise
from tests.support.stack_samples import (
    FPM_STATUS,
    T0,
    fpm,
    fpm_from_page,
    mysql,
    proc,
    saturated_www,
    thread,
)


def snap(fpm: tuple[FpmSample, ...] = (), mysql: tuple[MysqlSample, ...] = ()) -> Snapshot:
    return Snapshot(
        taken_at=T0 + timedelta(seconds=30),
        records=(),
        status=(),
        system=(),
        states={},
        fpm=fpm,
        mysql=mysql,
    )


def report(s: Snapshot, at_second: float = 4) -> str:
    at = T0 + timedelta(seconds=at_second)
    return make_report(s, Trigger("key", at), host="web1", start=T0, end=s.taken_at)


def part(text: str, title: str) -> list[str]:
    """The lines of one ``## `` section, without its title."""
    lines = text.splitlines()
    i = lines.index(title) + 1
    out = []
    while i < len(lines) and not lines[i].startswith("## "):
        out.append(lines[i])
        i += 1
    return out


def rows(lines: list[str], after: str) -> list[str]:
    """The body rows of the first table after the line ``after``."""
    i = lines.index(after) + 2
    out = []
    while i < len(lines) and lines[i].startswith("|"):
        out.append(lines[i])
        i += 1
    return out[2:]


def pools() -> tuple[FpmSample, ...]:
    api = fpm_from_page(
        FPM_STATUS / "api_json_full.json",
        T0,
        target="unix:/run/php/php8.2-fpm-api.sock:/fpm-status-api",
        max_children=6,
    )
    out: list[FpmSample] = []
    for s in saturated_www():
        out += [s, replace(api, ts=s.ts + timedelta(seconds=0.5))]
    return tuple(out)


def test_the_fpm_section_at_the_trigger() -> None:
    text = report(snap(fpm=pools()), at_second=4)
    sec = part(text, "## PHP-FPM")
    table = rows(["x", *sec], "x")
    assert table == [
        "| `www` | `dynamic` | 8 | 0 | 8 | 8 | 0 | 1 (+1) | 40 (+20) | 2026-11-26 15:00:04 UTC |",
        "| `api` | `ondemand` | 1 | 0 | 1 | 6 | 0 | 2 (+0) | 222 (+0) | 2026-11-26 15:00:03 UTC |",
    ]
    assert "**Pool `www` at its limit:** 8 of 8 processes busy." in sec
    assert not any("Pool `api` at its limit" in line for line in sec)
    busy = rows(sec, "### Pool `www`: busy processes, longest first")
    assert len(busy) == 7  # 8 active, the status poll left out
    seconds = [float(r.split(" | ")[1]) for r in busy]
    assert seconds == sorted(seconds, reverse=True) and seconds[0] == 1.0
    assert busy[0].endswith(
        "| `Running` | `GET /app/sleep.php?s=1.1` | `/var/www/webapp/app/sleep.php` | - |"
    )
    assert "fpm-status" not in "\n".join(busy)
    api_busy = rows(sec, "### Pool `api`: busy processes, longest first")
    assert len(api_busy) == 1 and "/app/sleep.php?s=3&cap=api" in api_busy[0]


def test_idle_pool_memory_and_no_request() -> None:
    done = proc(5, "/report.php", 2.0, state="Idle", memory=48 << 20)
    own = proc(6, "/fpm-status", 0.1, script="-")
    text = report(snap(fpm=(fpm(0, processes=(done, own)),)))
    sec = part(text, "## PHP-FPM")
    assert "No request running (the status poll itself left out)." in sec
    assert not any("at its limit" in line for line in sec)
    heavy = proc(7, "/export.php", 9.0, memory=48 << 20)
    text = report(snap(fpm=(fpm(0, processes=(heavy,)),)))
    assert (
        "| 7 | 9.0 | `Running` | `GET /export.php` | `/var/www/webapp/export.php` | 48 MB |" in text
    )


def test_the_mysql_section() -> None:
    q = (
        "SELECT * FROM `orders` WHERE note = 'a|b' AND id IN ("
        + ", ".join(map(str, range(1000)))
        + ")"
    )
    threads = (
        thread(31, 95.0, q, user="report", host="10.0.0.7:4711", state="Sending data"),
        thread(32, 12.0, "UPDATE stock SET n = n - 1 WHERE id = 3", db="", state="updating"),
        thread(33, 900.0, "", command="Sleep", state=""),
    )
    samples = (
        mysql(0, connected=100, status={"Slow_queries": 3, "Aborted_connects": 1}),
        mysql(
            2,
            connected=140,
            threads=threads,
            status={"Slow_queries": 7, "Aborted_connects": 4, "Innodb_row_lock_current_waits": 2},
            qps=321.25,
        ),
        replace(mysql(9, connected=1, status={"Slow_queries": 50}), truncated=0),
    )
    samples = (samples[0], replace(samples[1], truncated=12), samples[2])
    text = report(snap(mysql=samples), at_second=4)
    sec = part(text, "## MySQL/MariaDB")
    assert sec[1] == (
        "`10.11.19-MariaDB-0+deb12u1` at `unix:/run/mysqld/mysqld.sock`, "
        "sample of 2026-11-26 15:00:02 UTC:"
    )
    assert "- Connections: 140 of 151 used (93%); at most 140 since the server started." in sec
    assert "- Threads_running: 3; Questions/s: 321.2." in sec
    # the rises are over the whole window: 3 -> 7 -> 50
    assert "- Over the window: Slow_queries +47, Aborted_connects +3, Aborted_clients +0." in sec
    assert "- Row lock waits now: 2." in sec
    table = rows(sec, "Longest-running queries at the trigger:")
    assert [r.split(" | ")[0] for r in table] == ["| 31", "| 32"]  # the sleeper is not running
    assert table[0].startswith(
        "| 31 | `report` | `10.0.0.7:4711` | `shop` | 95 | `Sending data` | "
    )
    assert "`a\\|b`" not in table[0] and "a\\|b" in table[0]  # the pipe does not split the cell
    assert "…[cut]" in table[0] and len(table[0]) < QUERY_WIDTH + 120
    assert table[1].startswith("| 32 | `shop` | `localhost` | - | 12 | `updating` |")
    longest = next(line for line in sec if line.startswith("The longest, query 31: "))
    assert len(longest) < QUERY_TEXT + 60 and "…[cut]" in longest
    assert "12 more processlist rows were left out by the source." in sec


def test_no_running_statement_and_several_servers() -> None:
    a = mysql(0, source="mysql", threads=(thread(1, 50.0, "", command="Sleep"),))
    b = mysql(1, source="mysql:replica", status={"Uptime": 10})
    text = report(snap(mysql=(a, b)))
    sec = part(text, "## MySQL/MariaDB")
    assert "### `mysql`" in sec and "### `mysql:replica`" in sec
    assert sec.count("No statement running (lamptop's own connection left out).") == 2


def test_sections_are_left_out_without_samples() -> None:
    text = report(snap())
    assert "## PHP-FPM" not in text and "## MySQL/MariaDB" not in text
    assert "At the trigger:" not in text


def test_counters_that_restart_count_from_the_new_value() -> None:
    samples = [
        fpm(0, reached=5, slow=10),
        fpm(1, reached=7, slow=11),
        fpm(2, reached=1, slow=0, started=1795709999.0),  # restarted: not a fall, not a rise
        fpm(3, reached=4, slow=2, started=1795709999.0),
    ]
    assert counter_rise(samples, lambda s: s.max_children_reached) == 2 + 3
    assert counter_rise(samples, lambda s: s.slow_requests) == 1 + 2
    servers = [
        mysql(0, status={"Slow_queries": 10, "Uptime": 500}),
        mysql(1, status={"Slow_queries": 12, "Uptime": 501}),
        mysql(2, status={"Slow_queries": 1, "Uptime": 2}),  # restarted
        mysql(3, status={"Slow_queries": 4, "Uptime": 3}),
    ]
    assert status_rise(servers, "Slow_queries") == 2 + 3


# -- the verdict --------------------------------------------------------------------------------


def test_the_verdict_names_a_pool_at_its_limit_and_long_queries() -> None:
    long = thread(41, 75.0, "SELECT SLEEP(600)", user="cron")
    s = snap(fpm=pools(), mysql=(mysql(3, threads=(long, thread(42, 31.0))),))
    text = report(s, at_second=4)
    verdict = text[: text.index("**Trigger:**")]
    assert "At the trigger:" in verdict
    assert (
        "- PHP-FPM pool `www` at its limit: 8 of 8 busy, pm.max_children reached once in the "
        "window; longest `/app/sleep.php?s=1.1` (1 s)."
    ) in verdict
    at_trigger = verdict.split("Who held what")[0]
    assert "`api`" not in at_trigger  # its counter did not rise in the window, and it has room
    assert (
        "- `mysql`: 2 queries running 30 s or more, longest 75 s "
        "(query 41 by `cron`: `SELECT SLEEP(600)`)."
    ) in verdict


def test_a_pool_that_hit_its_limit_earlier_in_the_window_is_named_too() -> None:
    text = report(snap(fpm=pools()), at_second=9)  # back to 1 busy of 8 by then
    assert (
        "- PHP-FPM pool `www` reached its limit: 1 of 8 busy, pm.max_children reached once" in text
    )


def test_a_quiet_stack_adds_nothing_to_the_verdict() -> None:
    s = snap(fpm=(fpm(0), fpm(1)), mysql=(mysql(0, threads=(thread(1, 29.0),)),))
    assert stack_verdict(s, T0 + timedelta(seconds=1)) == []
    queued = snap(fpm=(fpm(0, active=2, idle=0, queue=4, max_children=None),))
    [_, _, line, _] = stack_verdict(queued, T0)
    assert line == "- PHP-FPM pool `www` at its limit: 2 of 2 busy, 4 waiting."


def test_report_html_shows_the_same_sections(tmp_path: Path) -> None:
    s = snap(fpm=pools(), mysql=(mysql(3, threads=(thread(41, 75.0),)),))
    path = write_bundle(s, Trigger("key", T0 + timedelta(seconds=4)), tmp_path, host="web1")
    page = (path / "report.html").read_text()
    order = [
        "Likely culprit",
        "At the trigger:",
        "<h2>Timeline</h2>",
        "In-flight",
        "<h2>PHP-FPM</h2>",
    ]
    order += ["<h2>MySQL/MariaDB</h2>", "Requests in the window"]
    at = [page.index(x) for x in order]
    assert at == sorted(at)
    assert "<code>/app/sleep.php?s=1.1</code>" in page


def test_passwords_in_queries_and_uris_are_masked_without_redact() -> None:
    from console.incident.rules import RuleBook, build_rules

    secret_sql = "CREATE USER 'app'@'%' IDENTIFIED BY 'Tr0ub4dor&3'"
    login = proc(9, "/login.php?user=bob&password=Tr0ub4dor", 40.0)
    s = snap(
        fpm=(fpm(0, active=8, idle=0, queue=2, processes=(login,)),),
        mysql=(mysql(0, threads=(thread(8, 61.0, secret_sql, state="creating user"),)),),
    )
    text = report(s, at_second=0)
    assert "Tr0ub4dor" not in text
    assert "IDENTIFIED BY '****'" in text and "password=****" in text
    book = RuleBook(build_rules({"fpm_max_children": {"seconds": 0.0}}))
    fired = book.on_fpm(s.fpm[0]) + book.on_mysql(s.mysql[0])
    assert {t.rule for t in fired} == {"fpm_max_children", "mysql_long_query"}
    for t in fired:
        assert "Tr0ub4dor" not in t.message and "****" in t.message


def test_the_verdict_says_who_held_what() -> None:
    from console.core.recorder import Recorder
    from console.incident.report import make_report
    from console.incident.rules import Trigger
    from tests.support.scripted import T0 as S0
    from tests.support.scripted import scripted_recorder
    from tests.support.stack_scripted import add_stack

    recorder: Recorder = scripted_recorder()
    add_stack(recorder)
    snap = recorder.snapshot()
    report = make_report(
        snap, Trigger("key", S0), host="web1", start=S0 - timedelta(minutes=5), end=S0
    )
    verdict = report.split("**Trigger:**")[0]
    assert "Who held what" in verdict
    line = next(x for x in verdict.splitlines() if "pid 3100" in x)
    assert "`GET /report.php?month=2025-02`" in line and "for 48 s" in line
    assert "MySQL thread 900, 48 s" in line or "MySQL thread 900, 47 s" in line
    assert "matched by time" not in line  # over TCP: exact
    inferred = next(x for x in verdict.splitlines() if "pid 3104" in x)
    assert "matched by time" in inferred
    assert "- and 3 more." in verdict
