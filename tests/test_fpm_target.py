"""The ``--fpm-status`` / ``[fpm] status`` syntax."""

from __future__ import annotations

import pytest

from console.sources.fpm.target import BadTarget, parse_target


@pytest.mark.parametrize(
    ("text", "scheme", "address", "path", "shown"),
    [
        ("unix:/run/php/php8.2-fpm.sock:/fpm-status", "unix", "/run/php/php8.2-fpm.sock",
         "/fpm-status", "unix:/run/php/php8.2-fpm.sock:/fpm-status"),
        ("unix:/run/php/php8.2-fpm.sock", "unix", "/run/php/php8.2-fpm.sock", "/fpm-status",
         "unix:/run/php/php8.2-fpm.sock:/fpm-status"),
        ("/run/php-fpm/www.sock", "unix", "/run/php-fpm/www.sock", "/fpm-status",
         "unix:/run/php-fpm/www.sock:/fpm-status"),
        ("unix:/run/a:b.sock:/status?json", "unix", "/run/a:b.sock", "/status",
         "unix:/run/a:b.sock:/status"),
        ("tcp:127.0.0.1:9000:/fpm-status", "tcp", ("127.0.0.1", 9000), "/fpm-status",
         "tcp:127.0.0.1:9000:/fpm-status"),
        ("tcp:[::1]:9001:/st", "tcp", ("::1", 9001), "/st", "tcp:[::1]:9001:/st"),
        ("tcp:9000", "tcp", ("127.0.0.1", 9000), "/fpm-status", "tcp:127.0.0.1:9000:/fpm-status"),
        ("TCP:localhost:9000", "tcp", ("localhost", 9000), "/fpm-status",
         "tcp:localhost:9000:/fpm-status"),
    ],
)  # fmt: skip
def test_fastcgi_targets(text: str, scheme: str, address: object, path: str, shown: str) -> None:
    t = parse_target(text)
    assert (t.scheme, t.address, t.path, str(t)) == (scheme, address, path, shown)
    assert t.fastcgi


def test_http_targets_drop_credentials_and_the_format_query() -> None:
    t = parse_target("http://admin:s3cret@127.0.0.1:8080/fpm-status?json&full&x=1")
    assert (t.scheme, t.path, t.auth) == ("http", "/fpm-status", ("admin", "s3cret"))
    assert str(t) == t.url == "http://127.0.0.1:8080/fpm-status?x=1"
    assert "s3cret" not in str(t) and not t.fastcgi
    assert t.where == "127.0.0.1:8080"
    s = parse_target("https://web1.example/fpm-status")
    assert (s.scheme, s.url, s.auth) == ("https", "https://web1.example/fpm-status", None)


@pytest.mark.parametrize(
    "text",
    [
        "ftp://x/fpm-status",
        "127.0.0.1:9000",
        "unix:run/php.sock:/fpm-status",
        "tcp:127.0.0.1:/fpm-status",
        "tcp:host:99999",
        "http:///fpm-status",
        "",
        "\x1b[31m",
    ],
)
def test_what_is_not_a_target_says_the_accepted_forms(text: str) -> None:
    with pytest.raises(BadTarget, match="unix:/run/php/php8.2-fpm.sock:/fpm-status"):
        parse_target(text)
