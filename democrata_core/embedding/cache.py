"""Embedding cache in Redis: `embed:<model>:<sha256(text)>` → float32 bytes.

Re-materialising a partition, or a backfill that overlaps earlier work, re-embeds only text that
changed. Without Redis the embedder is called directly: the cache is an optimisation, never a
dependency of correctness.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence

import numpy as np

from democrata_core.embedding.base import Embedder

log = logging.getLogger(__name__)


class CachedEmbedder:
    def __init__(self, embedder: Embedder, redis_client=None, ttl_s: int = 60 * 60 * 24 * 30) -> None:
        self.embedder = embedder
        self.redis = redis_client
        self.ttl_s = ttl_s
        self.hits = 0
        self.misses = 0

    def _key(self, text: str) -> str:
        return f"embed:{self.embedder.model_name}:{hashlib.sha256(text.encode('utf-8')).hexdigest()}"

    def embed(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        dims = self.embedder.dimensions
        out = np.zeros((len(texts), dims), dtype=np.float32)
        missing = list(range(len(texts)))
        if self.redis is not None and texts:
            keys = [self._key(t) for t in texts]
            cached = []
            for start in range(0, len(keys), 1000):
                cached.extend(self.redis.mget(keys[start : start + 1000]))
            missing = []
            for i, blob in enumerate(cached):
                if blob is not None and len(blob) == dims * 4:
                    out[i] = np.frombuffer(blob, dtype=np.float32)
                else:
                    missing.append(i)
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            vectors = self.embedder.embed_batched([texts[i] for i in missing], batch_size, progress)
            out[missing] = vectors
            if self.redis is not None:
                pipe = self.redis.pipeline(transaction=False)
                for i, vec in zip(missing, vectors, strict=True):
                    pipe.set(self._key(texts[i]), vec.astype(np.float32).tobytes(), ex=self.ttl_s)
                pipe.execute()
        return out
