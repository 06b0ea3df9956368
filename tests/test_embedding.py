"""The numpy MiniLM must reproduce sentence-transformers' published output for all-MiniLM-L6-v2."""

from __future__ import annotations

import numpy as np
import pytest

from democrata_core.embedding.cache import CachedEmbedder

# The similarity matrix printed in the sentence-transformers README quick start for these sentences.
REFERENCE_SENTENCES = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
REFERENCE_SIMILARITIES = np.array(
    [[1.0000, 0.6660, 0.1046], [0.6660, 1.0000, 0.1411], [0.1046, 0.1411, 1.0000]]
)


def test_reproduces_published_similarity_matrix(embedder):
    vectors = embedder.embed(REFERENCE_SENTENCES)
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(vectors @ vectors.T, REFERENCE_SIMILARITIES, atol=6e-5)


def test_vectors_are_unit_length_and_float32(embedder):
    vectors = embedder.embed(["Fishing quotas", "Coastal access"])
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_padding_does_not_change_a_vector(embedder):
    """A short text padded next to a long one must embed exactly as it does alone."""
    short = "Order. Order."
    long = "The Marine and Coastal Access Bill establishes a coastal path around England. " * 8
    alone = embedder.embed([short])[0]
    padded = embedder.embed([short, long])[0]
    np.testing.assert_allclose(alone, padded, atol=1e-5)


def test_sorted_batching_returns_vectors_in_input_order(embedder):
    texts = ["one " * n + "end" for n in (40, 2, 90, 7, 15)]
    sorted_batches = embedder.embed_batched(texts, batch_size=2, sort_by_length=True)
    np.testing.assert_allclose(sorted_batches, embedder.embed(texts), atol=1e-5)


def test_token_count_includes_special_tokens_and_sees_overflow(embedder):
    assert embedder.count_tokens("hello") == 3  # [CLS] hello [SEP]
    assert embedder.count_tokens("word " * 400) > embedder.max_tokens == 256


def test_cache_serves_identical_vectors(embedder, services_env):
    import os

    import redis

    client = redis.Redis.from_url(os.environ["DEMOCRATA_REDIS_URL"])
    texts = ["A unique sentence for the cache test 7f3a.", "Another one 7f3a."]
    for key in (CachedEmbedder(embedder, client)._key(t) for t in texts):
        client.delete(key)
    first = CachedEmbedder(embedder, client)
    cold = first.embed(texts)
    second = CachedEmbedder(embedder, client)
    warm = second.embed(texts)
    assert (first.misses, second.hits, second.misses) == (2, 2, 0)
    np.testing.assert_array_equal(cold, warm)


@pytest.mark.parametrize("text", ["", "   "])
def test_blank_text_still_embeds(embedder, text):
    assert embedder.embed([text]).shape == (1, 384)


@pytest.mark.parametrize("rows", [3, 4096])  # below and above the threaded split
def test_fast_gelu_matches_the_reference_definition(rows):
    from democrata_core.embedding.minilm import _gelu, gelu_reference

    x = (np.random.default_rng(7).standard_normal((rows, 1536)) * 4).astype(np.float32)
    np.testing.assert_allclose(_gelu(x), gelu_reference(x), atol=2e-6)
    assert _gelu(x).dtype == np.float32
