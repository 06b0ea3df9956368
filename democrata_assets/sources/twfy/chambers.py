"""What each parlparse directory holds, how its file names encode a sitting, and TWFY deep links.

Pure functions of names and ids: no fetching, no XML. The connector and the parser both read from
here so a directory's house, its file-name rule and its URL scheme cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from democrata_core.models import House

TWFY_SITE = "https://www.theyworkforyou.com"


@dataclass(frozen=True)
class Chamber:
    """One directory under scrapedxml/."""

    directory: str
    house: House
    parliament: str
    #: TheyWorkForYou section path used in deep links (/debates/?id=…, /lords/?id=…).
    twfy_section: str
    #: For subset views (divisionsonly/…): the main directory whose records they repeat.
    subset_of: str | None = None


CHAMBERS: dict[str, Chamber] = {
    c.directory: c
    for c in (
        Chamber("debates", "commons", "uk", "debates"),
        Chamber("lordspages", "lords", "uk", "lords"),
        Chamber("westminhall", "westminster_hall", "uk", "whall"),
        Chamber("standing", "public_bill_committee", "uk", "pbc"),
        Chamber("sp", "scottish_parliament", "scotland", "sp"),
        Chamber("divisionsonly", "commons", "uk", "debates", subset_of="debates"),
        Chamber("lordsdivisionsonly", "lords", "uk", "lords", subset_of="lordspages"),
    )
}

# Greedy prefix: standing files carry two dates (series start, then sitting); the sitting is the last.
_FILE_NAME = re.compile(r"^(?P<prefix>.*)(?P<date>\d{4}-\d{2}-\d{2})(?P<version>[a-z]?)\.xml$")


@dataclass(frozen=True)
class SittingFile:
    """A parsed file name: `series` groups the versions (a, b, c…) of one day's file."""

    name: str
    series: str
    sitting_date: dt.date
    version: str


def parse_file_name(name: str) -> SittingFile | None:
    """`debates2009-10-26b.xml` → sitting 2009-10-26, version "b"; None for anything else.

    `standing2009-10-20_CHILDPOV_05-0_2009-10-27a.xml`: 2009-10-20 names the committee's series,
    2009-10-27 is the day it sat (its Hansard URLs say 091027), so the last date wins.
    `sp2009-10-28.xml` has no version letter.
    """
    match = _FILE_NAME.match(name.rsplit("/", 1)[-1])
    if not match:
        return None
    try:
        sitting = dt.date.fromisoformat(match["date"])
    except ValueError:
        return None
    return SittingFile(
        name=match.group(0),
        series=match["prefix"] + match["date"],
        sitting_date=sitting,
        version=match["version"],
    )


def latest_versions(files: Iterable[SittingFile]) -> list[SittingFile]:
    """One file per series: the highest version letter, because a re-scrape supersedes the last."""
    best: dict[str, SittingFile] = {}
    for f in files:
        if f.series not in best or f.version > best[f.series].version:
            best[f.series] = f
    return sorted(best.values(), key=lambda f: f.name)


def gid(native_id: str) -> str:
    """`uk.org.publicwhip/debate/2009-10-26b.1.0` → `2009-10-26b.1.0` (TWFY's page id)."""
    return native_id.rsplit("/", 1)[-1]


_STANDING_GID = re.compile(r"^standing\d{4}-\d{2}-\d{2}_[^_]+_(?P<rest>.+)$")
_SESSION_IN_BILL_URL = re.compile(r"/(?P<session>\d{4}-\d{2})/")


def pbc_session(bill_url: str | None) -> str | None:
    """`http://services.parliament.uk/bills/2008-09/childpoverty.html` → `2008-09`."""
    match = _SESSION_IN_BILL_URL.search(bill_url or "")
    return match["session"] if match else None


def twfy_url(
    chamber: Chamber, native_id: str, *, bill_title: str | None = None, session: str | None = None
) -> str | None:
    """The TheyWorkForYou page for a speech, heading or division id.

    Chambers: /debates/?id=2009-10-26b.1.0, /lords/?id=…, /whall/?id=…, /sp/?id=…
    Public Bill Committees live under the bill: /pbc/2008-09/Child_Poverty_Bill/05-0_2009-10-27a.2.53,
    so they need the session and bill title (from the file's <bill> element); None without them.
    """
    page_id = gid(native_id)
    if chamber.twfy_section != "pbc":
        return f"{TWFY_SITE}/{chamber.twfy_section}/?id={urllib.parse.quote(page_id, safe='.-_')}"
    match = _STANDING_GID.match(page_id)
    if not (match and bill_title and session):
        return None
    slug = urllib.parse.quote(bill_title.replace(" ", "_"), safe="_()-,.'")
    return f"{TWFY_SITE}/pbc/{session}/{slug}/{match['rest']}"
