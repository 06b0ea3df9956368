"""UK Hansard API source: one partition per sitting date (see `connector`)."""

from democrata_assets.sources.hansard_api.connector import HansardApiConnector, parse_attribution

__all__ = ["HansardApiConnector", "parse_attribution"]
