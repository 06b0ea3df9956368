"""TheyWorkForYou parlparse XML source: UK Hansard debates, speeches and divisions by sitting day."""

from democrata_assets.sources.twfy.connector import TwfyConnector

__all__ = ["TwfyConnector"]
