"""Lords Votes API source: one partition per division date (see `connector`)."""

from democrata_assets.sources.lords_votes.connector import LordsVotesConnector, bill_and_stage

__all__ = ["LordsVotesConnector", "bill_and_stage"]
