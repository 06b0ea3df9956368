"""Code shared by the UK Parliament JSON API sources (Commons Votes, Lords Votes, Bills).

The two votes APIs are read the same way — a date window searched by skip/take pages until a short
page, then a per-division detail — and differ only in paths, parameter and field names, so that
plumbing lives in `DivisionSearchConnector`; each connector keeps its names, its `division()`
mapping and its quirks. The Bills API pages differently (to `totalResults`) but fetches, tolerates
missing files and quarantines records with the same helpers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

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

JSON_TYPE = "application/json"
EXCERPT = 500

Window = tuple[dt.date, dt.date]
Quarantine = Callable[[str, Any], None]


class BadRecord(ValueError):
    """A record that cannot become a document (goes to quarantine)."""


# -- records ------------------------------------------------------------------------------------


def excerpt(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:EXCERPT]


def raw_excerpt(content: bytes) -> str:
    return content[:EXCERPT].decode("utf-8", "replace")


def required_int(item: dict, key: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or value is None:
        raise BadRecord(f"missing {key}")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise BadRecord(f"bad {key} {value!r}") from exc


def required_date(value: Any, key: str) -> dt.date:
    """The date part of an ISO timestamp; `key` names the field in the quarantine reason."""
    if not isinstance(value, str) or len(value) < 10:
        raise BadRecord(f"bad or missing {key} {value!r}")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise BadRecord(f"bad {key} {value!r}") from exc


def is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def member_votes(
    item: dict,
    division_id: int,
    quarantine: Quarantine | None,
    sides: tuple[tuple[str, str, bool], ...],
    *,
    name_key: str,
    id_key: str,
    party_key: str,
    drop_repeats: bool,
) -> list[MemberVote]:
    """Votes from the (list key, vote, teller) `sides`. A teller already listed on that side is
    flagged rather than added twice; `drop_repeats` also drops a repeated non-teller entry."""
    votes: list[MemberVote] = []
    index: dict[str, int] = {}
    for key, vote, teller in sides:
        members = item.get(key) or []
        if not isinstance(members, list):
            if quarantine:
                quarantine(f"division {division_id}: {key} is not a list", members)
            continue
        for m in members:
            name = m.get(name_key) if isinstance(m, dict) else None
            if not isinstance(name, str) or not name.strip():
                if quarantine:
                    quarantine(f"division {division_id}: member in {key} without a {name_key}", m)
                continue
            member_id = None if m.get(id_key) is None else str(m[id_key])
            seen = index.get(f"{vote}:{member_id}") if member_id else None
            if seen is not None and (teller or drop_repeats):
                if teller:
                    votes[seen] = votes[seen].model_copy(update={"teller": True})
                continue
            if member_id:
                index[f"{vote}:{member_id}"] = len(votes)
            votes.append(
                MemberVote(
                    name=name.strip(), vote=vote, member_id=member_id, party=m.get(party_key), teller=teller
                )
            )
    return votes


# -- JSON array pages ---------------------------------------------------------------------------


def page_items(content: bytes) -> list[Any]:
    """A page's items for discovery: no quarantine, complete items of a cut page."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        salvaged = salvage_json_array(content)
        return salvaged.items if salvaged else []
    return data if isinstance(data, list) else []


def clean_count(content: bytes) -> int | None:
    """Items on a page that decoded cleanly; None when it did not (its length says nothing)."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return len(data) if isinstance(data, list) else 0


def decode_array(content: bytes, quarantine: Quarantine, *, single_object: bool = False) -> list[Any]:
    """A JSON array, or its complete items when the body is cut or garbled (the tail quarantined).
    `single_object`: an object where a list was expected is taken as a one-item list."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        salvaged = salvage_json_array(content)
        if salvaged is None:
            quarantine(f"invalid JSON: {exc}", raw_excerpt(content))
            return []
        if salvaged.error:
            quarantine(
                f"page cut or garbled after {len(salvaged.items)} complete items: {salvaged.error}",
                salvaged.excerpt,
            )
        return salvaged.items
    if single_object and isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        quarantine("search page is not a JSON array", data)
        return []
    return data


# -- fetching -----------------------------------------------------------------------------------


@dataclass
class Body:
    content: bytes
    partial: bool


def get_body(fetcher: Fetcher, url: str, params: dict[str, Any] | None = None) -> Body:
    """A body still truncated after the fetcher's retries is kept (`partial`): its complete records
    are salvaged at parse time instead of failing the run."""
    try:
        return Body(fetcher.get(url, params).content, False)
    except TruncatedBodyError as err:
        log.warning("%s: %s; keeping the %d bytes received", err.url, err, len(err.partial))
        return Body(err.partial, True)


def is_missing(err: FetchError, url: str) -> bool:
    """A `file://` mirror does not hold it, or the API answered 404: absent rather than failing."""
    return url.startswith("file://") or err.status == 404


@dataclass
class SearchPage:
    window: Window
    skip: int
    url: str
    content: bytes
    partial: bool

    def raw(self) -> RawFile:
        suffix = ".partial.json" if self.partial else ".json"
        name = f"search/{self.window[0]}_{self.window[1]}/skip-{self.skip:04d}{suffix}"
        return RawFile(name=name, content=self.content, url=self.url, content_type=JSON_TYPE)


class DivisionSearchConnector(Connector):
    """A votes API: date-windowed search paged by skip/take until a short page, plus details.

    One partition per division date. Subclasses name the paths, query parameters and item fields,
    and map an item to a document in `document()`.
    """

    search_path: ClassVar[str]
    detail_path: ClassVar[str]  # with "{id}"
    start_param: ClassVar[str]
    end_param: ClassVar[str]
    skip_param: ClassVar[str]
    take_param: ClassVar[str]
    date_key: ClassVar[str]
    id_key: ClassVar[str]
    house: ClassVar[str]
    web_url: ClassVar[str]  # with "{id}"
    page_size: ClassVar[int] = 25
    #: Whether a search body that is one object (not a list) is taken as a one-item page.
    single_object_page: ClassVar[bool] = False

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

    # -- hooks ----------------------------------------------------------------------------------

    def wants_detail(self, item: dict) -> bool:
        """Whether a search item of the partition's date needs its detail fetched."""
        return True

    def document(self, item: dict, partition_key: str, *, detail: bool, quarantine: Quarantine) -> Division:
        """The document for one item (a search summary, or a detail when `detail`); BadRecord quarantines."""
        raise NotImplementedError

    # -- windows --------------------------------------------------------------------------------

    def windows(self) -> list[Window]:
        """Explicit windows, else the windows a file:// mirror recorded (empty live)."""
        if self.explicit_windows is not None:
            return self.explicit_windows
        found: set[Window] = set()
        for query in mirror_queries(self.base_url + self.search_path):
            try:
                start = dt.date.fromisoformat(query[self.start_param][0][:10])
                end = dt.date.fromisoformat(query[self.end_param][0][:10])
            except (KeyError, IndexError, ValueError):
                continue
            if query.get(self.skip_param, ["0"])[0] == "0":
                found.add((start, end))
        return sorted(found)

    def _window_for(self, day: dt.date) -> Window:
        for start, end in self.windows():
            if start <= day <= end:
                return start, end
        return day, day

    def item_day(self, item: Any) -> str | None:
        """The item's division date (YYYY-MM-DD), None when it has no valid one."""
        if isinstance(item, dict):
            value = item.get(self.date_key)
            if isinstance(value, str) and is_date(value[:10]):
                return value[:10]
        return None

    # -- fetching -------------------------------------------------------------------------------

    def _search(self, window: Window) -> list[SearchPage]:
        url = self.base_url + self.search_path
        pages: list[SearchPage] = []
        skip = 0
        for _ in range(self.max_pages):
            params = {
                self.start_param: window[0].isoformat(),
                self.end_param: window[1].isoformat(),
                self.skip_param: skip,
                self.take_param: self.page_size,
            }
            try:
                body = get_body(self.fetcher, url, params)
            except FetchError as err:
                if skip > 0 and is_missing(err, url):
                    log.warning(
                        "%s skip=%d: next page not available (HTTP %s); paging ends",
                        self.search_path,
                        skip,
                        err.status,
                    )
                    break
                raise
            pages.append(
                SearchPage(window, skip, f"{url}?{encode_query(params)}", body.content, body.partial)
            )
            count = clean_count(body.content)
            if not body.partial and count is not None and count < self.page_size:
                break
            skip += self.page_size
        else:
            log.warning("%s: stopped after max_pages=%d", url, self.max_pages)
        return pages

    def list_partitions(self) -> list[str]:
        windows = self.windows()
        if not windows:
            today = self.today or dt.date.today()
            windows = [(today - dt.timedelta(days=self.lookback_days), today)]
        days = {
            d
            for w in windows
            for page in self._search(w)
            for d in map(self.item_day, page_items(page.content))
        }
        return sorted(d for d in days if d)

    def fetch_raw(self, partition_key: str) -> list[RawFile]:
        """The search pages of the date's window, then the wanted details of that date's divisions."""
        window = self._window_for(dt.date.fromisoformat(partition_key))
        raws: list[RawFile] = []
        ids: list[int] = []
        for page in self._search(window):
            raws.append(page.raw())
            for item in page_items(page.content):
                if self.item_day(item) == partition_key and self.wants_detail(item):
                    division_id = item.get(self.id_key)
                    if isinstance(division_id, int) and division_id not in ids:
                        ids.append(division_id)
        for division_id in ids:
            url = self.base_url + self.detail_path.format(id=division_id)
            try:
                body = get_body(self.fetcher, url)
            except FetchError as err:
                if is_missing(err, url):
                    log.info("%s: no detail (%s); the search item stands", url, err)
                    continue
                raise
            name = f"division/{division_id}{'.partial' if body.partial else ''}.json"
            raws.append(RawFile(name=name, content=body.content, url=url, content_type=JSON_TYPE))
        return raws

    # -- parsing --------------------------------------------------------------------------------

    def parse(self, raw: RawFile, partition_key: str) -> ParseResult:
        result = ParseResult()

        def quarantine(reason: str, value: Any) -> None:
            result.quarantined.append(
                QuarantineRecord(
                    source=self.name,
                    partition_key=partition_key,
                    file=raw.name,
                    reason=reason,
                    excerpt=excerpt(value),
                )
            )

        try:
            if raw.name.startswith("search/"):
                for item in decode_array(raw.content, quarantine, single_object=self.single_object_page):
                    if not isinstance(item, dict):
                        quarantine("search item is not an object", item)
                        continue
                    day = self.item_day(item)
                    if day is not None and day != partition_key:
                        continue  # another date's division: it belongs to that partition
                    self._add(result, item, partition_key, detail=False, quarantine=quarantine)
            elif raw.name.startswith("division/"):
                try:
                    item = json.loads(raw.content)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    quarantine(f"invalid JSON: {exc}", raw_excerpt(raw.content))
                    return result
                if not isinstance(item, dict):
                    quarantine("division detail is not an object", item)
                    return result
                self._add(result, item, partition_key, detail=True, quarantine=quarantine)
            else:
                quarantine("unknown raw file for this source", raw_excerpt(raw.content))
        except Exception as exc:  # never raise on bad data
            quarantine(f"unexpected {type(exc).__name__}: {exc}", raw_excerpt(raw.content))
        return result

    def parse_all(self, raws: list[RawFile], partition_key: str) -> ParseResult:
        """A detail supersedes its search item (same id) when it lists at least as many votes."""
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

    def make_division(
        self,
        partition_key: str,
        *,
        division_id: int,
        date: dt.date,
        title: str,
        bill_title: str | None,
        stage: str | None,
        ayes: int,
        noes: int,
        votes: list[MemberVote],
        number: Any,
    ) -> Division:
        """Links the division to its bill and to the debate it closed (matched by date and subject)."""
        subject = bill_title or title
        links = []
        if bill_title:
            links.append(Link(rel="bill", label=bill_title))
        if subject:
            links.append(Link(rel="debate", label=subject, target=f"{date.isoformat()}|{subject}"))
        return Division(
            source=self.name,
            native_id=str(division_id),
            partition_key=partition_key,
            house=self.house,
            date=date,
            title=title,
            url=self.web_url.format(id=division_id),
            links=links,
            number=number if isinstance(number, int) and not isinstance(number, bool) else None,
            bill_title=bill_title,
            stage=stage,
            ayes=ayes,
            noes=noes,
            votes=votes,
        )

    def _add(
        self, result: ParseResult, item: dict, partition_key: str, *, detail: bool, quarantine: Quarantine
    ) -> None:
        try:
            result.documents.append(self.document(item, partition_key, detail=detail, quarantine=quarantine))
        except BadRecord as exc:
            quarantine(str(exc), item)
        except ValidationError as exc:
            quarantine(f"invalid division: {exc.errors()[0].get('msg', exc)}", item)
