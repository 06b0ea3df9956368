"""A backfill at scale from the real samples: one real sitting day re-dated into N later weeks.

Each copy keeps the real text (so the embedding cache serves it) under new dates and ids, and goes
through the real asset chain into a fresh collection. Prints the per-partition cost of the backfill
beside the cost of embedding one such day from scratch, and checks the index holds every copy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import dagster as dg

from democrata_assets.definitions import PIPELINES
from democrata_assets.pipeline.resources import DemocrataConfig, build_resources
from democrata_core.chunking import chunk_documents
from democrata_core.embedding.minilm import MiniLMEmbedder
from democrata_core.index import ChunkIndex, connect
from democrata_core.settings import BUNDLED_MIRROR, Settings

SOURCE_DAY = "2009-10-29"


def redate_mirror(root: Path, copies: int) -> list[str]:
    """Copies of SOURCE_DAY's files, each a week later, with dates in names and content rewritten."""
    days = []
    for chamber in (BUNDLED_MIRROR / "twfy").iterdir():  # laid out like the remote: every directory
        if chamber.is_dir():
            (root / "twfy" / chamber.name).mkdir(parents=True, exist_ok=True)
    for k in range(1, copies + 1):
        day = (dt.date.fromisoformat(SOURCE_DAY) + dt.timedelta(weeks=k)).isoformat()
        days.append(day)
        for path in (BUNDLED_MIRROR / "twfy").glob(f"*/*{SOURCE_DAY}*.xml"):
            target = root / "twfy" / path.parent.name / path.name.replace(SOURCE_DAY, day)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes().replace(SOURCE_DAY.encode(), day.encode()))
    return days


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=6)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="democrata-backfill-"))
    settings = Settings(collection=f"BenchBackfill{uuid.uuid4().hex[:8]}", landing_dir=work / "landing")
    days = redate_mirror(work / "mirror", args.copies)
    config = DemocrataConfig(
        landing_dir=str(settings.landing_dir),
        collection=settings.collection,
        mirror_root=str(work / "mirror"),
    )
    resources = {**build_resources(config), "io_manager": dg.FilesystemIOManager(base_dir=str(work / "io"))}
    pipeline = PIPELINES["twfy"]
    client = connect(settings)
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            instance.add_dynamic_partitions("twfy", days)
            per_partition, chunks = [], 0
            for day in days:
                started = time.perf_counter()
                result = dg.materialize(
                    pipeline.assets, partition_key=day, resources=resources, instance=instance
                )
                per_partition.append(time.perf_counter() - started)
                mats = {
                    e.event_specific_data.materialization.asset_key.path[
                        -1
                    ]: e.event_specific_data.materialization
                    for e in result.get_asset_materialization_events()
                }
                chunks += mats["chunked"].metadata["chunks"].value
                print(
                    f"{day}: {mats['chunked'].metadata['chunks'].value} chunks, {per_partition[-1]:.1f} s",
                    flush=True,
                )
        indexed = ChunkIndex(client, settings.collection).count("twfy")
        assert indexed == chunks, f"index holds {indexed}, partitions reported {chunks}"

        embedder = MiniLMEmbedder.load()
        connector = pipeline.connector_cls(base_url=(work / "mirror" / "twfy").as_uri())
        docs = connector.parse_all(connector.fetch_raw(days[0]), days[0]).documents
        texts = [c.embedding_text for c in chunk_documents(docs, embedder.max_tokens, embedder.count_tokens)]
        started = time.perf_counter()
        embedder.embed_batched(texts, 64)
        cold = time.perf_counter() - started

        mean = sum(per_partition) / len(per_partition)
        print(f"\n{len(days)} re-dated partitions, {chunks} objects indexed (count verified)")
        print(f"backfill, embeddings cached: {mean:.1f} s per partition ({60 / mean:.1f} partitions/min)")
        print(f"embedding one such day from scratch: {cold:.1f} s for {len(texts)} chunks")
        print(f"ratio: a cached re-materialisation costs 1/{cold / mean:.1f} of the embedding alone")
    finally:
        client.collections.delete(settings.collection)
        client.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
