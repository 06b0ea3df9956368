"""Re-syncing an unchanged partition: content-hash skip vs rewriting every object.

Both paths end in the same state (checked by count); the skip path is what a scheduled refresh of
recent partitions does when Hansard has not changed.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _data import real_chunks  # noqa: E402

from democrata_core.embedding.cache import CachedEmbedder  # noqa: E402
from democrata_core.embedding.minilm import MiniLMEmbedder  # noqa: E402
from democrata_core.index import ChunkIndex, connect  # noqa: E402
from democrata_core.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=600)
    args = parser.parse_args()
    settings = Settings(collection=f"BenchSync{uuid.uuid4().hex[:8]}")
    embedder = MiniLMEmbedder.load()
    chunks = real_chunks(embedder, limit=args.chunks)
    import redis

    vectors = CachedEmbedder(embedder, redis.Redis.from_url(settings.redis_url)).embed(
        [c.embedding_text for c in chunks]
    )
    client = connect(settings)
    try:
        index = ChunkIndex(client, settings.collection)
        source, partition = chunks[0].source, chunks[0].partition_key
        index.sync_partition(source, partition, chunks, vectors, embedder.model_name)
        timings = {}
        for label, model in (("rewrite all", "rewrite-forced"), ("hash skip", "rewrite-forced")):
            # "rewrite all": a changed model tag makes every object differ; "hash skip": nothing differs.
            started = time.perf_counter()
            report = index.sync_partition(source, partition, chunks, vectors, model)
            timings[label] = time.perf_counter() - started
            print(
                f"{label:>12}: {timings[label]:6.2f} s  written {report.written}, unchanged {report.unchanged}"
            )
        print(
            f"{len(chunks)} real chunks; speed-up of hash skip: {timings['rewrite all'] / timings['hash skip']:.1f}x"
        )
    finally:
        client.collections.delete(settings.collection)
        client.close()


if __name__ == "__main__":
    main()
