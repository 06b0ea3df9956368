"""Bills API connector: the bundled mirror, paging, bad input, and the same code path over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pytest
from replay_server import ReplayServer

from democrata_assets.sources.uk_bills import UkBillsConnector
from democrata_assets.sources.uk_bills.connector import html_to_text, map_house
from democrata_core.http import Fetcher
from democrata_core.models import Bill

LIST_FILE = "api/v1/Bills@Skip=0&Take=20"


def fast_fetcher() -> Fetcher:
    return Fetcher(backoff_base=0.01, backoff_max=0.05, max_attempts=3)


@pytest.fixture()
def connector(mirror_root: Path) -> UkBillsConnector:
    return UkBillsConnector(base_url=(mirror_root / "uk_bills").as_uri())


def by_id(docs) -> dict[str, Bill]:
    return {d.native_id: d for d in docs}


def test_one_rolling_partition(connector: UkBillsConnector) -> None:
    assert connector.list_partitions() == ["current"]
    with pytest.raises(ValueError):
        connector.fetch_raw("2021-05")


def test_list_page_one_lands_twenty_bills_and_stops_cleanly(
    connector: UkBillsConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    raws = connector.fetch_raw("current")
    paging = connector.last_paging
    assert (paging.total_results, paging.pages, paging.items) == (3660, 1, 20)
    assert "Skip=20" in paging.stopped and "not available" in caplog.text
    assert [r.name for r in raws] == [
        "reference/Stages/skip-00000.json",
        "reference/BillTypes/skip-00000.json",
        "list/skip-00000.json",
        "bills/2818/detail.json",
        "bills/2818/stages.json",
        "bills/512/publications.json",
    ]
    listed = connector.parse(next(r for r in raws if r.name.startswith("list/")), "current")
    assert len(listed.documents) == 20 and not listed.quarantined
    assert all(isinstance(d, Bill) and d.partition_key == "current" for d in listed.documents)

    result = connector.parse_all(raws, "current")
    assert result.quarantined == []
    bills = by_id(result.documents)
    assert len(bills) == 21 and "512" in bills  # 20 listed + 512 known from its publications
    assert bills["2556"].house == "lords" and bills["2302"].house == "commons"
    academies = bills["642"]
    assert (academies.title, academies.house, academies.is_act) == ("Academies Act 2010", "other", True)
    assert academies.current_stage == "Royal Assent" and academies.heading_path == ["Government Bill"]
    assert bills["27"].date == dt.date(2007, 10, 27)


def test_bill_2818_merges_list_detail_and_stages(connector: UkBillsConnector) -> None:
    bill = by_id(connector.parse_all(connector.fetch_raw("current"), "current").documents)["2818"]
    assert bill.title == "Abolition of Business Rates Bill" and bill.bill_id == "2818"
    assert bill.long_title == "A Bill to abolish business rates; and for connected purposes."
    assert bill.summary is None
    assert bill.current_stage == "2nd reading (Commons)"
    assert (bill.house, bill.date) == ("commons", dt.date(2021, 5, 4))
    assert bill.url == "https://bills.parliament.uk/bills/2818"
    assert [s.model_dump() for s in bill.sponsors] == [
        {
            "name": "Kevin Hollinrake",
            "member_id": "4474",
            "party": "Conservative",
            "house": "Commons",
            "organisation": None,
        }
    ]
    # The fixture author's placeholders never reach a document.
    dumped = bill.model_dump_json()
    assert "example.com" not in dumped and "Agent name" not in dumped and "Promoter" not in dumped


def test_bill_512_becomes_a_document_from_its_publications(connector: UkBillsConnector) -> None:
    bill = by_id(connector.parse_all(connector.fetch_raw("current"), "current").documents)["512"]
    assert bill.title == "Constitutional Reform and Governance Act 2010" and bill.is_act
    assert bill.heading_path == ["Constitutional Reform and Governance Bill"]
    assert (bill.house, bill.date) == ("other", dt.date(2010, 4, 12))
    assert len(bill.publications) == 41
    act = bill.publications[0]
    assert act.title == "Constitutional Reform and Governance Act 2010 c.25"
    assert act.publication_type == "Act of Parliament" and act.date == dt.date(2010, 4, 12)
    assert act.url == "http://www.opsi.gov.uk/acts/acts2010/pdf/ukpga_20100025_en.pdf"
    assert len(bill.links) == 51 and {link.rel for link in bill.links} == {"publication"}
    assert bill.links[1].url == "http://www.opsi.gov.uk/acts/acts2010/ukpga_20100025_en_1"
    assert any(p.publication_type == "Explanatory Notes" for p in bill.publications)


def test_max_pages_ends_paging_with_a_warning(mirror_root: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    connector = UkBillsConnector(
        base_url=(mirror_root / "uk_bills").as_uri(), max_pages=1, fetch_details=False
    )
    raws = connector.fetch_raw("current")
    assert connector.last_paging.stopped == "max_pages=1"
    assert [r.name for r in raws if r.name.startswith("list/")] == ["list/skip-00000.json"]
    assert "max_pages=1" in caplog.text


def test_a_malformed_item_is_quarantined_and_the_rest_of_the_page_lands(
    mirror_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "uk_bills"
    shutil.copytree(mirror_root / "uk_bills", root)
    page = json.loads((root / LIST_FILE).read_text())
    del page["items"][3]["billId"]  # Abortion (Cleft Lip, Cleft Palate and Clubfoot) Bill
    (root / LIST_FILE).write_text(json.dumps(page))
    (root / "api/v1/Bills/2818@").write_text('{"longTitle": "A Bill to', encoding="utf-8")  # bad JSON
    connector = UkBillsConnector(base_url=root.as_uri())
    result = connector.parse_all(connector.fetch_raw("current"), "current")
    bills = by_id(result.documents)
    assert len(bills) == 20 and "2743" not in bills
    assert bills["2818"].long_title is None and bills["2818"].current_stage == "2nd reading (Commons)"
    reasons = {q.file: q for q in result.quarantined}
    assert set(reasons) == {"list/skip-00000.json", "bills/2818/detail.json"}
    assert reasons["list/skip-00000.json"].reason == "missing billId"
    assert "Cleft Lip" in reasons["list/skip-00000.json"].excerpt
    assert reasons["bills/2818/detail.json"].reason.startswith("invalid JSON")


def test_over_http_through_the_replay_server(mirror_root: Path) -> None:
    with ReplayServer(mirror_root / "uk_bills") as server:
        connector = UkBillsConnector(base_url=server.url, fetcher=fast_fetcher(), extra_bill_ids=[512])
        raws = connector.fetch_raw("current")
        seen = {(r.target, r.status) for r in server.requests}
    assert connector.last_paging.total_results == 3660 and connector.last_paging.items == 20
    assert ("/api/v1/Bills?Skip=0&Take=20", 200) in seen
    assert ("/api/v1/Bills?Skip=20&Take=20", 404) in seen  # the next page ends paging
    assert ("/api/v1/Bills/2818", 200) in seen and ("/api/v1/Bills/512/Publications", 200) in seen
    result = connector.parse_all(raws, "current")
    bills = by_id(result.documents)
    assert len(bills) == 21 and not result.quarantined
    assert bills["2818"].sponsors[0].name == "Kevin Hollinrake" and len(bills["512"].publications) == 41
    assert all(r.headers["user-agent"].startswith("Democrata/") for r in server.requests)


def test_live_paging_follows_skip_take_until_total_results(mirror_root: Path, tmp_path: Path) -> None:
    """A small host serving 5 bills in pages of 2: pages Skip=0,2,4 and stops at totalResults."""
    items = json.loads((mirror_root / "uk_bills" / LIST_FILE).read_text())["items"][:5]
    root = tmp_path / "host"
    (root / "api/v1").mkdir(parents=True)
    for skip in (0, 2, 4):
        page = {"items": items[skip : skip + 2], "totalResults": 5, "itemsPerPage": 2}
        (root / f"api/v1/Bills@Skip={skip}&Take=2").write_text(json.dumps(page))
    with ReplayServer(root) as server:
        connector = UkBillsConnector(
            base_url=server.url, fetcher=fast_fetcher(), page_size=2, fetch_details=False
        )
        raws = connector.fetch_raw("current")
        list_requests = [r.target for r in server.requests if r.path == "/api/v1/Bills"]
    assert list_requests == [f"/api/v1/Bills?Skip={s}&Take=2" for s in (0, 2, 4)]
    assert connector.last_paging.stopped == "totalResults reached"
    assert len(connector.parse_all(raws, "current").documents) == 5


def test_html_summary_and_house_mapping() -> None:
    summary = "<p>To make <b>provision</b>.</p><p>Second&nbsp;para<br>line</p>"
    assert html_to_text(summary) == "To make provision.\n\nSecond para line"
    assert html_to_text("") is None
    assert [map_house(h) for h in ("Commons", "Lords", "Unassigned", None)] == [
        "commons",
        "lords",
        "other",
        "other",
    ]
