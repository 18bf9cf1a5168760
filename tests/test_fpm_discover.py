"""php-fpm's pools from fake Debian and RHEL trees built from the corpus's configs, and the plan
that merges them with ``--fpm-status``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from console.core.config import Config
from console.discover import discover
from console.discover.fpm_pools import FpmPool, address_target, read_fpm_pools
from console.sources.fpm.planned import plan_fpm
from console.sources.plan import make_plan
from tests.support.paths import FIXTURES

CORPUS = FIXTURES / "configs" / "php-fpm"
RHEL = FIXTURES / "configs" / "stock" / "rhel"


def put(root: Path, dest: str, src: Path | str) -> None:
    target = root / dest.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(src, Path):
        shutil.copyfile(src, target)
    else:
        target.write_text(src)


def debian(root: Path, version: str = "8.2", *, www: Path | str = CORPUS / "www.conf") -> None:
    put(root, f"/etc/php/{version}/fpm/php-fpm.conf", CORPUS / "php-fpm.conf")
    if version != "8.2":  # the corpus's include names 8.2's pool.d
        conf = (CORPUS / "php-fpm.conf").read_text().replace("/8.2/", f"/{version}/")
        put(root, f"/etc/php/{version}/fpm/php-fpm.conf", conf)
    put(root, f"/etc/php/{version}/fpm/pool.d/www.conf", www)
    put(root, f"/etc/php/{version}/fpm/pool.d/api.conf", CORPUS / "api.conf")


def by_name(pools: tuple[FpmPool, ...]) -> dict[str, FpmPool]:
    return {p.name: p for p in pools}


def test_debian_pools_from_the_corpus(tmp_path: Path) -> None:
    debian(tmp_path)
    pools = by_name(read_fpm_pools(str(tmp_path)))
    assert sorted(pools) == ["api", "www"]
    www, api = pools["www"], pools["api"]
    assert (www.pm, www.max_children, www.status_path) == ("dynamic", 8, "/fpm-status")
    assert www.listen == "/run/php/php8.2-fpm.sock" and www.status_listen == ""
    assert www.target == f"unix:{tmp_path}/run/php/php8.2-fpm.sock:/fpm-status"
    assert www.target_origin == "php/8.2/fpm/pool.d/www.conf:5 listen"
    assert www.origin == "php/8.2/fpm/pool.d/www.conf [www]"
    assert (www.conf, www.version, www.service, www.note) == (
        "/etc/php/8.2/fpm/php-fpm.conf",
        "8.2",
        "php8.2-fpm",
        "",
    )
    assert (api.pm, api.max_children, api.status_path) == ("ondemand", 6, "/fpm-status-api")
    assert api.target == f"unix:{tmp_path}/run/php/php8.2-fpm-api.sock:/fpm-status-api"


def test_status_listen_is_preferred_it_answers_when_every_child_is_busy(tmp_path: Path) -> None:
    www = (CORPUS / "www.conf").read_text() + "pm.status_listen = /run/php/fpm-status-www.sock\n"
    debian(tmp_path, www=www)
    pool = by_name(read_fpm_pools(str(tmp_path)))["www"]
    assert pool.target == f"unix:{tmp_path}/run/php/fpm-status-www.sock:/fpm-status"
    assert pool.target_origin.endswith(" pm.status_listen")
    assert pool.places == (
        f"unix:{tmp_path}/run/php/fpm-status-www.sock:/fpm-status",
        f"unix:{tmp_path}/run/php/php8.2-fpm.sock:/",
    )


def test_rhel_stock_pool_has_no_status_page_and_a_note_says_the_fix(tmp_path: Path) -> None:
    put(tmp_path, "/etc/php-fpm.conf", RHEL / "php-fpm.conf")
    put(tmp_path, "/etc/php-fpm.d/www.conf", RHEL / "www.conf")
    (pool,) = read_fpm_pools(str(tmp_path))
    assert (pool.name, pool.listen, pool.max_children, pool.target) == (
        "www",
        "/run/php-fpm/www.sock",
        50,
        "",
    )
    fix = (
        "pool www (php-fpm.d/www.conf) has no status page: add pm.status_path = /fpm-status "
        "to pool www, then systemctl reload php-fpm"
    )
    assert pool.note == fix
    found = discover(str(tmp_path), env={})
    assert found.fpm_pools == (pool,)
    assert fix in found.notes
    plan = make_plan(Config(), root=str(tmp_path))
    assert plan.fpm == ()
    (unpolled,) = plan.fpm_unpolled
    assert (unpolled.name, unpolled.target, unpolled.note) == ("php-fpm:www", "", fix)


def test_rhel_pool_with_a_status_path_on_tcp(tmp_path: Path) -> None:
    put(tmp_path, "/etc/php-fpm.conf", RHEL / "php-fpm.conf")
    www = (
        (RHEL / "www.conf")
        .read_text()
        .replace("listen = /run/php-fpm/www.sock", "listen = 127.0.0.1:9000")
    )
    put(tmp_path, "/etc/php-fpm.d/www.conf", www + "\npm.status_path = /status\n")
    (pool,) = read_fpm_pools(str(tmp_path))
    assert pool.target == "tcp:127.0.0.1:9000:/status" and pool.service == "php-fpm"


@pytest.mark.parametrize(
    ("listen", "target"),
    [
        ("/run/php/x.sock", "unix:/run/php/x.sock:/fpm-status"),
        ("127.0.0.1:9000", "tcp:127.0.0.1:9000:/fpm-status"),
        ("9000", "tcp:127.0.0.1:9000:/fpm-status"),
        ("0.0.0.0:9001", "tcp:127.0.0.1:9001:/fpm-status"),
        ("*:9002", "tcp:127.0.0.1:9002:/fpm-status"),
        ("[::1]:9003", "tcp:[::1]:9003:/fpm-status"),
        ("[::]:9004", "tcp:[::1]:9004:/fpm-status"),
        ("php.sock", ""),
        ("", ""),
    ],
)
def test_listen_addresses(listen: str, target: str) -> None:
    assert address_target("/", listen, "/fpm-status") == target


def test_pool_variables_and_odd_values(tmp_path: Path) -> None:
    put(tmp_path, "/etc/php/8.3/fpm/php-fpm.conf", "[global]\ninclude = pool.d/*.conf\n")
    put(
        tmp_path,
        "/etc/php/8.3/fpm/pool.d/shop.conf",
        "[shop]\nlisten = /run/php/$pool.sock\npm = static\npm.max_children = many\n"
        "pm.status_path = /st\n\n[odd]\nlisten = php.sock\npm.status_path = /st\n\n"
        "[rel]\nlisten = /run/rel.sock\npm.status_path = status\n",
    )
    pools = by_name(read_fpm_pools(str(tmp_path)))
    assert pools["shop"].target == f"unix:{tmp_path}/run/php/shop.sock:/st"
    assert pools["shop"].max_children is None and pools["shop"].pm == "static"
    assert pools["odd"].target == ""
    assert pools["odd"].note == (
        "php/8.3/fpm/pool.d/shop.conf:8 listen: cannot read listen = 'php.sock': give --fpm-status"
    )
    assert "pm.status_path must start with /" in pools["rel"].note


# -- the plan ------------------------------------------------------------------------------------


def test_plan_polls_every_discovered_pool_with_a_status_page(tmp_path: Path) -> None:
    debian(tmp_path)
    plan = make_plan(Config(), root=str(tmp_path))
    got = {p.name: p for p in plan.fpm}
    assert sorted(got) == ["php-fpm:api", "php-fpm:www"]
    www = got["php-fpm:www"]
    assert (www.target, www.max_children, www.pool) == (
        f"unix:{tmp_path}/run/php/php8.2-fpm.sock:/fpm-status",
        8,
        "www",
    )
    assert www.origin == "php/8.2/fpm/pool.d/www.conf:5 listen"
    assert plan.fpm_unpolled == ()


def test_explicit_targets_win_and_take_the_name_of_the_pool_they_reach(tmp_path: Path) -> None:
    debian(tmp_path)
    sock = f"{tmp_path}/run/php/php8.2-fpm.sock"
    cfg = Config(
        fpm_status=(
            f"unix:{sock}:/fpm-status",
            "http://127.0.0.1/fpm-status-api",
            "tcp:127.0.0.1:9000:/other-status",
            "ftp://nowhere",
        )
    )
    plan = make_plan(cfg, root=str(tmp_path))
    assert [(p.name, p.target, p.origin, p.max_children, p.pool) for p in plan.fpm] == [
        ("php-fpm:www", f"unix:{sock}:/fpm-status", "flag or config", 8, "www"),
        ("php-fpm:api", "http://127.0.0.1/fpm-status-api", "flag or config", 6, "api"),
        ("php-fpm:other-status", "tcp:127.0.0.1:9000:/other-status", "flag or config", None, None),
    ]
    assert any("'ftp://nowhere' is not a PHP-FPM status target" in n for n in plan.notes)


def test_without_discovery_names_come_from_the_path() -> None:
    plan = make_plan(
        Config(
            discover=False,
            fpm_status=("unix:/run/a.sock:/fpm-status", "unix:/run/b.sock:/fpm-status", "tcp:9000"),
        )
    )
    assert [p.name for p in plan.fpm] == [
        "php-fpm:fpm-status",
        "php-fpm:fpm-status-2",
        "php-fpm:fpm-status-3",
    ]


def test_an_explicit_target_for_a_pool_without_status_path_is_not_listed_twice(
    tmp_path: Path,
) -> None:
    put(tmp_path, "/etc/php-fpm.conf", RHEL / "php-fpm.conf")
    put(tmp_path, "/etc/php-fpm.d/www.conf", RHEL / "www.conf")
    target = f"unix:{tmp_path}/run/php-fpm/www.sock:/status"
    plan = make_plan(Config(fpm_status=(target,)), root=str(tmp_path))
    assert [(p.name, p.max_children) for p in plan.fpm] == [("php-fpm:www", 50)]
    assert plan.fpm_unpolled == ()


def test_two_php_versions_with_a_pool_www(tmp_path: Path) -> None:
    debian(tmp_path, "8.1")
    debian(tmp_path, "8.2")
    pools = read_fpm_pools(str(tmp_path))
    planned, unpolled, notes = plan_fpm((), pools)
    assert [p.name for p in planned] == [
        "php-fpm:api@8.1",
        "php-fpm:www@8.1",
        "php-fpm:api@8.2",
        "php-fpm:www@8.2",
    ]
    assert unpolled == () and notes == ()


def test_hostile_pool_names_and_values_are_only_text(tmp_path: Path) -> None:
    put(tmp_path, "/etc/php-fpm.conf", "include=/etc/php-fpm.d/*.conf\n")
    put(
        tmp_path,
        "/etc/php-fpm.d/evil.conf",
        "[ev\x1b[31mil]\nlisten = /run/\u202eevil.sock\npm.max_children = " + "9" * 5000 + "\n",
    )
    (pool,) = read_fpm_pools(str(tmp_path))
    assert pool.name == "ev\\x1b[31mil"  # made visible, not obeyed
    assert pool.listen == "/run/<U+202E>evil.sock"
    assert pool.max_children is None  # not a number anyone means
    assert "has no status page" in pool.note and "\x1b" not in pool.note
    (planned,) = plan_fpm((), (pool,))[1]
    assert planned.name == "php-fpm:ev\\x1b[31mil"
