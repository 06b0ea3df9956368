"""The registry of sources: adding a source means one folder and one line here."""

from __future__ import annotations

from democrata_assets.sources.commons_votes import CommonsVotesConnector
from democrata_assets.sources.hansard_api import HansardApiConnector
from democrata_assets.sources.lords_votes import LordsVotesConnector
from democrata_assets.sources.parlamint import ParlaMintConnector
from democrata_assets.sources.twfy import TwfyConnector
from democrata_assets.sources.uk_bills import UkBillsConnector
from democrata_assets.sources.upload import UploadConnector
from democrata_core.connector import Connector

CONNECTORS: list[type[Connector]] = [
    TwfyConnector,
    HansardApiConnector,
    UkBillsConnector,
    CommonsVotesConnector,
    LordsVotesConnector,
    ParlaMintConnector,
    UploadConnector,
]
