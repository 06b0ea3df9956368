"""Lords Votes API (lordsvotes-api.parliament.uk): House of Lords divisions as JSON.

Partition = one division date, key "YYYY-MM-DD" (the date part of `date`).

Requests (documented parameters):
  search  `/data/Divisions/search?StartDate=&EndDate=&skip=&take=25` — a JSON list of divisions
          whose items carry `contents`/`notContents`/tellers member lists; paged by 25 until a
          short page;
  detail  `/data/Divisions/{divisionId}` — only for an item that came without member lists while
          its counts say members voted (the search normally includes them).

Which window a partition searches: windows given to the constructor, else on a `file://` mirror the
search windows it recorded (`search@EndDate=…&StartDate=…` files), else the day itself
(StartDate = EndDate = the partition date). `list_partitions` searches the same windows, or live a
rolling `lookback_days` window ending today. A missing next page on a mirror (or a 404 for a later
page) ends paging with a warning; a body still truncated after retries lands as `….partial.json`
and its complete items are salvaged at parse time.

Counts are the authoritative ones (`authoritativeContentCount`/`authoritativeNotContentCount`,
tellers included). Tellers are also listed among `contents`/`notContents`: they are flagged
`teller=True` there, not added twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from lxml import html as lxml_html
from pydantic import ValidationError

from democrata_core.connector import Connector
from democrata_core.http import (
    Fetcher,
    FetchError,
    TruncatedBodyError,
    encode_query,
    mirror_queries,
    salvage_json_array,
)
from democrata_core.models import Division, Link, MemberVote, ParseResult, QuarantineRecord, RawFile

log = logging.getLogger(__name__)

SEARCH_PATH = "/data/Divisions/search"
DETAIL_PATH = "/data/Divisions/{id}"
PAGE_SIZE = 25
WEB_URL = "https://votes.parliament.uk/votes/lords/division/{id}"
JSON_TYPE = "application/json"
EXCERPT = 500

Window = tuple[dt.date, dt.date]

_BILL = re.compile(r"^(?P<bill>.*\bBill\b(?:\s*\[(?:HL|Lords)\])?)(?P<rest>.*)$")
_AMENDMENT = re.compile(r"\bmoved (?:that )?(amendment [\w.]+)", re.IGNORECASE)


def bill_and_stage(title: str, notes_html: str | None = None) -> tuple[str | None, str | None]:
    """Bill title from a Lords division title ("Water (Special Measures) Bill [HL]"); the stage from
    the title's tail after a colon, else the amendment the motion notes name ("amendment 51")."""
    title = " ".join(title.split())
    head, _, tail = title.partition(":")
    match = _BILL.match(head)
    bill = match["bill"].strip() if match else None
    stage = None
    if match:
        rest, tail = match["rest"].strip(), tail.strip()
        stage = (f"{rest}: {tail}" if rest and tail else (rest or tail)).lower() or None
    if stage is None and notes_html:
        found = _AMENDMENT.search(html_text(notes_html))
        if found:
            stage = found.group(1).rstrip(".,").lower()
    return bill, stage


def html_text(fragment: str) -> str:
    if not fragment or not fragment.strip():
        return ""
    try:
        return " ".join(lxml_html.fragment_fromstring(fragment, create_parent="div").text_content().split())
    except Exception:  # not HTML after all
        return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


class _Bad(ValueError):
    """A record that cannot become a document (goes to quarantine)."""


@dataclass
class _Page:
    skip: int
    url: str
    content: bytes
    partial: bool


def _excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:EXCERPT]


def _date(value: Any) -> dt.date:
    if not isinstance(value, str) or len(value) < 10:
        raise _Bad(f"bad or missing date {value!r}")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise _Bad(f"bad date {value!r}") from exc


def _int(item: dict, key: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or value is None:
        raise _Bad(f"missing {key}")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _Bad(f"bad {key} {value!r}") from exc


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _item_day(item: Any) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("date"), str) and _is_date(item["date"][:10]):
        return item["date"][:10]
    return None


def _needs_detail(item: dict) -> bool:
    """Counts say members voted, but the item carries no member lists."""
    listed = any(item.get(k) for k in ("contents", "notContents"))
    counted = any(
        isinstance(item.get(k), int) and item[k] > 0 for k in ("memberContentCount", "memberNotContentCount")
    )
    return counted and not listed


class LordsVotesConnector(Connector):
    name: ClassVar[str] = "lords_votes"
    default_base_url: ClassVar[str] = "https://lordsvotes-api.parliament.uk"
    partitioning: ClassVar[str] = (
        "One partition per division date (YYYY-MM-DD): the date's search window (a mirror's recorded "
        "window, else the day itself) paged by 25 until a short page; items carry the member lists "
        "(a detail is fetched only when they do not); discovery searches a rolling window."
    )

    def __init__(
        self,
        base_url: str | None = None,
        fetcher: Fetcher | None = None,
        *,
        windows: list[Window] | None = None,
        lookback_days: int = 30,
        max_pages: int = 40,
        today: dt.date | None = None,
    ) -> None:
        super().__init__(base_url, fetcher)
        self.explicit_windows = list(windows) if windows else None
        self.lookback_days = lookback_days
        self.max_pages = max_pages
        self.today = today

    # -- windows --------------------------------------------------------------------------------

    def windows(self) -> list[Window]:
        """Explicit windows, else the windows a file:// mirror recorded (empty live)."""
        if self.explicit_windows is not None:
            return self.explicit_windows
        found: set[Window] = set()
        for query in mirror_queries(self.base_url + SEARCH_PATH):
            try:
                start = dt.date.fromisoformat(query["StartDate"][0][:10])
                end = dt.date.fromisoformat(query["EndDate"][0][:10])
            except (KeyError, IndexError, ValueError):
                continue
            if query.get("skip", ["0"])[0] == "0":
                found.add((start, end))
        return sorted(found)

    def _window_for(self, day: dt.date) -> Window:
        for start, end in self.windows():
            if start <= day <= end:
                return start, end
        return day, day

    # -- fetching -------------------------------------------------------------------------------

    def _search(self, window: Window) -> list[_Page]:
        url = self.base_url + SEARCH_PATH
        pages: list[_Page] = []
        skip = 0
        for _ in range(self.max_pages):
            params = {
                "StartDate": window[0].isoformat(),
                "EndDate": window[1].isoformat(),
                "skip": skip,
                "take": PAGE_SIZE,
            }
            full_url = f"{url}?{encode_query(params)}"
            try:
                content, partial = self.fetcher.get(url, params).content, False
            except TruncatedBodyError as err:
                log.warning("%s: %s; keeping the %d bytes received", full_url, err, len(err.partial))
                content, partial = err.partial, True
            except FetchError as err:
                if skip > 0 and (url.startswith("file://") or err.status == 404):
                    log.warning(
                        "%s skip=%d: next page not available (HTTP %s); paging ends",
                        SEARCH_PATH,
                        skip,
                        err.status,
                    )
                    break
                raise
            pages.append(_Page(skip, full_url, content, partial))
            count = _clean_count(content)
            if not partial and count is not None and count < PAGE_SIZE:
                break
            skip += PAGE_SIZE
        else:
            log.warning("%s: stopped after max_pages=%d", url, self.max_pages)
        return pages

    def list_partitions(self) -> list[str]:
        windows = self.windows()
        if not windows:
            today = self.today or dt.date.today()
            windows = [(today - dt.timedelta(days=self.lookback_days), today)]
        days = {
            d for w in windows for page in self._search(w) for d in map(_item_day, _page_items(page.content))
        }
        return sorted(d for d in days if d)

    def fetch_raw(self, partition_key: str) -> list[RawFile]:
        day = dt.date.fromisoformat(partition_key)
        window = self._window_for(day)
        raws: list[RawFile] = []
        need_detail: list[int] = []
        for page in self._search(window):
            suffix = ".partial.json" if page.partial else ".json"
            name = f"search/{window[0]}_{window[1]}/skip-{page.skip:04d}{suffix}"
            raws.append(RawFile(name=name, content=page.content, url=page.url, content_type=JSON_TYPE))
            for item in _page_items(page.content):
                if _item_day(item) == partition_key and _needs_detail(item):
                    division_id = item.get("divisionId")
                    if isinstance(division_id, int) and division_id not in need_detail:
                        need_detail.append(division_id)
        for division_id in need_detail:
            url = self.base_url + DETAIL_PATH.format(id=division_id)
            try:
                content, name = self.fetcher.get(url).content, f"division/{division_id}.json"
            except TruncatedBodyError as err:
                log.warning("%s: %s; keeping the partial body", url, err)
                content, name = err.partial, f"division/{division_id}.partial.json"
            except FetchError as err:
                if url.startswith("file://") or err.status == 404:
                    log.info("%s: no detail (%s); the search item stands", url, err)
                    continue
                raise
            raws.append(RawFile(name=name, content=content, url=url, content_type=JSON_TYPE))
        return raws

    # -- parsing --------------------------------------------------------------------------------

    def parse(self, raw: RawFile, partition_key: str) -> ParseResult:
        result = ParseResult()

        def quarantine(reason: str, excerpt: Any) -> None:
            result.quarantined.append(
                QuarantineRecord(
                    source=self.name,
                    partition_key=partition_key,
                    file=raw.name,
                    reason=reason,
                    excerpt=_excerpt(excerpt),
                )
            )

        try:
            if raw.name.startswith("search/"):
                for item in _decode_array(raw.content, quarantine):
                    if not isinstance(item, dict):
                        quarantine("search item is not an object", item)
                        continue
                    day = _item_day(item)
                    if day is not None and day != partition_key:
                        continue  # another date's division: it belongs to that partition
                    self._add(result, item, partition_key, quarantine)
            elif raw.name.startswith("division/"):
                try:
                    item = json.loads(raw.content)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    quarantine(f"invalid JSON: {exc}", raw.content[:EXCERPT].decode("utf-8", "replace"))
                    return result
                if not isinstance(item, dict):
                    quarantine("division detail is not an object", item)
                    return result
                self._add(result, item, partition_key, quarantine)
            else:
                quarantine(
                    "unknown raw file for this source", raw.content[:EXCERPT].decode("utf-8", "replace")
                )
        except Exception as exc:  # never raise on bad data
            quarantine(
                f"unexpected {type(exc).__name__}: {exc}", raw.content[:EXCERPT].decode("utf-8", "replace")
            )
        return result

    def parse_all(self, raws: list[RawFile], partition_key: str) -> ParseResult:
        """A detail supersedes a search item without member lists (same divisionId)."""
        merged = ParseResult()
        by_id: dict[str, int] = {}
        for raw in raws:
            part = self.parse(raw, partition_key)
            merged.quarantined.extend(part.quarantined)
            for doc in part.documents:
                at = by_id.get(doc.native_id)
                if at is None:
                    by_id[doc.native_id] = len(merged.documents)
                    merged.documents.append(doc)
                elif len(getattr(doc, "votes", [])) >= len(getattr(merged.documents[at], "votes", [])):
                    merged.documents[at] = doc
        return merged

    def _add(self, result: ParseResult, item: dict, partition_key: str, quarantine) -> None:
        try:
            result.documents.append(self.division(item, partition_key, quarantine=quarantine))
        except _Bad as exc:
            quarantine(str(exc), item)
        except ValidationError as exc:
            quarantine(f"invalid division: {exc.errors()[0].get('msg', exc)}", item)

    def division(self, item: dict, partition_key: str, *, quarantine=None) -> Division:
        division_id = _int(item, "divisionId")
        date = _date(item.get("date"))
        contents = _int(item, "authoritativeContentCount")
        not_contents = _int(item, "authoritativeNotContentCount")
        title = " ".join(str(item.get("title") or "").split())
        notes = (
            item.get("amendmentMotionNotes") if isinstance(item.get("amendmentMotionNotes"), str) else None
        )
        bill_title, stage = bill_and_stage(title, notes)
        subject = bill_title or title
        links = []
        if bill_title:
            links.append(Link(rel="bill", label=bill_title))
        if subject:
            links.append(Link(rel="debate", label=subject, target=f"{date.isoformat()}|{subject}"))
        number = item.get("number")
        return Division(
            source=self.name,
            native_id=str(division_id),
            partition_key=partition_key,
            house="lords",
            date=date,
            title=title,
            url=WEB_URL.format(id=division_id),
            links=links,
            number=number if isinstance(number, int) and not isinstance(number, bool) else None,
            bill_title=bill_title,
            stage=stage,
            ayes=contents,
            noes=not_contents,
            votes=_member_votes(item, division_id, quarantine),
        )


def _member_votes(item: dict, division_id: int, quarantine) -> list[MemberVote]:
    votes: list[MemberVote] = []
    index: dict[str, int] = {}
    sides = (
        ("contents", "content", False),
        ("notContents", "not_content", False),
        ("contentTellers", "content", True),
        ("notContentTellers", "not_content", True),
    )
    for key, vote, teller in sides:
        members = item.get(key) or []
        if not isinstance(members, list):
            if quarantine:
                quarantine(f"division {division_id}: {key} is not a list", members)
            continue
        for m in members:
            name = m.get("name") if isinstance(m, dict) else None
            if not isinstance(name, str) or not name.strip():
                if quarantine:
                    quarantine(f"division {division_id}: member in {key} without a name", m)
                continue
            member_id = None if m.get("memberId") is None else str(m["memberId"])
            seen = index.get(f"{vote}:{member_id}") if member_id else None
            if seen is not None:
                if teller:
                    votes[seen] = votes[seen].model_copy(update={"teller": True})
                continue
            if member_id:
                index[f"{vote}:{member_id}"] = len(votes)
            votes.append(
                MemberVote(
                    name=name.strip(), vote=vote, member_id=member_id, party=m.get("party"), teller=teller
                )
            )
    return votes


def _decode_array(content: bytes, quarantine) -> list[Any]:
    """A JSON array, or its complete items when the body is cut or garbled (the tail quarantined)."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        salvaged = salvage_json_array(content)
        if salvaged is None:
            quarantine(f"invalid JSON: {exc}", content[:EXCERPT].decode("utf-8", "replace"))
            return []
        if salvaged.error:
            quarantine(
                f"page cut or garbled after {len(salvaged.items)} complete items: {salvaged.error}",
                salvaged.excerpt,
            )
        return salvaged.items
    if isinstance(data, dict):  # a single division where a list was expected
        return [data]
    if not isinstance(data, list):
        quarantine("search page is not a JSON array", data)
        return []
    return data


def _page_items(content: bytes) -> list[Any]:
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        salvaged = salvage_json_array(content)
        return salvaged.items if salvaged else []
    return data if isinstance(data, list) else []


def _clean_count(content: bytes) -> int | None:
    """Items on a page that decoded cleanly; None when it did not (its length says nothing)."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return len(data) if isinstance(data, list) else 0
