"""UK Parliament Bills API source: one rolling partition, the current catalogue (see `connector`)."""

from democrata_assets.sources.uk_bills.connector import ListPaging, UkBillsConnector

__all__ = ["ListPaging", "UkBillsConnector"]
