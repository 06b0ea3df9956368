"""Re-embedding a partition with the Redis embedding cache warm vs with no cache."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import redis

sys.path.insert(0, str(Path(__file__).parent))
from _data import real_chunks  # noqa: E402

from democrata_core.embedding.cache import CachedEmbedder  # noqa: E402
from democrata_core.embedding.minilm import MiniLMEmbedder  # noqa: E402


class _Namespaced(MiniLMEmbedder):
    """Same model under a bench-only cache namespace, so the run starts cold and leaves real keys alone."""

    model_name = "bench/" + MiniLMEmbedder.model_name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=300)
    args = parser.parse_args()
    client = redis.Redis.from_url(os.environ.get("DEMOCRATA_REDIS_URL", "redis://127.0.0.1:56379/0"))
    base = MiniLMEmbedder.load()
    embedder = _Namespaced.__new__(_Namespaced)
    embedder.__dict__.update(base.__dict__)
    texts = [c.embedding_text for c in real_chunks(base, limit=args.chunks)]
    for key in client.scan_iter(f"embed:{embedder.model_name}:*"):
        client.delete(key)

    started = time.perf_counter()
    uncached = CachedEmbedder(embedder, None).embed(texts)
    t_none = time.perf_counter() - started

    cache = CachedEmbedder(embedder, client)
    cache.embed(texts)  # fill
    hits_before = cache.hits
    started = time.perf_counter()
    warm = cache.embed(texts)
    t_warm = time.perf_counter() - started
    warm_hits = cache.hits - hits_before
    assert np.allclose(uncached, warm, atol=1e-6)
    print(f"{len(texts)} real chunks")
    print(f"      no cache: {t_none:7.3f} s")
    print(f"    warm cache: {t_warm:7.3f} s  (hits {warm_hits} of {len(texts)})")
    print(f"speed-up of a warm re-materialisation: {t_none / t_warm:.1f}x")
    for key in client.scan_iter(f"embed:{embedder.model_name}:*"):
        client.delete(key)


if __name__ == "__main__":
    main()
