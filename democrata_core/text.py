"""Small pure text helpers shared by connectors: HTML → clean paragraphs, whitespace, slugs.

Every function here is pure (no I/O, no global state) so any connector or the API may import it.
"""

from __future__ import annotations

import re
import unicodedata

from lxml import etree
from lxml import html as lxml_html

# Elements whose content is never reader-facing text.
DROP_TAGS = frozenset({"script", "style", "nav", "noscript", "template", "head", "iframe", "svg", "button"})

# Elements that start a new paragraph (their boundaries are paragraph breaks).
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
        "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
        "body", "html",
    }
)  # fmt: skip

_WS = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")  # zero-width chars, soft hyphen
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v\u00a0]*\n")
_BREAK = "\n\n"
_UTF8_PARSER = lxml_html.HTMLParser(encoding="utf-8")


def normalise_whitespace(text: str) -> str:
    """Collapse every run of whitespace (incl. NBSP, CR/LF, tabs) to one space; strip the ends.

    Zero-width characters and soft hyphens are removed.
    """
    return _WS.sub(" ", _INVISIBLE.sub("", text)).strip()


def split_paragraphs(text: str) -> list[str]:
    """Plain text → paragraphs split on blank lines; lines within a paragraph are joined."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paras = (normalise_whitespace(p) for p in _BLANK_LINE.split(text))
    return [p for p in paras if p]


def _walk(el: etree._Element, out: list[str]) -> None:
    tag = el.tag.lower() if isinstance(el.tag, str) else None
    if tag is None:  # comment or processing instruction: skip it, keep its tail
        if el.tail:
            out.append(el.tail)
        return
    if tag in DROP_TAGS:
        if el.tail:
            out.append(el.tail)
        return
    block = tag in BLOCK_TAGS
    if block:
        out.append(_BREAK)
    if tag == "br":
        out.append("\n")
    if el.text:
        out.append(el.text)
    for child in el:
        _walk(child, out)
    if block:
        out.append(_BREAK)
    if el.tail:
        out.append(el.tail)


def parse_html(html: str) -> etree._Element | None:
    """Parse a whole HTML document or a fragment (plain text is a fragment too); None if empty."""
    if not html or not html.strip():
        return None
    head = html.lstrip()[:1000].lower()
    try:
        if head.startswith(("<?xml", "<!doctype", "<html")) or "<body" in head:
            # bytes, so an XML encoding declaration is allowed
            return lxml_html.document_fromstring(html.encode("utf-8"), parser=_UTF8_PARSER)
        return lxml_html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


def element_paragraphs(root: etree._Element) -> list[str]:
    """Paragraphs of an already parsed HTML tree (block elements and blank lines split them)."""
    out: list[str] = []
    _walk(root, out)
    return split_paragraphs("".join(out))


def html_to_paragraphs(html: str) -> list[str]:
    """HTML (document or fragment, or plain text) → clean paragraphs.

    Scripts, styles and navigation are dropped; block elements (p, div, li, headings …) and blank
    lines in the text both end a paragraph; inline markup (em, span, a …) is flattened; whitespace
    is normalised and empty paragraphs are dropped.
    """
    root = parse_html(html)
    return element_paragraphs(root) if root is not None else []


def _ascii_words(title: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.findall(r"[A-Za-z0-9]+", folded)


def slugify(title: str) -> str:
    """'Política de Navarra: 2023!' → 'politica-de-navarra-2023' (ASCII, lower-case, hyphens)."""
    return "-".join(w.lower() for w in _ascii_words(title))


def pascal_slug(title: str) -> str:
    """'Oil Refining Sector' → 'OilRefiningSector': the slug hansard.parliament.uk puts in its URLs.

    Each word's first letter is upper-cased and the rest kept (so 'NHS' stays 'NHS').
    """
    return "".join(w[:1].upper() + w[1:] for w in _ascii_words(title))
