"""Search over the index, shared by the API and the CLI: embed the query, hybrid search, shape hits.

Hits carry what a citation needs (speaker, house, date, heading, deep link, native id) and their
links, resolved to indexed records where the index holds the target.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from democrata_core.embedding import Embedder
from democrata_core.index import ChunkIndex, Hit, SearchFilters


class ResolvedLink(BaseModel):
    rel: str
    label: str
    target: str | None = None
    url: str | None = None
    resolved_native_id: str | None = Field(None, description="The indexed record this link points to.")
    resolved_source: str | None = None


class SearchHit(BaseModel):
    rank: int
    score: float
    text: str
    source: str
    kind: str
    native_id: str
    doc_id: str
    chunk_id: str
    chunk_index: int = 0
    speaker: str | None = None
    speaker_id: str | None = None
    party: str | None = None
    column: str | None = Field(None, description="Hansard column, where the source prints one.")
    house: str
    date: dt.date
    heading: str = ""
    title: str = ""
    url: str = Field(description="Deep link for the citation.")
    language: str = "en"
    bill_title: str | None = None
    division_number: int | None = None
    links: list[ResolvedLink] = Field(default_factory=list)


class Retriever:
    def __init__(self, index: ChunkIndex, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    def search(
        self, query: str, filters: SearchFilters | None = None, limit: int = 10, resolve_links: bool = True
    ) -> list[SearchHit]:
        """One hit per record (its best chunk): a reader wants ten speeches, not one speech ten times."""
        vector = self.embedder.embed([query])[0]
        candidates = self.index.search(query, vector, filters or SearchFilters(), limit=limit * 3)
        best: dict[str, Hit] = {}
        for hit in candidates:
            best.setdefault(hit.properties.get("doc_id") or hit.chunk_id, hit)
        hits = list(best.values())[:limit]
        return [self._to_hit(rank, hit, resolve_links) for rank, hit in enumerate(hits, 1)]

    def _to_hit(self, rank: int, hit: Hit, resolve_links: bool) -> SearchHit:
        p = hit.properties
        links = [ResolvedLink(**link) for link in hit.links]
        if resolve_links:
            links = [self._resolve(link) for link in links]
        return SearchHit(
            rank=rank,
            score=hit.score,
            text=p.get("text", ""),
            source=p.get("source", ""),
            kind=p.get("kind", ""),
            native_id=p.get("native_id", ""),
            doc_id=p.get("doc_id", ""),
            chunk_id=hit.chunk_id,
            chunk_index=p.get("chunk_index") or 0,
            speaker=p.get("speaker"),
            speaker_id=p.get("speaker_id"),
            party=p.get("party"),
            column=p.get("column"),
            house=p.get("house", "other"),
            date=p.get("date"),
            heading=p.get("heading", ""),
            title=p.get("title", ""),
            url=p.get("url", ""),
            language=p.get("language", "en"),
            bill_title=p.get("bill_title"),
            division_number=p.get("division_number"),
            links=links,
        )

    def _resolve(self, link: ResolvedLink) -> ResolvedLink:
        """Find the record a link names: by native id when given, a bill by its title otherwise."""
        found: list[dict] = []
        if link.target:
            found = self.index.find_by_property("native_id", link.target, limit=1)
        if not found and link.rel == "bill":
            found = [
                o
                for o in self.index.find_by_property("kind", "bill", limit=200)
                if _same_bill(o.get("bill_title") or o.get("title") or "", link.label)
            ][:1]
        if not found:
            return link
        obj = found[0]
        return link.model_copy(
            update={
                "resolved_native_id": obj.get("native_id"),
                "resolved_source": obj.get("source"),
                "url": link.url or obj.get("url"),
            }
        )


def _normalise_bill(title: str) -> str:
    """'Marine and Coastal Access Bill [HL]' and '… Bill [Lords]' and '… Act 2009' name one bill."""
    t = title.lower().replace("&", "and")
    for marker in ("[hl]", "[lords]", "[commons]"):
        t = t.replace(marker, "")
    t = t.split(" act ")[0].replace(" bill", "").replace(" act", "")
    return " ".join(t.split())


def _same_bill(a: str, b: str) -> bool:
    return bool(a and b) and _normalise_bill(a) == _normalise_bill(b)
