"""The OpenAI paths against a real local server speaking the OpenAI REST protocol (no SDK patching).

tests/openai_stub_server.py answers the official `openai` SDK over HTTP, so these exercise the real
request the SDK builds, its base64 embedding decoding and its retry path, and our code around them:
the embedder's batching, re-ordering and normalisation, and the grounded answer's citation mapping.
The extractive answer needs no server and is checked here too, on hand-built hits.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import openai
import pytest
from openai_stub_server import DIMENSIONS, Fault, OpenAIStub, excerpts_in, stub_embedding

from democrata_core.answer import extractive_answer, llm_answer
from democrata_core.embedding.openai_embedder import OpenAIEmbedder
from democrata_core.retrieval import SearchHit

MODEL = "text-embedding-3-small"


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


def _embedder(stub: OpenAIStub, **kwargs) -> OpenAIEmbedder:
    return OpenAIEmbedder(api_key="test-key", base_url=stub.base_url, model=MODEL, **kwargs)


def _unit(text: str) -> np.ndarray:
    raw = stub_embedding(text)
    return raw / np.linalg.norm(raw)


def _hit(rank: int, native_id: str, text: str, speaker: str | None, day: int) -> SearchHit:
    return SearchHit(
        rank=rank,
        score=1.0 / rank,
        text=text,
        source="twfy",
        kind="speech",
        native_id=native_id,
        doc_id=f"doc-{native_id}",
        chunk_id=f"chunk-{native_id}",
        speaker=speaker,
        house="commons",
        date=dt.date(2024, 3, day),
        heading=f"Debate {rank}",
        title=f"Title {rank}",
        url=f"https://example.org/{native_id}",
    )


# -- embeddings --

TEXTS = [
    "Fishing quotas for coastal communities",
    "The minister answered questions on rail fares",
    "A division on the second reading of the bill",
]


def test_embeddings_are_unit_length_in_input_order_even_when_the_server_shuffles(stub):
    stub.shuffle_data = True
    raw_norms = [float(np.linalg.norm(stub_embedding(t))) for t in TEXTS]
    assert all(n > 1.5 for n in raw_norms), "the stub must send unnormalised vectors"

    embedder = _embedder(stub)
    vectors = embedder.embed(TEXTS)

    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    assert embedder.dimensions == DIMENSIONS
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    for text, vector in zip(TEXTS, vectors, strict=True):
        np.testing.assert_allclose(vector, _unit(text), atol=1e-6)
    # The three differ, so a mis-ordered result could not pass the check above by accident.
    assert not np.allclose(vectors[0], vectors[1]) and not np.allclose(vectors[1], vectors[2])

    (request,) = stub.requests
    assert request.path == "/v1/embeddings" and request.status == 200
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.body["model"] == MODEL
    assert request.body["input"] == TEXTS
    # The stub really did shuffle: the SDK's list is not in index order until the embedder sorts it.
    client = openai.OpenAI(api_key="test-key", base_url=stub.base_url)
    indices = [d.index for d in client.embeddings.create(model=MODEL, input=TEXTS).data]
    assert indices != sorted(indices)


def test_more_inputs_than_max_batch_are_split_into_requests_in_order(stub):
    texts = [f"speech number {word} about the budget" for word in ("one", "two", "three", "four", "five")]
    embedder = _embedder(stub)
    embedder.max_batch = 2

    vectors = embedder.embed(texts)

    assert [r.body["input"] for r in stub.requests] == [texts[0:2], texts[2:4], texts[4:5]]
    assert vectors.shape == (5, DIMENSIONS)
    for text, vector in zip(texts, vectors, strict=True):
        np.testing.assert_allclose(vector, _unit(text), atol=1e-6)


def test_embedding_nothing_returns_an_empty_matrix_without_a_request(stub):
    vectors = _embedder(stub).embed([])
    assert vectors.shape == (0, DIMENSIONS)
    assert stub.requests == []


def test_a_429_is_retried_by_the_sdk_and_the_embed_succeeds(stub):
    stub.script("/v1/embeddings", Fault(429, {"Retry-After": "0"}))

    vectors = _embedder(stub).embed(TEXTS[:2])

    np.testing.assert_allclose(vectors[1], _unit(TEXTS[1]), atol=1e-6)
    first, second = stub.requests
    assert (first.status, second.status) == (429, 200)
    assert first.body == second.body
    assert [first.headers["x-stainless-retry-count"], second.headers["x-stainless-retry-count"]] == ["0", "1"]


def test_without_retries_the_429_surfaces_as_a_rate_limit_error(stub):
    stub.script("/v1/embeddings", Fault(429, {"Retry-After": "0"}))

    with pytest.raises(openai.RateLimitError):
        _embedder(stub, max_retries=0).embed(TEXTS[:1])
    assert [r.status for r in stub.requests] == [429]


# -- grounded answers through chat completions --

HITS = [
    _hit(1, "speech-a", "Quotas for mackerel will rise next year. The fleet welcomed it.", "Ann Minister", 4),
    _hit(2, "speech-b", "Harbour funding was cut by a third. Ports objected strongly.", None, 5),
    _hit(3, "speech-c", "Coastal towns need new rail links. The committee agreed.", "Cal Member", 6),
]


def test_llm_answer_sends_numbered_excerpts_and_cites_what_the_model_cited(stub):
    stub.chat_cites = [3, 1, 9]  # [9] has no excerpt: it must not become a citation
    client = openai.OpenAI(api_key="chat-key", base_url=stub.base_url, max_retries=0)

    answer = llm_answer("What was said about the coast?", HITS, client=client, model="gpt-4o-mini")

    (request,) = stub.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer chat-key"
    assert request.body["model"] == "gpt-4o-mini"
    prompt = next(m["content"] for m in request.body["messages"] if m["role"] == "user")
    assert "What was said about the coast?" in prompt
    assert excerpts_in(prompt) == {n: hit.text for n, hit in enumerate(HITS, 1)}
    assert "Ann Minister" in prompt and "Title 2" in prompt  # speaker, or the title when none

    assert answer.mode == "openai"
    assert "[3]" in answer.answer and "[9]" in answer.answer  # the model's text is kept as written
    assert [c.n for c in answer.citations] == [1, 3]
    assert [c.native_id for c in answer.citations] == ["speech-a", "speech-c"]
    by_n = {c.n: c for c in answer.citations}
    # The stub quotes excerpt n before citing [n]: the number maps back to the hit it was sent as.
    assert "Coastal towns need new rail links. [3]" in answer.answer
    assert by_n[3].url == HITS[2].url and by_n[3].date == "2024-03-06" and by_n[3].speaker == "Cal Member"


def test_llm_answer_survives_a_500_through_the_sdk_retry(stub):
    stub.script("/v1/chat/completions", Fault(500, {"Retry-After": "0"}))
    client = openai.OpenAI(api_key="chat-key", base_url=stub.base_url, max_retries=2)

    answer = llm_answer("Harbour funding?", HITS[:2], client=client, model="gpt-4o-mini")

    assert [r.status for r in stub.requests] == [500, 200]
    assert [c.native_id for c in answer.citations] == ["speech-a", "speech-b"]


# -- extractive answers --

QUESTION = "What did the minister say about fishing quotas for coastal communities?"
OFF_TOPIC = "The House adjourned at ten o'clock after a short debate."
EXTRACTIVE_HITS = [
    _hit(1, "off-topic", OFF_TOPIC + " Members then left the chamber for the evening.", "Speaker", 1),
    _hit(
        2,
        "minister",
        "The minister defended the new fishing quotas in a long statement. "
        "Several members asked about the weather in the north. "
        "Coastal communities will receive support under the quotas scheme.",
        "Ann Minister",
        2,
    ),
    _hit(3, "committee", "Fishing quotas were debated again on Tuesday by the committee.", None, 3),
]


def test_extractive_answer_quotes_sentences_sharing_query_terms_and_numbers_citations_by_first_use():
    answer = extractive_answer(QUESTION, EXTRACTIVE_HITS)

    assert answer.mode == "extractive"
    lines = answer.answer.splitlines()
    assert len(lines) == 3
    assert "The minister defended the new fishing quotas in a long statement." in lines[0]
    assert "Coastal communities will receive support under the quotas scheme." in answer.answer
    assert "Fishing quotas were debated again on Tuesday by the committee." in lines[2]
    assert OFF_TOPIC not in answer.answer and "weather" not in answer.answer
    # Numbered by first use: the top-ranked hit is never quoted, so the second becomes [1].
    assert [c.n for c in answer.citations] == [1, 2]
    assert [c.native_id for c in answer.citations] == ["minister", "committee"]
    assert [re.findall(r"\[(\d+)\]$", line) for line in lines] == [["1"], ["1"], ["2"]]
    assert lines[0].startswith("Ann Minister (2024-03-02):") and lines[2].startswith("2024-03-03:")
    assert {c.native_id for c in answer.citations} <= {h.native_id for h in EXTRACTIVE_HITS}


def test_extractive_answer_does_not_pad_with_sentences_sharing_no_query_term():
    hits = [EXTRACTIVE_HITS[0], EXTRACTIVE_HITS[2]]
    answer = extractive_answer(QUESTION, hits)

    assert answer.answer == "2024-03-03: “Fishing quotas were debated again on Tuesday by the committee.” [1]"
    assert [(c.n, c.native_id) for c in answer.citations] == [(1, "committee")]


def test_extractive_answer_with_no_hits_says_no_records_were_found():
    answer = extractive_answer(QUESTION, [])
    assert answer.citations == []
    assert "no matching records" in answer.answer.lower()


def test_extractive_answer_falls_back_to_the_best_ranked_sentences_when_none_share_a_term():
    answer = extractive_answer("Zeppelins?", EXTRACTIVE_HITS, max_sentences=2)

    assert answer.answer.splitlines() == [
        f"Speaker (2024-03-01): “{OFF_TOPIC}” [1]",
        "Speaker (2024-03-01): “Members then left the chamber for the evening.” [1]",
    ]
    assert [c.native_id for c in answer.citations] == ["off-topic"]
