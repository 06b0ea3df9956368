"""The embedder contract and the factory that picks one from settings."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from democrata_core.settings import Settings


class Embedder(ABC):
    #: Recorded on every index object so vectors from different models never mix silently.
    model_name: str
    dimensions: int
    #: Longest input, in the model's tokens, that embeds without truncation.
    max_tokens: int

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array (len(texts), dimensions), L2-normalised."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Used by the chunker to keep every chunk within `max_tokens`."""

    def embed_batched(
        self,
        texts: Sequence[str],
        batch_size: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Embed in batches, reporting progress; subclasses may order work to cut padding."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            out[start : start + batch_size] = self.embed(texts[start : start + batch_size])
            if progress:
                progress(min(start + batch_size, len(texts)), len(texts))
        return out


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "openai":
        from democrata_core.embedding.openai_embedder import OpenAIEmbedder

        return OpenAIEmbedder(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            model=settings.openai_embedding_model,
        )
    from democrata_core.embedding.minilm import MiniLMEmbedder

    return MiniLMEmbedder.load()
