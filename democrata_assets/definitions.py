"""Assembles the code location: one asset chain, sensor and schedule per registered source."""

from __future__ import annotations

import os

import dagster as dg

from democrata_assets.pipeline.automation import build_discovery_sensor, build_refresh_schedule
from democrata_assets.pipeline.factory import SourcePipeline, build_source_pipeline
from democrata_assets.pipeline.resources import build_resources
from democrata_assets.sources import CONNECTORS

PIPELINES: dict[str, SourcePipeline] = {cls.name: build_source_pipeline(cls) for cls in CONNECTORS}


def _io_manager():
    """Intermediate assets are pickled per partition: to S3 when a bucket is set, else DAGSTER_HOME."""
    bucket = os.environ.get("DEMOCRATA_S3_BUCKET")
    if bucket:
        from dagster_aws.s3 import S3PickleIOManager, S3Resource

        return S3PickleIOManager(
            s3_resource=S3Resource(endpoint_url=os.environ.get("DEMOCRATA_S3_ENDPOINT_URL")),
            s3_bucket=bucket,
            s3_prefix=os.environ.get("DEMOCRATA_S3_PREFIX", "democrata") + "/dagster-io",
        )
    return dg.FilesystemIOManager()


defs = dg.Definitions(
    assets=[asset for p in PIPELINES.values() for asset in p.assets],
    jobs=[p.job for p in PIPELINES.values()],
    sensors=[build_discovery_sensor(p) for p in PIPELINES.values()],
    schedules=[build_refresh_schedule(p) for p in PIPELINES.values()],
    resources={**build_resources(), "io_manager": _io_manager()},
)
