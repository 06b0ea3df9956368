"""Clean text out of parlparse elements: flattened inline markup, cp1252 punctuation, tidy spaces."""

from __future__ import annotations

import re

from lxml import etree


def _cp1252_table() -> dict[int, str]:
    """U+0080–U+009F → the cp1252 character that byte means (’ “ ” – — …); undefined ones dropped.

    Hansard's older pages wrote Windows punctuation as `&#146;`, which XML reads as the C1 control
    character U+0092. Nobody ever meant a control character there.
    """
    table: dict[int, str] = {}
    for code in range(0x80, 0xA0):
        try:
            table[code] = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            table[code] = ""
    return table


_CP1252 = _cp1252_table()
_OPEN_SPACE = re.compile(r"([\[(])\s+")
_SPACE_CLOSE = re.compile(r"\s+([\])])")


def clean_text(text: str | None) -> str:
    """cp1252-fixed, whitespace collapsed (nbsp included), no space inside brackets: "[ Lords ]"."""
    if not text:
        return ""
    text = " ".join(text.translate(_CP1252).split())
    return _SPACE_CLOSE.sub(r"\1", _OPEN_SPACE.sub(r"\1", text))


def element_text(element: etree._Element) -> str:
    """All text inside an element, inline phrases flattened."""
    return clean_text("".join(element.itertext()))


def attr(element: etree._Element, name: str) -> str | None:
    """A cleaned attribute value; None when missing or blank."""
    value = clean_text(element.get(name))
    return value or None


def paragraphs(speech: etree._Element) -> list[str]:
    """One string per <p>; a table becomes one line per row, cells joined with " | "."""
    out: list[str] = []
    for child in speech:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "table":
            for row in child.iter("tr"):
                cells = [element_text(cell) for cell in row if isinstance(cell.tag, str)]
                line = " | ".join(c for c in cells if c)
                if line:
                    out.append(line)
        elif child.tag != "place-holder":
            text = element_text(child)
            if text:
                out.append(text)
    if not out:
        # Some scrapes put bare text straight inside <speech>.
        text = element_text(speech)
        if text:
            out.append(text)
    return out
