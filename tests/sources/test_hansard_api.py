from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from democrata_assets.sources.hansard_api import HansardApiConnector, parse_attribution
from democrata_assets.sources.hansard_api import connector as hansard_module
from democrata_core.http import Fetcher, FetchError, FetchResponse, encode_query, mirror_path
from democrata_core.models import Division, RawFile, Speech

OIL = "69FFB3CB-33EF-41DD-94B0-E8685BEB39EF"
PETITION = "565DB7B1-4CBD-4BD7-86F2-F89DAC86A758"
PETITION_CHILD = "A947B3C4-10C7-4848-BC30-2044AD943FB4"
SENTENCING = "03C3B458-FF3D-45ED-BCBC-D36DABCAA6B2"
DIVISION = "77C90213-B8CB-49BD-B9A4-A48F8761E174"


class RecordingFetcher(Fetcher):
    """The real fetcher, noting which mirror files were read."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[Path] = set()

    def get(self, url, params=None):
        response = super().get(url, params)
        self.read.add(mirror_path(url, params))
        return response


@pytest.fixture
def mirror(mirror_root: Path) -> Path:
    return mirror_root / "hansard_api"


def connector(root: Path, fetcher: Fetcher | None = None) -> HansardApiConnector:
    # `today` pins the default calendar window, so the test does not depend on the clock.
    return HansardApiConnector(base_url=root.resolve().as_uri(), fetcher=fetcher, today=dt.date(2026, 1, 20))


def parse_day(c: HansardApiConnector, day: str):
    raws = c.fetch_raw(day)
    return raws, c.parse_all(raws, day)


def test_partitions_are_calendar_days_plus_recorded_debate_dates(mirror: Path):
    days = connector(mirror).list_partitions()
    assert len(days) == 17  # 16 Commons sitting days in Jan 2026 + 3 Mar 2026 (recorded debate)
    assert days[0] == "2026-01-05" and days[-1] == "2026-03-03"
    assert {"2026-01-14", "2026-01-20", "2026-03-03"} <= set(days)
    assert days == sorted(days)


def test_every_mirror_file_is_fetched_for_some_partition(mirror: Path):
    fetcher = RecordingFetcher()
    c = connector(mirror, fetcher)
    for day in c.list_partitions():
        c.fetch_raw(day)
    recorded = {p.resolve() for p in mirror.rglob("*") if p.is_file() and p.name != "ATTRIBUTION.md"}
    assert len(recorded) == 6
    assert recorded <= {p.resolve() for p in fetcher.read}


def test_search_day_debate_speeches(mirror: Path):
    raws, result = parse_day(connector(mirror), "2026-01-14")
    assert [r.name for r in raws] == ["search/commons-0.json", f"debates/{OIL}.json", "manifest.json"]
    manifest = json.loads(raws[-1].content)
    # Public Order and Deferred Divisions are in the search but not in the mirror: warned, not fatal.
    missing = "\n".join(manifest["missing"])
    assert "9969E436-926F-463C-8323-059D1158DF4A.json" in missing
    assert "DeferredDivisions2026-01-14.json" in missing
    assert "queryParameters.house=Lords" in missing
    assert result.quarantined == []

    speeches = result.documents
    assert all(isinstance(s, Speech) for s in speeches)
    assert len(speeches) == 6  # 8 items − a column marker − a timestamp
    motion, vickers, leigh, vickers2, leishman, chair = speeches
    assert motion.native_id == "26011462000004" and motion.procedural and motion.speaker_id is None
    assert (
        motion.text
        == "Motion made, and Question proposed, That this House do now adjourn.\u2014(Stephen Morgan.)"
    )
    assert (vickers.speaker_name, vickers.speaker_id, vickers.party) == ("Martin Vickers", "3957", "Con")
    assert not vickers.procedural
    assert len(vickers.paragraphs) == 2 and vickers.paragraphs[1].startswith(
        "Before I turn to the specific issue"
    )
    assert (leigh.speaker_name, leigh.party) == ("Sir Edward Leigh", "Con")
    assert (vickers2.speaker_name, vickers2.party) == ("Martin Vickers", None)
    assert (
        leishman.paragraphs[-1]
        == "I will speak about Grangemouth and specifically the jobs that have been lost there\u2014"
    )
    assert (chair.speaker_name, chair.speaker_id, chair.procedural) == ("Caroline Nokes", "4048", True)
    assert vickers.house == "commons" and vickers.date == dt.date(2026, 1, 14)
    assert vickers.title == "Oil Refining Sector" and vickers.heading_path == ["Oil Refining Sector"]
    assert vickers.column == "1037"
    assert vickers.url == (
        f"https://hansard.parliament.uk/Commons/2026-01-14/debates/{OIL}/OilRefiningSector"
        "#contribution-4ADF0C90-B463-4E21-A16D-A17C893209D8"
    )
    assert len({s.doc_id for s in speeches}) == 6


def test_recorded_debate_with_child_section(mirror: Path):
    raws, result = parse_day(connector(mirror), "2026-03-03")
    assert [r.name for r in raws] == [f"debates/{PETITION}.json", "manifest.json"]
    missing = "\n".join(json.loads(raws[-1].content)["missing"])
    assert f"divisions/{PETITION}.json" in missing and f"divisions/{PETITION_CHILD}.json" in missing
    [speech] = result.documents
    assert speech.native_id == "FEBA584C-2FE8-4BE9-A742-781ACF1CF775"
    assert speech.heading_path == ["Petition", "A5036 Park Lane footbridge"]
    assert speech.title == "A5036 Park Lane footbridge"
    assert (speech.speaker_name, speech.speaker_id, speech.party) == ("Peter Dowd", "4397", "Lab")
    assert len(speech.paragraphs) == 7 and speech.paragraphs[-1] == "[P003166]"
    assert speech.url.startswith(
        f"https://hansard.parliament.uk/Commons/2026-03-03/debates/{PETITION_CHILD}/"
    )


def test_division_keeps_official_counts_and_partial_votes(mirror: Path):
    raws, result = parse_day(connector(mirror), "2026-01-20")
    assert [r.name for r in raws] == [
        f"divisions/{SENTENCING}.json",
        f"division/{DIVISION}.json",
        "manifest.json",
    ]
    [division] = result.documents  # the summary and the detail are merged into one
    assert isinstance(division, Division)
    assert division.native_id == DIVISION and division.number == 410
    assert (division.ayes, division.noes) == (319, 127)  # the trimmed lists hold only 6 + 5 members
    assert len(division.votes) == 11
    assert sorted(t.name for t in division.tellers) == [
        "Gregory Stafford",
        "Harriet Cross",
        "Jade Botterill",
        "Stephen Morgan",
    ]
    assert division.party_breakdown == {"Conservative": {"aye": 0, "no": 5}, "Labour": {"aye": 6, "no": 0}}
    assert division.house == "commons" and division.date == dt.date(2026, 1, 20)
    [link] = division.links
    assert (link.rel, link.target, link.label) == ("debate", SENTENCING, "Sentencing Bill")
    assert division.render_text().startswith(
        "Division 410, 20 Jan 2026, Sentencing Bill: Ayes 319, Noes 127."
    )


def test_day_without_recorded_files_is_empty_not_an_error(mirror: Path):
    raws, result = parse_day(connector(mirror), "2026-01-05")
    assert [r.name for r in raws] == ["manifest.json"]
    assert len(json.loads(raws[0].content)["missing"]) == 2  # Commons and Lords searches
    assert result.documents == [] and result.quarantined == []


@pytest.mark.parametrize(
    ("raw", "name", "party", "role"),
    [
        ("Martin Vickers (Brigg and Immingham) (Con)", "Martin Vickers", "Con", None),
        ("Madam Deputy Speaker (Caroline Nokes)", "Caroline Nokes", None, "Madam Deputy Speaker"),
        ("The Secretary of State for Energy Security and Net Zero (Ed Miliband)", "Ed Miliband", None,
         "The Secretary of State for Energy Security and Net Zero"),
        ("Lord Smith of Finsbury (Lab)", "Lord Smith of Finsbury", "Lab", None),
        ("Mr Speaker", "Mr Speaker", None, "Mr Speaker"),
        ("Sarah Champion (Rotherham) (Lab/Co-op)", "Sarah Champion", "Lab/Co-op", None),
    ],
)  # fmt: skip
def test_parse_attribution(raw, name, party, role):
    who = parse_attribution(raw)
    assert (who.name, who.party, who.role) == (name, party, role)


def test_corrupted_files_are_quarantined_and_the_rest_lands(mirror: Path, tmp_path: Path):
    root = tmp_path / "hansard_api"
    shutil.copytree(mirror, root)
    debate_path = root / "debates" / "debate" / f"{OIL}.json"
    debate = json.loads(debate_path.read_text())
    del debate["Items"][3]["ItemId"]  # Martin Vickers' speech loses both of its ids …
    debate["Items"][3]["ExternalId"] = None
    debate["Items"][4]["Value"] = 12  # … and Sir Edward Leigh's text is not text: each alone is rejected
    debate_path.write_text(json.dumps(debate))
    detail_path = root / "debates" / "division" / f"{DIVISION}.json"
    detail = json.loads(detail_path.read_text())
    del detail["AyesCount"]
    detail_path.write_text(json.dumps(detail))
    (root / "debates" / "debate" / f"{PETITION}.json").write_text('{"Overview": {"ExtId": "x"')

    c = connector(root)
    assert "2026-03-03" not in c.list_partitions()  # the broken debate's date cannot be read

    _, oil = parse_day(c, "2026-01-14")
    assert len(oil.documents) == 4
    assert len(oil.quarantined) == 2
    assert all(q.file == f"debates/{OIL}.json" and q.partition_key == "2026-01-14" for q in oil.quarantined)
    assert "ItemId" in oil.quarantined[0].reason and len(oil.quarantined[0].excerpt) <= 500

    _, votes = parse_day(c, "2026-01-20")
    [division] = votes.documents  # the summary still carries the official counts
    assert (division.ayes, division.noes, division.votes) == (319, 127, [])
    [q] = votes.quarantined
    assert q.file == f"division/{DIVISION}.json" and "AyesCount" in q.reason

    truncated = (root / "debates" / "debate" / f"{PETITION}.json").read_bytes()
    broken = c.parse(
        RawFile(name=f"debates/{PETITION}.json", content=truncated, url="file:///x"), "2026-03-03"
    )
    assert broken.documents == []
    [q] = broken.quarantined
    assert q.reason.startswith("invalid JSON") and q.excerpt == truncated.decode()


class FakeFetcher(Fetcher):
    """A live host served from a dict: (url, query) → JSON body. Anything else is a 404."""

    def __init__(self, routes: dict[tuple[str, str], object]) -> None:
        super().__init__()
        self.routes = routes
        self.requests: list[tuple[str, str]] = []

    def get(self, url, params=None):
        key = (url, encode_query(params))
        self.requests.append(key)
        if key not in self.routes:
            raise FetchError(f"GET {url} failed with HTTP 404")
        return FetchResponse(url=url, status=200, content=json.dumps(self.routes[key]).encode())


def test_live_search_pages_until_total_and_failures_raise(monkeypatch):
    monkeypatch.setattr(hansard_module, "SEARCH_PAGE_SIZE", 2)
    base = "https://hansard-api.example"
    c = HansardApiConnector(base_url=base, houses=("Commons",))
    routes: dict[tuple[str, str], object] = {}
    results = [{"DebateSectionExtId": f"S{i}", "Title": f"T{i}"} for i in range(3)]
    for skip in (0, 2):
        url, params = c.search_request("2026-01-14", "Commons", skip)
        routes[(url, encode_query(params))] = {"Results": results[skip : skip + 2], "TotalResultCount": 3}
    for i in range(3):
        routes[(c.debate_url(f"S{i}"), "")] = {
            "Overview": {"ExtId": f"S{i}", "Title": f"T{i}", "Date": "2026-01-14", "House": "Commons"},
            "Items": [],
        }
        routes[(c.divisions_url(f"S{i}"), "")] = []
    c.fetcher = FakeFetcher(routes)
    names = [r.name for r in c.fetch_raw("2026-01-14")]
    assert names[:2] == ["search/commons-0.json", "search/commons-2.json"]
    assert [n for n in names if n.startswith("debates/")] == [
        "debates/S0.json",
        "debates/S1.json",
        "debates/S2.json",
    ]

    del routes[(c.divisions_url("S1"), "")]
    with pytest.raises(FetchError):  # live, a failed request is a real error, not a warning
        c.fetch_raw("2026-01-14")
