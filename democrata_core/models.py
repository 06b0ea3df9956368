"""One typed document model across sources.

Every connector parses its raw bytes into these records. The pipeline never looks at a source's
format again: chunking, embedding and indexing work on `Document` alone. Ids and citation URLs are
computed fields so they can never drift from the data they are derived from.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from democrata_core.ids import document_id

# Houses are lower-case keys, shared by filters in the API and properties in the index.
House = Literal[
    "commons",
    "lords",
    "westminster_hall",
    "public_bill_committee",
    "scottish_parliament",
    "congreso",
    "other",
]


class Link(BaseModel):
    """A pointer from one record to another: a division to its debate, a bill to a publication.

    `target` is the other record's native id when known (so it can be resolved in the index),
    otherwise a key such as "2009-10-26|Marine and Coastal Access Bill [Lords]".
    """

    model_config = ConfigDict(extra="forbid")

    rel: Literal["debate", "bill", "division", "publication", "source"]
    label: str
    target: str | None = None
    url: str | None = None


class DocumentBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="Connector name, e.g. 'twfy' or 'uk_bills'.")
    native_id: str = Field(description="The source's own id for this record.")
    partition_key: str
    parliament: str = "uk"
    house: House
    date: dt.date
    title: str = Field("", description="Heading, bill short title or division title.")
    heading_path: list[str] = Field(default_factory=list, description="Major heading first.")
    language: str = "en"
    url: str | None = Field(None, description="Deep link published by the source, if any.")
    links: list[Link] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def doc_id(self) -> str:
        return document_id(self.source, self.native_id)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def citation_url(self) -> str:
        """The link a reader follows to check a citation; falls back to the source's id."""
        return self.url or f"democrata://{self.source}/{self.native_id}"

    @property
    def heading_context(self) -> str:
        """Travels with every chunk so a paragraph cut from a long speech keeps its subject."""
        parts = [p for p in self.heading_path if p]
        if self.title and self.title not in parts:
            parts.append(self.title)
        return " › ".join(parts)

    def retrieval_paragraphs(self) -> list[str]:
        """Paragraphs of text to chunk and embed; subclasses say what their text is."""
        raise NotImplementedError

    def retrieval_sections(self) -> list[list[str]]:
        """Groups of paragraphs that never share a chunk; by default the whole record is one group."""
        return [self.retrieval_paragraphs()]


class Speech(DocumentBase):
    kind: Literal["speech"] = "speech"
    speaker_name: str | None = None
    speaker_id: str | None = None
    party: str | None = None
    column: str | None = None
    paragraphs: list[str] = Field(default_factory=list)
    procedural: bool = Field(False, description="Chair's rulings, 'rose—', timings: kept, marked.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    def retrieval_paragraphs(self) -> list[str]:
        return [p for p in self.paragraphs if p.strip()]


VoteValue = Literal["aye", "no", "content", "not_content", "no_vote"]


class MemberVote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    vote: VoteValue
    member_id: str | None = None
    party: str | None = None
    teller: bool = False


class Division(DocumentBase):
    kind: Literal["division"] = "division"
    number: int | None = None
    bill_title: str | None = None
    bill_id: str | None = None
    stage: str | None = Field(None, description="e.g. 'report stage', 'second reading'.")
    ayes: int = Field(description="Ayes (Commons) or Contents (Lords), as officially counted.")
    noes: int = Field(description="Noes (Commons) or Not Contents (Lords), as officially counted.")
    votes: list[MemberVote] = Field(default_factory=list)

    @property
    def _labels(self) -> tuple[str, str]:
        return ("Contents", "Not contents") if self.house == "lords" else ("Ayes", "Noes")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def party_breakdown(self) -> dict[str, dict[str, int]]:
        """Derived, never stored by the source: party → {"aye": n, "no": n} (tellers included)."""
        counts: dict[str, Counter[str]] = {}
        for v in self.votes:
            if v.vote == "no_vote":
                continue
            side = "aye" if v.vote in ("aye", "content") else "no"
            counts.setdefault(v.party or "Unknown", Counter())[side] += 1
        return {party: {"aye": c["aye"], "no": c["no"]} for party, c in sorted(counts.items())}

    @property
    def tellers(self) -> list[MemberVote]:
        return [v for v in self.votes if v.teller]

    def headline(self) -> str:
        """e.g. 'Division 230, 26 Oct 2009, Marine and Coastal Access Bill [Lords], report stage:
        Ayes 158, Noes 246.' What a reader searching for the vote types."""
        aye_label, no_label = self._labels
        head = f"Division {self.number}" if self.number is not None else "Division"
        subject = ", ".join(p for p in (self.bill_title or self.title, self.stage) if p)
        text = f"{head}, {self.date.strftime('%-d %b %Y')}"
        if subject:
            text += f", {subject}"
        return text + f": {aye_label} {self.ayes}, {no_label} {self.noes}."

    def breakdown(self) -> str:
        """'By party: Labour 322 aye, 0 no; … Tellers: …' — derived from the member votes."""
        parts = []
        if self.party_breakdown:
            aye_word, no_word = ("content", "not content") if self.house == "lords" else ("aye", "no")
            parties = "; ".join(
                f"{party} {c['aye']} {aye_word}, {c['no']} {no_word}"
                for party, c in self.party_breakdown.items()
            )
            parts.append(f"By party: {parties}.")
        if self.tellers:
            parts.append(
                "Tellers: " + ", ".join(f"{t.name} ({t.vote.replace('_', ' ')})" for t in self.tellers) + "."
            )
        return " ".join(parts)

    def render_text(self) -> str:
        return " ".join(p for p in (self.headline(), self.breakdown()) if p)

    def retrieval_paragraphs(self) -> list[str]:
        return [p for p in (self.headline(), self.breakdown()) if p]

    def retrieval_sections(self) -> list[list[str]]:
        # The headline gets a chunk of its own: a 300-name breakdown would otherwise dilute its
        # vector, and "the second reading vote" would rank a short amendment division above it.
        # The breakdown stays searchable (by party, by member) as the division's second chunk.
        return [[p] for p in self.retrieval_paragraphs()]


class Sponsor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    member_id: str | None = None
    party: str | None = None
    house: str | None = None
    organisation: str | None = None


class Publication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    publication_type: str | None = None
    date: dt.date | None = None
    url: str | None = None


class Bill(DocumentBase):
    kind: Literal["bill"] = "bill"
    bill_id: str
    long_title: str | None = None
    summary: str | None = None
    current_stage: str | None = None
    is_act: bool = False
    sponsors: list[Sponsor] = Field(default_factory=list)
    publications: list[Publication] = Field(default_factory=list)

    def retrieval_paragraphs(self) -> list[str]:
        paras = [f"{self.title} (bill {self.bill_id})" + (", now an Act" if self.is_act else "")]
        if self.long_title:
            paras.append(self.long_title)
        if self.summary:
            paras.append(self.summary)
        if self.current_stage:
            paras.append(f"Current stage: {self.current_stage}.")
        if self.sponsors:
            paras.append("Sponsors: " + ", ".join(s.name for s in self.sponsors) + ".")
        if self.publications:
            paras.append(
                "Publications: "
                + "; ".join(
                    f"{p.title} ({p.date.isoformat()})" if p.date else p.title for p in self.publications
                )
                + "."
            )
        return paras


class UploadedDocument(DocumentBase):
    """A single document uploaded through the API (plain text, HTML or PDF)."""

    kind: Literal["document"] = "document"
    filename: str
    content_type: str
    paragraphs: list[str] = Field(default_factory=list)

    def retrieval_paragraphs(self) -> list[str]:
        return [p for p in self.paragraphs if p.strip()]


Document = Annotated[Speech | Division | Bill | UploadedDocument, Field(discriminator="kind")]


class QuarantineRecord(BaseModel):
    """A rejected record: kept with its reason so nothing is silently lost."""

    model_config = ConfigDict(extra="forbid")

    source: str
    partition_key: str
    file: str = Field(description="The raw file (landing-zone-relative name) it came from.")
    reason: str
    line: int | None = None
    excerpt: str = Field("", description="Up to ~500 characters of the raw input around the fault.")


class RawFile(BaseModel):
    """Bytes exactly as fetched, plus where they came from."""

    name: str = Field(description="Path relative to the source's partition, e.g. 'debates/x.xml'.")
    content: bytes
    url: str
    content_type: str | None = None


class ParseResult(BaseModel):
    documents: list[Document] = Field(default_factory=list)
    quarantined: list[QuarantineRecord] = Field(default_factory=list)
    #: Things seen and deliberately not indexed, e.g. {"sampling_gaps": 7}: reported, never lost silently.
    counters: dict[str, int] = Field(default_factory=dict)

    def extend(self, other: ParseResult) -> None:
        self.documents.extend(other.documents)
        self.quarantined.extend(other.quarantined)
        for name, n in other.counters.items():
            self.counters[name] = self.counters.get(name, 0) + n
