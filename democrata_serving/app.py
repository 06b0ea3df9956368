"""The HTTP API: search, answers with citations, ingestion job control, quarantine, health, metrics.

Query path: rate limit (per tenant) → shed if overloaded → cache → coalesce identical in-flight
requests → embed + hybrid search in a worker thread. Blocking clients (Weaviate, numpy) never run
on the event loop.
"""

import datetime as dt
import logging
import time
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Annotated

import anyio
from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Query, UploadFile
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from pydantic import BaseModel

from democrata_core.answer import Answer, extractive_answer, llm_answer
from democrata_core.embedding import build_embedder
from democrata_core.index import ChunkIndex, SearchFilters, connect
from democrata_core.resilience import CircuitBreaker, CircuitOpen
from democrata_core.retrieval import Retriever, SearchHit
from democrata_core.settings import Settings, get_settings
from democrata_core.storage import build_landing_zone
from democrata_serving.jobs import DagsterJobs, JobControlError
from democrata_serving.limits import Coalescer, LoadShedder, QueryCache, RateLimiter, cache_key

log = logging.getLogger(__name__)
LATENCY = Histogram("democrata_request_seconds", "Request latency", ["route"])
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class SearchResponse(BaseModel):
    query: str
    count: int
    hits: list[SearchHit]


class JobResponse(BaseModel):
    run_id: str
    status: str
    source: str | None = None
    partition_key: str | None = None


class Services:
    """Process-wide clients, created lazily so the app starts even while Weaviate is warming up."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.coalescer = Coalescer()
        self.shedder = LoadShedder(max_in_flight=64)
        # Embedding + Weaviate behind one breaker: during an outage, answer 503 at once.
        self.backend = CircuitBreaker("search backend", failure_threshold=5, reset_after_s=30)

    @cached_property
    def redis(self):
        if not self.settings.redis_url:
            return None
        import redis

        return redis.Redis.from_url(self.settings.redis_url, socket_timeout=2)

    @cached_property
    def cache(self) -> QueryCache:
        return QueryCache(self.redis, self.settings.query_cache_ttl_s)

    @cached_property
    def limiter(self) -> RateLimiter:
        return RateLimiter(self.redis, rate=20.0, burst=40)

    @cached_property
    def weaviate(self):
        return connect(self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        index = ChunkIndex(self.weaviate, self.settings.collection)
        return Retriever(index, build_embedder(self.settings))

    @cached_property
    def llm(self):
        """One OpenAI client per process: it pools connections, so not one per request."""
        from openai import OpenAI

        return OpenAI(api_key=self.settings.openai_api_key, base_url=self.settings.openai_base_url)

    @cached_property
    def jobs(self) -> DagsterJobs:
        return DagsterJobs(self.settings.dagster_graphql_url)

    def close(self) -> None:
        if "weaviate" in self.__dict__:
            self.weaviate.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    services = Services(settings or get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        services.close()

    app = FastAPI(title="Demócrata", version="0.1.0", lifespan=lifespan)
    app.state.services = services

    def tenant_of(x_tenant: Annotated[str | None, Header()] = None) -> str:
        return (x_tenant or "public").strip().lower()[:64] or "public"

    def filters_of(
        house: str | None = None,
        source: str | None = None,
        kind: str | None = None,
        speaker: str | None = None,
        party: str | None = None,
        language: str | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        include_procedural: bool = False,
    ) -> SearchFilters:
        if date_from and date_to and date_from > date_to:
            raise HTTPException(422, "date_from is after date_to")
        return SearchFilters(
            source=source,
            kind=kind,
            house=house,
            speaker=speaker,
            party=party,
            language=language,
            date_from=date_from,
            date_to=date_to,
            include_procedural=include_procedural,
        )

    async def guarded(route: str, tenant: str, payload: dict, compute):
        """Rate limit, shed, cache and coalesce around one blocking computation."""
        if not services.limiter.allow(tenant):
            raise HTTPException(429, "rate limit exceeded", headers={"Retry-After": "1"})
        if not services.shedder.try_acquire():
            raise HTTPException(503, "too many requests in flight", headers={"Retry-After": "1"})
        started = time.perf_counter()
        try:
            key = cache_key(tenant, route, payload)
            cached = services.cache.get(key)
            if cached is not None:
                return cached

            async def run():
                result = await anyio.to_thread.run_sync(services.backend.call, compute)
                services.cache.set(key, result)
                return result

            return await services.coalescer.run(key, run)
        except CircuitOpen as exc:
            raise HTTPException(
                503, str(exc), headers={"Retry-After": str(int(exc.retry_after_s) + 1)}
            ) from exc
        except HTTPException:
            raise
        except Exception as exc:
            log.exception("%s failed", route)
            raise HTTPException(503, f"search backend unavailable: {type(exc).__name__}") from exc
        finally:
            services.shedder.release()
            LATENCY.labels(route).observe(time.perf_counter() - started)

    @app.get("/search", response_model=SearchResponse)
    async def search(
        q: Annotated[str, Query(min_length=1, max_length=500)],
        filters: Annotated[SearchFilters, Depends(filters_of)],
        tenant: Annotated[str, Depends(tenant_of)],
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ):
        def compute():
            hits = services.retriever.search(q, filters, limit=limit)
            return SearchResponse(query=q, count=len(hits), hits=hits).model_dump(mode="json")

        return await guarded("search", tenant, {"q": q, "limit": limit, **filters.__dict__}, compute)

    @app.get("/ask", response_model=Answer)
    async def ask(
        q: Annotated[str, Query(min_length=1, max_length=500)],
        filters: Annotated[SearchFilters, Depends(filters_of)],
        tenant: Annotated[str, Depends(tenant_of)],
        limit: Annotated[int, Query(ge=1, le=20)] = 5,
    ):
        def compute():
            hits = services.retriever.search(q, filters, limit=limit)
            if services.settings.answer_mode == "openai":
                answer = llm_answer(q, hits, services.llm, services.settings.openai_chat_model)
            else:
                answer = extractive_answer(q, hits)
            return answer.model_dump(mode="json")

        return await guarded("ask", tenant, {"q": q, "limit": limit, **filters.__dict__}, compute)

    @app.post("/ingest/upload", response_model=JobResponse, status_code=202)
    async def ingest_upload(
        file: Annotated[UploadFile, File()],
        title: Annotated[str | None, Form()] = None,
    ):
        """Store the document, then launch its partition; poll GET /jobs/{run_id} for progress."""
        # The upload source is Dagster-free; the API only writes where that connector reads.
        from democrata_assets.sources.upload import write_upload

        content = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"upload exceeds {MAX_UPLOAD_BYTES} bytes")
        if not content:
            raise HTTPException(422, "empty upload")
        upload_id = write_upload(
            services.settings.uploads_dir,
            file.filename or "upload",
            content,
            file.content_type or "application/octet-stream",
            title=title,
        )
        try:
            run = services.jobs.launch_partition("upload", upload_id)
        except JobControlError as exc:
            raise HTTPException(
                502, f"stored as upload {upload_id}, but the run could not start: {exc}"
            ) from exc
        return JobResponse(
            run_id=run["runId"], status=run["status"], source="upload", partition_key=upload_id
        )

    @app.post("/ingest/runs", response_model=JobResponse, status_code=202)
    def ingest_partition(source: str, partition_key: str):
        try:
            run = services.jobs.launch_partition(source, partition_key)
        except JobControlError as exc:
            raise HTTPException(502, str(exc)) from exc
        return JobResponse(
            run_id=run["runId"], status=run["status"], source=source, partition_key=partition_key
        )

    @app.get("/jobs/{run_id}", response_model=JobResponse)
    def job_status(run_id: str):
        try:
            run = services.jobs.run_status(run_id)
        except JobControlError as exc:
            raise HTTPException(404, str(exc)) from exc
        tags = {t["key"]: t["value"] for t in run.get("tags", [])}
        return JobResponse(
            run_id=run["runId"],
            status=run["status"],
            source=run["jobName"].removesuffix("_pipeline"),
            partition_key=tags.get("dagster/partition"),
        )

    @app.get("/quarantine")
    def quarantine(source: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
        records = build_landing_zone(services.settings).read_quarantine(source)
        return {"count": len(records), "records": [r.model_dump() for r in records[:limit]]}

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz():
        checks = {"weaviate": False, "redis": services.redis is None}
        try:
            checks["weaviate"] = bool(services.weaviate.is_ready())
        except Exception:  # noqa: BLE001 - readiness reports, never raises
            checks["weaviate"] = False
        if services.redis is not None:
            try:
                checks["redis"] = bool(services.redis.ping())
            except Exception:  # noqa: BLE001
                checks["redis"] = False
        if not all(checks.values()):
            raise HTTPException(503, detail=checks)
        return checks

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics():
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


app = create_app()
