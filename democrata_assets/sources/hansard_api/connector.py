"""UK Hansard API (hansard-api.parliament.uk): debates, contributions and divisions as JSON.

Partition = one sitting date, key "YYYY-MM-DD", both Houses together (the House is in every raw
file name and every document).

Which days exist (`list_partitions`):
  * live: `/overview/calendar.json?year=&month=&house=` for each configured House and month
    (default: the current and the previous month, so a sensor tick costs four small requests);
  * a `file://` mirror is a recorded crawl, so it lists what was recorded: the calendar months it
    holds, plus the sitting dates of every recorded debate (`Overview.Date`) and every recorded
    debate-section divisions list (`Date`). This is how days whose search or calendar was not
    recorded (3 Mar 2026, 20 Jan 2026 in the bundled mirror) are still found.

What a day's raw files are (`fetch_raw`):
  search pages for the day per House (`/search/debates.json`, paged by `TotalResultCount`)
  → each debate section found (`/debates/debate/{extId}.json`; on a mirror also the recorded
    sections of that day) → the divisions of the section and of each of its child sections
    (`/debates/divisions/{extId}.json`) → each division's detail (`/debates/division/{extId}.json`),
  plus `manifest.json` listing every request made and every file a mirror lacked. A mirror that
  lacks a file is not an error (the bundled samples are not one consistent crawl); live, a failed
  request raises.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from democrata_core.connector import Connector
from democrata_core.http import Fetcher, FetchError, encode_query
from democrata_core.models import (
    Division,
    Document,
    House,
    Link,
    MemberVote,
    ParseResult,
    QuarantineRecord,
    RawFile,
    Speech,
)
from democrata_core.text import html_to_paragraphs, normalise_whitespace, pascal_slug

SEARCH_PAGE_SIZE = 100
DEFAULT_HOUSES = ("Commons", "Lords")
WEB_BASE = "https://hansard.parliament.uk"
MANIFEST = "manifest.json"
JSON_TYPE = "application/json"

_COLUMN = re.compile(r'data-column-number="(\d+)"')
_PARENS = re.compile(r"\(([^()]*)\)")
# Party labels Hansard appends as the last bracket, e.g. "(Con)", "(Lab/Co-op)", "(CB)".
_PARTY = re.compile(
    r"^(?:Con|Lab|LD|SNP|DUP|SDLP|PC|UUP|Alliance|Green|Ind|Reform|RUK|SF|Alba|TUV|CB|Bshp|"
    r"Non-Afl|UKIP|Lab/Co-op|Lab Co-op|Ind Con|Ind Lab|Ind LD|Ind SNP|Spk|Other)$"
)
_CHAIR = re.compile(r"\b(?:Speaker|Chair|Chairman|Chairwoman)\b", re.IGNORECASE)


# --------------------------------------------------------------------------------------------------
# Speaker attribution


@dataclass(frozen=True)
class Attribution:
    name: str | None
    party: str | None = None
    constituency: str | None = None
    role: str | None = None

    @property
    def is_chair(self) -> bool:
        return bool(self.role and _CHAIR.search(self.role))


def parse_attribution(attributed_to: str | None) -> Attribution:
    """'Martin Vickers (Brigg and Immingham) (Con)' → name, constituency, party;
    'Madam Deputy Speaker (Caroline Nokes)' → name 'Caroline Nokes', role 'Madam Deputy Speaker'."""
    raw = normalise_whitespace(attributed_to or "")
    if not raw:
        return Attribution(name=None)
    groups = [normalise_whitespace(g) for g in _PARENS.findall(raw)]
    base = normalise_whitespace(raw.split("(", 1)[0])
    party = groups.pop() if groups and _PARTY.match(groups[-1]) else None
    is_role = base.startswith("The ") or bool(_CHAIR.search(base)) or base in ("Mr Speaker", "Madam Speaker")
    if is_role:
        # "The Secretary of State for X (Ed Miliband)": the bracket holds the member's name.
        return Attribution(name=groups[0] if groups else base, party=party, role=base)
    return Attribution(name=base or None, party=party, constituency=groups[0] if groups else None)


# --------------------------------------------------------------------------------------------------
# Helpers


def _house(overview_house: str | None, location: str | None = None) -> House:
    if location and "westminster hall" in location.lower():
        return "westminster_hall"
    return "lords" if (overview_house or "").strip().lower() == "lords" else "commons"


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])


def _excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:500]


def debate_url(house: str, date: dt.date, ext_id: str, title: str, contribution: str | None = None) -> str:
    """The public Hansard page of a debate section (and anchor of one contribution)."""
    slug = pascal_slug(title) or "Debate"
    url = f"{WEB_BASE}/{house}/{date.isoformat()}/debates/{ext_id}/{slug}"
    return url + (f"#contribution-{contribution}" if contribution else "")


def _child_debates(debate: dict) -> Iterator[dict]:
    for child in debate.get("ChildDebates") or []:
        if isinstance(child, dict):
            yield child
            yield from _child_debates(child)


def _section_ids(debate: Any) -> list[str]:
    """ExtIds of a debate section and all its (recursive) children, best effort."""
    if not isinstance(debate, dict):
        return []
    ids = []
    for section in [debate, *_child_debates(debate)]:
        ext = (section.get("Overview") or {}).get("ExtId")
        if ext:
            ids.append(str(ext))
    return ids


# --------------------------------------------------------------------------------------------------
# Connector


@dataclass
class _Crawl:
    """What one fetch_raw did: the raw files and a manifest line per request."""

    files: list[RawFile] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    names: set[str] = field(default_factory=set)


class HansardApiConnector(Connector):
    name: ClassVar[str] = "hansard_api"
    partitioning: ClassVar[str] = (
        "One sitting date (YYYY-MM-DD), both Houses: the day's debate sections, their "
        "contributions and divisions as served by the Hansard API."
    )
    default_base_url: ClassVar[str] = "https://hansard-api.parliament.uk"

    def __init__(
        self,
        base_url: str | None = None,
        fetcher: Fetcher | None = None,
        houses: tuple[str, ...] = DEFAULT_HOUSES,
        months: list[tuple[int, int]] | None = None,
        today: dt.date | None = None,
    ) -> None:
        super().__init__(base_url, fetcher)
        self.houses = tuple(houses)
        self._months = months
        self._today = today
        self._recorded: dict[str, list[str]] | None = None

    # ---------------------------------------------------------------- requests

    @property
    def is_mirror(self) -> bool:
        return self.base_url.startswith("file://")

    def calendar_request(self, year: int, month: int, house: str) -> tuple[str, dict]:
        return f"{self.base_url}/overview/calendar.json", {"year": year, "month": month, "house": house}

    def search_request(self, day: str, house: str, skip: int) -> tuple[str, dict]:
        return f"{self.base_url}/search/debates.json", {
            "queryParameters.house": house,
            "queryParameters.startDate": day,
            "queryParameters.endDate": day,
            "queryParameters.skip": skip,
            "queryParameters.take": SEARCH_PAGE_SIZE,
        }

    def debate_url(self, ext_id: str) -> str:
        return f"{self.base_url}/debates/debate/{urllib.parse.quote(ext_id)}.json"

    def divisions_url(self, section_ext_id: str) -> str:
        return f"{self.base_url}/debates/divisions/{urllib.parse.quote(section_ext_id)}.json"

    def division_url(self, division_ext_id: str) -> str:
        return f"{self.base_url}/debates/division/{urllib.parse.quote(division_ext_id)}.json"

    def _get(self, crawl: _Crawl | None, url: str, params: dict | None = None) -> bytes | None:
        """GET; on a mirror a missing file is recorded as a warning and None returned."""
        entry = {"url": url + (f"?{encode_query(params)}" if params else ""), "status": "ok"}
        try:
            content = self.fetcher.get(url, params).content
        except FetchError as exc:
            if not self.is_mirror:
                raise
            entry.update(status="missing", warning=str(exc))
            if crawl is not None:
                crawl.requests.append(entry)
            return None
        if crawl is not None:
            crawl.requests.append(entry)
        return content

    # ---------------------------------------------------------------- partitions

    def months(self) -> list[tuple[int, int]]:
        if self._months is not None:
            return list(self._months)
        today = self._today or dt.date.today()
        prev = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
        return [prev, (today.year, today.month)]

    def sitting_days(self, year: int, month: int, house: str) -> list[str]:
        content = self._get(None, *self.calendar_request(year, month, house))
        if content is None:
            return []
        try:
            entries = json.loads(content)
            return sorted(
                {str(e["ItemDate"])[:10] for e in entries if isinstance(e, dict) and e.get("ItemDate")}
            )
        except (ValueError, TypeError, KeyError):
            if self.is_mirror:
                return []
            raise

    def _recorded_calendar_months(self) -> set[tuple[int, int, str]]:
        """(year, month, house) of the calendar responses a mirror holds (from their file names)."""
        found: set[tuple[int, int, str]] = set()
        try:
            names = self.fetcher.list_directory(f"{self.base_url}/overview")
        except FetchError:
            return found
        for name in names:
            stem, _, query = name.partition("@")
            if stem != "calendar.json" or not query:
                continue
            q = dict(urllib.parse.parse_qsl(query))
            try:
                found.add((int(q["year"]), int(q["month"]), q["house"]))
            except (KeyError, ValueError):
                continue
        return found

    def recorded_sections(self) -> dict[str, list[str]]:
        """Mirror only: sitting date → debate-section ExtIds recorded for it (debates + divisions)."""
        if self._recorded is not None:
            return self._recorded
        by_day: dict[str, list[str]] = {}

        def add(day: str, ext: str) -> None:
            if ext not in by_day.setdefault(day, []):
                by_day[day].append(ext)

        if self.is_mirror:
            for folder, kind in (("debate", "debate"), ("divisions", "divisions")):
                try:
                    names = self.fetcher.list_directory(f"{self.base_url}/debates/{folder}")
                except FetchError:
                    continue
                for name in names:
                    if not name.endswith(".json"):
                        continue
                    try:
                        body = json.loads(
                            self.fetcher.get(f"{self.base_url}/debates/{folder}/{name}").content
                        )
                        if kind == "debate":
                            ov = body["Overview"]
                            add(str(ov["Date"])[:10], str(ov["ExtId"]))
                        else:
                            for summary in body:
                                add(str(summary["Date"])[:10], str(summary["DebateSectionExtId"]))
                    except (FetchError, ValueError, TypeError, KeyError):
                        continue  # a bad recorded file is quarantined when its partition is parsed
        self._recorded = by_day
        return by_day

    def list_partitions(self) -> list[str]:
        wanted = {(y, m, h) for (y, m) in self.months() for h in self.houses}
        if self.is_mirror:
            wanted |= self._recorded_calendar_months()
        days: set[str] = set()
        for year, month, house in sorted(wanted):
            days.update(self.sitting_days(year, month, house))
        days.update(self.recorded_sections())
        return sorted(days)

    # ---------------------------------------------------------------- raw

    def _add(self, crawl: _Crawl, name: str, content: bytes, url: str) -> None:
        if name not in crawl.names:
            crawl.names.add(name)
            crawl.files.append(RawFile(name=name, content=content, url=url, content_type=JSON_TYPE))

    def fetch_raw(self, partition_key: str) -> list[RawFile]:
        day = _date(partition_key).isoformat()
        crawl = _Crawl()
        sections: dict[str, None] = {}  # ordered set of debate-section ExtIds

        for house in self.houses:
            skip, seen = 0, 0
            while True:
                url, params = self.search_request(day, house, skip)
                content = self._get(crawl, url, params)
                if content is None:
                    break
                self._add(
                    crawl, f"search/{house.lower()}-{skip}.json", content, f"{url}?{encode_query(params)}"
                )
                try:
                    page = json.loads(content)
                    results = page.get("Results") or []
                    total = int(page.get("TotalResultCount") or 0)
                except (ValueError, TypeError, AttributeError):
                    break  # the search page is kept raw; parse quarantines it
                for result in results:
                    if isinstance(result, dict) and result.get("DebateSectionExtId"):
                        sections[str(result["DebateSectionExtId"])] = None
                seen += len(results)
                if not results or seen >= total:
                    break
                skip += len(results)

        for ext in self.recorded_sections().get(day, []):
            sections[ext] = None

        division_ids: dict[str, None] = {}
        division_sections: dict[str, None] = {}
        for ext in sections:
            division_sections[ext] = None
            url = self.debate_url(ext)
            content = self._get(crawl, url)
            if content is None:
                continue
            self._add(crawl, f"debates/{ext}.json", content, url)
            try:
                children = _section_ids(json.loads(content))[1:]
            except ValueError:
                children = []
            for child in children:
                division_sections[child] = None

        for ext in division_sections:
            url = self.divisions_url(ext)
            content = self._get(crawl, url)
            if content is None:
                continue
            self._add(crawl, f"divisions/{ext}.json", content, url)
            try:
                for summary in json.loads(content):
                    if isinstance(summary, dict) and summary.get("ExternalId"):
                        division_ids[str(summary["ExternalId"])] = None
            except (ValueError, TypeError):
                pass

        for div in division_ids:
            url = self.division_url(div)
            content = self._get(crawl, url)
            if content is not None:
                self._add(crawl, f"division/{div}.json", content, url)

        manifest = {
            "source": self.name,
            "partition_key": partition_key,
            "base_url": self.base_url,
            "requests": crawl.requests,
            "missing": [r["url"] for r in crawl.requests if r["status"] != "ok"],
        }
        crawl.files.append(
            RawFile(
                name=MANIFEST,
                content=json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"),
                url=self.base_url,
                content_type=JSON_TYPE,
            )
        )
        return crawl.files

    # ---------------------------------------------------------------- parse

    def _quarantine(self, raw: RawFile, key: str, reason: str, excerpt: Any = "") -> QuarantineRecord:
        return QuarantineRecord(
            source=self.name, partition_key=key, file=raw.name, reason=reason, excerpt=_excerpt(excerpt)
        )

    def parse(self, raw: RawFile, partition_key: str) -> ParseResult:
        result = ParseResult()
        if raw.name == MANIFEST:
            return result
        try:
            body = json.loads(raw.content)
        except (ValueError, UnicodeDecodeError) as exc:
            result.quarantined.append(
                self._quarantine(
                    raw, partition_key, f"invalid JSON: {exc}", raw.content[:500].decode("utf-8", "replace")
                )
            )
            return result
        kind = raw.name.split("/", 1)[0]
        try:
            if kind == "search":
                if not isinstance(body, dict) or not isinstance(body.get("Results"), list):
                    result.quarantined.append(
                        self._quarantine(raw, partition_key, "search page without Results", body)
                    )
            elif kind == "debates":
                self._parse_debate(body, raw, partition_key, result, parents=[])
            elif kind == "divisions":
                if not isinstance(body, list):
                    raise TypeError("expected a JSON array of division summaries")
                for summary in body:
                    self._parse_division(summary, raw, partition_key, result)
            elif kind == "division":
                self._parse_division(body, raw, partition_key, result)
            else:
                result.quarantined.append(self._quarantine(raw, partition_key, "unrecognised raw file"))
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            result.quarantined.append(
                self._quarantine(raw, partition_key, f"unexpected shape: {type(exc).__name__}: {exc}", body)
            )
        return result

    def _parse_debate(
        self, debate: Any, raw: RawFile, key: str, result: ParseResult, parents: list[str]
    ) -> None:
        if not isinstance(debate, dict) or not isinstance(debate.get("Overview"), dict):
            result.quarantined.append(self._quarantine(raw, key, "debate without Overview", debate))
            return
        ov = debate["Overview"]
        try:
            ext_id = str(ov["ExtId"])
            title = normalise_whitespace(str(ov.get("Title") or ""))
            date = _date(ov["Date"])
            web_house = str(ov.get("House") or "Commons").strip().capitalize()
            house = _house(ov.get("House"), ov.get("Location"))
        except (KeyError, ValueError, TypeError) as exc:
            result.quarantined.append(self._quarantine(raw, key, f"debate Overview lacks {exc}", ov))
            return
        heading_path = [*parents, title] if title else list(parents)
        column: str | None = None
        for item in debate.get("Items") or []:
            try:
                value = item.get("Value") or ""
                markers = _COLUMN.findall(value)
                start_column = column or (markers[0] if markers else None)
                if markers:
                    column = markers[-1]
                if item.get("ItemType") != "Contribution":
                    continue
                speech = self._speech(
                    item, key, ext_id, title, date, web_house, house, heading_path, start_column
                )
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                result.quarantined.append(
                    self._quarantine(raw, key, f"contribution in {ext_id}: {type(exc).__name__}: {exc}", item)
                )
                continue
            if speech is not None:
                result.documents.append(speech)
        for child in debate.get("ChildDebates") or []:
            self._parse_debate(child, raw, key, result, heading_path)

    def _speech(
        self,
        item: dict,
        key: str,
        ext_id: str,
        title: str,
        date: dt.date,
        web_house: str,
        house: House,
        heading_path: list[str],
        column: str | None,
    ) -> Speech | None:
        paragraphs = html_to_paragraphs(item.get("Value") or "")
        if not paragraphs:
            return None  # column-number markers and empty placeholders carry no text
        external_id = item.get("ExternalId")
        native_id = str(external_id or item["ItemId"])
        member_id = item.get("MemberId")
        who = parse_attribution(item.get("AttributedTo"))
        return Speech(
            source=self.name,
            native_id=native_id,
            partition_key=key,
            house=house,
            date=date,
            title=title,
            heading_path=heading_path,
            url=debate_url(web_house, date, ext_id, title, str(external_id) if external_id else None),
            speaker_name=who.name,
            speaker_id=str(member_id) if member_id is not None else None,
            party=who.party,
            column=column,
            paragraphs=paragraphs,
            procedural=member_id is None or who.is_chair,
        )

    def _parse_division(self, body: Any, raw: RawFile, key: str, result: ParseResult) -> None:
        try:
            house = _house(body.get("House"))
            aye, no = ("content", "not_content") if house == "lords" else ("aye", "no")
            votes: list[MemberVote] = []
            for side, vote in (("AyeMembers", aye), ("NoeMembers", no)):
                for m in body.get(side) or []:
                    name = normalise_whitespace(str(m.get("ListAs") or m.get("DisplayAs") or ""))
                    if not name:
                        raise ValueError(f"{side} member {m.get('MemberId')} without a name")
                    votes.append(
                        MemberVote(
                            name=name,
                            vote=vote,
                            member_id=str(m["MemberId"]) if m.get("MemberId") is not None else None,
                            party=m.get("Party") or None,
                            teller=bool(m.get("IsTeller")),
                        )
                    )
            date = _date(body["Date"])
            section = normalise_whitespace(str(body.get("DebateSection") or ""))
            section_ext = body.get("DebateSectionExtId")
            number = body.get("Number")
            division = Division(
                source=self.name,
                native_id=str(body["ExternalId"]),
                partition_key=key,
                house=house,
                date=date,
                title=section,
                number=int(number) if number not in (None, "") else None,
                ayes=int(body["AyesCount"]),
                noes=int(body["NoesCount"]),
                votes=votes,
                url=(
                    debate_url(
                        str(body.get("House") or "Commons").capitalize(), date, str(section_ext), section
                    )
                    if section_ext
                    else None
                ),
                links=(
                    [Link(rel="debate", target=str(section_ext), label=section or str(section_ext))]
                    if section_ext
                    else []
                ),
            )
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            result.quarantined.append(
                self._quarantine(raw, key, f"division: {type(exc).__name__}: {exc}", body)
            )
            return
        result.documents.append(division)

    def parse_all(self, raws: list[RawFile], partition_key: str) -> ParseResult:
        """A division appears in its section's summary list and in its own detail file: keep one,
        the one with most member votes (the detail). Counts are the official ones either way."""
        result = super().parse_all(raws, partition_key)
        best: dict[str, Division] = {}
        for doc in result.documents:
            if isinstance(doc, Division):
                kept = best.get(doc.native_id)
                if kept is None or len(doc.votes) > len(kept.votes):
                    best[doc.native_id] = doc
        documents: list[Document] = []
        emitted: set[str] = set()
        for doc in result.documents:
            if isinstance(doc, Division):
                if doc.native_id in emitted:
                    continue
                doc = best[doc.native_id]
                emitted.add(doc.native_id)
            documents.append(doc)
        result.documents = documents
        return result
