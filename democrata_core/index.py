"""The index contract: one Weaviate collection, written by the pipeline and read by the API.

Both sides import this module, so the schema, the property names and the filter semantics cannot
drift. Writes are per partition and idempotent: upsert by deterministic chunk id, delete what the
partition no longer has, then count what the index holds and fail loudly on a mismatch.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization
from weaviate.classes.init import AdditionalConfig, Auth, Timeout
from weaviate.classes.query import Filter, HybridFusion, MetadataQuery

from democrata_core.chunking import Chunk
from democrata_core.settings import Settings

# name → (type, tokenization or None, searchable by BM25)
SCHEMA: dict[str, tuple[DataType, Tokenization | None, bool]] = {
    "text": (DataType.TEXT, Tokenization.WORD, True),
    "heading": (DataType.TEXT, Tokenization.WORD, True),
    "title": (DataType.TEXT, Tokenization.WORD, True),
    "speaker": (DataType.TEXT, Tokenization.WORD, True),
    "bill_title": (DataType.TEXT, Tokenization.WORD, False),
    "members": (DataType.TEXT_ARRAY, Tokenization.WORD, False),
    "source": (DataType.TEXT, Tokenization.FIELD, False),
    "kind": (DataType.TEXT, Tokenization.FIELD, False),
    "partition_key": (DataType.TEXT, Tokenization.FIELD, False),
    "doc_id": (DataType.TEXT, Tokenization.FIELD, False),
    "native_id": (DataType.TEXT, Tokenization.FIELD, False),
    "house": (DataType.TEXT, Tokenization.FIELD, False),
    "parliament": (DataType.TEXT, Tokenization.FIELD, False),
    "speaker_id": (DataType.TEXT, Tokenization.FIELD, False),
    "party": (DataType.TEXT, Tokenization.FIELD, False),
    "parties": (DataType.TEXT_ARRAY, Tokenization.FIELD, False),
    "bill_id": (DataType.TEXT, Tokenization.FIELD, False),
    "language": (DataType.TEXT, Tokenization.FIELD, False),
    "content_hash": (DataType.TEXT, Tokenization.FIELD, False),
    "embedding_model": (DataType.TEXT, Tokenization.FIELD, False),
    "url": (DataType.TEXT, Tokenization.FIELD, False),
    "column": (DataType.TEXT, Tokenization.FIELD, False),
    "links": (DataType.TEXT, Tokenization.FIELD, False),
    "date": (DataType.DATE, None, False),
    "chunk_index": (DataType.INT, None, False),
    "chunk_count": (DataType.INT, None, False),
    "division_number": (DataType.INT, None, False),
    "procedural": (DataType.BOOL, None, False),
}
BM25_PROPERTIES = ["text", "heading^2", "title^2", "speaker"]
# Far above one partition's chunk count; a partition larger than this is refused, not truncated.
MAX_PARTITION_OBJECTS = 9_000


class IndexMismatch(RuntimeError):
    """The index does not hold what the partition says it should: the run must fail."""


@dataclass(frozen=True)
class SearchFilters:
    source: str | None = None
    kind: str | None = None
    house: str | None = None
    speaker: str | None = None
    party: str | None = None
    language: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    include_procedural: bool = False

    def to_weaviate(self):
        parts = []
        for prop in ("source", "kind", "house", "party", "language"):
            value = getattr(self, prop)
            if value:
                parts.append(Filter.by_property(prop).equal(value))
        if self.speaker:
            parts.append(Filter.by_property("speaker").equal(self.speaker))
        if self.date_from:
            parts.append(Filter.by_property("date").greater_or_equal(_day_start(self.date_from)))
        if self.date_to:
            parts.append(Filter.by_property("date").less_or_equal(_day_start(self.date_to)))
        if not self.include_procedural:
            parts.append(Filter.by_property("procedural").equal(False))
        return Filter.all_of(parts) if parts else None


@dataclass
class Hit:
    chunk_id: str
    score: float
    properties: dict
    links: list[dict] = field(default_factory=list)


@dataclass
class SyncReport:
    written: int
    unchanged: int
    deleted: int
    index_count: int


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def connect(settings: Settings) -> weaviate.WeaviateClient:
    auth = Auth.api_key(settings.weaviate_api_key) if settings.weaviate_api_key else None
    return weaviate.connect_to_custom(
        http_host=settings.weaviate_http_host,
        http_port=settings.weaviate_http_port,
        http_secure=False,
        grpc_host=settings.weaviate_http_host,
        grpc_port=settings.weaviate_grpc_port,
        grpc_secure=False,
        auth_credentials=auth,
        additional_config=AdditionalConfig(timeout=Timeout(init=10, query=60, insert=120)),
        skip_init_checks=False,
    )


def to_object_properties(chunk: Chunk, embedding_model: str) -> dict:
    props = {k: v for k, v in chunk.properties.items() if k in SCHEMA}
    props.update(
        text=chunk.text,
        heading=chunk.heading,
        source=chunk.source,
        partition_key=chunk.partition_key,
        doc_id=chunk.doc_id,
        native_id=chunk.native_id,
        chunk_index=chunk.chunk_index,
        content_hash=chunk.content_hash,
        embedding_model=embedding_model,
    )
    if isinstance(props.get("date"), str):
        props["date"] = _day_start(dt.date.fromisoformat(props["date"]))
    return {k: v for k, v in props.items() if v is not None}


class ChunkIndex:
    def __init__(self, client: weaviate.WeaviateClient, collection: str) -> None:
        self.client = client
        self.name = collection

    @property
    def collection(self):
        return self.client.collections.use(self.name)

    def ensure_collection(self) -> None:
        """Create the collection once; vectors come from our embedder, never a Weaviate module."""
        if self.client.collections.exists(self.name):
            return
        self.client.collections.create(
            self.name,
            vector_config=Configure.Vectors.self_provided(
                vector_index_config=Configure.VectorIndex.hnsw(
                    distance_metric=weaviate.classes.config.VectorDistances.COSINE
                )
            ),
            inverted_index_config=Configure.inverted_index(index_null_state=True),
            properties=[
                Property(
                    name=name,
                    data_type=dtype,
                    tokenization=tok,
                    index_searchable=searchable if tok is not None else None,
                    index_filterable=True,
                )
                for name, (dtype, tok, searchable) in SCHEMA.items()
            ],
        )

    def _partition_filter(self, source: str, partition_key: str):
        return Filter.all_of(
            [
                Filter.by_property("source").equal(source),
                Filter.by_property("partition_key").equal(partition_key),
            ]
        )

    def partition_hashes(self, source: str, partition_key: str) -> dict[str, str]:
        """chunk id → content hash for what the index holds of one partition."""
        result = self.collection.query.fetch_objects(
            filters=self._partition_filter(source, partition_key),
            limit=MAX_PARTITION_OBJECTS + 1,
            return_properties=["content_hash", "embedding_model"],
        )
        if len(result.objects) > MAX_PARTITION_OBJECTS:
            raise IndexMismatch(f"{source}/{partition_key}: over {MAX_PARTITION_OBJECTS} objects")
        return {
            str(o.uuid): f"{o.properties.get('content_hash')}|{o.properties.get('embedding_model')}"
            for o in result.objects
        }

    def count(self, source: str | None = None, partition_key: str | None = None) -> int:
        filters = None
        if source and partition_key:
            filters = self._partition_filter(source, partition_key)
        elif source:
            filters = Filter.by_property("source").equal(source)
        agg = self.collection.aggregate.over_all(total_count=True, filters=filters)
        return int(agg.total_count or 0)

    def sync_partition(
        self,
        source: str,
        partition_key: str,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        embedding_model: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> SyncReport:
        """Make the index hold exactly these chunks for the partition, then prove it by counting."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        strays = {(c.source, c.partition_key) for c in chunks} - {(source, partition_key)}
        if strays:
            raise ValueError(f"chunks of {sorted(strays)} passed to sync {source}/{partition_key}")
        ids = [c.chunk_id for c in chunks]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{source}/{partition_key}: duplicate chunk ids in one partition")
        self.ensure_collection()
        existing = self.partition_hashes(source, partition_key)
        wanted = {c.chunk_id: f"{c.content_hash}|{embedding_model}" for c in chunks}
        to_write = [i for i, c in enumerate(chunks) if existing.get(c.chunk_id) != wanted[c.chunk_id]]
        stale = [uid for uid in existing if uid not in wanted]

        collection = self.collection
        with collection.batch.fixed_size(batch_size=200, concurrent_requests=2) as batch:
            for n, i in enumerate(to_write, 1):
                batch.add_object(
                    properties=to_object_properties(chunks[i], embedding_model),
                    uuid=chunks[i].chunk_id,
                    vector=vectors[i].tolist(),
                )
                if progress and n % 200 == 0:
                    progress(n, len(to_write))
        failed = collection.batch.failed_objects
        if failed:
            raise IndexMismatch(
                f"{source}/{partition_key}: {len(failed)} objects failed to import, first: {failed[0].message}"
            )
        deleted = 0
        for start in range(0, len(stale), 500):
            res = collection.data.delete_many(where=Filter.by_id().contains_any(stale[start : start + 500]))
            deleted += res.successful
        index_count = self.count(source, partition_key)
        if index_count != len(chunks):
            raise IndexMismatch(
                f"{source}/{partition_key}: index holds {index_count} objects, partition has {len(chunks)}"
            )
        return SyncReport(
            written=len(to_write),
            unchanged=len(chunks) - len(to_write),
            deleted=deleted,
            index_count=index_count,
        )

    def delete_partition(self, source: str, partition_key: str) -> int:
        total = 0
        while True:
            res = self.collection.data.delete_many(where=self._partition_filter(source, partition_key))
            total += res.successful
            if res.matches == 0 or res.successful == 0:
                return total

    def search(
        self,
        query: str,
        vector: np.ndarray,
        filters: SearchFilters,
        limit: int = 10,
        alpha: float = 0.5,
    ) -> list[Hit]:
        """Hybrid BM25 + vector. Scores depend on the candidate set: compare ranks, not values."""
        result = self.collection.query.hybrid(
            query=query,
            vector=vector.tolist(),
            alpha=alpha,
            limit=limit,
            filters=filters.to_weaviate(),
            query_properties=BM25_PROPERTIES,
            fusion_type=HybridFusion.RELATIVE_SCORE,
            return_metadata=MetadataQuery(score=True),
        )
        hits = []
        for obj in result.objects:
            props = dict(obj.properties)
            if isinstance(props.get("date"), dt.datetime):
                props["date"] = props["date"].date().isoformat()
            links = json.loads(props.pop("links", None) or "[]")
            hits.append(
                Hit(
                    chunk_id=str(obj.uuid),
                    score=float(obj.metadata.score or 0.0),
                    properties=props,
                    links=links,
                )
            )
        return hits

    def find_by_property(self, prop: str, value: str, limit: int = 5) -> list[dict]:
        result = self.collection.query.fetch_objects(
            filters=Filter.by_property(prop).equal(value), limit=limit
        )
        return [dict(o.properties) for o in result.objects]
