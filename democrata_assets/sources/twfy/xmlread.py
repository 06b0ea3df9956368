"""parlparse bytes → top-level XML elements, surviving truncated or garbled files.

A healthy file is parsed in one strict pass. A broken one is cut into its top-level records
(headings, speeches, divisions) and each record is parsed on its own behind the file's own
prolog, so one bad byte costs one record, not the rest of the sitting. Every record that cannot be
read becomes a `Fault` with the line of the original file where it sits.

Entities: Commons/Lords files declare HTML entities in an internal DTD; only internal entities are
resolved (`resolve_entities="internal"`), nothing is ever fetched (`no_network=True`).
"""

from __future__ import annotations

import bisect
import html.entities
import re
from dataclasses import dataclass, field

from lxml import etree

EXCERPT_CHARS = 400
ROOT = b"publicwhip"

# Records that sit directly under <publicwhip>; a broken file is cut at these. (Empty markers such as
# <place-holder colnum/> also occur inside paragraphs, so they are not cut points: see _MARKER.)
_RECORD_TAGS = b"speech|major-heading|minor-heading|oral-heading|division|divisioncount|bill|committee"
_RECORD_START = re.compile(rb"<(" + _RECORD_TAGS + rb")(?=[\s/>])")
# Inside a Commons/Lords <division>, <divisioncount/> is a child, not a record.
_RECORD_START_IN_DIVISION = re.compile(
    rb"<(" + _RECORD_TAGS.replace(b"|divisioncount", b"") + rb")(?=[\s/>])"
)
_ROOT_START = re.compile(rb"<publicwhip(?=[\s>])[^>]*>")
_ROOT_END = b"</publicwhip>"
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_MARKER = re.compile(rb"<(?:place-holder|gidredirect)(?=[\s/>])[^<>]*/>")

# XML's own five entities must not be redeclared; every other HTML name maps to its code point.
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_FALLBACK_DTD = (
    b"<!DOCTYPE publicwhip [\n"
    + b"".join(
        f'<!ENTITY {name} "&#{cp};">\n'.encode("ascii")
        for name, cp in sorted(html.entities.name2codepoint.items())
        if name not in _XML_ENTITIES
    )
    + b"]>\n"
)


def make_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities="internal", load_dtd=False, no_network=True, remove_comments=True, huge_tree=False
    )


@dataclass
class Fault:
    """A part of the file that could not be read: where (original line) and why."""

    line: int | None
    message: str
    excerpt: str


@dataclass
class Record:
    """A top-level element and the shift that turns its `sourceline` into a line of the file."""

    element: etree._Element
    line_offset: int = 0

    @property
    def line(self) -> int | None:
        line = self.element.sourceline
        return None if line is None else line + self.line_offset


@dataclass
class ReadResult:
    root_attrib: dict[str, str] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    #: True when the strict whole-file parse failed and records were read one by one.
    recovered: bool = False


def declared_encoding(content: bytes) -> str:
    match = _ENCODING.match(content[:200])
    return match.group(1).decode("ascii") if match else "utf-8"


class LineIndex:
    """Byte offset ↔ 1-based line number for one file, computed once."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.starts = [0] + [m.end() for m in re.finditer(b"\n", content)]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def offset_of(self, line: int | None) -> int:
        if line is None or line < 1:
            return 0
        return self.starts[min(line, len(self.starts)) - 1]


def excerpt_at(
    content: bytes, line: int | None, encoding: str = "utf-8", lines: LineIndex | None = None
) -> str:
    """A few hundred characters of the raw file around the start of `line` (1-based)."""
    start = (lines or LineIndex(content)).offset_of(line)
    window = content[max(0, start - EXCERPT_CHARS // 4) : start + EXCERPT_CHARS * 3 // 4]
    try:
        return window.decode(encoding, errors="replace")
    except LookupError:
        return window.decode("utf-8", errors="replace")


def read_records(content: bytes) -> ReadResult:
    """Top-level elements in document order, plus a fault for every part that could not be read."""
    try:
        root = etree.fromstring(content, make_parser())
    except etree.XMLSyntaxError as error:
        result = _read_record_by_record(content)
        if not result.faults:
            # Every record read fine on its own, yet the file is not XML: report the strict error.
            result.faults.append(_File(content).fault(error.lineno, f"not well-formed XML: {error.msg}"))
        return result
    except (ValueError, etree.LxmlError) as error:  # e.g. an unknown encoding declaration
        return ReadResult(faults=[_File(content).fault(1, f"unreadable file: {error}")])
    if root.tag != ROOT.decode():
        return ReadResult(
            faults=[_File(content).fault(1, f"root element is <{root.tag}>, expected <publicwhip>")]
        )
    records = [Record(el) for el in root if isinstance(el.tag, str)]
    return ReadResult(root_attrib=dict(root.attrib), records=records)


def _usable_prolog(file: _File, prolog: bytes) -> tuple[bytes, Fault | None]:
    """The file's own XML declaration + DTD if they parse, else a built-in HTML-entity DTD."""
    try:
        etree.fromstring(prolog + b"<publicwhip/>", make_parser())
        return prolog, None
    except etree.XMLSyntaxError as error:
        fault = file.fault(error.lineno, f"broken document prolog/DTD: {error.msg}")
    declaration = f'<?xml version="1.0" encoding="{file.encoding}"?>\n'.encode("ascii")
    return declaration + _FALLBACK_DTD, fault


class _File:
    """The raw bytes with their line index and declared encoding, for faults and excerpts."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.encoding = declared_encoding(content)
        self.lines = LineIndex(content)

    def fault(self, line: int | None, message: str) -> Fault:
        return Fault(line, message, excerpt_at(self.content, line, self.encoding, self.lines))


def _read_record_by_record(content: bytes) -> ReadResult:
    file = _File(content)
    result = ReadResult(recovered=True)
    root_match = _ROOT_START.search(content)
    if root_match is None:
        result.faults.append(file.fault(1, "no <publicwhip> root element found"))
        return result
    root_tag = root_match.group(0)
    try:
        result.root_attrib = dict(etree.fromstring(root_tag + _ROOT_END, make_parser()).attrib)
    except etree.XMLSyntaxError:
        root_tag = b"<publicwhip>"
    prolog, prolog_fault = _usable_prolog(file, content[: root_match.start()])
    if prolog_fault:
        result.faults.append(prolog_fault)
    prefix = prolog + root_tag
    prefix_newlines = prefix.count(b"\n")

    body_start = root_match.end()
    body_end = content.rfind(_ROOT_END)
    truncated = body_end < body_start
    if truncated:
        body_end = len(content)

    pos = body_start
    tail_fault = False
    while pos < body_end:
        match = _RECORD_START.search(content, pos, body_end)
        gap_fault = _gap_fault(file, pos, match.start() if match else body_end)
        if gap_fault:
            result.faults.append(gap_fault)
        if match is None:
            break
        start, tag = match.start(), match.group(1).decode()
        end, closed = _record_end(content, match, body_end)
        chunk_line = file.lines.line_of(start)
        try:
            wrapper = etree.fromstring(prefix + content[start:end] + _ROOT_END, make_parser())
        except (etree.XMLSyntaxError, ValueError) as error:
            line = chunk_line
            if (
                getattr(error, "lineno", None) is not None
            ):  # map the wrapper's line back onto the file, within the record
                line = chunk_line + error.lineno - prefix_newlines - 1
                line = min(max(chunk_line, line), file.lines.line_of(max(start, end - 1)))
            msg = getattr(error, "msg", str(error))
            why = msg if closed else f"<{tag}> record is cut off ({msg})"
            result.faults.append(file.fault(line, why))
            tail_fault = end >= body_end
        else:
            offset = chunk_line - 1 - prefix_newlines
            result.records.extend(Record(el, offset) for el in wrapper if isinstance(el.tag, str))
        pos = end
    if truncated and not tail_fault:
        result.faults.append(
            file.fault(file.lines.line_of(len(content)), "file ends without </publicwhip>: truncated")
        )
    return result


def _record_end(content: bytes, match: re.Match[bytes], body_end: int) -> tuple[int, bool]:
    """Where the record starting at `match` ends, and whether it was properly closed.

    An unclosed record runs until the next record starts, so the damage stays in one record.
    """
    tag = match.group(1)
    tag_close = content.find(b">", match.end(), body_end)
    inner = _RECORD_START_IN_DIVISION if tag == b"division" else _RECORD_START
    next_record = inner.search(content, match.end(), body_end)
    next_start = next_record.start() if next_record else body_end
    if tag_close == -1 or tag_close > next_start:
        return next_start, False
    if content[tag_close - 1 : tag_close] == b"/":
        return tag_close + 1, True
    close = content.find(b"</" + tag + b">", tag_close, body_end)
    if close == -1 or close > next_start:
        return next_start, False
    return close + len(tag) + 3, True


def _gap_fault(file: _File, start: int, end: int) -> Fault | None:
    """Between records a sound file has only whitespace and comments; anything else is damage."""
    blank = lambda m: b" " * len(m.group(0))  # noqa: E731 (keeps offsets)
    gap = _MARKER.sub(blank, _COMMENT.sub(blank, file.content[start:end]))
    stripped = gap.lstrip()
    if not stripped.strip():
        return None
    line = file.lines.line_of(start + len(gap) - len(stripped))
    return file.fault(line, "unexpected content between records (damaged markup)")
