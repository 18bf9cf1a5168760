"""Discovery over fake ``/etc`` and ``/var/log`` trees built from the corpus's real configs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import IO

import pytest

from console import discover as discover_mod
from console.core.events import LOG_KINDS
from console.discover import ADM_HINT, FALLBACK_STATUS_URLS, Discovery, LogCandidate, discover
from console.discover.apache import DEFAULT_TRANSFER_FORMAT, logical_lines, words
from tests.support.paths import FIXTURES

CONFIGS = FIXTURES / "configs"
DEBIAN = CONFIGS / "stock" / "debian"
RHEL = CONFIGS / "stock" / "rhel"

COMBINED = '%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'
VHOST_COMBINED = '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'
DURATION = COMBINED + " %T %D"


# -- building trees ----------------------------------------------------------------------------


def put(root: Path, dest: str, src: Path | str) -> Path:
    """Write ``src`` (a fixture file, or text) at ``dest`` (an absolute path) under ``root``."""
    target = root / dest.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(src, Path):
        shutil.copyfile(src, target)
    else:
        target.write_text(src)
    return target


def logs(root: Path, *paths: str) -> None:
    for p in paths:
        put(root, p, "a line\n")


def load(root: Path, *modules: str) -> None:
    """Enable Apache modules the Debian way: a ``mods-enabled/<name>.load`` per module."""
    for m in modules:
        so = "libphp8.2.so" if m == "php8.2" else f"mod_{m}.so"
        name = "php" if m == "php8.2" else m
        line = f"LoadModule {name}_module /usr/lib/apache2/modules/{so}\n"
        put(root, f"/etc/apache2/mods-enabled/{m}.load", line)


def debian_apache(root: Path, *, ports: Path = DEBIAN / "ports.conf") -> None:
    put(root, "/etc/apache2/apache2.conf", DEBIAN / "apache2.conf")
    put(root, "/etc/apache2/envvars", DEBIAN / "envvars")
    put(root, "/etc/apache2/ports.conf", ports)


def corpus_tree(root: Path, phase: str = "prefork") -> None:
    """The corpus machine: Debian 12 stock files plus every config in ``configs/``."""
    debian_apache(root, ports=CONFIGS / "apache2" / "ports.conf")
    event = CONFIGS / "apache2" / "enabled_modules_event_phase.txt"
    modules = [line.split()[0] for line in event.read_text().splitlines() if line.strip()]
    if phase == "prefork":
        gone = ("mpm_event", "proxy", "proxy_fcgi")
        modules = [m for m in modules if m not in gone] + ["mpm_prefork", "php8.2"]
    load(root, *modules)
    a2 = CONFIGS / "apache2"
    put(root, "/etc/apache2/mods-enabled/status.conf", a2 / "status.conf")
    put(root, f"/etc/apache2/mods-enabled/mpm_{phase}.conf", a2 / f"mpm_{phase}.conf")
    for conf in ("corpus-global.conf", "fpm-status.conf"):
        put(root, f"/etc/apache2/conf-enabled/{conf}", a2 / conf)
    for site in ("000-default.conf", "shop.conf", "api.conf"):
        put(root, f"/etc/apache2/sites-enabled/{site}", a2 / site)
    for sapi in ("fpm", "apache2", "cli"):
        put(root, f"/etc/php/8.2/{sapi}/php.ini", DEBIAN / "php.ini")
        put(root, f"/etc/php/8.2/{sapi}/conf.d/99-corpus.ini", CONFIGS / "php" / "99-corpus.ini")
    put(root, "/etc/php/8.2/cli/conf.d/50-cli.ini", "error_log = /var/log/php_cli.log\n")
    fpm = CONFIGS / "php-fpm"
    put(root, "/etc/php/8.2/fpm/php-fpm.conf", fpm / "php-fpm.conf")
    put(root, "/etc/php/8.2/fpm/pool.d/www.conf", fpm / "www.conf")
    put(root, "/etc/php/8.2/fpm/pool.d/api.conf", fpm / "api.conf")
    debian_mariadb(root)
    put(root, "/etc/mysql/mariadb.conf.d/99-corpus.cnf", CONFIGS / "mariadb" / "99-corpus.cnf")
    logs(
        root,
        "/var/log/apache2/error.log",
        "/var/log/apache2/access.log",
        "/var/log/apache2/shop_access.log",
        "/var/log/apache2/api_access.log",
        "/var/log/php/php_errors.log",
        "/var/log/php/fpm-www.slow.log",
        "/var/log/php/fpm-www.access.log",
        "/var/log/php8.2-fpm.log",
        "/var/log/mysql/error.log",
        "/var/log/mysql/mariadb-slow.log",
    )


def debian_mariadb(root: Path) -> None:
    put(root, "/etc/mysql/mariadb.cnf", DEBIAN / "mariadb.cnf")
    os.symlink("mariadb.cnf", root / "etc/mysql/my.cnf")
    (root / "etc/mysql/conf.d").mkdir()
    put(root, "/etc/mysql/mariadb.conf.d/50-server.cnf", DEBIAN / "50-server.cnf")
    put(root, "/etc/mysql/mariadb.conf.d/50-mysqld_safe.cnf", DEBIAN / "50-mysqld_safe.cnf")


def rhel_tree(root: Path) -> None:
    put(root, "/etc/httpd/conf/httpd.conf", RHEL / "httpd.conf")
    put(root, "/etc/httpd/conf.modules.d/00-base.conf", RHEL / "00-base.conf")
    put(root, "/etc/httpd/conf.modules.d/00-ssl.conf", RHEL / "00-ssl.conf")
    put(root, "/etc/httpd/conf.d/ssl.conf", RHEL / "ssl.conf")
    (root / "var/log/httpd").mkdir(parents=True)
    os.symlink("../../var/log/httpd", root / "etc/httpd/logs")
    put(root, "/etc/php-fpm.conf", RHEL / "php-fpm.conf")
    put(root, "/etc/php-fpm.d/www.conf", RHEL / "www.conf")
    put(root, "/etc/my.cnf", RHEL / "my.cnf")
    put(root, "/etc/my.cnf.d/mariadb-server.cnf", RHEL / "mariadb-server.cnf")
    logs(
        root,
        "/var/log/httpd/access_log",
        "/var/log/httpd/error_log",
        "/var/log/httpd/ssl_access_log",
        "/var/log/php-fpm/error.log",
        "/var/log/mariadb/mariadb.log",
    )


def by_path(found: Discovery, root: Path) -> dict[str, LogCandidate]:
    """Candidates keyed by their host path (the root taken off)."""
    return {"/" + os.path.relpath(c.path, root): c for c in found.logs}


def has_note(found: Discovery, *words_: str) -> bool:
    return any(all(w in note for w in words_) for note in found.notes)


# -- the corpus machine ------------------------------------------------------------------------


def test_corpus_prefork_phase(tmp_path: Path) -> None:
    corpus_tree(tmp_path, "prefork")
    found = discover(str(tmp_path), env={})
    got = by_path(found, tmp_path)
    assert sorted(got) == [
        "/var/log/apache2/access.log",
        "/var/log/apache2/api_access.log",
        "/var/log/apache2/error.log",
        "/var/log/apache2/shop_access.log",
        "/var/log/mysql/error.log",
        "/var/log/mysql/mariadb-slow.log",
        "/var/log/php/fpm-api.slow.log",
        "/var/log/php/fpm-www.access.log",
        "/var/log/php/fpm-www.slow.log",
        "/var/log/php/php_errors.log",
        "/var/log/php8.2-fpm.log",
    ]
    access = got["/var/log/apache2/access.log"]
    assert (access.kind, access.fmt, access.vhost) == ("apache-access", COMBINED, "localhost")
    assert access.origin == "apache2/sites-enabled/000-default.conf:12 CustomLog"
    shop = got["/var/log/apache2/shop_access.log"]
    assert (shop.fmt, shop.vhost) == (VHOST_COMBINED, "shop.example.test")
    api = got["/var/log/apache2/api_access.log"]
    assert (api.fmt, api.vhost) == (DURATION, "api.example.test")
    error = got["/var/log/apache2/error.log"]
    assert (error.kind, error.fmt, error.vhost) == ("apache-error", None, "")
    assert error.origin.startswith("apache2/apache2.conf:") and error.origin.endswith("ErrorLog")
    php = got["/var/log/php/php_errors.log"]
    assert (php.kind, php.vhost) == ("php-error", "localhost, api.example.test")
    assert got["/var/log/php8.2-fpm.log"].origin == "php/8.2/fpm/php-fpm.conf:4 error_log"
    assert got["/var/log/php/fpm-www.slow.log"].kind == "php-fpm-slow"
    fpm_access = got["/var/log/php/fpm-www.access.log"]
    assert (fpm_access.kind, fpm_access.origin) == (
        "php-fpm-access",
        "php/8.2/fpm/pool.d/www.conf:16 access.log",
    )
    assert got["/var/log/php/fpm-api.slow.log"].state == "missing"
    mysql_error = got["/var/log/mysql/error.log"]
    assert mysql_error.origin == "mysql/mariadb.conf.d/99-corpus.cnf:4 log_error"
    assert got["/var/log/mysql/mariadb-slow.log"].kind == "mysql-slow"
    assert all(c.state == "found" for p, c in got.items() if "fpm-api" not in p)
    assert [c.kind for c in found.logs] == sorted((c.kind for c in found.logs), key=LOG_KINDS.index)
    assert found.status_urls == (
        "http://127.0.0.1/server-status",
        "http://127.0.0.1:8080/server-status",
        "http://[::1]:8080/server-status",
    )
    assert found.apache_config == str(tmp_path / "etc/apache2/apache2.conf")
    assert has_note(found, "api.conf:19", "pool api", "/dev/stderr", "caught into the php-fpm log")
    assert has_note(found, "PHP 8.2 (fpm, apache2)", "error_log is not set")
    assert not has_note(found, "journald")
    assert not has_note(found, "server-status is not configured")


def test_corpus_event_phase_skips_mod_php_blocks(tmp_path: Path) -> None:
    corpus_tree(tmp_path, "event")
    got = by_path(discover(str(tmp_path), env={}), tmp_path)
    # php_admin_value error_log sits in <IfModule mod_php.c>, and mod_php is off under event.
    assert "/var/log/php/php_errors.log" not in got
    assert got["/var/log/apache2/api_access.log"].fmt == DURATION


def test_cli_php_ini_is_not_read(tmp_path: Path) -> None:
    corpus_tree(tmp_path)
    found = discover(str(tmp_path), env={})
    assert all("php_cli" not in c.path for c in found.logs)


# -- stock Debian, envvars --------------------------------------------------------------------


def stock_debian(root: Path) -> None:
    debian_apache(root)
    load(root, "status", "mpm_event")
    put(root, "/etc/apache2/mods-enabled/status.conf", DEBIAN / "status.conf")
    put(
        root,
        "/etc/apache2/conf-enabled/other-vhosts-access-log.conf",
        DEBIAN / "other-vhosts-access-log.conf",
    )
    put(root, "/etc/apache2/sites-enabled/000-default.conf", DEBIAN / "000-default.conf")
    logs(root, "/var/log/apache2/access.log", "/var/log/apache2/error.log")


def test_stock_debian(tmp_path: Path) -> None:
    stock_debian(tmp_path)
    found = discover(str(tmp_path), env={})
    got = by_path(found, tmp_path)
    assert sorted(got) == [
        "/var/log/apache2/access.log",
        "/var/log/apache2/error.log",
        "/var/log/apache2/other_vhosts_access.log",
    ]
    assert got["/var/log/apache2/access.log"].fmt == COMBINED
    assert got["/var/log/apache2/access.log"].vhost == ""  # *:80 without a ServerName
    other = got["/var/log/apache2/other_vhosts_access.log"]
    assert (other.fmt, other.state, other.detail) == (VHOST_COMBINED, "missing", "no such file")
    assert other.origin == "apache2/conf-enabled/other-vhosts-access-log.conf:2 CustomLog"
    # ports.conf's Listen 443 is inside <IfModule ssl_module>, and mod_ssl is not enabled.
    assert found.status_urls == ("http://127.0.0.1/server-status",)
    assert not has_note(found, "https")
    assert not has_note(found, "undefined")


def test_stock_debian_with_ssl_lists_https_last(tmp_path: Path) -> None:
    stock_debian(tmp_path)
    load(tmp_path, "ssl")
    found = discover(str(tmp_path), env={})
    assert found.status_urls == (
        "http://127.0.0.1/server-status",
        "https://127.0.0.1/server-status",
    )
    assert has_note(found, "https", "certificate")


def test_envvars_suffix_from_apache_confdir(tmp_path: Path) -> None:
    put(tmp_path, "/etc/apache2-web/apache2.conf", DEBIAN / "apache2.conf")
    put(tmp_path, "/etc/apache2-web/envvars", DEBIAN / "envvars")
    put(tmp_path, "/etc/apache2-web/ports.conf", DEBIAN / "ports.conf")
    found = discover(str(tmp_path), env={"APACHE_CONFDIR": "/etc/apache2-web"})
    assert [c.path for c in found.logs] == [str(tmp_path / "var/log/apache2-web/error.log")]


def test_no_envvars_falls_back_to_var_log_apache2(tmp_path: Path) -> None:
    put(tmp_path, "/etc/apache2/apache2.conf", DEBIAN / "apache2.conf")
    found = discover(str(tmp_path), env={})
    assert [c.path for c in found.logs] == [str(tmp_path / "var/log/apache2/error.log")]


def test_env_variables_fill_apache_variables(tmp_path: Path) -> None:
    put(tmp_path, "/etc/apache2/apache2.conf", "ErrorLog ${LOGS}/e.log\nErrorLog ${NOPE}/x.log\n")
    found = discover(str(tmp_path), env={"LOGS": "/srv/logs"})
    assert str(tmp_path / "srv/logs/e.log") in [c.path for c in found.logs]
    assert has_note(found, "apache2/apache2.conf:2 ErrorLog", "undefined variable")


# -- RHEL --------------------------------------------------------------------------------------


def test_rhel_tree(tmp_path: Path) -> None:
    rhel_tree(tmp_path)
    found = discover(str(tmp_path), env={})
    got = by_path(found, tmp_path)
    assert found.apache_config == str(tmp_path / "etc/httpd/conf/httpd.conf")
    # logs/ is resolved through the /etc/httpd/logs symlink, the file name is kept.
    access = got["/var/log/httpd/access_log"]
    assert access.origin.startswith("httpd/conf/httpd.conf:") and access.state == "found"
    assert access.fmt == '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"'
    assert got["/var/log/httpd/error_log"].kind == "apache-error"
    assert got["/var/log/httpd/ssl_error_log"].state == "missing"
    assert got["/var/log/httpd/ssl_access_log"].fmt == DEFAULT_TRANSFER_FORMAT
    request = got["/var/log/httpd/ssl_request_log"]
    assert request.fmt == '%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x "%r" %b'
    assert request.origin == "httpd/conf.d/ssl.conf:25 CustomLog"
    assert got["/var/log/php-fpm/error.log"].kind == "php-fpm"
    assert got["/var/log/php-fpm/www-error.log"].kind == "php-error"
    assert got["/var/log/mariadb/mariadb.log"].origin.endswith("mariadb-server.cnf:19 log-error")
    assert "/var/log/php-fpm/www-slow.log" not in got
    assert has_note(found, "pool www writes no slowlog until request_slowlog_timeout is set")
    assert has_note(found, "slow query log is off")
    # mod_status is loaded but no <Location> uses it.
    assert has_note(found, "server-status is not configured")
    assert found.status_urls == FALLBACK_STATUS_URLS


def test_nothing_at_all(tmp_path: Path) -> None:
    found = discover(str(tmp_path), env={})
    assert found.logs == ()
    assert found.apache_config is None
    assert found.status_urls == FALLBACK_STATUS_URLS
    assert has_note(found, "no Apache config found")
    assert not has_note(found, "MySQL")


def test_defaults_are_listed_only_when_present(tmp_path: Path) -> None:
    logs(tmp_path, "/var/log/apache2/access.log", "/var/log/php8.1-fpm.log")
    got = by_path(discover(str(tmp_path), env={}), tmp_path)
    assert sorted(got) == ["/var/log/apache2/access.log", "/var/log/php8.1-fpm.log"]
    assert got["/var/log/apache2/access.log"].fmt == COMBINED
    assert {c.origin for c in got.values()} == {"default path"}


# -- Apache directives ---------------------------------------------------------------------


def site(root: Path, text: str, *, listen: str = "Listen 80\n") -> None:
    debian_apache(root)
    put(root, "/etc/apache2/ports.conf", listen)
    load(root, "status")
    put(root, "/etc/apache2/sites-enabled/site.conf", text)


def test_quoted_custom_logformat_in_vhost(tmp_path: Path) -> None:
    site(
        tmp_path,
        "<VirtualHost *:80>\n"
        '    CustomLog "${APACHE_LOG_DIR}/inline.log" "%a %t \\"%r\\" %>s %D"\n'
        '    LogFormat "%h %>s %{ms}T" combined\n'
        "    customlog ${APACHE_LOG_DIR}/mine.log combined\n"
        "    ServerName late.example.test\n"
        "</VirtualHost>\n",
    )
    got = by_path(discover(str(tmp_path), env={}), tmp_path)
    assert got["/var/log/apache2/inline.log"].fmt == '%a %t "%r" %>s %D'
    # A LogFormat inside the vhost overrides the global nickname for that vhost only.
    assert got["/var/log/apache2/mine.log"].fmt == "%h %>s %{ms}T"
    assert got["/var/log/apache2/mine.log"].vhost == "late.example.test"


def test_later_logformat_wins_and_unknown_nickname_is_noted(tmp_path: Path) -> None:
    site(
        tmp_path,
        "CustomLog /var/log/a.log combined\n"
        'LogFormat "%h %>s" combined\n'
        "CustomLog /var/log/b.log nosuch\n",
    )
    found = discover(str(tmp_path), env={})
    got = by_path(found, tmp_path)
    assert got["/var/log/a.log"].fmt == "%h %>s"
    assert has_note(found, "site.conf:3 CustomLog", "no LogFormat named 'nosuch'")


def test_piped_and_syslog_logs_are_notes(tmp_path: Path) -> None:
    site(
        tmp_path,
        "<VirtualHost *:80>\n"
        '  CustomLog "|/usr/bin/rotatelogs /var/log/apache2/r.%Y%m%d 86400" combined\n'
        "  CustomLog ||/usr/bin/logger combined\n"
        "  ErrorLog syslog:local1\n"
        "</VirtualHost>\n",
    )
    found = discover(str(tmp_path), env={})
    assert all("r.%Y" not in c.path for c in found.logs)
    assert has_note(found, "site.conf:2 CustomLog", "piped to /usr/bin/rotatelogs", "not watched")
    assert has_note(found, "site.conf:3 CustomLog", "piped to /usr/bin/logger")
    assert has_note(found, "site.conf:4 ErrorLog", "syslog:local1", "not watched")


def test_status_location_on_port_8080(tmp_path: Path) -> None:
    site(
        tmp_path,
        "<VirtualHost *:8080>\n"
        '    <Location "/status">\n'
        "        SetHandler server-status\n"
        "    </Location>\n"
        "</VirtualHost>\n",
        listen="Listen 80\nListen 8080\n",
    )
    found = discover(str(tmp_path), env={})
    assert found.status_urls == ("http://127.0.0.1:8080/status",)


def test_status_urls_port_80_first_and_listen_address_used(tmp_path: Path) -> None:
    site(
        tmp_path,
        "<Location /server-status>\n  SetHandler server-status\n</Location>\nExtendedStatus Off\n",
        listen="Listen 127.0.0.1:8080\nListen 80\nListen 10.0.0.5:81\n",
    )
    found = discover(str(tmp_path), env={})
    assert found.status_urls == (
        "http://127.0.0.1/server-status",
        "http://127.0.0.1:8080/server-status",
        "http://10.0.0.5:81/server-status",
    )
    assert has_note(found, "ExtendedStatus is Off", "in-flight requests will not show")


def test_status_in_a_name_based_vhost_that_is_not_first(tmp_path: Path) -> None:
    site(
        tmp_path,
        "<VirtualHost *:80>\n ServerName a.test\n</VirtualHost>\n"
        "<VirtualHost *:80>\n ServerName b.test\n"
        " <Location /server-status>\n  SetHandler server-status\n </Location>\n"
        "</VirtualHost>\n",
    )
    found = discover(str(tmp_path), env={})
    assert found.status_urls == ("http://127.0.0.1/server-status",)
    assert has_note(found, "inside the vhost b.test", "Host: b.test")


def test_mod_status_not_loaded(tmp_path: Path) -> None:
    debian_apache(tmp_path)
    load(tmp_path, "mpm_event", "alias")
    found = discover(str(tmp_path), env={})
    assert has_note(found, "mod_status is not loaded", "sudo a2enmod status")
    assert found.status_urls == FALLBACK_STATUS_URLS


def test_includes_globs_directories_continuations_and_cycles(tmp_path: Path) -> None:
    put(
        tmp_path,
        "/etc/apache2/apache2.conf",
        "# a comment\nINCLUDEOPTIONAL extra/\nInclude apache2.conf\n"
        "IncludeOptional nowhere/*.conf\nErrorLog \\\n   /var/log/joined.log\n",
    )
    put(tmp_path, "/etc/apache2/extra/b/deep.conf", "TransferLog /var/log/deep.log\n")
    put(tmp_path, "/etc/apache2/extra/a.conf", 'LogFormat "%h %U"\n')
    found = discover(str(tmp_path), env={})
    got = by_path(found, tmp_path)
    assert got["/var/log/deep.log"].fmt == "%h %U"
    assert got["/var/log/deep.log"].origin == "apache2/extra/b/deep.conf:1 TransferLog"
    assert got["/var/log/joined.log"].origin == "apache2/apache2.conf:5 ErrorLog"


def test_unreadable_config_is_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site(tmp_path, "CustomLog /var/log/x.log combined\n")
    real_open = open

    def guarded(path: str, *args: object, **kwargs: object) -> object:
        if str(path).endswith("site.conf"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", guarded)
    found = discover(str(tmp_path), env={})
    assert has_note(found, "cannot read /etc/apache2/sites-enabled/site.conf", "Permission denied")


def test_words_and_lines() -> None:
    assert words('LogFormat "%h \\"%r\\" \\\\x" nick') == ["LogFormat", '%h "%r" \\\\x', "nick"]
    assert words("CustomLog 'a b' common") == ["CustomLog", "a b", "common"]
    assert list(logical_lines("A \\\n  b\n  # c\n\nD")) == [(1, "A b"), (5, "D")]


# -- PHP and MySQL ---------------------------------------------------------------------------


def test_php_ini_conf_d_overrides_and_fpm_defaults(tmp_path: Path) -> None:
    put(tmp_path, "/etc/php/8.3/fpm/php.ini", "error_log = /var/log/php/first.log\n")
    put(tmp_path, "/etc/php/8.3/fpm/conf.d/90-x.ini", 'error_log = "/var/log/php/last.log" ; c\n')
    put(tmp_path, "/etc/php/8.3/fpm/php-fpm.conf", "[global]\ninclude = pool.d/*.conf\n")
    put(
        tmp_path,
        "/etc/php/8.3/fpm/pool.d/shop.conf",
        "[shop]\nrequest_slowlog_timeout = 5s\nphp_value[error_log] = /var/log/$pool.php.log\n",
    )
    got = by_path(discover(str(tmp_path), env={}), tmp_path)
    assert "/var/log/php/first.log" not in got
    assert got["/var/log/php/last.log"].origin == "php/8.3/fpm/conf.d/90-x.ini:1 error_log"
    fpm = got["/var/log/php-fpm.log"]  # php-fpm's own default: log/php-fpm.log under /var
    assert fpm.kind == "php-fpm"
    assert fpm.origin == "php/8.3/fpm/php-fpm.conf sets no error_log (php-fpm default)"
    assert got["/var/log/shop.log.slow"].kind == "php-fpm-slow"
    assert got["/var/log/shop.php.log"].kind == "php-error"


def test_mysql_stock_debian_logs_to_journald(tmp_path: Path) -> None:
    debian_mariadb(tmp_path)
    found = discover(str(tmp_path), env={})
    assert found.logs == ()
    assert has_note(found, "no MySQL error log file found", "journalctl -u mariadb")
    assert has_note(found, "slow query log is off")


def test_mysql_bare_flags_use_datadir_and_hostname(tmp_path: Path) -> None:
    put(tmp_path, "/etc/hostname", "db1\n")
    put(
        tmp_path,
        "/etc/my.cnf",
        "[mysqld]\ndatadir = /srv/mysql\nlog-error\nloose-log-slow-query = ON\n"
        "[client]\nlog-error = /var/log/not-a-server.log\n",
    )
    got = by_path(discover(str(tmp_path), env={}), tmp_path)
    assert sorted(got) == ["/srv/mysql/db1-slow.log", "/srv/mysql/db1.err"]
    assert got["/srv/mysql/db1.err"].kind == "mysql-error"


def test_mysql_slow_file_set_but_log_off(tmp_path: Path) -> None:
    put(
        tmp_path,
        "/etc/mysql/my.cnf",
        "[mariadb]\nslow_query_log_file = /var/log/mysql/s.log  # comment\nslow_query_log = 0\n",
    )
    found = discover(str(tmp_path), env={})
    assert found.logs == ()
    assert has_note(found, "my.cnf:2 slow_query_log_file", "slow_query_log is off")


# -- states -----------------------------------------------------------------------------------


def denying(*suffixes: str) -> discover_mod.Opener:
    def opener(path: str) -> IO[bytes]:
        if path.endswith(suffixes):
            raise PermissionError(13, "Permission denied", path)
        return open(path, "rb")

    return opener


def test_unreadable_in_adm_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stock_debian(tmp_path)
    monkeypatch.setattr(discover_mod, "owner_group", lambda st: ("root", "adm"))
    found = discover(str(tmp_path), env={}, opener=denying("access.log"))
    got = by_path(found, tmp_path)
    access = got["/var/log/apache2/access.log"]
    assert access.state == "unreadable"
    assert "root:adm" in access.detail and ADM_HINT in access.detail
    assert "sudo usermod -aG adm $USER" in access.detail
    assert got["/var/log/apache2/error.log"].state == "found"


def test_unreadable_other_group_gets_acl_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock_debian(tmp_path)
    os.chmod(tmp_path / "var/log/apache2/error.log", 0o600)
    monkeypatch.setattr(discover_mod, "owner_group", lambda st: ("mysql", "mysql"))
    found = discover(str(tmp_path), env={}, opener=denying("error.log"))
    error = by_path(found, tmp_path)["/var/log/apache2/error.log"]
    assert error.state == "unreadable"
    assert "mysql:mysql 0600" in error.detail
    assert f"sudo setfacl -m u:$USER:r {error.path}" in error.detail


def test_not_a_file(tmp_path: Path) -> None:
    site(tmp_path, "CustomLog /var/log/dir.log combined\nErrorLog /var/log/dev.log\n")
    (tmp_path / "var/log/dir.log").mkdir(parents=True)
    os.symlink(os.devnull, tmp_path / "var/log/dev.log")
    got = by_path(discover(str(tmp_path), env={}), tmp_path)
    assert (got["/var/log/dir.log"].state, got["/var/log/dir.log"].detail) == (
        "not-a-file",
        "a directory",
    )
    assert got["/var/log/dev.log"].state == "not-a-file"
    assert got["/var/log/dev.log"].detail == f"a character device ({os.devnull})"


def test_missing_directory_is_named(tmp_path: Path) -> None:
    site(tmp_path, "ErrorLog /var/log/nowhere/e.log\n")
    got = by_path(discover(str(tmp_path), env={}), tmp_path)
    assert got["/var/log/nowhere/e.log"].detail == f"no such file (no {tmp_path}/var/log/nowhere)"


def test_same_file_twice_keeps_the_config_origin(tmp_path: Path) -> None:
    rhel_tree(tmp_path)
    found = discover(str(tmp_path), env={})
    paths = [c.path for c in found.logs]
    assert len(paths) == len({os.path.realpath(p) for p in paths})
    access = by_path(found, tmp_path)["/var/log/httpd/access_log"]
    assert access.origin != "default path"


def test_unreadable_directory_names_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian's /var/log/mysql is mysql:adm 2750: another user cannot even stat the files."""
    corpus_tree(tmp_path)
    mysql_dir = tmp_path / "var/log/mysql"
    mysql_dir.chmod(0o2750)
    real_stat, real_access = os.stat, os.access

    def stat(path: str, *args: object, **kwargs: object) -> os.stat_result:
        if str(path).startswith(f"{mysql_dir}/"):
            raise PermissionError(13, "Permission denied", path)
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    def access(path: str, mode: int, **kwargs: object) -> bool:
        return str(path) != str(mysql_dir) and real_access(path, mode)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(discover_mod, "owner_group", lambda st: ("mysql", "adm"))
    found = discover(str(tmp_path), env={})
    error = by_path(found, tmp_path)["/var/log/mysql/error.log"]
    assert error.state == "unreadable"
    assert error.detail == (
        f"permission denied: directory {mysql_dir} is mysql:adm 2750; {ADM_HINT}"
    )
    assert has_note(found, "no MySQL error log file found")


def test_mysql_default_names_need_the_host_name(tmp_path: Path) -> None:
    put(tmp_path, "/etc/my.cnf", "[mysqld]\nlog_error\n")
    found = discover(str(tmp_path), env={})
    assert found.logs == ()
    assert has_note(found, "my.cnf:2 log_error", "named after the host")
