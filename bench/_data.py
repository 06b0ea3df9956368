"""Real chunks for benchmarks: one parlparse day from the bundled mirror, chunked as the pipeline does."""

from __future__ import annotations

from democrata_core.chunking import Chunk, chunk_documents
from democrata_core.settings import BUNDLED_MIRROR


def real_chunks(embedder, partition_key: str = "2009-10-29", limit: int | None = None) -> list[Chunk]:
    from democrata_assets.sources.twfy import TwfyConnector

    connector = TwfyConnector(base_url=(BUNDLED_MIRROR / "twfy").as_uri())
    parsed = connector.parse_all(connector.fetch_raw(partition_key), partition_key)
    chunks = chunk_documents(parsed.documents, embedder.max_tokens, embedder.count_tokens)
    return chunks[:limit] if limit else chunks
