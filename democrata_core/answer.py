"""Answers with citations: extractive by default, an LLM when one is configured.

The extractive mode needs no network: it picks the retrieved sentences that share the most query
terms and cites each one. It never writes a sentence the record does not contain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel

from democrata_core.retrieval import SearchHit

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'‘“(])")
_WORD = re.compile(r"[\wÀ-ÿ]+", re.UNICODE)
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "did",
        "do",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "about",
        "does",
        "de",
        "la",
        "el",
        "en",
        "los",
        "las",
        "y",
        "que",
        "del",
    ]
)


class Citation(BaseModel):
    n: int
    native_id: str
    source: str
    speaker: str | None
    house: str
    date: str
    heading: str
    url: str


class Answer(BaseModel):
    question: str
    mode: str
    answer: str
    citations: list[Citation]


def _terms(text: str) -> set[str]:
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOP and len(w) > 2}


def _citation(n: int, hit: SearchHit) -> Citation:
    return Citation(
        n=n,
        native_id=hit.native_id,
        source=hit.source,
        speaker=hit.speaker,
        house=hit.house,
        date=hit.date.isoformat(),
        heading=hit.heading,
        url=hit.url,
    )


def extractive_answer(question: str, hits: Sequence[SearchHit], max_sentences: int = 3) -> Answer:
    if not hits:
        return Answer(
            question=question, mode="extractive", answer="No matching records were found.", citations=[]
        )
    wanted = _terms(question)
    scored: list[tuple[float, int, str, int]] = []
    for hit_no, hit in enumerate(hits):
        for sentence in _SENTENCE.split(hit.text):
            sentence = sentence.strip()
            if len(sentence) < 20:
                continue
            overlap = len(wanted & _terms(sentence))
            # Earlier hits are more relevant; ties go to the better-ranked record.
            scored.append((overlap - 0.1 * hit_no, hit_no, sentence, overlap))
    # Never pad the answer with sentences sharing no query term when some do; if none do (a purely
    # semantic match), the best-ranked sentences are all there is to quote.
    scored = [s for s in scored if s[3] > 0] or scored
    scored.sort(key=lambda s: (-s[0], s[1]))
    chosen = sorted(scored[:max_sentences], key=lambda s: s[1])
    numbering: dict[int, int] = {}
    parts = []
    for _, hit_no, sentence, _ in chosen:
        n = numbering.setdefault(hit_no, len(numbering) + 1)
        hit = hits[hit_no]
        who = f"{hit.speaker} ({hit.date.isoformat()})" if hit.speaker else hit.date.isoformat()
        parts.append(f"{who}: “{sentence}” [{n}]")
    citations = [_citation(n, hits[hit_no]) for hit_no, n in numbering.items()]
    return Answer(question=question, mode="extractive", answer="\n".join(parts), citations=citations)


def llm_answer(question: str, hits: Sequence[SearchHit], client, model: str) -> Answer:
    """Grounded generation: the model sees numbered excerpts and must cite them as [n]."""
    context = "\n\n".join(
        f"[{n}] {h.speaker or h.title} — {h.house}, {h.date.isoformat()}, {h.heading}\n{h.text}"
        for n, h in enumerate(hits, 1)
    )
    response = client.chat.completions.create(
        model=model,
        temperature=0,
        messages=[
            {
                "role": "system",
                "content": "Answer only from the numbered parliamentary excerpts. Cite every claim as [n]. "
                "If the excerpts do not answer the question, say so.",
            },
            {"role": "user", "content": f"Excerpts:\n{context}\n\nQuestion: {question}"},
        ],
    )
    text = response.choices[0].message.content or ""
    cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", text) if 0 < int(n) <= len(hits)})
    return Answer(
        question=question,
        mode="openai",
        answer=text,
        citations=[_citation(n, hits[n - 1]) for n in cited],
    )
