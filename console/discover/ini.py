"""ini-style configuration files (php.ini, php-fpm.conf, my.cnf), read line by line."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from console.discover.files import rooted

_INLINE_COMMENT = re.compile(r"\s+[;#].*$")


def ini_lines(root: str, path: str) -> Iterator[tuple[int, str, str, str]]:
    """(line, section, key, value) of an ini file; ``!include x`` gives key ``!include``."""
    try:
        with open(rooted(root, path), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return
    section = ""
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and "]" in line:
            section = line[1 : line.index("]")].strip()
            continue
        if line.startswith("!"):
            key, _, value = line.partition(" ")
            yield n, section, key, value.strip()
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if value[:1] in ('"', "'") and value.find(value[0], 1) > 0:
            value = value[1 : value.find(value[0], 1)]
        else:
            value = _INLINE_COMMENT.sub("", value)
        yield n, section, key.strip(), value


def resolve(value: str, base: str) -> str:
    return os.path.normpath(os.path.join(base, value))
