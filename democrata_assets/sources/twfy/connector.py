"""TheyWorkForYou parlparse XML: the bulk history of UK Hansard, one sitting day at a time."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from democrata_assets.sources.twfy.chambers import CHAMBERS, SittingFile, latest_versions, parse_file_name
from democrata_assets.sources.twfy.parse import SOURCE, FileContext, parse_file
from democrata_core.connector import Connector
from democrata_core.models import ParseResult, QuarantineRecord, RawFile

#: Directories ingested, main chambers first: on a duplicate id the main file's record wins.
DIRECTORIES: tuple[str, ...] = tuple(
    sorted(CHAMBERS, key=lambda d: (CHAMBERS[d].subset_of is not None, list(CHAMBERS).index(d)))
)


def _partition_date(partition_key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(partition_key)
    except ValueError as error:
        raise ValueError(
            f"twfy partition keys are sitting dates YYYY-MM-DD, got {partition_key!r}"
        ) from error


class TwfyConnector(Connector):
    name: ClassVar[str] = SOURCE
    partitioning: ClassVar[str] = (
        "One partition per sitting date (YYYY-MM-DD) across every chamber directory, so a sitting day "
        "lands as one unit and a re-scrape of that day replaces only that day."
    )
    default_base_url: ClassVar[str] = "https://www.theyworkforyou.com/pwdata/scrapedxml"

    def _sitting_files(self, directory: str) -> list[SittingFile]:
        names = self.fetcher.list_directory(f"{self.base_url}/{directory}")
        return [f for f in map(parse_file_name, names) if f is not None]

    def list_partitions(self) -> list[str]:
        dates = {f.sitting_date for d in DIRECTORIES for f in self._sitting_files(d)}
        return [d.isoformat() for d in sorted(dates)]

    def fetch_raw(self, partition_key: str) -> list[RawFile]:
        """That day's file in every directory; of several versions (a, b, c…) only the latest."""
        day = _partition_date(partition_key)
        raws: list[RawFile] = []
        for directory in DIRECTORIES:
            todays = [f for f in self._sitting_files(directory) if f.sitting_date == day]
            for f in latest_versions(todays):
                url = f"{self.base_url}/{directory}/{f.name}"
                response = self.fetcher.get(url)
                raws.append(
                    RawFile(
                        name=f"{directory}/{f.name}",
                        content=response.content,
                        url=url if url.startswith("file://") else response.url,
                        content_type="application/xml",
                    )
                )
        return raws

    def parse(self, raw: RawFile, partition_key: str) -> ParseResult:
        file_name = raw.name.rpartition("/")[2]
        chamber = CHAMBERS.get(_directory(raw))
        if chamber is None:
            return _rejected(raw, partition_key, f"{raw.name}: not in a known parlparse directory")
        parsed_name = parse_file_name(file_name)
        try:
            sitting = parsed_name.sitting_date if parsed_name else _partition_date(partition_key)
        except ValueError as error:
            return _rejected(raw, partition_key, f"{raw.name}: {error}")
        ctx = FileContext(
            raw_name=raw.name, partition_key=partition_key, chamber=chamber, sitting_date=sitting
        )
        return parse_file(raw.content, ctx)

    def parse_all(self, raws: list[RawFile], partition_key: str) -> ParseResult:
        """Parse the day's files, then keep one document per native id.

        divisionsonly/ and lordsdivisionsonly/ repeat records of the main day files (same ids), so
        the main chamber's document wins. An older scrape version is superseded by the newer one
        (its ids carry the old version letter, so only dropping the file avoids duplicates).
        """
        result = ParseResult()
        seen: set[str] = set()
        for raw in current_files(raws):
            parsed = self.parse(raw, partition_key)
            result.quarantined.extend(parsed.quarantined)
            for doc in parsed.documents:
                if doc.native_id not in seen:
                    seen.add(doc.native_id)
                    result.documents.append(doc)
        return result


def _directory(raw: RawFile) -> str:
    return raw.name.rpartition("/")[0].rsplit("/", 1)[-1]


def current_files(raws: list[RawFile]) -> list[RawFile]:
    """The files that count, main chambers first: latest version per series only.

    A subset view whose version differs from its main chamber's file of the same day is a view of
    another scrape (different ids for the same speeches), so it is left out too.
    """
    latest: dict[tuple[str, str], str] = {}
    main_version: dict[tuple[str, dt.date], str] = {}
    for raw in raws:
        f = parse_file_name(raw.name)
        if f is None:
            continue
        key = (_directory(raw), f.series)
        latest[key] = max(latest.get(key, ""), f.version)
        chamber = CHAMBERS.get(_directory(raw))
        if chamber and chamber.subset_of is None:
            day = (chamber.directory, f.sitting_date)
            main_version[day] = max(main_version.get(day, ""), f.version)

    def keep(raw: RawFile) -> bool:
        f = parse_file_name(raw.name)
        if f is None:
            return True  # parse() quarantines what it cannot place
        if f.version != latest[(_directory(raw), f.series)]:
            return False
        chamber = CHAMBERS.get(_directory(raw))
        if chamber and chamber.subset_of:
            main = main_version.get((chamber.subset_of, f.sitting_date))
            return main is None or main == f.version
        return True

    def order(raw: RawFile) -> tuple[int, int, str]:
        directory = _directory(raw)
        chamber = CHAMBERS.get(directory)
        position = DIRECTORIES.index(directory) if chamber else len(DIRECTORIES)
        return (int(bool(chamber and chamber.subset_of)), position, raw.name)

    return sorted((raw for raw in raws if keep(raw)), key=order)


def _rejected(raw: RawFile, partition_key: str, reason: str) -> ParseResult:
    return ParseResult(
        quarantined=[
            QuarantineRecord(
                source=SOURCE,
                partition_key=partition_key,
                file=raw.name,
                reason=reason,
                excerpt=raw.content[:400].decode("utf-8", errors="replace"),
            )
        ]
    )
