"""``lamptop parse FILE``: the records lamptop reads from a log, one JSON object per line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import IO

from console.core.events import LogRecord
from console.core.text import clean_block
from console.incident.serialize import record_to_dict
from console.parsing import detect_kind, make_parser
from console.parsing.timeutil import local_zone
from console.sources.tail.lines import LineSplitter

#: Longest line kept whole, as in the tail (the rest is cut with a marker).
MAX_LINE = 65536
#: Most of a mod_status page read, as the status source reads at most.
MAX_PAGE = 4 * 1024 * 1024


def _chunks(stream: IO[bytes], size: int = 1 << 20) -> Iterator[list[str]]:
    """Decoded, cleaned lines of a byte stream, a chunk at a time: the tail's line splitter,
    so a partial line is carried over bounded and a 50 MB line costs 64 KiB."""
    splitter = LineSplitter(MAX_LINE)
    while block := stream.read(size):
        if lines := splitter.feed(block):
            yield lines
    if last := splitter.end():
        yield last


def cmd_parse(args: argparse.Namespace) -> int:
    """``lamptop parse FILE``: one JSON object per record on standard output."""
    try:
        stream: IO[bytes] = (
            sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
        )
    except OSError as exc:
        print(f"lamptop: {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    with stream:
        kind = args.kind
        if kind == "mod-status":
            page = stream.read(MAX_PAGE).decode("utf-8", errors="replace")
            return _parse_status(clean_block(page), args.file)
        chunks = _chunks(stream)
        first = next(chunks, [])
        if kind is None:
            kind = detect_kind(first)
            if kind is None:
                text = "\n".join(first)
                if "Scoreboard:" in text or "Apache Server Status" in text:
                    return _parse_status(text, args.file)
                print(
                    f"lamptop: {args.file}: cannot tell what kind of log this is; "
                    "give --kind (see lamptop parse --help)",
                    file=sys.stderr,
                )
                return 1
        parser = make_parser(kind, zone=local_zone(args.timezone), fmt=args.format)
        now = datetime.now(UTC)
        out = sys.stdout
        _emit(parser.feed(first, now), out)
        for lines in chunks:
            _emit(parser.feed(lines, now), out)
        _emit(parser.flush(now), out)
    return 0


def _emit(records: Sequence[LogRecord], out: IO[str]) -> None:
    for rec in records:
        out.write(json.dumps(record_to_dict(rec), ensure_ascii=False))
        out.write("\n")


def _parse_status(text: str, name: str) -> int:
    from console.incident.serialize import status_to_dict
    from console.parsing.modstatus import NotModStatus, build_sample

    now = datetime.now(UTC)
    try:
        if text.lstrip().startswith("<"):
            sample = build_sample(now, name, _auto_from_html(text), text)
        else:
            sample = build_sample(now, name, text)
    except NotModStatus as exc:
        print(f"lamptop: {name}: not a mod_status page: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(status_to_dict(sample), ensure_ascii=False))
    return 0


def _auto_from_html(html: str) -> str:
    """The scoreboard and counters from the HTML page, in ``?auto`` form."""
    from console.parsing.modstatus import auto_from_html

    return auto_from_html(html)
