from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from democrata_assets.sources.upload import UploadConnector, write_upload
from democrata_core.models import UploadedDocument

TEXT = (
    b"Notes on the Sentencing Bill\n\n"
    b"The Bill was read a second time on 20 January 2026.\n"
    b"The division was won 319 to 127.\n\n\n"
    b"Committee stage follows.\n"
)

HTML = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Browser title</title>
<style>body { font-family: serif }</style><script>track("visit")</script></head>
<body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<h1>Oil refining and energy security</h1>
<p>Lindsey oil refinery closed in 2025; the UK now has <em>four</em> refineries.</p>
<div>Imports&nbsp;rise.<br>Prices follow.</div>
<ul><li>Grangemouth</li><li>Lindsey</li></ul>
<footer>\xc2\xa9 Caf\xc3\xa9 Press</footer></body></html>"""


def minimal_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A small valid PDF written by hand: Helvetica text, one line per entry ('' = blank line)."""
    objects: list[bytes] = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    contents = []
    for lines in pages:
        ops = [b"BT", b"/F1 12 Tf", b"14 TL", b"72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(b"(" + escaped.encode("latin-1") + b") Tj T*")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        contents.append(len(objects))
    pages_id = len(objects) + len(pages) + 1
    kids = []
    for content in contents:
        objects.append(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 1 0 R >> >> /Contents %d 0 R >>" % (pages_id, content)
        )
        kids.append(len(objects))
    objects.append(
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    )
    objects.append(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    catalog = len(objects)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1 + bool(title), catalog)
    if title:
        objects.append(b"<< /Title (" + title.encode("latin-1") + b") >>")
        trailer += b" /Info %d 0 R" % len(objects)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


PDF = minimal_pdf(
    [
        ["Report on the Sentencing Bill", "", "The Committee met on Tuesday.", "It heard evidence (oral)."],
        ["Second page: conclusions."],
    ],
    title="Sentencing report",
)


def ingest(folder: Path, upload_id: str):
    c = UploadConnector(base_url=folder.resolve().as_uri())
    raws = c.fetch_raw(upload_id)
    return raws, c.parse_all(raws, upload_id)


def test_write_upload_is_idempotent_and_content_addressed(tmp_path: Path):
    first = write_upload(tmp_path, "notes.txt", TEXT, "text/plain", title="Bill notes", house="commons")
    assert first == hashlib.sha256(TEXT).hexdigest()[:16]
    meta_before = (tmp_path / first / "meta.json").read_bytes()
    again = write_upload(tmp_path, "renamed.txt", TEXT, "text/plain", title="Other title")
    assert again == first
    assert sorted(p.name for p in (tmp_path / first).iterdir()) == ["meta.json", "notes.txt"]
    assert (tmp_path / first / "meta.json").read_bytes() == meta_before
    meta = json.loads(meta_before)
    assert meta["filename"] == "notes.txt" and meta["content_type"] == "text/plain"
    assert meta["title"] == "Bill notes" and meta["house"] == "commons"
    assert (tmp_path / first / "notes.txt").read_bytes() == TEXT


def test_write_upload_sanitises_file_names(tmp_path: Path):
    upload_id = write_upload(tmp_path, "../../etc/meta.json", b"x", None)
    assert sorted(p.name for p in (tmp_path / upload_id).iterdir()) == ["meta.json", "upload-meta.json"]
    assert not (tmp_path.parent / "etc").exists()


def test_list_partitions_only_complete_uploads(tmp_path: Path):
    a = write_upload(tmp_path, "a.txt", b"alpha", "text/plain")
    b = write_upload(tmp_path, "b.txt", b"beta", "text/plain")
    (tmp_path / "0123456789abcdef").mkdir()  # incomplete: no meta.json yet
    (tmp_path / "not-an-upload").mkdir()
    (tmp_path / "stray.txt").write_text("x")
    meta = json.loads((tmp_path / a / "meta.json").read_text())
    meta["uploaded_at"] = "2000-01-01T00:00:00+00:00"  # a is older, so first
    (tmp_path / a / "meta.json").write_text(json.dumps(meta))
    c = UploadConnector(base_url=tmp_path.resolve().as_uri())
    assert c.list_partitions() == [a, b]
    assert UploadConnector(base_url=(tmp_path / "missing").as_uri()).list_partitions() == []


def test_plain_text_upload(tmp_path: Path):
    upload_id = write_upload(tmp_path, "notes.txt", TEXT, "text/plain", date="2026-01-21")
    raws, result = ingest(tmp_path, upload_id)
    assert [r.name for r in raws] == ["meta.json", "notes.txt"]
    assert result.quarantined == []
    [doc] = result.documents
    assert isinstance(doc, UploadedDocument)
    assert doc.native_id == doc.partition_key == upload_id
    assert doc.paragraphs == [
        "Notes on the Sentencing Bill",
        "The Bill was read a second time on 20 January 2026. The division was won 319 to 127.",
        "Committee stage follows.",
    ]
    assert doc.title == "Notes on the Sentencing Bill"  # no meta title: the first short paragraph
    assert (doc.house, doc.date, doc.content_type, doc.filename) == (
        "other",
        dt.date(2026, 1, 21),
        "text/plain",
        "notes.txt",
    )
    assert doc.citation_url == f"democrata://upload/{upload_id}"


def test_html_upload(tmp_path: Path):
    upload_id = write_upload(tmp_path, "page.html", HTML, "text/html", house="lords")
    _, result = ingest(tmp_path, upload_id)
    assert result.quarantined == []
    [doc] = result.documents
    assert doc.title == "Oil refining and energy security"
    assert doc.paragraphs == [
        "Oil refining and energy security",
        "Lindsey oil refinery closed in 2025; the UK now has four refineries.",
        "Imports rise. Prices follow.",
        "Grangemouth",
        "Lindsey",
        "\u00a9 Caf\u00e9 Press",
    ]
    assert not any(w in " ".join(doc.paragraphs) for w in ("track", "font-family", "About", "Browser title"))
    assert doc.house == "lords" and doc.content_type == "text/html"


def test_pdf_upload(tmp_path: Path):
    upload_id = write_upload(tmp_path, "report.pdf", PDF, "application/pdf")
    _, result = ingest(tmp_path, upload_id)
    assert result.quarantined == []
    [doc] = result.documents
    assert doc.title == "Sentencing report"  # from the PDF's own metadata
    assert doc.paragraphs == [
        "Report on the Sentencing Bill",
        "The Committee met on Tuesday. It heard evidence (oral).",
        "Second page: conclusions.",
    ]
    assert doc.content_type == "application/pdf"


def test_meta_title_wins(tmp_path: Path):
    upload_id = write_upload(tmp_path, "report.pdf", PDF, "application/pdf", title="Committee report")
    _, result = ingest(tmp_path, upload_id)
    assert result.documents[0].title == "Committee report"


@pytest.mark.parametrize(
    ("filename", "content", "content_type", "reason"),
    [
        ("broken.pdf", PDF[: len(PDF) // 3], "application/pdf", "corrupt PDF"),
        ("fake.pdf", b"this is not a PDF at all", "application/pdf", "corrupt PDF"),
        ("latin.txt", "Señorías, Café".encode("latin-1"), "text/plain", "undecodable text"),
        ("blob.bin", bytes(range(256)), "application/octet-stream", "unsupported content type"),
        ("empty.txt", b"  \n\n  ", "text/plain", "no extractable text"),
    ],
)
def test_bad_documents_are_quarantined_not_raised(tmp_path: Path, filename, content, content_type, reason):
    upload_id = write_upload(tmp_path, filename, content, content_type)
    _, result = ingest(tmp_path, upload_id)
    assert result.documents == []
    [q] = result.quarantined
    assert q.reason.startswith(reason), q.reason
    assert (q.source, q.partition_key, q.file) == ("upload", upload_id, filename)
    assert len(q.excerpt) <= 500


def test_declared_charset_is_used(tmp_path: Path):
    upload_id = write_upload(
        tmp_path, "latin.txt", "Señorías".encode("latin-1"), "text/plain; charset=latin-1"
    )
    _, result = ingest(tmp_path, upload_id)
    assert result.documents[0].paragraphs == ["Señorías"]


def test_broken_meta_is_quarantined_and_the_document_still_lands(tmp_path: Path):
    upload_id = write_upload(tmp_path, "notes.txt", TEXT, "text/plain", title="Ignored")
    (tmp_path / upload_id / "meta.json").write_text('{"filename": "notes.txt", ')
    _, result = ingest(tmp_path, upload_id)
    [q] = result.quarantined
    assert q.file == "meta.json" and q.reason.startswith("invalid meta.json")
    [doc] = result.documents
    assert doc.title == "Notes on the Sentencing Bill" and doc.content_type == "text/plain"


def test_bad_meta_date_is_quarantined(tmp_path: Path):
    upload_id = write_upload(tmp_path, "notes.txt", TEXT, "text/plain", date="21/01/2026")
    _, result = ingest(tmp_path, upload_id)
    assert result.documents == []
    assert "Invalid isoformat" in result.quarantined[0].reason
