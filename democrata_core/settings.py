"""One settings object for both sides, read from `DEMOCRATA_*` environment variables.

The defaults are the embedded, offline mode: local landing zone, local embedding model, extractive
answers, the bundled `file://` mirror. Pointing at S3, OpenAI or a Weaviate cluster is configuration.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MIRROR = REPO_ROOT / "data" / "mirror"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMOCRATA_", env_file=None, extra="ignore")

    # Sources: per-connector base URL overrides, e.g. DEMOCRATA_SOURCE_URLS='{"twfy": "https://…"}'.
    mirror_root: Path = Field(BUNDLED_MIRROR, description="The file:// mirror used when no URL is set.")
    use_live_sources: bool = Field(False, description="Use each connector's live base URL.")
    source_urls: dict[str, str] = Field(default_factory=dict)

    # Landing zone: S3 when a bucket is set, local files otherwise.
    landing_dir: Path = REPO_ROOT / ".services" / "landing"
    s3_bucket: str | None = None
    s3_prefix: str = "democrata"
    s3_endpoint_url: str | None = None

    # Index.
    weaviate_http_host: str = "127.0.0.1"
    weaviate_http_port: int = 58080  # the ports scripts/services.sh uses; production sets its own
    weaviate_grpc_port: int = 50151
    weaviate_api_key: str | None = None
    collection: str = "DemocrataChunk"

    # Embeddings: "local" (MiniLM in numpy, offline) or "openai".
    embedder: Literal["local", "openai"] = "local"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_embedding_model: str = "text-embedding-3-small"
    openai_chat_model: str = "gpt-4o-mini"
    embed_batch_size: int = 64

    # Answers: extractive unless an LLM is configured.
    answer_mode: Literal["extractive", "openai"] = "extractive"

    # Caches, rate limits, coalescing.
    redis_url: str | None = "redis://127.0.0.1:56379/0"
    query_cache_ttl_s: int = 600

    # Ingestion job control from the API goes through Dagster's GraphQL endpoint.
    dagster_graphql_url: str = "http://127.0.0.1:3000/graphql"

    @property
    def uploads_dir(self) -> Path:
        """Where POST /ingest/upload writes and the `upload` source reads: one place, both sides."""
        return self.landing_dir / "uploads"

    def source_base_url(self, name: str, default_live_url: str) -> str:
        if name in self.source_urls:
            return self.source_urls[name]
        if name == "upload":
            return self.uploads_dir.resolve().as_uri()
        if self.use_live_sources:
            return default_live_url
        return (self.mirror_root / name).resolve().as_uri()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
