"""The asset factory: every source gets the same raw → cleaned → chunked → embedded → index chain.

No stage mentions a particular source. A connector supplies partitions, bytes and typed records;
everything after parsing is shared code in `democrata_core`.
"""

import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg
import numpy as np

from democrata_assets.pipeline.resources import (
    EmbedderResource,
    LandingZoneResource,
    SourcesResource,
    WeaviateResource,
)
from democrata_core.chunking import Chunk, chunk_documents
from democrata_core.connector import Connector
from democrata_core.ids import bytes_hash
from democrata_core.models import RawFile

if TYPE_CHECKING:  # what define_asset_job returns; not part of dagster's public namespace
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

FETCH_RETRY = dg.RetryPolicy(
    max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
QUARANTINE_CHECK = "no_quarantined_records"
INDEX_CHECK = "index_matches_chunks"


@dataclass(frozen=True)
class SourcePipeline:
    """Everything Dagster needs for one source, built from its connector class."""

    connector_cls: type[Connector]
    partitions: dg.DynamicPartitionsDefinition
    assets: list[dg.AssetsDefinition]
    job: "UnresolvedAssetJobDefinition"

    @property
    def name(self) -> str:
        return self.connector_cls.name


def _raw_key(source: str, partition_key: str, name: str = "") -> str:
    return f"raw/{source}/{partition_key}/{name}"


def _progress_logger(context: dg.AssetExecutionContext, label: str, every: float = 0.1):
    """Log progress about every 10%: long embeddings show movement in the run log."""
    state = {"next": every}

    def report(done: int, total: int) -> None:
        if total and done / total >= state["next"]:
            context.log.info(f"{label}: {done}/{total} ({100 * done // total}%)")
            state["next"] = done / total + every

    return report


def _md_table(rows: list[dict], limit: int = 10) -> dg.MetadataValue:
    if not rows:
        return dg.MetadataValue.md("_none_")
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows[:limit]:
        lines.append(
            "| " + " | ".join(str(row[c]).replace("|", "\\|").replace("\n", " ")[:160] for c in cols) + " |"
        )
    if len(rows) > limit:
        lines.append(f"\n… and {len(rows) - limit} more")
    return dg.MetadataValue.md("\n".join(lines))


def build_source_pipeline(connector_cls: type[Connector]) -> SourcePipeline:
    source = connector_cls.name
    partitions = dg.DynamicPartitionsDefinition(name=source)
    common = {"partitions_def": partitions, "group_name": source, "key_prefix": [source]}

    @dg.asset(
        name="raw",
        description=f"Raw bytes as fetched from {source}, copied to the landing zone. {connector_cls.partitioning}",
        retry_policy=FETCH_RETRY,
        kinds={"s3"},
        **common,
    )
    def raw(context: dg.AssetExecutionContext, sources: SourcesResource, landing_zone: LandingZoneResource):
        connector = sources.connector(connector_cls)
        zone = landing_zone.zone()
        files = connector.fetch_raw(context.partition_key)
        # Replace the partition's raw folder whole: a file the source dropped must not linger.
        zone.delete_prefix(_raw_key(source, context.partition_key))
        manifest = []
        for f in files:
            uri = zone.put(_raw_key(source, context.partition_key, f.name), f.content)
            manifest.append(
                {
                    "name": f.name,
                    "url": f.url,
                    "content_type": f.content_type,
                    "bytes": len(f.content),
                    "sha256": bytes_hash(f.content),
                    "landing_uri": uri,
                }
            )
        context.log.info(f"{source}/{context.partition_key}: {len(files)} raw files landed")
        return dg.Output(
            manifest,
            metadata={
                "files": len(manifest),
                "bytes": sum(m["bytes"] for m in manifest),
                "manifest": _md_table(
                    [{k: m[k] for k in ("name", "bytes", "landing_uri")} for m in manifest]
                ),
                # Lets a reader (or a test) prove which exact bytes a partition was built from.
                "sha256": dg.MetadataValue.json({m["name"]: m["sha256"] for m in manifest}),
            },
        )

    @dg.asset(
        name="cleaned",
        description="Typed records (speeches, divisions, bills …) parsed from the raw files; rejects quarantined.",
        check_specs=[
            dg.AssetCheckSpec(
                QUARANTINE_CHECK,
                asset=dg.AssetKey([source, "cleaned"]),
                description="Warns when records were quarantined; the rest of the partition still lands.",
            )
        ],
        kinds={"python"},
        **common,
    )
    def cleaned(
        context: dg.AssetExecutionContext,
        raw: list[dict],
        sources: SourcesResource,
        landing_zone: LandingZoneResource,
    ):
        connector = sources.connector(connector_cls)
        zone = landing_zone.zone()
        raws = [
            RawFile(
                name=m["name"],
                content=zone.get(_raw_key(source, context.partition_key, m["name"])),
                url=m["url"],
                content_type=m.get("content_type"),
            )
            for m in raw
        ]
        result = connector.parse_all(raws, context.partition_key)
        quarantine_uri = zone.write_quarantine(source, context.partition_key, result.quarantined)
        kinds = Counter(d.kind for d in result.documents)
        for q in result.quarantined:
            context.log.warning(f"quarantined from {q.file} (line {q.line}): {q.reason}")
        reasons = [{"file": q.file, "line": q.line, "reason": q.reason} for q in result.quarantined]
        yield dg.Output(
            result.documents,
            metadata={
                "documents": len(result.documents),
                **{f"documents_{k}": n for k, n in sorted(kinds.items())},
                **{f"skipped_{k}": n for k, n in sorted(result.counters.items())},
                "quarantined": len(result.quarantined),
                "quarantine": _md_table(reasons),
                "quarantine_uri": quarantine_uri or "",
            },
        )
        yield dg.AssetCheckResult(
            check_name=QUARANTINE_CHECK,
            passed=not result.quarantined,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"quarantined": len(result.quarantined), "reasons": _md_table(reasons)},
        )

    @dg.asset(
        name="chunked",
        description="Chunks that follow records, split on paragraphs within the embedder's token limit.",
        kinds={"python"},
        **common,
    )
    def chunked(context: dg.AssetExecutionContext, cleaned: list, embedder: EmbedderResource):
        model = embedder.embedder()
        chunks = chunk_documents(cleaned, model.max_tokens, model.count_tokens)
        multi = sum(1 for c in chunks if c.properties.get("chunk_count", 1) > 1 and c.chunk_index == 0)
        return dg.Output(
            chunks,
            metadata={
                "chunks": len(chunks),
                "documents": len(cleaned),
                "documents_split": multi,
                "max_tokens": model.max_tokens,
                "preview": _md_table(
                    [
                        {"native_id": c.native_id, "heading": c.heading, "text": c.text[:120]}
                        for c in chunks[:5]
                    ]
                ),
            },
        )

    @dg.asset(
        name="embedded",
        description="One vector per chunk, batched, served from the Redis embedding cache when unchanged.",
        pool="embeddings",
        kinds={"numpy"},
        **common,
    )
    def embedded(context: dg.AssetExecutionContext, chunked: list[Chunk], embedder: EmbedderResource):
        cached = embedder.cached()
        started = time.perf_counter()
        vectors = cached.embed(
            [c.embedding_text for c in chunked],
            batch_size=embedder.batch_size(),
            progress=_progress_logger(context, "embedding"),
        )
        seconds = time.perf_counter() - started
        return dg.Output(
            {"model": cached.embedder.model_name, "vectors": vectors},
            metadata={
                "vectors": len(vectors),
                "model": cached.embedder.model_name,
                "cache_hits": cached.hits,
                "cache_misses": cached.misses,
                "seconds": round(seconds, 2),
                "chunks_per_second": round(cached.misses / seconds, 1) if cached.misses and seconds else 0.0,
            },
        )

    @dg.asset(
        name="index",
        description="The partition's chunks in Weaviate: upserted by id, stale ids deleted, counts reconciled.",
        check_specs=[
            dg.AssetCheckSpec(
                INDEX_CHECK,
                asset=dg.AssetKey([source, "index"]),
                description="The index holds exactly the partition's chunks.",
            )
        ],
        kinds={"weaviate"},
        **common,
    )
    def index(
        context: dg.AssetExecutionContext,
        chunked: list[Chunk],
        embedded: dict,
        weaviate: WeaviateResource,
    ):
        vectors: np.ndarray = embedded["vectors"]
        with weaviate.index() as idx:
            report = idx.sync_partition(
                source,
                context.partition_key,
                chunked,
                vectors,
                embedded["model"],
                progress=_progress_logger(context, "indexing"),
            )
        return dg.MaterializeResult(
            metadata={
                "chunks": len(chunked),
                "written": report.written,
                "unchanged": report.unchanged,
                "deleted_stale": report.deleted,
                "index_count": report.index_count,
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=INDEX_CHECK,
                    passed=report.index_count == len(chunked),
                    metadata={"index_count": report.index_count, "chunks": len(chunked)},
                )
            ],
        )

    job = dg.define_asset_job(
        name=f"{source}_pipeline",
        selection=dg.AssetSelection.groups(source),
        description=f"Fetch, parse, chunk, embed and index one {source} partition.",
    )
    return SourcePipeline(connector_cls, partitions, [raw, cleaned, chunked, embedded, index], job)
