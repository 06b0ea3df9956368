"""Chunks follow records: a short speech is one chunk, a long one splits on paragraph boundaries.

Every chunk carries its record's heading context (embedded with the text) and the flat, filterable
properties the index stores. Pure functions: the same documents always give the same chunks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable

from pydantic import BaseModel, Field, computed_field

from democrata_core.ids import chunk_id, content_hash
from democrata_core.models import Bill, Division, DocumentBase, Speech, UploadedDocument

TokenCounter = Callable[[str], int]
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


class Chunk(BaseModel):
    source: str
    partition_key: str
    native_id: str
    doc_id: str
    chunk_index: int
    text: str
    heading: str
    properties: dict = Field(default_factory=dict, description="Flat index properties (see index.py).")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def chunk_id(self) -> str:
        return chunk_id(self.source, self.native_id, self.chunk_index)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content_hash(self) -> str:
        """Over everything the index stores, not just the text: a changed flag, speaker or link must
        be rewritten too, or a re-sync would skip the object as unchanged."""
        return content_hash(self.heading, self.text, json.dumps(self.properties, sort_keys=True, default=str))

    @property
    def embedding_text(self) -> str:
        """What the embedder sees: heading first, so a paragraph keeps its subject."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


def document_properties(doc: DocumentBase) -> dict:
    """The record's filterable fields, flattened the same way for every source."""
    props: dict = {
        "kind": doc.kind,  # type: ignore[attr-defined]
        "house": doc.house,
        "parliament": doc.parliament,
        "date": doc.date.isoformat(),
        "title": doc.title,
        "language": doc.language,
        "url": doc.citation_url,
        "links": json.dumps([link.model_dump(exclude_none=True) for link in doc.links]),
        "speaker": None,
        "speaker_id": None,
        "party": None,
        "column": None,
        "parties": [],
        "members": [],
        "bill_title": None,
        "bill_id": None,
        "division_number": None,
        "procedural": False,
    }
    if isinstance(doc, Speech):
        # The Hansard column is how printed citations point at a speech ("HL Deb 29 Oct 2009, col 1288").
        props.update(speaker=doc.speaker_name, speaker_id=doc.speaker_id, party=doc.party, column=doc.column)
        props["procedural"] = doc.procedural
        props["parties"] = [doc.party] if doc.party else []
    elif isinstance(doc, Division):
        props.update(bill_title=doc.bill_title, bill_id=doc.bill_id, division_number=doc.number)
        props["parties"] = sorted(doc.party_breakdown)
        props["members"] = sorted({v.name for v in doc.votes if v.vote != "no_vote"})
    elif isinstance(doc, Bill):
        props.update(bill_title=doc.title, bill_id=doc.bill_id)
        props["members"] = sorted({s.name for s in doc.sponsors})
        props["parties"] = sorted({s.party for s in doc.sponsors if s.party})
    elif isinstance(doc, UploadedDocument):
        props["title"] = doc.title or doc.filename
    return props


def _split_long_paragraph(paragraph: str, max_tokens: int, count: TokenCounter) -> list[str]:
    """A single paragraph over the limit splits on sentences, then hard on words."""
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        candidate = f"{current} {sentence}".strip()
        if count(candidate) <= max_tokens:
            current = candidate
            continue
        if current:
            pieces.append(current)
        if count(sentence) <= max_tokens:
            current = sentence
            continue
        words, current = sentence.split(), ""
        for word in words:
            candidate = f"{current} {word}".strip()
            if current and count(candidate) > max_tokens:
                pieces.append(current)
                current = word
            else:
                current = candidate
    if current:
        pieces.append(current)
    return pieces


def pack_paragraphs(paragraphs: list[str], budget: int, count: TokenCounter) -> list[str]:
    """Greedy packing of whole paragraphs into chunks of at most `budget` tokens."""
    chunks: list[str] = []
    current: list[str] = []
    for paragraph in (p for p in paragraphs if p.strip()):
        parts = [paragraph] if count(paragraph) <= budget else _split_long_paragraph(paragraph, budget, count)
        for part in parts:
            candidate = "\n\n".join([*current, part])
            if current and count(candidate) > budget:
                chunks.append("\n\n".join(current))
                current = [part]
            else:
                current.append(part)
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def chunk_document(doc: DocumentBase, max_tokens: int, count: TokenCounter) -> list[Chunk]:
    heading = doc.heading_context
    # The heading is embedded with every chunk, so it comes out of the token budget.
    budget = max(32, max_tokens - count(heading)) if heading else max_tokens
    texts = [text for section in doc.retrieval_sections() for text in pack_paragraphs(section, budget, count)]
    if not texts:
        return []
    props = document_properties(doc)
    return [
        Chunk(
            source=doc.source,
            partition_key=doc.partition_key,
            native_id=doc.native_id,
            doc_id=doc.doc_id,
            chunk_index=i,
            text=text,
            heading=heading,
            properties={**props, "chunk_count": len(texts)},
        )
        for i, text in enumerate(texts)
    ]


def chunk_documents(docs: Iterable[DocumentBase], max_tokens: int, count: TokenCounter) -> list[Chunk]:
    return [chunk for doc in docs for chunk in chunk_document(doc, max_tokens, count)]
