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

import re
from typing import ClassVar

from lxml import html as lxml_html

from democrata_assets.sources.parliament_api import (
    DivisionSearchConnector,
    Quarantine,
    member_votes,
    required_date,
    required_int,
)
from democrata_core.models import Division, MemberVote

WEB_URL = "https://votes.parliament.uk/votes/lords/division/{id}"

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


def _needs_detail(item: dict) -> bool:
    """Counts say members voted, but the item carries no member lists."""
    listed = any(item.get(k) for k in ("contents", "notContents"))
    counted = any(
        isinstance(item.get(k), int) and item[k] > 0 for k in ("memberContentCount", "memberNotContentCount")
    )
    return counted and not listed


class LordsVotesConnector(DivisionSearchConnector):
    name: ClassVar[str] = "lords_votes"
    default_base_url: ClassVar[str] = "https://lordsvotes-api.parliament.uk"
    partitioning: ClassVar[str] = (
        "One partition per division date (YYYY-MM-DD): the date's search window (a mirror's recorded "
        "window, else the day itself) paged by 25 until a short page; items carry the member lists "
        "(a detail is fetched only when they do not); discovery searches a rolling window."
    )
    search_path: ClassVar[str] = "/data/Divisions/search"
    detail_path: ClassVar[str] = "/data/Divisions/{id}"
    start_param: ClassVar[str] = "StartDate"
    end_param: ClassVar[str] = "EndDate"
    skip_param: ClassVar[str] = "skip"
    take_param: ClassVar[str] = "take"
    date_key: ClassVar[str] = "date"
    id_key: ClassVar[str] = "divisionId"
    house: ClassVar[str] = "lords"
    web_url: ClassVar[str] = WEB_URL
    single_object_page: ClassVar[bool] = True  # a single division where a list was expected

    def wants_detail(self, item: dict) -> bool:
        return _needs_detail(item)

    def document(self, item: dict, partition_key: str, *, detail: bool, quarantine: Quarantine) -> Division:
        """Search items carry the member lists, so a summary and a detail map alike."""
        return self.division(item, partition_key, quarantine=quarantine)

    def division(self, item: dict, partition_key: str, *, quarantine=None) -> Division:
        division_id = required_int(item, "divisionId")
        date = required_date(item.get("date"), "date")
        contents = required_int(item, "authoritativeContentCount")
        not_contents = required_int(item, "authoritativeNotContentCount")
        title = " ".join(str(item.get("title") or "").split())
        notes = (
            item.get("amendmentMotionNotes") if isinstance(item.get("amendmentMotionNotes"), str) else None
        )
        bill_title, stage = bill_and_stage(title, notes)
        return self.make_division(
            partition_key,
            division_id=division_id,
            date=date,
            title=title,
            bill_title=bill_title,
            stage=stage,
            ayes=contents,
            noes=not_contents,
            votes=_member_votes(item, division_id, quarantine),
            number=item.get("number"),
        )


_SIDES = (
    ("contents", "content", False),
    ("notContents", "not_content", False),
    ("contentTellers", "content", True),
    ("notContentTellers", "not_content", True),
)


def _member_votes(item: dict, division_id: int, quarantine) -> list[MemberVote]:
    return member_votes(
        item,
        division_id,
        quarantine,
        _SIDES,
        name_key="name",
        id_key="memberId",
        party_key="party",
        drop_repeats=True,  # tellers are listed among contents/notContents too
    )
