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
def postgres_database(services_env):
    """A throwaway Postgres database on the real server, dropped at the end of the session."""
    import psycopg2

    dsn = os.environ.get("DEMOCRATA_PG_DSN")
    if not dsn:
        pytest.fail("DEMOCRATA_PG_DSN not set: run the suite with ./scripts/test.sh", pytrace=False)
    name = f"democrata_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield dsn.rsplit("/", 1)[0] + "/" + name
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


@pytest.fixture(scope="session")
def dagster_home(postgres_database, tmp_path_factory) -> Path:
    """A DAGSTER_HOME whose runs, events and partitions live in the real Postgres."""
    import urllib.parse

    import yaml

    url = urllib.parse.urlparse(postgres_database)
    db = {
        "username": url.username,
        "password": url.password,
        "hostname": url.hostname,
        "port": url.port,
        "db_name": url.path.lstrip("/"),
        "scheme": "postgresql+psycopg2",  # SQLAlchemy 2.1 would otherwise pick psycopg 3
    }
    home = tmp_path_factory.mktemp("dagster_home")
    config = {"storage": {"postgres": {"postgres_db": db}}, "telemetry": {"enabled": False}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


@pytest.fixture(scope="session")
def dagster_instance(dagster_home):
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    yield instance
    instance.dispose()


@pytest.fixture(scope="session")
def run_partition(settings, dagster_instance, tmp_path_factory):
    """Materialise one source partition through the real asset chain; returns (result, metadata)."""
    import dagster as dg

    from democrata_assets.definitions import PIPELINES
    from democrata_assets.pipeline.resources import DemocrataConfig, build_resources

    io_dir = tmp_path_factory.mktemp("dagster-io")

    def run(
        source: str,
        partition_key: str,
        mirror: Path | None = None,
        raise_on_error: bool = True,
        s3_bucket: str | None = None,
        **overrides,
    ):
        """`overrides` are further DemocrataConfig fields, e.g. collection= or embedder=."""
        config = DemocrataConfig(
            landing_dir=str(settings.landing_dir),
            collection=overrides.pop("collection", settings.collection),
            mirror_root=str(mirror or MIRROR),
            s3_bucket=s3_bucket,
            s3_endpoint_url=os.environ.get("DEMOCRATA_S3_ENDPOINT_URL") if s3_bucket else None,
            **overrides,
        )
        io_manager = dg.FilesystemIOManager(base_dir=str(io_dir))
        if s3_bucket:
            from dagster_aws.s3 import S3PickleIOManager, S3Resource

            io_manager = S3PickleIOManager(
                s3_resource=S3Resource(endpoint_url=os.environ["DEMOCRATA_S3_ENDPOINT_URL"]),
                s3_bucket=s3_bucket,
                s3_prefix="democrata/dagster-io",
            )
        pipeline = PIPELINES[source]
        dagster_instance.add_dynamic_partitions(pipeline.partitions.name, [partition_key])
        result = dg.materialize(
            pipeline.assets,
            partition_key=partition_key,
            instance=dagster_instance,
            raise_on_error=raise_on_error,
            resources={**build_resources(config), "io_manager": io_manager},
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
