"""parlparse XML → `Speech` and `Division` documents. Pure: bytes in, `ParseResult` out, no I/O.

One pass walks the top-level records in document order, carrying the current headings and the bill
under debate, so every speech and division knows where it sits. Records that cannot be read or
have no id are quarantined with the file and line; `parse_file` never raises on bad data.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from lxml import etree

from democrata_assets.sources.twfy.chambers import Chamber, gid, pbc_session, twfy_url
from democrata_assets.sources.twfy.text import attr, clean_text, element_text, paragraphs
from democrata_assets.sources.twfy.xmlread import (
    LineIndex,
    Record,
    declared_encoding,
    excerpt_at,
    read_records,
)
from democrata_core.models import (
    Division,
    Link,
    MemberVote,
    ParseResult,
    QuarantineRecord,
    Speech,
    VoteValue,
)

SOURCE = "twfy"

# A whole paragraph that only records procedure, not argument: "rose—", "Question put", divisions.
_PROCEDURAL = re.compile(
    r"""^(?:
        rose\W*
      | (?:my\ lords|order|object|hear,\ hear)\W*
      | (?:main\ )?question(?:\ accordingly)?\ (?:put|agreed|negatived|proposed|that).*
      | the\ (?:house|committee)\ (?:having\ )?divided.*
      | division\ on\ .*
      | (?:ayes|contents?)\ \d+.*
      | motion\ (?:made|moved|agreed|withdrawn|disagreed).*
      | (?:lords\ |commons\ )?(?:amendments?|new\ clause|clause|schedule|bill|motion)\b.*?
        \b(?:agreed|withdrawn|negatived|not\ moved|passed|ordered\ to\ stand\ part|read\ a\ (?:first|second|third)\ time).*
      | moved\ by\ .*
      | (?:resolved|ordered)\W*
      | (?:house|sitting|committee)\ (?:adjourned|suspended).*
      | sitting\ suspended.*
      | indicated\ (?:assent|dissent)\W*
      | brought\ up,?\ and\ read\ the\ first\ time\W*
      | debate\ (?:interrupted|resumed).*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

# "Marine and Coastal Access Bill [Lords] — [1st allocated day]" names a bill; so does a Lords
# major heading "Coroners and Justice Bill". The bill is the heading's first part, up to "Bill [HL]".
_BILL_IN_HEADING = re.compile(r"^(?P<bill>(?:\S+\s+)+?Bill\b(?:\s*\[(?:Lords|HL)\])?)", re.IGNORECASE)
# Headings that subdivide a bill debate rather than start a new subject: the bill stays in scope.
_BILL_PART = re.compile(
    r"^(?:\[|new\s+(?:clause|schedule)|clause|schedule|amendment|part\b|long\s+title|title\b|report\b"
    r"|committee\b|(?:second|third)\s+reading|consideration|(?:lords|commons)\s+amendments|motion\s+to)",
    re.IGNORECASE,
)
_STAGES = (
    (re.compile(r"\breport\b|consideration of bill,? as amended", re.I), "report stage"),
    (re.compile(r"\bthird reading\b|\bbill be now read a third time", re.I), "third reading"),
    (re.compile(r"\bsecond reading\b|\bbill be now read a second time", re.I), "second reading"),
    (re.compile(r"\blords amendments\b", re.I), "consideration of Lords amendments"),
    (
        re.compile(r"\bcommons amendments\b|\breturned from the commons\b", re.I),
        "consideration of Commons amendments",
    ),
    (re.compile(r"^committee\b|\bcommittee \(\d", re.I), "committee stage"),
    (re.compile(r"\(programme\)", re.I), "programme motion"),
)
_TELLER_SUFFIX = re.compile(r"\s*\[Tellers?\]\s*$", re.IGNORECASE)
_VOTES: dict[str, VoteValue] = {"aye": "aye", "no": "no", "content": "content", "not-content": "not_content"}


def stage_in(text: str) -> str | None:
    for pattern, stage in _STAGES:
        if pattern.search(text):
            return stage
    return None


def bill_named_in(heading: str) -> str | None:
    """The bill a heading names ("Marine and Coastal Access Bill [Lords]"), or None."""
    first_part = heading.split(" — ", 1)[0]
    match = _BILL_IN_HEADING.match(first_part)
    return clean_text(match["bill"]) if match else None


def is_procedural(speaker_name: str | None, nospeaker: bool, paras: list[str]) -> bool:
    """No speaker, or nothing but procedure ("rose—", "Question put", "The House divided")."""
    if nospeaker or not speaker_name:
        return True
    return all(_PROCEDURAL.match(p) for p in paras)


@dataclass
class _Heading:
    text: str
    native_id: str | None


@dataclass
class FileContext:
    """What every record of one file shares."""

    raw_name: str
    partition_key: str
    chamber: Chamber
    sitting_date: dt.date


class _Walker:
    """Turns records into documents, one at a time, in document order."""

    def __init__(self, ctx: FileContext, content: bytes) -> None:
        self.ctx = ctx
        self.content = content
        self.encoding = declared_encoding(content)
        self.lines = LineIndex(content)
        self.result = ParseResult()
        self.seen: set[str] = set()
        self.major: _Heading | None = None
        self.minor: _Heading | None = None
        self.bill: str | None = None
        self.stage: str | None = None
        # Public Bill Committee files name their bill once, in <bill title url>, for the whole file.
        self.file_bill: str | None = None
        self.file_bill_url: str | None = None
        if ctx.chamber.house == "public_bill_committee":
            self.stage = "committee stage"
        # Headings are not indexed records; a division links to the debate through the first speech
        # under its heading, which is, so the link resolves to something a reader can open.
        self.debate_opening: str | None = None

    # -- helpers -------------------------------------------------------------------------------
    def quarantine(self, reason: str, line: int | None) -> None:
        self.result.quarantined.append(
            QuarantineRecord(
                source=SOURCE,
                partition_key=self.ctx.partition_key,
                file=self.ctx.raw_name,
                reason=f"{self.ctx.raw_name}, line {line if line is not None else '?'}: {reason}",
                line=line,
                excerpt=excerpt_at(self.content, line, self.encoding, self.lines),
            )
        )

    def url_for(self, native_id: str) -> str | None:
        return twfy_url(
            self.ctx.chamber,
            native_id,
            bill_title=self.file_bill,
            session=pbc_session(self.file_bill_url),
        )

    @property
    def heading_path(self) -> list[str]:
        """[major, minor]; committee files lead with their bill, since "Public Bill Committee" alone
        says nothing about the subject."""
        path = [h.text for h in (self.major, self.minor) if h and h.text]
        return [self.file_bill, *path] if self.file_bill else path

    @property
    def innermost(self) -> _Heading | None:
        return self.minor or self.major

    def claim_id(self, native_id: str, kind: str, line: int | None) -> bool:
        """False (and quarantined) when the id was already used in this file."""
        if native_id in self.seen:
            self.quarantine(f"duplicate {kind} id {native_id!r} in the same file; first one kept", line)
            return False
        self.seen.add(native_id)
        return True

    # -- records ------------------------------------------------------------------------------
    def feed(self, record: Record) -> None:
        el = record.element
        tag = el.tag
        if tag in ("major-heading", "oral-heading"):
            self.on_heading(el, major=True)
        elif tag == "minor-heading":
            self.on_heading(el, major=False)
        elif tag == "speech":
            self.on_speech(el, record.line)
        elif tag == "division":
            self.on_division(record, el.find("divisioncount"))
        elif tag == "divisioncount":  # Public Bill Committee: count and lists, no <division> wrapper
            self.on_division(record, el)
        elif tag == "bill":
            self.file_bill = attr(el, "title") or element_text(el) or None
            self.file_bill_url = el.get("url")
            self.bill = self.file_bill
        # <committee>, <place-holder>, <gidredirect>: membership lists and markers, not records.

    def on_heading(self, el: etree._Element, *, major: bool) -> None:
        heading = _Heading(element_text(el), el.get("id"))
        bill = bill_named_in(heading.text)
        if self.file_bill:
            pass  # a committee file debates one bill throughout
        elif bill:
            self.bill, self.stage = bill, stage_in(heading.text.split(" — ", 1)[-1])
            # parlparse files a Commons bill debate as a minor heading under the previous
            # department's questions; promote it so the path reads "Bill › Clause 117".
            major = True
        elif major or not _BILL_PART.match(heading.text):
            self.bill, self.stage = None, None
        else:
            self.stage = stage_in(heading.text) or self.stage
        if major:
            self.major, self.minor = heading, None
        else:
            self.minor = heading
        self.debate_opening = None

    def on_speech(self, el: etree._Element, line: int | None) -> None:
        native_id = el.get("id")
        if not native_id:
            self.quarantine("<speech> has no id attribute, so it cannot be given a stable identity", line)
            return
        if not self.claim_id(native_id, "speech", line):
            return
        paras = paragraphs(el)
        self.debate_opening = self.debate_opening or native_id
        if self.bill and not self.file_bill:
            for p in paras:
                self.stage = _speech_stage(p) or self.stage
        nospeaker = (el.get("nospeaker") or "").lower() in ("true", "yes")
        speaker_name = None if nospeaker else attr(el, "speakername")
        speaker_id = attr(el, "person_id") or attr(el, "speakerid")
        if speaker_id == "unknown":
            speaker_id = None
        official = el.get("url")
        innermost = self.innermost
        self.result.documents.append(
            Speech(
                source=SOURCE,
                native_id=native_id,
                partition_key=self.ctx.partition_key,
                parliament=self.ctx.chamber.parliament,
                house=self.ctx.chamber.house,
                date=self.ctx.sitting_date,
                title=innermost.text if innermost else "",
                heading_path=self.heading_path,
                url=self.url_for(native_id) or official,
                links=[Link(rel="source", label="Official Report", url=official)] if official else [],
                speaker_name=speaker_name,
                speaker_id=None if nospeaker else speaker_id,
                column=el.get("colnum"),
                paragraphs=paras,
                procedural=is_procedural(speaker_name, nospeaker, paras),
            )
        )

    def on_division(self, record: Record, count: etree._Element | None) -> None:
        el, line = record.element, record.line
        native_id = el.get("id")
        if not native_id:
            self.quarantine(f"<{el.tag}> has no id attribute, so it cannot be given a stable identity", line)
            return
        if count is None:
            self.quarantine(f"division {native_id!r} has no <divisioncount>: official counts unknown", line)
            return
        ayes = _int(count.get("ayes", count.get("content")))
        noes = _int(count.get("noes", count.get("not-content")))
        if ayes is None or noes is None:
            self.quarantine(f"division {native_id!r}: <divisioncount> has no usable ayes/noes counts", line)
            return
        if not self.claim_id(native_id, "division", line):
            return
        votes: list[MemberVote] = []
        for member in el.iter("mpname", "lord"):
            raw_vote = member.get("vote") or member.getparent().get("vote") or ""
            vote = _VOTES.get(raw_vote.strip().lower())
            name = _TELLER_SUFFIX.sub("", element_text(member))
            if vote is None or not name:
                where = Record(member, record.line_offset).line
                self.quarantine(
                    f"division {native_id!r}: member vote {raw_vote!r} for {name!r} not understood", where
                )
                continue
            votes.append(
                MemberVote(
                    name=name,
                    vote=vote,
                    member_id=member.get("id") or member.get("memberid"),
                    teller=(member.get("teller") or "").lower() == "yes",
                )
            )
        date = _date(el.get("divdate")) or self.ctx.sitting_date
        heading = self.innermost
        links: list[Link] = []
        if heading:
            links.append(
                Link(
                    rel="debate",
                    label=heading.text,
                    target=self.debate_opening or heading.native_id,
                    url=self.url_for(heading.native_id) if heading.native_id else None,
                )
            )
        if self.bill:
            links.append(
                Link(rel="bill", label=self.bill, url=self.file_bill_url if self.file_bill else None)
            )
        if el.get("url"):
            links.append(Link(rel="source", label="Official Report", url=el.get("url")))
        self.result.documents.append(
            Division(
                source=SOURCE,
                native_id=native_id,
                partition_key=self.ctx.partition_key,
                parliament=self.ctx.chamber.parliament,
                house=self.ctx.chamber.house,
                date=date,
                title=heading.text if heading else f"Division {el.get('divnumber', '')}".strip(),
                heading_path=self.heading_path,
                url=self.url_for(native_id) or el.get("url"),
                links=links,
                number=_int(el.get("divnumber")),
                bill_title=self.bill,
                stage=self.stage if self.bill else None,
                ayes=ayes,
                noes=noes,
                votes=votes,
            )
        )


def _speech_stage(paragraph: str) -> str | None:
    """Stage evidence in a speech: "Consideration of Bill, as amended…", "…be now read a Third time"."""
    lowered = paragraph.lower()
    if "consideration of bill" in lowered or "bill be now read" in lowered:
        return stage_in(paragraph)
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_file(content: bytes, ctx: FileContext) -> ParseResult:
    """Every speech and division in one parlparse file; unreadable parts quarantined. Never raises."""
    walker = _Walker(ctx, content)
    try:
        read = read_records(content)
        for fault in read.faults:
            walker.quarantine(fault.message, fault.line)
        for record in read.records:
            try:
                walker.feed(record)
            except Exception as error:  # one odd record must not cost the rest of the file
                walker.quarantine(f"could not interpret <{record.element.tag}>: {error!r}", record.line)
    except Exception as error:  # last resort: parse() must never raise on data
        walker.quarantine(f"parser failure: {error!r}", None)
    return walker.result


__all__ = ["FileContext", "bill_named_in", "gid", "is_procedural", "parse_file", "stage_in"]
