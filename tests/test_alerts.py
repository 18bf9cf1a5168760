"""The alerts model and its line: ordering, one alert per incident, bounded, cut to a width
keeping the rule and what came of it, and outside text kept inert (no Textual here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from console.view.alertline import (
    ago,
    alert_line,
    cells,
    cut_end,
    cut_middle,
    cut_path,
    describe,
)
from console.view.alerts import Alert, AlertList
from tests.support.hostile import HOSTILE

T0 = datetime(2026, 12, 2, 13, 20, 41, tzinfo=UTC)
NOW = T0 + timedelta(seconds=34)
PATH = "/var/lib/lamptop/snapshots/20261202T132041Z-web1-workers_near_limit"
NAME = PATH.rpartition("/")[2]


def line(alerts: AlertList | tuple[Alert, ...], width: int, now: datetime | None = NOW) -> str:
    shown = alerts.alerts if isinstance(alerts, AlertList) else alerts
    return "".join(text for text, _ in alert_line(shown, width, now, UTC))


#: When the incident's bundle is due: 10 s after the moment the tests look at the line.
DUE = NOW + timedelta(seconds=10)


def incident() -> AlertList:
    alerts = AlertList()
    alerts.fired(T0, "workers_near_limit", "20/20 busy for 5 s", "saving a bundle in 10 s", due=DUE)
    return alerts


# -- the list -----------------------------------------------------------------------------------
def test_newest_first_and_a_change_is_news() -> None:
    alerts = incident()
    first = alerts.alerts[0]
    assert first.pending and first.level == "warning" and first.title == "rule workers_near_limit"
    hand = alerts.saved(T0 + timedelta(seconds=5), "key", "", "saved by hand", path="/s/b-key")
    assert alerts.alerts == (hand, first)
    done = alerts.saved(T0, "rule", "workers_near_limit", "20/20 busy for 5 s", path=PATH)
    # the rule's bundle was saved: its alert leads again, no longer pending, with its path
    assert alerts.alerts[0] is done and alerts.alerts[1] is hand and len(alerts) == 2
    assert not done.pending and done.path == PATH and done.result == "saved"
    assert done.message == "20/20 busy for 5 s" and done.outcome == ""


def test_one_incident_is_one_alert() -> None:
    alerts = incident()
    alerts.fired(T0 + timedelta(seconds=2), "http_5xx_burst", "20 HTTP 5xx", "noted", joined=True)
    alerts.fired(T0 + timedelta(seconds=3), "load_high", "load 9 on 2 cores", "noted", joined=True)
    assert len(alerts) == 1
    (alert,) = alerts.alerts
    assert [(j.rule, j.in_bundle) for j in alert.joined] == [
        ("http_5xx_burst", True),
        ("load_high", True),
    ]
    alerts.saved(T0, "rule", "workers_near_limit", "", path=PATH)
    # a rule within a minute of the saved bundle: the same incident, after its bundle
    later = T0 + timedelta(seconds=30)
    alerts.fired(later, "swap_growing", "swap grew", "no new bundle: …", joined=True)
    (alert,) = alerts.alerts
    assert [j.rule for j in alert.joined] == ["http_5xx_burst", "load_high", "swap_growing"]
    assert not alert.joined[-1].in_bundle and alert.path == PATH
    assert "also fired: http_5xx_burst, load_high, swap_growing" in line(alerts, 300)
    text = ["".join(t for t, _ in pieces) for pieces, _ in describe(alert, UTC)]
    assert any("swap_growing (after its bundle): swap grew" in t for t in text)
    assert any("http_5xx_burst (joined its bundle)" in t for t in text)


def test_a_joined_rule_with_no_incident_is_an_alert_of_its_own() -> None:
    alerts = AlertList()
    alerts.saved(T0, "key", "", "saved by hand", path="/s/b-key")
    outcome = "no new bundle: the last was saved 5 s ago"
    alert = alerts.fired(T0, "memory_high", "mem 95%", outcome, joined=True)
    assert len(alerts) == 2 and alert.rule == "memory_high" and not alert.pending
    assert alert.outcome == outcome and alerts.alerts[0] is alert


def test_the_list_is_bounded_and_counts_what_it_dropped() -> None:
    alerts = AlertList(limit=3)
    for i in range(5):
        alerts.fired(T0 + timedelta(seconds=i), f"rule_{i}", "m", "saving a bundle in 10 s")
    assert [a.rule for a in alerts.alerts] == ["rule_4", "rule_3", "rule_2"]
    assert alerts.dropped == 2
    assert line(alerts, 200).endswith("+2 more · a: list")


def test_a_failed_save_is_an_error_alert() -> None:
    alerts = incident()
    alert = alerts.saved(T0, "rule", "workers_near_limit", "", error="cannot create /x: disk full")
    assert alert.level == "error" and alert.result == "NOT saved" and not alert.path
    shown = line(alerts, 200)
    assert shown.startswith("✗ ") and "NOT saved: cannot create /x: disk full" in shown
    roles = [role for _, role in alert_line(alerts.alerts, 200, NOW, UTC)]
    assert "error" in roles


def test_a_pending_bundle_counts_down() -> None:
    alerts = incident()
    assert "· saving a bundle in 10 s" in line(alerts, 120)
    assert "· saving a bundle in 3 s" in line(alerts, 120, now=DUE - timedelta(seconds=2.5))
    assert "· saving a bundle…" in line(alerts, 120, now=DUE + timedelta(seconds=1))
    assert "· saving a bundle in 10 s" in line(alerts, 120, now=None)  # as the watch said
    done = alerts.saved(T0, "rule", "workers_near_limit", "", path=PATH)
    assert not done.pending and done.due is None and "saving" not in line(alerts, 120)


def test_a_bundle_being_read_shows_its_trigger_without_an_age() -> None:
    alerts = AlertList()
    alerts.opened(T0, "memory_jump", "memory rose 242 MB", PATH, [("log_trouble", T0, "PHP")])
    shown = line(alerts, 120, now=None)
    assert shown.startswith("⚠ 13:20:41 rule memory_jump: memory rose 242 MB")
    assert "ago" not in shown and "saved" not in shown and "also fired: log_trouble" in shown
    by_hand = AlertList()
    by_hand.opened(T0, "", "saved by hand", PATH)
    assert line(by_hand, 120, now=None).startswith("✓ 13:20:41 trigger: saved by hand")


# -- the line for a width -----------------------------------------------------------------------
def test_the_whole_line_when_there_is_room() -> None:
    alerts = incident()
    assert line(alerts, 120).removesuffix("a: list").rstrip() == (
        "⚠ 13:20:41 (34 s ago) rule workers_near_limit: 20/20 busy for 5 s · "
        "saving a bundle in 10 s"
    )
    alerts.saved(T0, "rule", "workers_near_limit", "20/20 busy for 5 s", path=PATH)
    assert f"5 s · saved: {PATH}" in line(alerts, 200)


@pytest.mark.parametrize("width", [200, 160, 120, 100, 80, 60])
def test_cut_to_width_keeps_the_rule_and_what_came_of_it(width: int) -> None:
    alerts = AlertList()
    message = "20/20 busy for 5 s " * 4
    alerts.fired(T0, "workers_near_limit", message, "saving a bundle in 10 s", due=DUE)
    for rule in ("http_5xx_burst", "load_high", "swap_growing"):
        alerts.fired(T0, rule, "m", "noted", joined=True)
    pending = line(alerts, width)
    assert cells(pending) == width
    assert "workers_near_limit" in pending and "saving a bundle in 10 s" in pending
    alerts.saved(T0, "rule", "workers_near_limit", "", path=PATH)
    for other in ("a_rule", "b_rule"):
        alerts.add(Alert(T0 - timedelta(minutes=9), "rule", other))
    alerts.saved(T0, "rule", "workers_near_limit", "", path=PATH)  # the incident leads
    saved = line(alerts, width)
    assert cells(saved) == width
    assert "workers_near_limit" in saved and "saved" in saved
    assert saved.rstrip().endswith(("+2 more · a: list", "+2 · a"))
    if width >= 120:  # a path cut keeps the bundle's name whole
        assert f"…/{NAME}" in saved or PATH in saved
    if "saved: " in saved:
        assert NAME in saved


def test_the_message_is_cut_before_the_outcome() -> None:
    alerts = AlertList()
    alerts.fired(T0, "log_trouble", "php says: " + "x" * 300, "saving a bundle in 10 s", due=DUE)
    shown = line(alerts, 80)
    assert "php says: xxx" in shown and "…" in shown
    assert "· saving a bundle in 10 s" in shown and cells(shown) == 80


def test_very_narrow_lines_are_cut_at_their_end() -> None:
    alerts = incident()
    assert line(alerts, 40) == "⚠ 34 s ago workers_near_limit · saving …"
    assert cells(line(alerts, 20)) <= 20 and line(alerts, 20).startswith("⚠ ")
    assert line(alerts, 0) == "" and line(AlertList(), 80) == ""


def test_wide_characters_count_two_cells() -> None:
    alerts = AlertList()
    alerts.fired(T0, "log_trouble", "漢字" * 40, "saving a bundle in 10 s")
    shown = line(alerts, 80)
    assert cells(shown) == 80 and "漢字" in shown


def test_age_and_cuts() -> None:
    assert [ago(s) for s in (-3, 0, 59, 60, 3599, 3600, 86400 * 2)] == [
        "0 s ago",
        "0 s ago",
        "59 s ago",
        "1 min ago",
        "59 min ago",
        "1 h ago",
        "2 d ago",
    ]
    assert cut_end("abcdef", 4) == "abc…" and cut_end("abc", 3) == "abc" and cut_end("ab", 0) == ""
    assert cut_middle("abcdefghij", 7) == "ab…ghij" and cut_middle("abc", 1) == "…"
    assert cut_path(PATH, 50) == f"/var/lib…/{NAME}" and cells(cut_path(PATH, 50)) == 50
    assert cut_path(PATH, 30) == cut_middle(PATH, 30)  # the name alone does not fit
    assert cut_path(PATH, 200) == PATH


def test_times_are_shown_in_the_zone_given() -> None:
    alerts = incident()
    shown = "".join(t for t, _ in alert_line(alerts.alerts, 120, NOW, timezone(timedelta(hours=1))))
    assert shown.startswith("⚠ 14:20:41 (34 s ago)")


# -- the list screen's lines ------------------------------------------------------------------
def test_the_path_is_a_line_of_its_own() -> None:
    alerts = incident()
    alerts.fired(T0, "http_5xx_burst", "20 HTTP 5xx", "noted", joined=True)
    alert = alerts.saved(T0, "rule", "workers_near_limit", "", path=PATH)
    lines = describe(alert, UTC, NOW)
    kinds = [kind for _, kind in lines]
    assert kinds == ["head", "body", "body", "path", "body"]
    texts = ["".join(t for t, _ in pieces) for pieces, _ in lines]
    assert texts[0] == "⚠ rule workers_near_limit  2026-12-02 13:20:41 · 34 s ago"
    assert texts[1:4] == ["20/20 busy for 5 s", "saved:", PATH]


# -- outside text stays inert ---------------------------------------------------------------
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_in_an_alert_stays_inert(hostile: str) -> None:
    alerts = AlertList()
    alerts.fired(T0, f"rule{hostile}", f"says: {hostile} [bold]markup[/]", "saving")
    alerts.fired(T0, "other", f"joined {hostile}", "noted", joined=True)
    alert = alerts.saved(T0, "rule", f"rule{hostile}", "", error=f"disk {hostile}")
    texts = [alert.rule, alert.message, alert.error, alert.joined[0].message]
    for text in [*texts, line(alerts, 300), line(alerts, 80)]:
        assert "\x1b" not in text and "\u202e" not in text and "\n" not in text
        assert "\x00" not in text and "\u2028" not in text
    assert "[bold]markup[/]" in alert.message  # kept as text: the bar never reads markup
    assert len(alert.message) <= 1100


def test_escape_sequences_become_visible_and_secrets_are_masked() -> None:
    alerts = AlertList()
    alert = alerts.fired(
        T0,
        "mysql_long_query",
        "\x1b[31mred\x1b[0m \u202eevil SET PASSWORD = 'hunter2' mysql -psecret",
        "saving",
    )
    assert alert.message.startswith("\\x1b[31mred\\x1b[0m <U+202E>evil")
    assert "hunter2" not in alert.message and "secret" not in alert.message
    huge = alerts.fired(T0, "log_trouble", "x" * 100_000, "saving")
    assert len(huge.message) <= 1000 and huge.message.endswith("…[cut]")
