"""Documents uploaded through the API (plain text, HTML or PDF), ingested one at a time.

The base URL is a folder (`file://…`; the pipeline points it at the landing zone's `uploads/`):

    <upload_id>/<filename>    the document exactly as uploaded
    <upload_id>/meta.json     {"filename", "content_type", "title"?, "house"?, "date"?, "uploaded_at"}

Partition = one upload id: the first 16 hex digits of the sha256 of the bytes, so uploading the same
file twice is the same partition (`write_upload` is idempotent). `meta.json` is written last, so an
upload folder without it is incomplete and not listed.

Parsing: text → paragraphs on blank lines; HTML → lxml, scripts/styles/navigation dropped,
paragraphs from block elements; PDF → pypdf text page by page, paragraphs on blank lines. One
`UploadedDocument` per upload. A corrupt PDF, undecodable text or an unsupported type becomes a
`QuarantineRecord`; parsing never raises.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import mimetypes
import os
import re
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any, ClassVar, get_args

from democrata_core.connector import Connector
from democrata_core.http import Fetcher, FetchError
from democrata_core.models import House, ParseResult, QuarantineRecord, RawFile, UploadedDocument
from democrata_core.text import element_paragraphs, normalise_whitespace, parse_html, split_paragraphs

META = "meta.json"
UPLOAD_ID = re.compile(r"^[0-9a-f]{16}$")
HOUSES = frozenset(get_args(House))
TEXT, HTML, PDF = "text/plain", "text/html", "application/pdf"
_EXT_TYPES = {".txt": TEXT, ".text": TEXT, ".md": TEXT, ".html": HTML, ".htm": HTML, ".pdf": PDF}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_MAX_TITLE = 150


def upload_id_for(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


def _safe_filename(filename: str) -> str:
    name = Path(str(filename).replace("\\", "/")).name.strip()
    name = re.sub(r"[\x00-\x1f/]", "", name).lstrip(".")
    if not name:
        name = "document"
    return "upload-" + name if name == META else name


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_upload(
    dir: Path,
    filename: str,
    content: bytes,
    content_type: str | None,
    title: str | None = None,
    house: str | None = None,
    date: dt.date | str | None = None,
) -> str:
    """Store one upload under `dir/<upload_id>/` and return the upload id (the partition key).

    Idempotent: the id is the first 16 hex digits of sha256(content), and an upload whose meta.json
    already exists is left as it is. The document is written before meta.json, both atomically.
    """
    upload_id = upload_id_for(content)
    folder = Path(dir) / upload_id
    if (folder / META).is_file():
        return upload_id
    folder.mkdir(parents=True, exist_ok=True)
    name = _safe_filename(filename)
    _atomic_write(folder / name, content)
    meta: dict[str, Any] = {
        "filename": name,
        "content_type": content_type or mimetypes.guess_type(name)[0] or "application/octet-stream",
        "title": title,
        "uploaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    if house:
        meta["house"] = house
    if date:
        meta["date"] = date.isoformat() if isinstance(date, dt.date) else str(date)
    _atomic_write(folder / META, json.dumps(meta, indent=2, ensure_ascii=False).encode("utf-8"))
    return upload_id


class _Reject(Exception):
    """A document that cannot be ingested; the message is the quarantine reason."""


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset(content_type: str | None) -> str | None:
    m = re.search(r"charset\s*=\s*\"?([A-Za-z0-9_\-:.]+)", content_type or "", re.IGNORECASE)
    return m.group(1) if m else None


def _decode(content: bytes, charset: str | None) -> str:
    if b"\x00" in content[:8192] and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Reject("binary content (NUL bytes) in a text document")
    try:
        if charset:
            return content.decode(charset)
        return content.decode("utf-8-sig")
    except LookupError as exc:
        raise _Reject(f"unknown charset {charset!r}") from exc
    except UnicodeDecodeError as exc:
        raise _Reject(f"undecodable text ({charset or 'utf-8'}): {exc.reason} at byte {exc.start}") from exc


def detect_kind(filename: str, content_type: str | None, content: bytes) -> str | None:
    """'text/plain', 'text/html', 'application/pdf' or None (unsupported)."""
    media = _media_type(content_type)
    if media in (TEXT, HTML, PDF):
        return media
    if media in ("application/xhtml+xml",):
        return HTML
    if media.startswith("text/") and media not in ("text/csv",):
        return TEXT
    by_ext = _EXT_TYPES.get(Path(filename).suffix.lower())
    if by_ext:
        return by_ext
    head = content[:1024].lstrip().lower()
    if head.startswith(b"%pdf"):
        return PDF
    if head.startswith((b"<!doctype html", b"<html")):
        return HTML
    return None


def _page_text(page: Any) -> str:
    """Layout mode keeps the vertical gaps between paragraphs as blank lines; plain mode is the
    fallback for pages layout mode cannot handle."""
    try:
        return page.extract_text(extraction_mode="layout") or ""
    except Exception:  # layout mode is stricter about fonts; plain extraction still gives the text
        return page.extract_text() or ""


def _pdf_text(content: bytes) -> tuple[list[str], str | None]:
    """Paragraphs of a PDF (pages in order, blank lines split paragraphs) and its metadata title."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not content.lstrip()[:1024].startswith(b"%PDF"):
        raise _Reject("corrupt PDF: no %PDF header")
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise _Reject("encrypted PDF")
        paragraphs: list[str] = []
        for page in reader.pages:
            paragraphs += split_paragraphs(_page_text(page))
        title = None
        if reader.metadata is not None and reader.metadata.title:
            title = normalise_whitespace(str(reader.metadata.title)) or None
    except _Reject:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        raise _Reject(f"corrupt PDF: {type(exc).__name__}: {exc}") from exc
    return paragraphs, title


def _html_text(content: bytes, charset: str | None) -> tuple[list[str], str | None]:
    if not charset:
        m = _META_CHARSET.search(content[:2048])
        charset = m.group(1).decode("ascii") if m else None
    root = parse_html(_decode(content, charset))
    if root is None:
        return [], None
    # The first heading in the body; the <title> only when there is none.
    title = None
    for tags in (("h1", "h2", "h3", "h4", "h5", "h6"), ("title",)):
        for el in root.iter(*tags):
            text = normalise_whitespace(el.text_content())
            if text:
                return element_paragraphs(root), text
    return element_paragraphs(root), title


class UploadConnector(Connector):
    name: ClassVar[str] = "upload"
    partitioning: ClassVar[str] = (
        "One uploaded document (key = upload id, the first 16 hex digits of its sha256): "
        "ingested interactively as soon as it is uploaded."
    )
    default_base_url: ClassVar[str] = "file:///var/lib/democrata/uploads"

    def __init__(self, base_url: str | None = None, fetcher: Fetcher | None = None) -> None:
        super().__init__(base_url, fetcher)

    def _url(self, *parts: str) -> str:
        return "/".join([self.base_url, *(urllib.parse.quote(p) for p in parts)])

    def _meta(self, upload_id: str) -> dict | None:
        try:
            meta = self.fetcher.get_json(self._url(upload_id, META))
        except (FetchError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def list_partitions(self) -> list[str]:
        """Complete uploads (with meta.json), oldest first by `uploaded_at`, then by id."""
        try:
            entries = self.fetcher.list_directory(self.base_url)
        except FetchError:
            return []  # no upload folder yet: nothing uploaded
        found = []
        for entry in entries:
            upload_id = entry.rstrip("/")
            if not entry.endswith("/") or not UPLOAD_ID.match(upload_id):
                continue
            meta = self._meta(upload_id)
            if meta is not None:
                found.append((str(meta.get("uploaded_at") or ""), upload_id))
        return [upload_id for _, upload_id in sorted(found)]

    def fetch_raw(self, partition_key: str) -> list[RawFile]:
        """meta.json first, then the document (and anything else in the upload folder)."""
        names = [n for n in self.fetcher.list_directory(self._url(partition_key)) if not n.endswith("/")]
        names = [n for n in names if not n.startswith(".")]  # in-progress temporary files
        names.sort(key=lambda n: (n != META, n))
        raws = []
        for name in names:
            url = self._url(partition_key, name)
            content_type = "application/json" if name == META else mimetypes.guess_type(name)[0]
            raws.append(
                RawFile(name=name, content=self.fetcher.get(url).content, url=url, content_type=content_type)
            )
        return raws

    # ---------------------------------------------------------------- parse

    def _quarantine(self, key: str, file: str, reason: str, excerpt: bytes | str = b"") -> QuarantineRecord:
        if isinstance(excerpt, bytes):
            excerpt = excerpt[:500].decode("utf-8", "replace")
        return QuarantineRecord(
            source=self.name, partition_key=key, file=file, reason=reason, excerpt=excerpt[:500]
        )

    def parse(self, raw: RawFile, partition_key: str) -> ParseResult:
        """One file on its own: meta.json yields nothing; a document is parsed with default metadata."""
        if raw.name == META:
            return ParseResult()
        return self.parse_document(raw, partition_key, {})

    def parse_all(self, raws: list[RawFile], partition_key: str) -> ParseResult:
        result = ParseResult()
        meta: dict = {}
        meta_raw = next((r for r in raws if r.name == META), None)
        if meta_raw is None:
            result.quarantined.append(self._quarantine(partition_key, META, "upload without meta.json"))
        else:
            try:
                loaded = json.loads(meta_raw.content)
                if not isinstance(loaded, dict):
                    raise ValueError("meta.json is not a JSON object")
                meta = loaded
            except (ValueError, UnicodeDecodeError) as exc:
                result.quarantined.append(
                    self._quarantine(partition_key, META, f"invalid meta.json: {exc}", meta_raw.content)
                )
        documents = [r for r in raws if r.name != META]
        wanted = meta.get("filename")
        if wanted and any(r.name == wanted for r in documents):
            chosen = [r for r in documents if r.name == wanted]
        elif len(documents) == 1:
            chosen = documents
        else:
            chosen = []
            reason = f"document {wanted!r} named in meta.json is missing" if wanted else "no single document"
            result.quarantined.append(self._quarantine(partition_key, wanted or "", reason))
        for raw in documents:
            if raw in chosen:
                result.extend(self.parse_document(raw, partition_key, meta))
            else:
                result.quarantined.append(
                    self._quarantine(
                        partition_key, raw.name, "unexpected extra file in upload folder", raw.content
                    )
                )
        return result

    def parse_document(self, raw: RawFile, partition_key: str, meta: dict) -> ParseResult:
        result = ParseResult()
        content_type = meta.get("content_type") or raw.content_type
        kind = detect_kind(raw.name, content_type, raw.content)
        try:
            if kind is None:
                raise _Reject(f"unsupported content type {content_type!r}")
            meta_title = None
            if kind == PDF:
                paragraphs, meta_title = _pdf_text(raw.content)
            elif kind == HTML:
                paragraphs, meta_title = _html_text(raw.content, _charset(content_type))
            else:
                paragraphs = split_paragraphs(_decode(raw.content, _charset(content_type)))
            if not paragraphs:
                raise _Reject("no extractable text" + (" (scanned PDF?)" if kind == PDF else ""))
            document = UploadedDocument(
                source=self.name,
                native_id=partition_key,
                partition_key=partition_key,
                house=self._house(meta),
                date=self._date(meta),
                title=self._title(meta, meta_title, paragraphs, raw.name),
                parliament=str(meta.get("parliament") or "uk"),
                language=str(meta.get("language") or "en"),
                filename=raw.name,
                content_type=kind,
                paragraphs=paragraphs,
            )
        except _Reject as exc:
            result.quarantined.append(self._quarantine(partition_key, raw.name, str(exc), raw.content))
            return result
        except Exception as exc:  # a bad meta value (e.g. an invalid date) must not fail the partition
            result.quarantined.append(
                self._quarantine(
                    partition_key, raw.name, f"{type(exc).__name__}: {exc}", json.dumps(meta, default=str)
                )
            )
            return result
        result.documents.append(document)
        return result

    @staticmethod
    def _house(meta: dict) -> House:
        house = str(meta.get("house") or "").strip().lower()
        return house if house in HOUSES else "other"  # type: ignore[return-value]

    @staticmethod
    def _date(meta: dict) -> dt.date:
        if meta.get("date"):
            return dt.date.fromisoformat(str(meta["date"])[:10])
        if meta.get("uploaded_at"):
            return dt.date.fromisoformat(str(meta["uploaded_at"])[:10])
        return dt.date.today()

    @staticmethod
    def _title(meta: dict, found: str | None, paragraphs: list[str], filename: str) -> str:
        if meta.get("title"):
            return normalise_whitespace(str(meta["title"]))
        if found:
            return found
        if paragraphs and len(paragraphs[0]) <= _MAX_TITLE:
            return paragraphs[0]
        return filename
