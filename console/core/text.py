"""Text written by strangers: cleaned once where it enters, escaped for each place it leaves.

Everything lamptop shows was written by someone else: request lines, user agents, PHP
messages, mod_status columns, process command lines, bundles from a colleague. A terminal
obeys control sequences (title, clipboard, screen wipes), Textual reads ``[markup]``, a
Markdown viewer loads images and HTML, XML refuses raw control characters.

* :func:`clean` (and :func:`clean_block` for a block of lines) is applied where text enters:
  the tail's line splitter, ``lamptop parse``, the status and system sources, the bundle
  reader. It turns every control character (C0 but tab, DEL, C1), bidi control and line or
  paragraph separator into a visible escape: ``\\x1b``, ``<U+202E>``. After it, no text in
  lamptop can drive a terminal, reorder what is around it, or break a line.
* Escapes per sink: :func:`md_code` for report.md, :func:`xml_safe` for the saved screen, and
  for the terminal, markup is never parsed from data (``Text`` objects, ``markup=False``).
* Bounds: :func:`bound` cuts a text to a number of characters with a ``[cut]`` marker.
"""

from __future__ import annotations

import re

#: Characters shown as escapes: C0 controls but tab and newline, DEL, C1 controls, the Arabic
#: letter mark, left-to-right/right-to-left marks, line and paragraph separators, bidi
#: embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069), and the BOM.
_UNSAFE_CHARS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
)
_UNSAFE_IN_BLOCK = re.compile(f"[{_UNSAFE_CHARS}]")
_UNSAFE_IN_LINE = re.compile(f"[\n{_UNSAFE_CHARS}]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"<U+{code:04X}>"


def clean(text: str) -> str:
    """One line of outside text with every unsafe character made a visible escape."""
    return _UNSAFE_IN_LINE.sub(_escape, text)


def clean_block(text: str) -> str:
    """:func:`clean` for a block of lines: newlines are kept, everything else is escaped."""
    return _UNSAFE_IN_BLOCK.sub(_escape, text)


def is_clean(text: str) -> bool:
    return _UNSAFE_IN_LINE.search(text) is None


def clean_value(value: object, depth: int = 0) -> object:
    """Strings anywhere in a JSON-like value (keys too) cleaned; nesting past 32 levels is
    refused with ValueError (a crafted bundle must not cost a RecursionError)."""
    if depth > 32:
        raise ValueError("nested too deeply")
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): clean_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v, depth + 1) for v in value]
    return value


#: ``scheme://user:password@``: the password part.
_URL_PASSWORD = re.compile(r"(?<=://)([^/\s:@\"']*):[^/\s@\"']+@")
#: ``--password=x``, ``--password x``, ``password=x`` (a DSN or a query string), ``-pSECRET``
#: after mysql/mariadb client names.
_KEY_PASSWORD = re.compile(
    r"(?i)(--?(?:password|passwd|pass)[= ]|\b(?:password|passwd|pwd)=)[^\s&;\"']+"
)
_MYSQL_P = re.compile(r"(?i)(\b(?:mysql\w*|mariadb\w*)\b[^|;&]*?\s-p)(?!\s)[^\s]+")
#: SQL that carries a password: ``IDENTIFIED BY 'x'``, ``IDENTIFIED WITH plugin AS 'x'``,
#: ``PASSWORD('x')``, ``SET PASSWORD = 'x'``, ``MASTER_PASSWORD = 'x'``: the quoted value.
_SQL_PASSWORD = re.compile(
    r"(?i)(\bIDENTIFIED\s+(?:(?:VIA|WITH)\s+\w+\s+)?(?:BY|AS|USING)\s+(?:PASSWORD\s*\(?\s*)?"
    r"|\bPASSWORD\s*\(\s*|\bSET\s+PASSWORD\b[^=;]*=\s*(?:PASSWORD\s*\(\s*)?"
    r"|\b\w*PASSWORD\s*=\s*)"
    r"('(?:[^'\\]|\\.|'')*'?|\"(?:[^\"\\]|\\.|\"\")*\"?)"
)
SECRET = "****"


def mask_secrets(text: str) -> str:
    """Passwords masked wherever a line of text may carry one: a URL's ``user:password@``,
    ``--password=...``, ``password=...``, ``mysql -pSECRET``, and SQL's ``IDENTIFIED BY '...'``
    and ``PASSWORD('...')`` (a query in the processlist). Always applied (not only with
    ``--redact``) to command lines and URLs lamptop shows or saves."""
    if ":" in text:
        text = _URL_PASSWORD.sub(rf"\1:{SECRET}@", text)
    lower = text.lower()
    if "pass" in lower or "pwd" in lower:
        text = _KEY_PASSWORD.sub(rf"\1{SECRET}", text)
    if "-p" in text:
        text = _MYSQL_P.sub(rf"\1{SECRET}", text)
    if "password" in lower or "identified" in lower:
        text = _SQL_PASSWORD.sub(rf"\1'{SECRET}'", text)
    return text


CUT = "…[cut]"


def bound(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, a ``…[cut]`` marker saying so."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(CUT), 0)] + CUT


# -- Markdown ------------------------------------------------------------------------------

_BACKTICKS = re.compile("`+")


def md_code(text: object, *, in_table: bool = False) -> str:
    """``text`` as a Markdown code span: nothing in it renders as a link, image, emphasis or
    HTML. In a table cell, ``|`` is escaped as the table syntax requires (GFM reads ``\\|`` as a
    pipe inside code spans in tables). Empty text gives ``-``."""
    s = clean(str(text))
    if not s:
        return "-"
    if in_table:
        s = s.replace("|", "\\|")
    longest = max((len(m) for m in _BACKTICKS.findall(s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or (s.startswith(" ") and s.strip()) else ""
    return f"{fence}{pad}{s}{pad}{fence}"


# -- XML / SVG -----------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(document: str) -> str:
    """Drop the characters XML 1.0 cannot hold (a last guard: cleaned text has none)."""
    return _XML_INVALID.sub("", document)
