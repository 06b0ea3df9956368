"""OpenAI embeddings: the lean-install path (no local model, no torch)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from democrata_core.embedding.base import Embedder

_DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


class OpenAIEmbedder(Embedder):
    max_tokens = 8191
    #: The API takes up to 2048 inputs per request; fewer keeps one request well under its size cap.
    max_batch = 512

    def __init__(self, api_key: str | None, base_url: str | None, model: str, max_retries: int = 5) -> None:
        from openai import OpenAI

        # The SDK retries 429/5xx with exponential backoff and honours Retry-After.
        self.client = OpenAI(api_key=api_key, base_url=base_url, max_retries=max_retries)
        self.model_name = model
        self.dimensions = _DIMENSIONS.get(model, 1536)

    def count_tokens(self, text: str) -> int:
        # ~4 characters per token for English; deliberately pessimistic so chunks never overflow.
        return len(text) // 3 + 2

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:  # the contract's (0, dimensions); reshape(0, -1) cannot infer a width
            return np.zeros((0, self.dimensions), dtype=np.float32)
        out = []
        for start in range(0, len(texts), self.max_batch):
            response = self.client.embeddings.create(
                model=self.model_name, input=list(texts[start : start + self.max_batch])
            )
            out.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        vectors = np.asarray(out, dtype=np.float32).reshape(len(texts), -1)
        self.dimensions = vectors.shape[1] if len(vectors) else self.dimensions
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.clip(norms, 1e-12, None)
