"""Commons Votes API (commonsvotes-api.parliament.uk): House of Commons divisions as JSON.

Partition = one division date, key "YYYY-MM-DD" (the date part of `Date`, London time as served).

Requests (documented parameters; the API gives no total, so a search is paged by 25 until a short
page comes back):
  search  `/data/divisions.json/search?queryParameters.startDate=&queryParameters.endDate=`
          `&queryParameters.skip=&queryParameters.take=25` — summaries, member lists left empty;
  detail  `/data/division/{DivisionId}.json` — the full division with Ayes/Noes/tellers/NoVoteRecorded.

Which window a partition searches:
  * windows given to the constructor (`windows=[(start, end)]`), else
  * on a `file://` mirror, the search windows the mirror recorded (its `search@…startDate=…` files);
  * otherwise the single day itself (startDate = endDate = the partition date).
A partition's raw files are the search pages of its window (parse keeps only that date's items)
plus the detail of each division on that date. `list_partitions` searches the same windows, or live
a rolling `lookback_days` window ending today.

A missing next page on a mirror (or a 404 for a later page) ends paging with a warning; a missing
detail leaves the summary-only division. A body still truncated after the fetcher's retries lands
as `….partial.json` and its complete items are salvaged at parse time.
"""

from __future__ import annotations

import re
from typing import ClassVar

from democrata_assets.sources.parliament_api import (
    DivisionSearchConnector,
    Quarantine,
    member_votes,
    required_date,
    required_int,
)
from democrata_core.models import Division, MemberVote

WEB_URL = "https://votes.parliament.uk/votes/commons/division/{id}"

# "X Bill: Second Reading", "X Bill Report Stage: Amendment 8", "X Bill [Lords]: …"
_BILL = re.compile(r"^(?P<bill>.*\bBill\b(?:\s*\[(?:HL|Lords)\])?)(?P<rest>.*)$")


def bill_and_stage(title: str) -> tuple[str | None, str | None]:
    """Bill short title and stage from a division title, e.g.
    "Non-Domestic Rating (Multipliers and Private Schools) Bill: Second Reading"
    → ("Non-Domestic Rating (Multipliers and Private Schools) Bill", "second reading")."""
    title = " ".join(title.split())
    head, sep, tail = title.partition(":")
    match = _BILL.match(head)
    if match is None:
        return None, None
    rest, tail = match["rest"].strip(), tail.strip()
    stage = f"{rest}: {tail}" if rest and tail else (rest or tail)
    return match["bill"].strip(), (stage.lower() or None)


class CommonsVotesConnector(DivisionSearchConnector):
    name: ClassVar[str] = "commons_votes"
    default_base_url: ClassVar[str] = "https://commonsvotes-api.parliament.uk"
    partitioning: ClassVar[str] = (
        "One partition per division date (YYYY-MM-DD): the date's search window (a mirror's recorded "
        "window, else the day itself) paged by 25 until a short page, plus /data/division/{id}.json "
        "for each division that day; discovery searches a rolling window (mirror: recorded windows)."
    )
    search_path: ClassVar[str] = "/data/divisions.json/search"
    detail_path: ClassVar[str] = "/data/division/{id}.json"
    start_param: ClassVar[str] = "queryParameters.startDate"
    end_param: ClassVar[str] = "queryParameters.endDate"
    skip_param: ClassVar[str] = "queryParameters.skip"
    take_param: ClassVar[str] = "queryParameters.take"
    date_key: ClassVar[str] = "Date"
    id_key: ClassVar[str] = "DivisionId"
    house: ClassVar[str] = "commons"
    web_url: ClassVar[str] = WEB_URL

    def document(self, item: dict, partition_key: str, *, detail: bool, quarantine: Quarantine) -> Division:
        """Search summaries leave the member lists empty; only a detail carries the votes."""
        return self.division(item, partition_key, with_votes=detail, quarantine=quarantine)

    def division(self, item: dict, partition_key: str, *, with_votes: bool, quarantine=None) -> Division:
        division_id = required_int(item, "DivisionId")
        date = required_date(item.get("Date"), "Date")
        ayes, noes = required_int(item, "AyeCount"), required_int(item, "NoCount")
        title = " ".join(str(item.get("Title") or "").split())
        bill_title, stage = bill_and_stage(title)
        return self.make_division(
            partition_key,
            division_id=division_id,
            date=date,
            title=title,
            bill_title=bill_title,
            stage=stage,
            ayes=ayes,
            noes=noes,
            votes=_member_votes(item, division_id, quarantine) if with_votes else [],
            number=item.get("Number"),
        )


_SIDES = (
    ("Ayes", "aye", False),
    ("Noes", "no", False),
    ("AyeTellers", "aye", True),
    ("NoTellers", "no", True),
    ("NoVoteRecorded", "no_vote", False),
)


def _member_votes(item: dict, division_id: int, quarantine) -> list[MemberVote]:
    return member_votes(
        item,
        division_id,
        quarantine,
        _SIDES,
        name_key="Name",
        id_key="MemberId",
        party_key="Party",
        drop_repeats=False,
    )
