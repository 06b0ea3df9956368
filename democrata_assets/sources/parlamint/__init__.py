"""ParlaMint TEI source: one partition per sitting date across corpora (see `connector`)."""

from democrata_assets.sources.parlamint.connector import (
    ParlaMintConnector,
    count_sampling_gaps,
    sampling_gaps,
    speaker_name_from_id,
)

__all__ = ["ParlaMintConnector", "count_sampling_gaps", "sampling_gaps", "speaker_name_from_id"]
