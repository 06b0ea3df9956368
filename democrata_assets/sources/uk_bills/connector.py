"""UK Parliament Bills API (bills-api.parliament.uk): bills with sponsors, stages and publications.

Partition = one rolling key, "current": a snapshot of the whole bill catalogue.

Why not dated partitions: a bill is one record that changes in place (its stage advances,
publications are added, `lastUpdate` moves). Partitioning by `lastUpdate` month would leave the
older copy of a bill in the month it used to belong to, and whichever partition ran last would win
in the index; the list cannot be filtered by update date in its default order either, so every
dated partition would page the whole list anyway. One rolling partition re-materialised on a
schedule keeps exactly one current version of each bill (document ids are derived from billId).
Cost is bounded by conditional GETs (the fetcher's ETag cache), the per-host cap (details are
fetched from a small thread pool that shares it) and `max_pages`.

A run's raw files (names relative to the partition):
  reference/Stages/skip-0000.json, reference/BillTypes/skip-0000.json
      `GET /api/v1/Stages`, `/api/v1/BillTypes` (then `?Skip=&Take=` while `totalResults` says
      more) — to name stages and bill types;
  list/skip-00000.json …
      `GET /api/v1/Bills?Skip=&Take=20`, paged until `totalResults` (recorded in `last_paging`);
      a missing next page in a `file://` mirror (or a 404), or `max_pages`, ends paging with a
      warning instead of failing: the bundled mirror holds page 1 only (20 of 3660);
  bills/{id}/detail.json, bills/{id}/stages.json, bills/{id}/publications.json
      `GET /api/v1/Bills/{id}`, `…/Stages`, `…/Publications` for every listed bill plus
      `extra_bill_ids` (explicit, or on a `file://` mirror the bills it recorded, e.g. 512 whose
      publications are recorded while it is not on list page 1). A missing one is skipped.

Parsing merges a bill's pieces: list summary < detail (long title, summary, sponsors) + stages +
publications. A bill known only from its publications still becomes a document, titled from them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

from lxml import html as lxml_html
from pydantic import ValidationError

from democrata_assets.sources.parliament_api import (
    JSON_TYPE,
    BadRecord,
    excerpt,
    get_body,
    is_missing,
    required_int,
)
from democrata_core.connector import Connector
from democrata_core.http import Fetcher, FetchError, encode_query, salvage_json_array
from democrata_core.models import Bill, Link, ParseResult, Publication, QuarantineRecord, RawFile, Sponsor

log = logging.getLogger(__name__)

PARTITION = "current"
API = "/api/v1"
PAGE_SIZE = 20
WEB_URL = "https://bills.parliament.uk/bills/{id}"
#: Keys the sample's author added to bill 2818 (placeholders); never part of a document.
AUTHOR_PLACEHOLDERS = ("comment", "agent", "promoters")

_HOUSES = {"commons": "commons", "lords": "lords"}
_CHAPTER = re.compile(r"\s+c\.\s*\d+\s*$")
_BILL_NAME = re.compile(r"^(?P<name>[A-Z][^:,\[\]]*?\bBill\b(?:\s*\[(?:HL|Lords)\])?)")
_BLOCKS = ("p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "blockquote")


def html_to_text(fragment: str | None) -> str | None:
    """An HTML fragment (the API's `summary`) as plain paragraphs separated by blank lines."""
    if not fragment or not fragment.strip():
        return None
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except Exception:
        return " ".join(re.sub(r"<[^>]+>", " ", fragment).split()) or None
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif el.tag in _BLOCKS:
            el.text = "\n\n" + (el.text or "")
            el.tail = "\n\n" + (el.tail or "")
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", root.text_content()))
    return "\n\n".join(p for p in paragraphs if p) or None


def map_house(value: Any) -> str:
    return _HOUSES.get(str(value or "").strip().lower(), "other")


@dataclass
class ListPaging:
    """What paging the bill list did: for logs, metadata and tests."""

    total_results: int | None = None
    pages: int = 0
    items: int = 0
    stopped: str = ""


@dataclass
class _BillPieces:
    summary: dict | None = None
    detail: dict | None = None
    stages: list[dict] | None = None
    publications: list[dict] | None = None
    files: list[str] = field(default_factory=list)


@dataclass
class _Refs:
    stages: dict[int, str] = field(default_factory=dict)
    bill_types: dict[int, str] = field(default_factory=dict)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


class UkBillsConnector(Connector):
    name: ClassVar[str] = "uk_bills"
    default_base_url: ClassVar[str] = "https://bills-api.parliament.uk"
    partitioning: ClassVar[str] = (
        "One rolling partition, 'current': the whole catalogue (bill list paged by Skip/Take to "
        "totalResults, then each bill's detail, stages and publications, plus Stages/BillTypes "
        "reference data). Bills change in place, so dated partitions would keep stale copies; a "
        "missing next page in a mirror or max_pages ends paging with a warning."
    )

    def __init__(
        self,
        base_url: str | None = None,
        fetcher: Fetcher | None = None,
        *,
        page_size: int = PAGE_SIZE,
        max_pages: int | None = None,
        extra_bill_ids: list[int | str] | None = None,
        fetch_details: bool = True,
        workers: int | None = None,
    ) -> None:
        super().__init__(base_url, fetcher)
        self.page_size = page_size
        self.max_pages = max_pages
        self.explicit_extra_ids = [int(i) for i in extra_bill_ids] if extra_bill_ids is not None else None
        self.fetch_details = fetch_details
        self.workers = workers or getattr(self.fetcher, "max_per_host", 4)
        self.last_paging = ListPaging()

    @property
    def _is_mirror(self) -> bool:
        return self.base_url.startswith("file://")

    # -- fetching -------------------------------------------------------------------------------

    def list_partitions(self) -> list[str]:
        return [PARTITION]

    def extra_bill_ids(self) -> list[int]:
        """Bills to fetch beyond the list: explicit, or those a file:// mirror recorded."""
        if self.explicit_extra_ids is not None:
            return self.explicit_extra_ids
        if not self._is_mirror:
            return []
        try:
            names = self.fetcher.list_directory(f"{self.base_url}{API}/Bills")
        except FetchError:
            return []
        ids = {int(m.group(1)) for n in names if (m := re.fullmatch(r"(\d+)[/@]", n))}
        return sorted(ids)

    def _get(self, url: str, params: dict[str, Any] | None = None) -> tuple[bytes, bool] | None:
        """(content, partial) or None when a mirror (or the API, 404) does not have it."""
        try:
            body = get_body(self.fetcher, url, params)
        except FetchError as err:
            if is_missing(err, url):
                return None
            raise
        return body.content, body.partial

    def _paged(self, path: str, first_params: dict | None, folder: str, paging: ListPaging) -> list[RawFile]:
        """Pages `path` by Skip/Take to `totalResults`; a missing later page ends paging (warning)."""
        url = self.base_url + path
        raws: list[RawFile] = []
        skip = 0
        params: dict[str, Any] | None = first_params
        while True:
            if self.max_pages is not None and paging.pages >= self.max_pages:
                paging.stopped = f"max_pages={self.max_pages}"
                log.warning(
                    "%s: stopped after max_pages=%d (total %s)", path, self.max_pages, paging.total_results
                )
                break
            got = self._get(url, params)
            full_url = f"{url}?{encode_query(params)}" if params else url
            if got is None:
                if skip == 0:
                    raise FetchError(f"{full_url}: not available", url=full_url, status=404)
                paging.stopped = f"next page (Skip={skip}) not available"
                log.warning(
                    "%s: next page Skip=%d not available; paging ends (total %s)",
                    path,
                    skip,
                    paging.total_results,
                )
                break
            content, partial = got
            name = f"{folder}/skip-{skip:05d}{'.partial' if partial else ''}.json"
            raws.append(RawFile(name=name, content=content, url=full_url, content_type=JSON_TYPE))
            paging.pages += 1
            items, total = _list_page(content)
            paging.items += len(items)
            if total is not None:
                paging.total_results = total
            if not partial and not items:
                paging.stopped = "empty page"
                break
            skip += len(items) if not partial and items else self.page_size
            if paging.total_results is not None and skip >= paging.total_results:
                paging.stopped = "totalResults reached"
                break
            params = {"Skip": skip, "Take": self.page_size}
        return raws

    def fetch_raw(self, partition_key: str) -> list[RawFile]:
        if partition_key != PARTITION:
            raise ValueError(f"{self.name} has one partition, {PARTITION!r}; got {partition_key!r}")
        raws: list[RawFile] = []
        for ref in ("Stages", "BillTypes"):
            try:
                raws.extend(self._paged(f"{API}/{ref}", None, f"reference/{ref}", ListPaging()))
            except FetchError as err:
                if not is_missing(err, self.base_url):
                    raise
                log.warning("%s reference data not available: %s", ref, err)
        paging = ListPaging()
        list_raws = self._paged(f"{API}/Bills", {"Skip": 0, "Take": self.page_size}, "list", paging)
        self.last_paging = paging
        log.info(
            "%s: %d bills on %d list pages of %s in total (%s)",
            self.name,
            paging.items,
            paging.pages,
            paging.total_results,
            paging.stopped,
        )
        raws.extend(list_raws)
        if not self.fetch_details:
            return raws
        ids: list[int] = []
        for raw in list_raws:
            for item in _list_page(raw.content)[0]:
                if (
                    isinstance(item, dict)
                    and isinstance(item.get("billId"), int)
                    and item["billId"] not in ids
                ):
                    ids.append(item["billId"])
        ids.extend(i for i in self.extra_bill_ids() if i not in ids)
        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            for bill_raws in pool.map(self._bill_files, ids):
                raws.extend(bill_raws)
        return raws

    def _bill_files(self, bill_id: int) -> list[RawFile]:
        raws = []
        for kind, suffix in (("detail", ""), ("stages", "/Stages"), ("publications", "/Publications")):
            url = f"{self.base_url}{API}/Bills/{bill_id}{suffix}"
            got = self._get(url)
            if got is None:
                continue
            content, partial = got
            name = f"bills/{bill_id}/{kind}{'.partial' if partial else ''}.json"
            raws.append(RawFile(name=name, content=content, url=url, content_type=JSON_TYPE))
        return raws

    # -- parsing --------------------------------------------------------------------------------

    def parse(self, raw: RawFile, partition_key: str) -> ParseResult:
        return self.parse_all([raw], partition_key)

    def parse_all(self, raws: list[RawFile], partition_key: str) -> ParseResult:
        result = ParseResult()
        refs = _Refs()
        bills: dict[int, _BillPieces] = {}
        order: list[int] = []

        def pieces(bill_id: int) -> _BillPieces:
            if bill_id not in bills:
                bills[bill_id] = _BillPieces()
                order.append(bill_id)
            return bills[bill_id]

        def quarantine(file: str, reason: str, value: Any) -> None:
            result.quarantined.append(
                QuarantineRecord(
                    source=self.name,
                    partition_key=partition_key,
                    file=file,
                    reason=reason,
                    excerpt=excerpt(value),
                )
            )

        # Reference data first: every bill may use it.
        for raw in sorted(raws, key=lambda r: not r.name.startswith("reference/")):
            try:
                self._collect(raw, refs, pieces, quarantine)
            except Exception as exc:  # never raise on bad data
                quarantine(raw.name, f"unexpected {type(exc).__name__}: {exc}", raw.content)
        for bill_id in order:
            p = bills[bill_id]
            try:
                doc = self.bill(bill_id, p, refs, partition_key)
            except BadRecord as exc:
                quarantine(
                    p.files[0] if p.files else "", str(exc), p.summary or p.detail or p.publications or {}
                )
                continue
            except ValidationError as exc:
                quarantine(
                    p.files[0] if p.files else "",
                    f"invalid bill: {exc.errors()[0].get('msg')}",
                    p.detail or p.summary or {},
                )
                continue
            if doc is not None:
                result.documents.append(doc)
        return result

    def _collect(self, raw: RawFile, refs: _Refs, pieces, quarantine) -> None:
        name = raw.name
        if name.startswith("reference/"):
            items, _ = _decode_page(raw, quarantine)
            target = refs.stages if name.startswith("reference/Stages") else refs.bill_types
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("id"), int) and item.get("name"):
                    target[item["id"]] = str(item["name"])
            return
        if name.startswith("list/"):
            items, _ = _decode_page(raw, quarantine)
            for item in items:
                if not isinstance(item, dict):
                    quarantine(name, "list item is not an object", item)
                    continue
                try:
                    bill_id = required_int(item, "billId")
                    if not str(item.get("shortTitle") or "").strip():
                        raise BadRecord(f"bill {bill_id}: missing shortTitle")
                    if _date(item.get("lastUpdate")) is None:
                        raise BadRecord(f"bill {bill_id}: missing or bad lastUpdate")
                except BadRecord as exc:
                    quarantine(name, str(exc), item)
                    continue
                p = pieces(bill_id)
                p.summary = item
                p.files.append(name)
            return
        match = re.fullmatch(r"bills/(\d+)/(detail|stages|publications)(\.partial)?\.json", name)
        if match is None:
            quarantine(name, "unknown raw file for this source", raw.content)
            return
        bill_id, kind = int(match.group(1)), match.group(2)
        try:
            data = json.loads(raw.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            quarantine(name, f"invalid JSON: {exc}", raw.content)
            return
        if not isinstance(data, dict):
            quarantine(name, f"bill {kind} is not an object", data)
            return
        if kind == "detail":
            detail = {k: v for k, v in data.items() if k not in AUTHOR_PLACEHOLDERS}
            if detail.get("billId") is not None and detail.get("billId") != bill_id:
                quarantine(
                    name,
                    f"detail billId {detail.get('billId')!r} does not match the request ({bill_id})",
                    data,
                )
                return
            p = pieces(bill_id)
            p.detail = detail
        elif kind == "stages":
            stages = data.get("items")
            if not isinstance(stages, list):
                quarantine(name, "stages without an items list", data)
                return
            p = pieces(bill_id)
            p.stages = [s for s in stages if isinstance(s, dict)]
        else:
            pubs = data.get("publications")
            if not isinstance(pubs, list):
                quarantine(name, "publications without a publications list", data)
                return
            good = []
            for pub in pubs:
                if isinstance(pub, dict) and str(pub.get("title") or "").strip():
                    good.append(pub)
                else:
                    quarantine(name, f"bill {bill_id}: publication without a title", pub)
            p = pieces(bill_id)
            p.publications = good
        p.files.append(name)

    def bill(self, bill_id: int, p: _BillPieces, refs: _Refs, partition_key: str) -> Bill | None:
        base: dict[str, Any] = {**(p.summary or {}), **(p.detail or {})}
        pubs = p.publications or []
        if not base and not pubs:
            return None  # stages alone say nothing citable
        publications, links = _publications(pubs)
        is_act = bool(base.get("isAct")) or any(_pub_type(x) == "Act of Parliament" for x in pubs)
        title = " ".join(str(base.get("shortTitle") or "").split()) or _title_from_publications(pubs)
        if not title:
            raise BadRecord(f"bill {bill_id}: no title in its detail, list entry or publications")
        date = _date(base.get("lastUpdate"))
        if date is None:
            dates = [x.date for x in publications if x.date] + _sitting_dates(p.stages or [])
            date = max(dates) if dates else None
        if date is None:
            raise BadRecord(f"bill {bill_id}: no lastUpdate and no dated publication or stage")
        if "currentHouse" in base:
            house = map_house(base.get("currentHouse"))
        elif is_act or not pubs:
            house = "other"
        else:
            house = map_house(max(pubs, key=lambda x: str(x.get("displayDate") or "")).get("house"))
        bill_type = (
            refs.bill_types.get(base.get("billTypeId")) if isinstance(base.get("billTypeId"), int) else None
        )
        heading_path = [bill_type] if bill_type else []
        if (
            not base.get("shortTitle")
            and (bill_name := _bill_name_from_publications(pubs))
            and bill_name != title
        ):
            heading_path.append(bill_name)  # e.g. the Bill an Act known only from publications was
        return Bill(
            source=self.name,
            native_id=str(bill_id),
            partition_key=partition_key,
            house=house,
            date=date,
            title=title,
            heading_path=heading_path,
            url=WEB_URL.format(id=bill_id),
            links=links,
            bill_id=str(bill_id),
            long_title=(" ".join(str(base["longTitle"]).split()) or None) if base.get("longTitle") else None,
            summary=html_to_text(base.get("summary")) if isinstance(base.get("summary"), str) else None,
            current_stage=_current_stage(base, p.stages or [], refs),
            is_act=is_act,
            sponsors=_sponsors(base.get("sponsors")),
            publications=publications,
        )


def _stage_text(stage: dict, refs: _Refs) -> str | None:
    description = stage.get("description") or refs.stages.get(stage.get("stageId"))  # type: ignore[arg-type]
    if not description:
        return None
    house = str(stage.get("house") or "")
    return f"{description} ({house})" if house in ("Commons", "Lords") else str(description)


def _current_stage(base: dict, stages: list[dict], refs: _Refs) -> str | None:
    text = _stage_text(base["currentStage"], refs) if isinstance(base.get("currentStage"), dict) else None
    if text is None and stages:
        text = _stage_text(max(stages, key=lambda s: s.get("sortOrder") or 0), refs)
    if text and base.get("billWithdrawn"):
        text += f", withdrawn {str(base['billWithdrawn'])[:10]}"
    if text and base.get("isDefeated"):
        text += ", defeated"
    return text


def _sitting_dates(stages: list[dict]) -> list[dt.date]:
    found = []
    for stage in stages:
        for sitting in stage.get("stageSittings") or []:
            if isinstance(sitting, dict) and (d := _date(sitting.get("date"))):
                found.append(d)
    return found


def _sponsors(raw: Any) -> list[Sponsor]:
    sponsors = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict):
            continue
        member, org = entry.get("member"), entry.get("organisation")
        org_name = (org.get("name") if isinstance(org, dict) else org) or None
        if isinstance(member, dict) and member.get("name"):
            sponsors.append(
                Sponsor(
                    name=str(member["name"]),
                    member_id=None if member.get("memberId") is None else str(member["memberId"]),
                    party=member.get("party"),
                    house=member.get("house"),
                    organisation=str(org_name) if org_name else None,
                )
            )
        elif org_name:
            sponsors.append(Sponsor(name=str(org_name), organisation=str(org_name)))
    return sponsors


def _pub_type(pub: dict) -> str | None:
    kind = pub.get("publicationType")
    return kind.get("name") if isinstance(kind, dict) else None


def _publications(pubs: list[dict]) -> tuple[list[Publication], list[Link]]:
    publications, links = [], []
    for pub in pubs:
        title = " ".join(str(pub["title"]).split())
        doc_links = [x for x in pub.get("links") or [] if isinstance(x, dict) and x.get("url")]
        publications.append(
            Publication(
                title=title,
                publication_type=_pub_type(pub),
                date=_date(pub.get("displayDate")),
                url=doc_links[0]["url"] if doc_links else None,
            )
        )
        for x in doc_links:
            label = " ".join(str(x.get("title") or title).split())
            kind = x.get("contentType")
            links.append(
                Link(rel="publication", label=f"{label} ({kind})" if kind else label, url=str(x["url"]))
            )
    return publications, links


def _title_from_publications(pubs: list[dict]) -> str | None:
    """The Act's name when an Act was published ("… Act 2010 c.25" → "… Act 2010"), else the bill
    name most publication titles start with ("Constitutional Reform and Governance Bill")."""
    for pub in pubs:
        if _pub_type(pub) == "Act of Parliament":
            return _CHAPTER.sub("", " ".join(str(pub["title"]).split()))
    return _bill_name_from_publications(pubs)


def _bill_name_from_publications(pubs: list[dict]) -> str | None:
    names = Counter(m["name"] for pub in pubs if (m := _BILL_NAME.match(" ".join(str(pub["title"]).split()))))
    return names.most_common(1)[0][0] if names else None


def _list_page(content: bytes) -> tuple[list[Any], int | None]:
    """Items and totalResults of a `{items, totalResults}` page; complete items of a cut one."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        salvaged = salvage_json_array(content, key="items")
        return (salvaged.items if salvaged else []), None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return [], None
    total = data.get("totalResults")
    return data["items"], total if isinstance(total, int) else None


def _decode_page(raw: RawFile, quarantine) -> tuple[list[Any], int | None]:
    try:
        data = json.loads(raw.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        salvaged = salvage_json_array(raw.content, key="items")
        if salvaged is None:
            quarantine(raw.name, f"invalid JSON: {exc}", raw.content)
            return [], None
        if salvaged.error:
            quarantine(
                raw.name,
                f"page cut or garbled after {len(salvaged.items)} complete items: {salvaged.error}",
                salvaged.excerpt,
            )
        return salvaged.items, None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        quarantine(raw.name, "page without an items list", data)
        return [], None
    total = data.get("totalResults")
    return data["items"], total if isinstance(total, int) else None
