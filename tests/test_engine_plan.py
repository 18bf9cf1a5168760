from __future__ import annotations

from pathlib import Path

from console.core.config import Config, LogSpec
from console.sources.plan import guess_kind, log_names, make_plan
from tests.support.paths import FIXTURES


def test_labels_are_short_unique_and_keep_the_canonical_file_plain() -> None:
    items = [
        ("/var/log/apache2/other_vhosts_access.log", "apache-access", None),
        ("/var/log/apache2/access.log", "apache-access", None),
        ("/var/log/apache2/error.log", "apache-error", None),
        ("/var/log/apache2/shop_access.log", "apache-access", None),
        ("/var/log/apache2/shop_error.log", "apache-error", None),
        ("/var/log/mysql/error.log", "mysql-error", None),
        ("/srv/app.log", "php-error", "app"),
    ]
    assert log_names(items) == [
        "access:other_vhosts",
        "access",
        "apache",
        "access:shop",
        "apache:shop",
        "mysql",
        "app",
    ]


def test_plan_detects_kinds_from_content_and_skips_duplicates(tmp_path: Path) -> None:
    php = tmp_path / "app-errors.txt"
    php.write_bytes((FIXTURES / "php/error.log").read_bytes())
    link = tmp_path / "same.txt"
    link.symlink_to(php)
    later = tmp_path / "mysql-slow.log"  # does not exist yet: kind from its name
    cfg = Config(
        discover=False,
        logs=(LogSpec(str(php)), LogSpec(str(link)), LogSpec(str(later))),
        status_url="http://127.0.0.1:8080/server-status",
    )
    plan = make_plan(cfg)
    assert [(p.name, p.kind) for p in plan.logs] == [
        ("php", "php-error"),
        ("mysql-slow", "mysql-slow"),
    ]
    assert plan.status_url == "http://127.0.0.1:8080/server-status"


def test_unknown_content_is_skipped_with_a_reason(tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\nworld\n")
    plan = make_plan(Config(discover=False, logs=(LogSpec(str(odd)),)))
    assert plan.logs == ()
    assert plan.skipped == ((str(odd), "cannot tell what kind of log this is: use PATH=KIND"),)


def test_guess_kind_from_names() -> None:
    assert guess_kind("/var/log/apache2/access.log") == "apache-access"
    assert guess_kind("/var/log/httpd/error_log") == "apache-error"
    assert guess_kind("/var/log/mysql/mariadb-slow.log") == "mysql-slow"
    assert guess_kind("/var/log/php8.2-fpm.log") == "php-fpm"
    assert guess_kind("/var/log/php/fpm-www.slow.log") == "php-fpm-slow"
    assert guess_kind("/var/log/mysql/error.log") == "mysql-error"
    assert guess_kind("/var/log/mysql/general.log") == "mysql-general"
    assert guess_kind("/var/log/mysql/mariadb-general.log") == "mysql-general"
    assert guess_kind("/var/log/php-fpm/www-access.log") == "php-fpm-access"
    assert guess_kind("/var/log/php/fpm-www.access.log") == "php-fpm-access"
    assert guess_kind("/var/log/php8.2-fpm/www.access.log") == "php-fpm-access"
