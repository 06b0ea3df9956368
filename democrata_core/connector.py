"""The one small interface every source implements.

A source knows this module and `democrata_core`, nothing of Dagster. The pipeline factory turns any
`Connector` into the same raw → cleaned → chunked → embedded → index asset chain.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from democrata_core.http import Fetcher
from democrata_core.models import ParseResult, RawFile


class Connector(ABC):
    #: Stable key: asset prefix, index `source` property, landing-zone folder. Never rename.
    name: ClassVar[str]
    #: One line for the UI and README: what a partition of this source is, and why.
    partitioning: ClassVar[str]
    #: The live base URL; a `file://` mirror laid out the same way can replace it.
    default_base_url: ClassVar[str]

    def __init__(self, base_url: str | None = None, fetcher: Fetcher | None = None) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.fetcher = fetcher or Fetcher()

    @abstractmethod
    def list_partitions(self) -> list[str]:
        """Partition keys available at the source now, oldest first. Must be cheap (sensor tick)."""

    @abstractmethod
    def fetch_raw(self, partition_key: str) -> list[RawFile]:
        """The partition's raw files, exactly as served. Network errors raise; bad data does not."""

    @abstractmethod
    def parse(self, raw: RawFile, partition_key: str) -> ParseResult:
        """Typed documents from one raw file. A malformed record goes to `quarantined`, never raises."""

    def parse_all(self, raws: list[RawFile], partition_key: str) -> ParseResult:
        """Hook for sources whose files depend on each other (e.g. a newer version supersedes)."""
        result = ParseResult()
        for raw in raws:
            result.extend(self.parse(raw, partition_key))
        return result
