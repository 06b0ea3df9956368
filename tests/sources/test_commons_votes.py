"""Commons Votes connector: the bundled mirror, bad input, and the same code path over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections import Counter
from pathlib import Path

import pytest
from replay_server import ReplayServer, Serve

from democrata_assets.sources.commons_votes import CommonsVotesConnector, bill_and_stage
from democrata_core.http import Fetcher
from democrata_core.models import Division

SEARCH = "/data/divisions.json/search"
SEARCH_FILE = (
    "data/divisions.json/search@queryParameters.endDate=2024-11-25&queryParameters.skip=0"
    "&queryParameters.startDate=2024-10-21&queryParameters.take=25"
)
WINDOW = (dt.date(2024, 10, 21), dt.date(2024, 11, 25))
DATES = ["2024-10-21", "2024-10-29", "2024-11-06", "2024-11-12", "2024-11-13", "2024-11-19", "2024-11-25"]


def fast_fetcher() -> Fetcher:
    return Fetcher(backoff_base=0.01, backoff_max=0.05, max_attempts=3)


@pytest.fixture()
def connector(mirror_root: Path) -> CommonsVotesConnector:
    return CommonsVotesConnector(base_url=(mirror_root / "commons_votes").as_uri())


def ingest(connector: CommonsVotesConnector, key: str):
    return connector.parse_all(connector.fetch_raw(key), key)


def by_id(docs) -> dict[str, Division]:
    return {d.native_id: d for d in docs}


def test_partitions_are_the_division_dates_of_the_recorded_window(connector: CommonsVotesConnector) -> None:
    assert connector.windows() == [WINDOW]
    assert connector.list_partitions() == DATES


def test_every_summary_becomes_a_division_and_1873_has_its_members(
    connector: CommonsVotesConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    docs = []
    for key in DATES:
        result = ingest(connector, key)
        assert result.quarantined == []
        assert {d.partition_key for d in result.documents} == {key}
        assert {d.date.isoformat() for d in result.documents} == {key}
        docs.extend(result.documents)
    divisions = by_id(docs)
    assert len(docs) == 25 and set(divisions) == {str(i) for i in range(1849, 1874)}
    # The full page of 25 asks for a next page the mirror lacks: paging ends with a warning.
    assert "next page not available" in caplog.text

    d = divisions["1873"]
    assert (d.ayes, d.noes, d.number, d.house) == (336, 175, 47, "commons")
    assert d.title == "Non-Domestic Rating (Multipliers and Private Schools) Bill: Second Reading"
    assert d.bill_title == "Non-Domestic Rating (Multipliers and Private Schools) Bill"
    assert d.stage == "second reading"
    assert d.url == "https://votes.parliament.uk/votes/commons/division/1873"
    tellers = [(t.name, t.vote) for t in d.tellers]
    assert tellers == [
        ("Anna Turley", "aye"),
        ("Keir Mather", "aye"),
        ("Greg Smith", "no"),
        ("James Wild", "no"),
    ]
    votes = Counter((v.vote, v.teller) for v in d.votes)
    assert votes == {
        ("aye", False): 333,
        ("no", False): 174,
        ("aye", True): 2,
        ("no", True): 2,
        ("no_vote", False): 139,
    }
    assert all(v.party for v in d.votes)
    assert d.party_breakdown["Labour"]["aye"] > 300
    rels = {(link.rel, link.label, link.target) for link in d.links}
    assert ("bill", d.bill_title, None) in rels
    assert ("debate", d.bill_title, f"2024-11-25|{d.bill_title}") in rels

    summary_only = divisions["1872"]
    assert (summary_only.ayes, summary_only.noes, summary_only.votes) == (173, 335, [])
    assert summary_only.stage == "reasoned amendment to second reading"
    budget = divisions["1863"]
    assert budget.bill_title is None and [link.rel for link in budget.links] == ["debate"]
    assert budget.links[0].target == "2024-11-06|Budget Resolution No. 44: Rates of alcohol duty"


@pytest.mark.parametrize(
    ("title", "bill", "stage"),
    [
        ("Employment Rights Bill: Second Reading", "Employment Rights Bill", "second reading"),
        (
            "Great British Energy Bill Report Stage: Amendment 4",
            "Great British Energy Bill",
            "report stage: amendment 4",
        ),
        (
            "House of Lords (Hereditary Peers) Bill: Third Reading",
            "House of Lords (Hereditary Peers) Bill",
            "third reading",
        ),
        ("Budget Resolution No. 6: Capital gains tax (the main rates)", None, None),
        ("Draft Windsor Framework (Non-Commercial Movement of Pet Animals) Regulations 2024", None, None),
    ],
)
def test_bill_and_stage_from_titles(title: str, bill: str | None, stage: str | None) -> None:
    assert bill_and_stage(title) == (bill, stage)


def copy_mirror(mirror_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "commons_votes"
    shutil.copytree(mirror_root / "commons_votes", root)
    return root


def test_a_malformed_item_is_quarantined_and_the_rest_of_the_page_lands(
    mirror_root: Path, tmp_path: Path
) -> None:
    root = copy_mirror(mirror_root, tmp_path)
    page = json.loads((root / SEARCH_FILE).read_text())
    del page[1]["DivisionId"]  # 1872, same day as 1873
    page[2]["AyeCount"] = "many"  # 1871, 19 Nov
    (root / SEARCH_FILE).write_text(json.dumps(page, indent=4))
    connector = CommonsVotesConnector(base_url=root.as_uri())

    result = ingest(connector, "2024-11-25")
    assert [d.native_id for d in result.documents] == ["1873"] and len(result.documents[0].votes) == 650
    (bad,) = result.quarantined
    assert bad.source == "commons_votes" and bad.partition_key == "2024-11-25"
    assert bad.file == "search/2024-10-21_2024-11-25/skip-0000.json"
    assert bad.reason == "missing DivisionId"
    assert "Reasoned Amendment to Second Reading" in bad.excerpt and len(bad.excerpt) <= 500

    result = ingest(connector, "2024-11-19")
    assert [d.native_id for d in result.documents] == ["1870"]
    assert [q.reason for q in result.quarantined] == ["bad AyeCount 'many'"]


def test_bad_json_detail_is_quarantined_and_the_summary_stands(mirror_root: Path, tmp_path: Path) -> None:
    root = copy_mirror(mirror_root, tmp_path)
    (root / "data/division/1873.json").write_bytes(b'{"DivisionId": 1873, "Ayes": [ {"Name": ')
    connector = CommonsVotesConnector(base_url=root.as_uri())
    result = ingest(connector, "2024-11-25")
    docs = by_id(result.documents)
    assert set(docs) == {"1872", "1873"} and docs["1873"].votes == [] and docs["1873"].ayes == 336
    (bad,) = result.quarantined
    assert bad.file == "division/1873.json" and bad.reason.startswith("invalid JSON")


def test_over_http_through_the_replay_server(mirror_root: Path) -> None:
    with ReplayServer(mirror_root / "commons_votes") as server:
        connector = CommonsVotesConnector(base_url=server.url, fetcher=fast_fetcher(), windows=[WINDOW])
        assert connector.list_partitions() == DATES
        result = ingest(connector, "2024-11-25")
        requests = [(r.path, r.status) for r in server.requests]
    docs = by_id(result.documents)
    assert set(docs) == {"1872", "1873"} and len(docs["1873"].votes) == 650 and not result.quarantined
    # search page, then the next page (404 ends paging), then the detail
    assert (
        (SEARCH, 200) in requests
        and (SEARCH, 404) in requests
        and ("/data/division/1873.json", 200) in requests
    )
    first = server.requests[0]
    assert first.query == SEARCH_FILE.split("@", 1)[1]
    assert first.headers["user-agent"].startswith("Democrata/")


def test_a_truncated_search_page_quarantines_the_cut_record_without_losing_the_page(
    mirror_root: Path,
) -> None:
    body = (mirror_root / "commons_votes" / SEARCH_FILE).read_bytes()
    cut = body.index(b'"DivisionId": 1860') + 200  # inside 1860, the 4th division of 6 Nov
    with ReplayServer(mirror_root / "commons_votes") as server:
        server.always(SEARCH, Serve(truncate_to=cut))
        connector = CommonsVotesConnector(base_url=server.url, fetcher=fast_fetcher(), windows=[WINDOW])
        raws = connector.fetch_raw("2024-11-06")
        first_page = server.requests_for(SEARCH + "?" + SEARCH_FILE.split("@", 1)[1])
    assert len(first_page) == 3  # retried, then kept what arrived
    assert raws[0].name == "search/2024-10-21_2024-11-25/skip-0000.partial.json"
    assert raws[0].content == body[:cut]
    result = connector.parse_all(raws, "2024-11-06")
    assert sorted(d.native_id for d in result.documents) == ["1861", "1862", "1863"]
    (bad,) = result.quarantined
    assert "cut or garbled after 13 complete items" in bad.reason
    assert '"DivisionId": 1860' in bad.excerpt


def test_a_garbled_page_with_a_correct_length_is_salvaged_too(mirror_root: Path) -> None:
    body = (mirror_root / "commons_votes" / SEARCH_FILE).read_bytes()
    cut = body.index(b'"DivisionId": 1871') + 50
    with ReplayServer(mirror_root / "commons_votes") as server:
        server.always(SEARCH, Serve(cut_to=cut))
        connector = CommonsVotesConnector(base_url=server.url, fetcher=fast_fetcher(), windows=[WINDOW])
        result = ingest(connector, "2024-11-25")
        assert (
            len(server.requests_for(SEARCH + "?" + SEARCH_FILE.split("@", 1)[1])) == 1
        )  # not a transport fault
    assert sorted(d.native_id for d in result.documents) == ["1872", "1873"]
    assert len(by_id(result.documents)["1873"].votes) == 650
    assert [q.file for q in result.quarantined] == ["search/2024-10-21_2024-11-25/skip-0000.json"]


def test_live_shape_searches_the_day_itself(tmp_path: Path) -> None:
    connector = CommonsVotesConnector(base_url="https://commonsvotes-api.parliament.uk")
    assert connector.windows() == []
    assert connector._window_for(dt.date(2024, 11, 25)) == (dt.date(2024, 11, 25), dt.date(2024, 11, 25))
