"""Lords Votes connector: the bundled mirror, bad input, and the same code path over real HTTP."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from replay_server import ReplayServer, Serve

from democrata_assets.sources.lords_votes import LordsVotesConnector, bill_and_stage
from democrata_core.http import Fetcher

SEARCH = "/data/Divisions/search"
SEARCH_FILE = "data/Divisions/search@EndDate=2024-11-20&StartDate=2024-11-20&skip=0&take=25"
DAY = "2024-11-20"
WINDOW = (dt.date(2024, 11, 20), dt.date(2024, 11, 20))


def fast_fetcher() -> Fetcher:
    return Fetcher(backoff_base=0.01, backoff_max=0.05, max_attempts=3)


@pytest.fixture()
def connector(mirror_root: Path) -> LordsVotesConnector:
    return LordsVotesConnector(base_url=(mirror_root / "lords_votes").as_uri())


def ingest(connector: LordsVotesConnector, key: str = DAY):
    return connector.parse_all(connector.fetch_raw(key), key)


def test_division_3172_from_the_mirror(connector: LordsVotesConnector) -> None:
    assert connector.list_partitions() == [DAY]
    raws = connector.fetch_raw(DAY)
    assert [r.name for r in raws] == ["search/2024-11-20_2024-11-20/skip-0000.json"]  # items carry the lists
    result = connector.parse_all(raws, DAY)
    assert result.quarantined == []
    (d,) = result.documents
    assert (d.native_id, d.house, d.date, d.number) == ("3172", "lords", dt.date(2024, 11, 20), 5)
    assert (d.ayes, d.noes) == (36, 89)
    assert d.url == "https://votes.parliament.uk/votes/lords/division/3172"
    assert d.title == d.bill_title == "Water (Special Measures) Bill [HL]"
    assert d.stage == "amendment 51"
    votes = Counter((v.vote, v.teller) for v in d.votes)
    # Tellers are listed among the contents too: flagged there, not counted twice.
    assert votes == {
        ("content", False): 34,
        ("content", True): 2,
        ("not_content", False): 87,
        ("not_content", True): 2,
    }
    assert sum(1 for v in d.votes if v.vote == "content") == d.ayes
    assert sum(1 for v in d.votes if v.vote == "not_content") == d.noes
    assert [(t.name, t.vote) for t in d.tellers] == [
        ("Baroness Williams of Trafford", "content"),
        ("The Earl of Courtown", "content"),
        ("Lord Kennedy of Southwark", "not_content"),
        ("Baroness Wheeler", "not_content"),
    ]
    assert {(link.rel, link.target) for link in d.links} == {
        ("bill", None),
        ("debate", "2024-11-20|Water (Special Measures) Bill [HL]"),
    }
    assert "Contents 36, Not contents 89" in d.render_text()


def test_bill_and_stage() -> None:
    assert bill_and_stage(
        "Water (Special Measures) Bill [HL]", "<p>Lord R moved amendment 51, to leave out</p>"
    ) == (
        "Water (Special Measures) Bill [HL]",
        "amendment 51",
    )
    assert bill_and_stage("Renters' Rights Bill: Report") == ("Renters' Rights Bill", "report")
    assert bill_and_stage("Motion to Regret: Winter Fuel Payment Regulations") == (None, None)


def test_a_malformed_item_is_quarantined_and_the_rest_of_the_page_lands(
    mirror_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "lords_votes"
    shutil.copytree(mirror_root / "lords_votes", root)
    (good,) = json.loads((root / SEARCH_FILE).read_text())
    bad = copy.deepcopy(good)
    bad["divisionId"] = 3173
    del bad["authoritativeContentCount"]
    odd_member = copy.deepcopy(good)
    odd_member["divisionId"] = 3174
    odd_member["notContents"][0] = {"memberId": 1}  # no name
    (root / SEARCH_FILE).write_text(json.dumps([good, bad, odd_member]))
    result = ingest(LordsVotesConnector(base_url=root.as_uri()))
    docs = {d.native_id: d for d in result.documents}
    assert set(docs) == {"3172", "3174"}
    assert len(docs["3172"].votes) == 125 and len(docs["3174"].votes) == 124
    reasons = sorted(q.reason for q in result.quarantined)
    assert reasons == [
        "division 3174: member in notContents without a name",
        "missing authoritativeContentCount",
    ]
    missing = next(q for q in result.quarantined if q.reason.startswith("missing"))
    assert '"divisionId": 3173' in missing.excerpt and len(missing.excerpt) == 500


def test_bad_json_page_is_quarantined_without_raising(mirror_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "lords_votes"
    shutil.copytree(mirror_root / "lords_votes", root)
    (root / SEARCH_FILE).write_bytes(b"<html>Service Unavailable</html>")
    result = ingest(LordsVotesConnector(base_url=root.as_uri()))
    assert result.documents == []
    (q,) = result.quarantined
    assert q.reason.startswith("invalid JSON") and "Service Unavailable" in q.excerpt


def test_over_http_through_the_replay_server(mirror_root: Path) -> None:
    with ReplayServer(mirror_root / "lords_votes") as server:
        connector = LordsVotesConnector(base_url=server.url, fetcher=fast_fetcher(), windows=[WINDOW])
        assert connector.list_partitions() == [DAY]
        result = ingest(connector)
    (d,) = result.documents
    assert (d.ayes, d.noes, len(d.votes), len(d.tellers)) == (36, 89, 125, 4)
    assert [r.query for r in server.requests] == [SEARCH_FILE.split("@", 1)[1]] * 2  # a short page: no paging


def test_a_truncated_page_over_http_is_kept_and_salvaged(mirror_root: Path) -> None:
    body = (mirror_root / "lords_votes" / SEARCH_FILE).read_bytes()
    with ReplayServer(mirror_root / "lords_votes") as server:
        server.always(SEARCH, Serve(truncate_to=len(body) // 2))
        connector = LordsVotesConnector(base_url=server.url, fetcher=fast_fetcher(), windows=[WINDOW])
        raws = connector.fetch_raw(DAY)
    assert raws[0].name.endswith(".partial.json")
    result = connector.parse_all(raws, DAY)
    assert result.documents == []  # the only division was cut: quarantined, not lost silently
    (q,) = result.quarantined
    assert "cut or garbled after 0 complete items" in q.reason and '"divisionId": 3172' in q.excerpt
