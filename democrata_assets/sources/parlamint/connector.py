"""ParlaMint TEI (CLARIN): comparable parliamentary corpora, one XML file per sitting and House.

Layout (as in github.com/clarin-eric/ParlaMint, folder `Samples/`):
`ParlaMint-<CC>/<year>/ParlaMint-<CC>_<YYYY-MM-DD>-<meeting>.xml`, e.g.
`ParlaMint-GB/2017/ParlaMint-GB_2017-09-07-commons.xml`, `ParlaMint-ES/2023/ParlaMint-ES_2023-02-23-CD230223.xml`.

Partition = one sitting date "YYYY-MM-DD" across the configured corpora (GB and ES by default):
every corpus file of that date (Commons and Lords are separate files) belongs to it.

Listing (`list_partitions`): raw.githubusercontent.com serves files but no directory listings, so
for each corpus the connector first reads the corpus root `ParlaMint-<CC>/ParlaMint-<CC>.xml`, a
`teiCorpus` whose `xi:include/@href`s name every sitting file. When that file is not there (the
bundled `file://` mirror holds only the sitting files) it walks the folders with `list_directory`
(a local folder or an Apache-style index page). Only plain TEI sitting files are taken: not the
linguistically annotated `.ana.xml`, the `-en` translations or the metadata `.tsv` files.

Parsing: each `u` → one `Speech`. ParlaMint SAMPLE files replace most utterances by
`<gap reason="editorial"><desc>SAMPLING</desc></gap>`; gaps are never text and are skipped
(`count_sampling_gaps` tells the pipeline how many there were). `note`, `kinesic`, `incident`,
`vocal` and `gap` inside an utterance are transcriber's notes, not speech, and are left out of the
paragraphs. Speaker names are derived from the `@who` id (e.g. `#StephenKinnock` → "Stephen
Kinnock"): the corpus' `listPerson` file with real names and parties is not in the mirror.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from typing import ClassVar

from lxml import etree

from democrata_core.connector import Connector
from democrata_core.http import Fetcher, FetchError
from democrata_core.models import House, ParseResult, QuarantineRecord, RawFile, Speech
from democrata_core.text import normalise_whitespace

TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XI_NS = "http://www.w3.org/2001/XInclude"
NS = {"tei": TEI_NS, "xi": XI_NS}
XML_ID = f"{{{XML_NS}}}id"
XML_LANG = f"{{{XML_NS}}}lang"

DEFAULT_CORPORA = ("GB", "ES")
# Corpus country code → the `parliament` value of its documents.
PARLIAMENTS = {"GB": "uk", "ES": "es"}
# (corpus, chamber from meeting/@ana) → House; the file name's meeting suffix is the fallback.
HOUSES: dict[tuple[str, str], House] = {
    ("GB", "lower"): "commons",
    ("GB", "upper"): "lords",
    ("ES", "lower"): "congreso",
}
NON_SPEECH = frozenset({"note", "kinesic", "incident", "vocal", "gap", "desc"})
TEXT_TYPE = "application/tei+xml"

_SITTING_FILE = re.compile(
    r"^ParlaMint-([A-Z]{2}(?:-[A-Z]{2})?)_(\d{4}-\d{2}-\d{2})[-_][^/]*(?<!\.ana)\.xml$"
)
_CAMEL = re.compile(r"(?<=[a-záéíóúñçàèìòùäëïöüß])(?=[A-ZÁÉÍÓÚÑÇÀÈÌÒÙÄËÏÖÜ])")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _t(tag: str) -> str:
    return f"{{{TEI_NS}}}{tag}"


def sitting_file_date(path: str) -> str | None:
    """'2017/ParlaMint-GB_2017-09-07-commons.xml' → '2017-09-07'; None for non-sitting files."""
    m = _SITTING_FILE.match(path.rsplit("/", 1)[-1])
    return m.group(2) if m else None


def speaker_name_from_id(who: str | None) -> str | None:
    """'#JohnsonBoris' → 'Johnson Boris', '#McDonnellJohn' → 'McDonnell John' (order as in the id)."""
    ident = (who or "").strip().lstrip("#")
    if not ident:
        return None
    words = _CAMEL.sub(" ", ident).split()
    merged: list[str] = []
    for word in words:  # keep "Mc"/"Mac" prefixes attached: McDonnell, MacNeil
        if merged and merged[-1] in ("Mc", "Mac"):
            merged[-1] += word
        else:
            merged.append(word)
    return " ".join(merged)


def count_sampling_gaps(xml_bytes: bytes) -> int:
    """Number of `<gap reason="editorial"><desc>SAMPLING</desc></gap>` (utterances cut from a
    ParlaMint SAMPLE file). Pure; on XML that does not parse it counts by pattern instead."""
    try:
        root = etree.fromstring(xml_bytes, _PARSER)
    except etree.XMLSyntaxError:
        return len(re.findall(rb"<gap\b[^>]*>\s*<desc\b[^>]*>\s*SAMPLING\s*</desc>", xml_bytes))
    return sum(
        1
        for gap in root.iter(_t("gap"))
        if gap.get("reason") == "editorial"
        and any(normalise_whitespace("".join(d.itertext())) == "SAMPLING" for d in gap.iter(_t("desc")))
    )


def sampling_gaps(raw: RawFile) -> int:
    """`count_sampling_gaps` of one raw file, for the pipeline to log next to the parse counts."""
    return count_sampling_gaps(raw.content)


def _text_of(el: etree._Element) -> str:
    """Spoken text of a `seg`: its text and inline elements, without notes/kinesics/incidents/gaps."""
    parts = [el.text or ""]
    for child in el:
        tag = etree.QName(child).localname if isinstance(child.tag, str) else None
        if tag is not None and tag not in NON_SPEECH:
            parts.append(_text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)


class ParlaMintConnector(Connector):
    name: ClassVar[str] = "parlamint"
    partitioning: ClassVar[str] = (
        "One sitting date (YYYY-MM-DD) across the configured ParlaMint corpora (GB, ES): "
        "every TEI sitting file of that date, one Speech per utterance."
    )
    default_base_url: ClassVar[str] = "https://raw.githubusercontent.com/clarin-eric/ParlaMint/main/Samples"

    def __init__(
        self,
        base_url: str | None = None,
        fetcher: Fetcher | None = None,
        corpora: tuple[str, ...] = DEFAULT_CORPORA,
    ) -> None:
        super().__init__(base_url, fetcher)
        self.corpora = tuple(corpora)
        self._files: list[str] | None = None

    # ---------------------------------------------------------------- listing

    def _corpus_root_files(self, corpus: str) -> list[str] | None:
        """Sitting files named by the corpus root's xi:includes; None when there is no root file."""
        folder = f"ParlaMint-{corpus}"
        try:
            content = self.fetcher.get(f"{self.base_url}/{folder}/{folder}.xml").content
            root = etree.fromstring(content, _PARSER)
        except (FetchError, etree.XMLSyntaxError):
            return None
        hrefs = [inc.get("href") or "" for inc in root.iter(f"{{{XI_NS}}}include")]
        return [f"{folder}/{h.lstrip('./')}" for h in hrefs if sitting_file_date(h)]

    def _walk_files(self, corpus: str) -> list[str]:
        folder = f"ParlaMint-{corpus}"
        found: list[str] = []
        try:
            entries = self.fetcher.list_directory(f"{self.base_url}/{folder}")
        except FetchError:
            return found
        for entry in entries:
            if entry.endswith("/"):
                try:
                    inner = self.fetcher.list_directory(f"{self.base_url}/{folder}/{entry.rstrip('/')}")
                except FetchError:
                    continue
                found += [f"{folder}/{entry}{name}" for name in inner if sitting_file_date(name)]
            elif sitting_file_date(entry):
                found.append(f"{folder}/{entry}")
        return found

    def sitting_files(self) -> list[str]:
        """Paths (relative to the base URL) of every sitting file of the configured corpora."""
        if self._files is None:
            files: set[str] = set()
            for corpus in self.corpora:
                listed = self._corpus_root_files(corpus)
                files.update(listed if listed is not None else self._walk_files(corpus))
            self._files = sorted(files)
        return self._files

    def list_partitions(self) -> list[str]:
        return sorted({d for f in self.sitting_files() if (d := sitting_file_date(f))})

    def fetch_raw(self, partition_key: str) -> list[RawFile]:
        raws = []
        for path in self.sitting_files():
            if sitting_file_date(path) != partition_key:
                continue
            url = f"{self.base_url}/{urllib.parse.quote(path)}"
            raws.append(
                RawFile(name=path, content=self.fetcher.get(url).content, url=url, content_type=TEXT_TYPE)
            )
        return raws

    # ---------------------------------------------------------------- parse

    def public_url(self, name: str) -> str:
        base = self.base_url if self.base_url.startswith(("http://", "https://")) else self.default_base_url
        return f"{base}/{urllib.parse.quote(name)}"

    def _quarantine(self, raw: RawFile, key: str, reason: str, excerpt: str = "", line: int | None = None):
        return QuarantineRecord(
            source=self.name,
            partition_key=key,
            file=raw.name,
            reason=reason,
            excerpt=excerpt[:500],
            line=line,
        )

    def parse(self, raw: RawFile, partition_key: str) -> ParseResult:
        result = ParseResult()
        try:
            root = etree.fromstring(raw.content, _PARSER)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if exc.lineno else None
            lines = raw.content.decode("utf-8", "replace").splitlines()
            excerpt = (
                lines[line - 1]
                if line and line <= len(lines)
                else raw.content[:500].decode("utf-8", "replace")
            )
            result.quarantined.append(
                self._quarantine(raw, partition_key, f"invalid XML: {exc}", excerpt, line)
            )
            return result
        if root.tag != _t("TEI"):
            result.quarantined.append(
                self._quarantine(
                    raw,
                    partition_key,
                    f"not a TEI sitting file (root {root.tag})",
                    raw.content[:500].decode("utf-8", "replace"),
                )
            )
            return result

        result.counters["sampling_gaps"] = sampling_gaps(raw)
        file_id = root.get(XML_ID) or raw.name.rsplit("/", 1)[-1].removesuffix(".xml")
        m = re.match(r"ParlaMint-([A-Z]{2})", file_id)
        corpus = m.group(1) if m else ""
        language = root.get(XML_LANG) or "en"
        parliament = PARLIAMENTS.get(corpus, corpus.lower() or "other")
        house = self._house(root, corpus, file_id)
        date = self._date(root, raw.name, partition_key)
        header = root.find(_t("teiHeader"))
        sub_titles = (
            header.findall(f".//{_t('titleStmt')}/{_t('title')}[@type='sub']") if header is not None else []
        )
        sitting_title = next(
            (
                normalise_whitespace("".join(t.itertext()))
                for t in sub_titles
                if t.get(XML_LANG) in (None, language)
            ),
            "",
        )
        source_url = self._source_url(header)
        url = source_url or self.public_url(raw.name)

        body = root.find(f"{_t('text')}/{_t('body')}")
        if body is None:
            result.quarantined.append(self._quarantine(raw, partition_key, "TEI without text/body"))
            return result
        for u in body.iter(_t("u")):
            try:
                result.documents.append(
                    self._speech(u, partition_key, language, parliament, house, date, sitting_title, url)
                )
            except (KeyError, ValueError) as exc:
                result.quarantined.append(
                    self._quarantine(
                        raw,
                        partition_key,
                        f"utterance: {exc}",
                        etree.tostring(u, encoding="unicode", with_tail=False),
                        u.sourceline,
                    )
                )
        return result

    def _speech(
        self,
        u: etree._Element,
        key: str,
        language: str,
        parliament: str,
        house: House,
        date: dt.date,
        sitting_title: str,
        url: str,
    ) -> Speech:
        native_id = u.get(XML_ID)
        if not native_id:
            raise ValueError("u without xml:id")
        div = u.getparent()
        while div is not None and div.tag != _t("div"):
            div = div.getparent()
        head = div.find(_t("head")) if div is not None else None
        heading = normalise_whitespace("".join(head.itertext())) if head is not None else ""
        who = u.get("who")
        paragraphs = [p for seg in u.iter(_t("seg")) if (p := normalise_whitespace(_text_of(seg)))]
        return Speech(
            source=self.name,
            native_id=native_id,
            partition_key=key,
            parliament=parliament,
            house=house,
            date=date,
            title=heading or sitting_title,
            heading_path=[heading] if heading else [],
            language=language,
            url=url,
            speaker_name=speaker_name_from_id(who),
            speaker_id=(who or "").strip().lstrip("#") or None,
            paragraphs=paragraphs,
            # ParlaMint marks who speaks as chair (#chair), not what is procedural: a chair's
            # utterance can be a statement or the introduction of a bill, so it stays searchable.
            procedural=False,
        )

    @staticmethod
    def _house(root: etree._Element, corpus: str, file_id: str) -> House:
        for meeting in root.iter(_t("meeting")):
            ana = (meeting.get("ana") or "").split()
            for chamber in ("lower", "upper"):
                if f"#parla.{chamber}" in ana and (corpus, chamber) in HOUSES:
                    return HOUSES[(corpus, chamber)]
        suffix = file_id.rsplit("-", 1)[-1].lower()
        if suffix in ("commons", "lords"):
            return suffix  # type: ignore[return-value]
        if suffix.startswith("cd"):
            return "congreso"
        return "other"

    @staticmethod
    def _date(root: etree._Element, name: str, key: str) -> dt.date:
        for candidate in (sitting_file_date(name), key):
            try:
                return dt.date.fromisoformat(candidate or "")
            except ValueError:
                continue
        for d in root.iter(_t("date")):
            when = d.get("when")
            if when:
                return dt.date.fromisoformat(when[:10])
        raise ValueError("no sitting date")

    @staticmethod
    def _source_url(header: etree._Element | None) -> str | None:
        """The source's own URL for this sitting when it names one document (the GB files cite the
        Hansard API debate XML); a bare site address (ES: http://www.congreso.es) is not a citation."""
        if header is None:
            return None
        for idno in header.iterfind(f".//{_t('sourceDesc')}//{_t('bibl')}/{_t('idno')}"):
            value = normalise_whitespace(idno.text or "")
            parsed = urllib.parse.urlparse(value)
            if parsed.scheme in ("http", "https") and parsed.path.strip("/"):
                return value
        return None
