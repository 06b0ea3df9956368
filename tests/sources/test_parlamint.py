from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from democrata_assets.sources.parlamint import (
    ParlaMintConnector,
    count_sampling_gaps,
    sampling_gaps,
    speaker_name_from_id,
)
from democrata_core.http import Fetcher, FetchError, FetchResponse
from democrata_core.models import RawFile, Speech

FILES = {
    "2017-09-07": "ParlaMint-GB/2017/ParlaMint-GB_2017-09-07-commons.xml",
    "2020-02-12": "ParlaMint-GB/2020/ParlaMint-GB_2020-02-12-lords.xml",
    "2022-07-21": "ParlaMint-GB/2022/ParlaMint-GB_2022-07-21-commons.xml",
    "2023-02-23": "ParlaMint-ES/2023/ParlaMint-ES_2023-02-23-CD230223.xml",
}
GAPS = {"2017-09-07": 1, "2020-02-12": 2, "2022-07-21": 2, "2023-02-23": 2}


@pytest.fixture(scope="module")
def parsed(mirror_root: Path) -> dict[str, tuple[RawFile, list[Speech]]]:
    c = ParlaMintConnector(base_url=(mirror_root / "parlamint").resolve().as_uri())
    out = {}
    for day in c.list_partitions():
        [raw] = c.fetch_raw(day)
        result = c.parse_all([raw], day)
        assert result.quarantined == []
        out[day] = (raw, result.documents)
    return out


def test_partitions_and_files(mirror_root: Path, parsed):
    c = ParlaMintConnector(base_url=(mirror_root / "parlamint").resolve().as_uri())
    assert c.list_partitions() == sorted(FILES)
    assert {day: raw.name for day, (raw, _) in parsed.items()} == FILES


@pytest.mark.parametrize("day", sorted(FILES))
def test_one_speech_per_utterance_and_no_sampling_text(parsed, day):
    raw, speeches = parsed[day]
    assert len(speeches) == len(re.findall(rb"<u ", raw.content)) == 4
    assert all(isinstance(s, Speech) for s in speeches)
    assert not any("SAMPLING" in s.text for s in speeches)
    assert all(s.paragraphs for s in speeches)
    assert len({s.doc_id for s in speeches}) == 4
    assert sampling_gaps(raw) == count_sampling_gaps(raw.content) == GAPS[day]
    assert all(s.date == dt.date.fromisoformat(day) and s.partition_key == day for s in speeches)


def test_gb_commons_speeches(parsed):
    _, speeches = parsed["2017-09-07"]
    first = speeches[0]
    assert first.native_id == "ParlaMint-GB_2017-09-07-commons.u1"
    assert (first.speaker_id, first.speaker_name) == ("StephenKinnock", "Stephen Kinnock")
    assert (first.parliament, first.house, first.language) == ("uk", "commons", "en")
    assert first.heading_path == ["Membership of the European Economic Area"]
    assert (
        first.url
        == "https://hansard-api.parliament.uk/debates/debate/15a060cc-c0b2-438d-a86a-72f6bd4a6e93.xml"
    )
    assert not first.procedural
    last = speeches[-1]
    assert last.heading_path == []  # its section's head was cut by the sampling
    assert last.paragraphs[-1] == "Question put and agreed to."
    assert len(last.paragraphs) == 3
    assert "House adjourned" not in last.text  # notes are not speech


def test_gb_lords_and_chair(parsed):
    _, lords = parsed["2020-02-12"]
    assert {s.house for s in lords} == {"lords"}
    assert len(lords[-1].paragraphs) == 15
    _, commons = parsed["2022-07-21"]
    # u1 is ana="#chair" (the Speaker's statement): a role, not procedure, so it stays searchable.
    assert [s.procedural for s in commons] == [False, False, False, False]
    assert commons[0].speaker_name == "Lindsay Hoyle"


def test_es_congreso_in_spanish(parsed):
    _, speeches = parsed["2023-02-23"]
    assert {(s.language, s.parliament, s.house) for s in speeches} == {("es", "es", "congreso")}
    assert any("Navarra" in s.text for s in speeches)
    assert not any(s.procedural for s in speeches)  # all four are the chair introducing business
    assert all(s.speaker_id is None and s.speaker_name is None for s in speeches)  # no @who
    assert "Aplausos" not in speeches[0].text and "Pausa" not in speeches[2].text
    assert (
        speeches[2].paragraphs[-1]
        == "Efectuada la votación, dio el siguiente resultado: votos emitidos, 339; a favor, 339."
    )
    # http://www.congreso.es names no document, so the citation is the sitting file itself.
    assert speeches[0].url == (
        "https://raw.githubusercontent.com/clarin-eric/ParlaMint/main/Samples/"
        "ParlaMint-ES/2023/ParlaMint-ES_2023-02-23-CD230223.xml"
    )
    assert speeches[0].title == "PALABRAS DE LA PRESIDENCIA"
    assert speeches[3].title == "Sesión plenaria núm. 239 (2023-02-23)"


@pytest.mark.parametrize(
    ("who", "name"),
    [
        ("#JohnsonBoris", "Johnson Boris"),
        ("#McDonnellJohn", "McDonnell John"),
        ("#MontoroRomeroCristóbal", "Montoro Romero Cristóbal"),
        (None, None),
    ],
)
def test_speaker_name_from_id(who, name):
    assert speaker_name_from_id(who) == name


def test_malformed_files_are_quarantined(mirror_root: Path, tmp_path: Path):
    root = tmp_path / "parlamint"
    shutil.copytree(mirror_root / "parlamint", root)
    gb = root / FILES["2017-09-07"]
    text = gb.read_text(encoding="utf-8")
    # The first utterance loses its id: it alone is rejected.
    gb.write_text(text.replace('xml:id="ParlaMint-GB_2017-09-07-commons.u1" ', "", 1), encoding="utf-8")
    es = root / FILES["2023-02-23"]
    es.write_bytes(es.read_bytes().replace(b"</u>", b"</seg>", 1))  # not well-formed any more

    c = ParlaMintConnector(base_url=root.resolve().as_uri())
    result = c.parse_all(c.fetch_raw("2017-09-07"), "2017-09-07")
    assert len(result.documents) == 3
    [q] = result.quarantined
    assert q.file == FILES["2017-09-07"] and q.reason == "utterance: u without xml:id"
    assert q.excerpt.startswith("<u ") and len(q.excerpt) <= 500 and q.line is not None

    result = c.parse_all(c.fetch_raw("2023-02-23"), "2023-02-23")
    assert result.documents == []
    [q] = result.quarantined
    assert q.reason.startswith("invalid XML") and q.line is not None
    assert count_sampling_gaps(es.read_bytes()) == 2  # still counted on broken XML


CORPUS_ROOT = b"""<?xml version="1.0" encoding="UTF-8"?>
<teiCorpus xmlns="http://www.tei-c.org/ns/1.0" xmlns:xi="http://www.w3.org/2001/XInclude" xml:id="ParlaMint-GB">
  <teiHeader/>
  <xi:include href="ParlaMint-GB-listPerson.xml"/>
  <xi:include href="2017/ParlaMint-GB_2017-09-07-commons.xml"/>
  <xi:include href="2020/ParlaMint-GB_2020-02-12-lords.xml"/>
  <xi:include href="2020/ParlaMint-GB_2020-02-12-lords.ana.xml"/>
</teiCorpus>"""


class RootOnlyFetcher(Fetcher):
    """A host like raw.githubusercontent.com: files, no directory listings."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__()
        self.files = files

    def get(self, url, params=None):
        if url not in self.files:
            raise FetchError(f"GET {url} failed with HTTP 404")
        return FetchResponse(url=url, status=200, content=self.files[url])

    def list_directory(self, url):
        raise FetchError(f"{url}: no listing")


def test_live_listing_reads_the_corpus_root():
    base = "https://raw.example/Samples"
    c = ParlaMintConnector(base_url=base, corpora=("GB",))
    c.fetcher = RootOnlyFetcher({f"{base}/ParlaMint-GB/ParlaMint-GB.xml": CORPUS_ROOT})
    assert c.sitting_files() == [
        "ParlaMint-GB/2017/ParlaMint-GB_2017-09-07-commons.xml",
        "ParlaMint-GB/2020/ParlaMint-GB_2020-02-12-lords.xml",
    ]
    assert c.list_partitions() == ["2017-09-07", "2020-02-12"]


def test_inline_notes_inside_a_segment_are_not_speech():
    # Synthetic (not from the corpus): ParlaMint allows notes and incidents inside a `seg`.
    tei = b"""<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0" xml:id="ParlaMint-GB_2020-01-01-commons" xml:lang="en">
  <teiHeader/>
  <text><body><div type="debateSection"><head>Test</head>
    <u xml:id="t.u1" who="#DoeJane" ana="#regular"><seg xml:id="t.s1">I beg <note>[Interruption.]</note>to
      <kinesic type="applause"><desc>Applause</desc></kinesic>move <hi>the motion</hi>.</seg></u>
  </div></body></text>
</TEI>"""
    c = ParlaMintConnector(base_url="file:///nonexistent")
    [speech] = c.parse(
        RawFile(name="ParlaMint-GB/2020/x.xml", content=tei, url="file:///x"), "2020-01-01"
    ).documents
    assert speech.paragraphs == ["I beg to move the motion."]
    assert (speech.house, speech.speaker_name, speech.title) == ("commons", "Doe Jane", "Test")
