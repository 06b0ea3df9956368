"""Dagster resources: thin wrappers that turn run-time configuration into core objects.

Each field is an optional override; anything left unset comes from `DEMOCRATA_*` environment
variables read when the run starts (never at import), so the UI shows no secrets and a deployment
changes configuration, not code.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache

import dagster as dg

from democrata_core.connector import Connector
from democrata_core.embedding import Embedder, build_embedder
from democrata_core.embedding.cache import CachedEmbedder
from democrata_core.http import Fetcher
from democrata_core.index import ChunkIndex, connect
from democrata_core.settings import Settings
from democrata_core.storage import LandingZone, build_landing_zone


class DemocrataConfig(dg.ConfigurableResource):
    """Overrides on top of the environment; empty means 'use DEMOCRATA_* or the default'."""

    landing_dir: str | None = None
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    weaviate_http_port: int | None = None
    weaviate_grpc_port: int | None = None
    collection: str | None = None
    redis_url: str | None = None
    embedder: str | None = None
    openai_base_url: str | None = None
    openai_embedding_model: str | None = None
    mirror_root: str | None = None

    def settings(self) -> Settings:
        overrides = {k: v for k, v in self.model_dump().items() if v is not None}
        return Settings(**overrides)


@cache
def _shared_fetcher() -> Fetcher:
    # One per process, so the per-host concurrency cap and the conditional-request cache are shared
    # by every connector in a run.
    return Fetcher()


@cache
def _embedder_for(kind: str, openai_model: str, openai_base_url: str | None) -> Embedder:
    # Loading MiniLM takes a second and 90 MB: once per process, shared by all assets in a run.
    # The API key is not part of the key: Settings reads it from the environment, never the UI.
    return build_embedder(
        Settings(embedder=kind, openai_embedding_model=openai_model, openai_base_url=openai_base_url)
    )


class SourcesResource(dg.ConfigurableResource):
    config: DemocrataConfig

    def connector(self, connector_cls: type[Connector]) -> Connector:
        settings = self.config.settings()
        base_url = settings.source_base_url(connector_cls.name, connector_cls.default_base_url)
        return connector_cls(base_url=base_url, fetcher=_shared_fetcher())


class LandingZoneResource(dg.ConfigurableResource):
    config: DemocrataConfig

    def zone(self) -> LandingZone:
        return build_landing_zone(self.config.settings())


class EmbedderResource(dg.ConfigurableResource):
    config: DemocrataConfig

    def embedder(self) -> Embedder:
        s = self.config.settings()
        return _embedder_for(s.embedder, s.openai_embedding_model, s.openai_base_url)

    def cached(self) -> CachedEmbedder:
        s = self.config.settings()
        redis_client = None
        if s.redis_url:
            import redis

            redis_client = redis.Redis.from_url(s.redis_url)
        return CachedEmbedder(self.embedder(), redis_client)

    def batch_size(self) -> int:
        return self.config.settings().embed_batch_size


class WeaviateResource(dg.ConfigurableResource):
    config: DemocrataConfig

    @contextmanager
    def index(self):
        settings = self.config.settings()
        client = connect(settings)
        try:
            yield ChunkIndex(client, settings.collection)
        finally:
            client.close()


def build_resources(config: DemocrataConfig | None = None) -> dict:
    """Every resource the assets need, sharing one config (overrides for tests and benchmarks)."""
    config = config or DemocrataConfig()
    return {
        "democrata_config": config,
        "sources": SourcesResource(config=config),
        "landing_zone": LandingZoneResource(config=config),
        "embedder": EmbedderResource(config=config),
        "weaviate": WeaviateResource(config=config),
    }
