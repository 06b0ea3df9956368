from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
MIRROR = REPO_ROOT / "data" / "mirror"
SERVICE_VARS = ("DEMOCRATA_WEAVIATE_HTTP_PORT", "DEMOCRATA_WEAVIATE_GRPC_PORT", "DEMOCRATA_REDIS_URL")


@pytest.fixture(scope="session")
def mirror_root() -> Path:
    return MIRROR


@pytest.fixture(scope="session")
def services_env() -> None:
    """Integration tests run against the real services; scripts/test.sh starts them."""
    missing = [v for v in SERVICE_VARS if not os.environ.get(v)]
    if missing:
        pytest.fail(
            f"{missing} not set: run the suite with ./scripts/test.sh, or "
            '`scripts/services.sh start && eval "$(scripts/services.sh env)"` first',
            pytrace=False,
        )


@pytest.fixture(scope="session")
def test_collection(services_env) -> str:
    """A collection of this session's own, so tests never touch the demo's index."""
    return f"DemocrataTest{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def settings(test_collection, tmp_path_factory):
    from democrata_core.settings import Settings

    return Settings(collection=test_collection, landing_dir=tmp_path_factory.mktemp("landing"))


@pytest.fixture(scope="session")
def weaviate_client(settings):
    from democrata_core.index import connect

    client = connect(settings)
    yield client
    client.collections.delete(settings.collection)
    client.close()


@pytest.fixture(scope="session")
def chunk_index(weaviate_client, settings):
    from democrata_core.index import ChunkIndex

    return ChunkIndex(weaviate_client, settings.collection)


@pytest.fixture(scope="session")
def embedder():
    from democrata_core.embedding.minilm import MiniLMEmbedder

    return MiniLMEmbedder.load()


@pytest.fixture(scope="session")
def dagster_instance():
    import dagster as dg

    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture(scope="session")
def run_partition(settings, dagster_instance, tmp_path_factory):
    """Materialise one source partition through the real asset chain; returns (result, metadata)."""
    import dagster as dg

    from democrata_assets.definitions import PIPELINES
    from democrata_assets.pipeline.resources import (
        DemocrataConfig,
        EmbedderResource,
        LandingZoneResource,
        SourcesResource,
        WeaviateResource,
    )

    io_dir = tmp_path_factory.mktemp("dagster-io")

    def run(source: str, partition_key: str, mirror: Path | None = None, raise_on_error: bool = True):
        config = DemocrataConfig(
            landing_dir=str(settings.landing_dir),
            collection=settings.collection,
            mirror_root=str(mirror or MIRROR),
        )
        pipeline = PIPELINES[source]
        dagster_instance.add_dynamic_partitions(pipeline.partitions.name, [partition_key])
        result = dg.materialize(
            pipeline.assets,
            partition_key=partition_key,
            instance=dagster_instance,
            raise_on_error=raise_on_error,
            resources={
                "democrata_config": config,
                "sources": SourcesResource(config=config),
                "landing_zone": LandingZoneResource(config=config),
                "embedder": EmbedderResource(config=config),
                "weaviate": WeaviateResource(config=config),
                "io_manager": dg.FilesystemIOManager(base_dir=str(io_dir)),
            },
        )
        metadata = {}
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            metadata[mat.asset_key.path[-1]] = {k: v.value for k, v in mat.metadata.items()}
        checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
        return result, metadata, checks

    return run


@pytest.fixture
def mirror_copy(tmp_path):
    """A writable copy of one source's mirror, to damage or trim in a test."""

    def copy(source: str) -> Path:
        root = tmp_path / "mirror"
        shutil.copytree(MIRROR / source, root / source)
        return root

    return copy
