"""Commons Votes API source: one partition per division date (see `connector`)."""

from democrata_assets.sources.commons_votes.connector import CommonsVotesConnector, bill_and_stage

__all__ = ["CommonsVotesConnector", "bill_and_stage"]
