"""Switching the pipeline to OpenAI embeddings is configuration: same assets, same index contract.

The OpenAI side is a local server speaking the OpenAI REST protocol (tests/openai_stub_server.py);
the official SDK and our real client code path talk to it.
"""

from __future__ import annotations

import uuid

import pytest
from openai_stub_server import DIMENSIONS, OpenAIStub

from democrata_core.embedding.openai_embedder import OpenAIEmbedder
from democrata_core.index import ChunkIndex, SearchFilters
from democrata_core.retrieval import Retriever

pytestmark = pytest.mark.integration
DAY = "2017-09-07"  # ParlaMint-GB Commons: a question on EEA membership, then an adjournment debate


@pytest.fixture
def model(services_env):
    """A model name of this test's own: the stub's vectors must never sit in the shared Redis
    embedding cache under a real model's name, where a real deployment could read them."""
    import os

    import redis

    name = f"stub-embedding-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(os.environ["DEMOCRATA_REDIS_URL"])
    for key in client.scan_iter(f"embed:{name}:*"):
        client.delete(key)


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


@pytest.fixture
def openai_collection(weaviate_client):
    # Vectors of another model and width never share a collection with MiniLM's.
    name = f"DemocrataOpenAITest{uuid.uuid4().hex[:8]}"
    yield name
    weaviate_client.collections.delete(name)


def test_materialise_and_search_with_openai_embeddings(
    stub, model, openai_collection, run_partition, weaviate_client, monkeypatch
):
    monkeypatch.setenv("DEMOCRATA_OPENAI_API_KEY", "sk-test-pipeline")  # secrets come from the env
    config = {
        "collection": openai_collection,
        "embedder": "openai",
        "openai_base_url": stub.base_url,
        "openai_embedding_model": model,
    }
    result, metadata, checks = run_partition("parlamint", DAY, **config)
    assert result.success and checks["index_matches_chunks"].passed
    assert metadata["embedded"]["model"] == model
    chunks = metadata["chunked"]["chunks"]
    index = ChunkIndex(weaviate_client, openai_collection)
    assert index.count("parlamint", DAY) == chunks == metadata["index"]["index_count"]

    calls = [r for r in stub.requests if r.path == "/v1/embeddings"]
    assert calls and {r.headers["authorization"] for r in calls} == {"Bearer sk-test-pipeline"}
    assert sum(len(r.body["input"]) for r in calls) == chunks
    stored = weaviate_client.collections.use(openai_collection).query.fetch_objects(
        limit=1, include_vector=True
    )
    assert len(stored.objects[0].vector["default"]) == DIMENSIONS

    embedder = OpenAIEmbedder(api_key="sk-test-pipeline", base_url=stub.base_url, model=model)
    hits = Retriever(index, embedder).search(
        "European Economic Area agreement", SearchFilters(source="parlamint")
    )
    assert hits and hits[0].date.isoformat() == DAY and "EEA" in hits[0].text

    # A second materialisation is served by the embedding cache: no new embedding requests.
    before = len([r for r in stub.requests if r.path == "/v1/embeddings"])
    _, again, _ = run_partition("parlamint", DAY, **config)
    assert again["embedded"]["cache_hits"] == chunks and again["embedded"]["cache_misses"] == 0
    assert len([r for r in stub.requests if r.path == "/v1/embeddings"]) == before
