"""The local services answer: PostgreSQL, Redis, Weaviate and the S3 stand-in.

Assumes `scripts/services.sh start` ran and its variables are exported:

    scripts/services.sh start && eval "$(scripts/services.sh env)"
    .venv/bin/python -m pytest tests/test_services.py -q

A missing variable is a failure, not a skip: these tests exist to prove the services are there.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES_SH = REPO_ROOT / "scripts" / "services.sh"
SERVICES = ("postgres", "redis", "weaviate", "s3")


def require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: start the services and export their settings first:\n"
            f'  scripts/services.sh start && eval "$(scripts/services.sh env)"',
            pytrace=False,
        )
    return value


def test_postgres_select_1() -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(require_env("DEMOCRATA_PG_URL"), pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert conn.execute(sa.text("select current_user")).scalar_one() == "democrata"
    finally:
        engine.dispose()


def test_redis_ping() -> None:
    import redis

    client = redis.Redis.from_url(require_env("DEMOCRATA_REDIS_URL"), socket_timeout=5)
    try:
        assert client.ping() is True
        key = f"democrata:test:{uuid.uuid4()}"
        client.set(key, "1", ex=30)
        assert client.get(key) == b"1"
        client.delete(key)
    finally:
        client.close()


def test_weaviate_ready() -> None:
    import weaviate

    host = os.environ.get("DEMOCRATA_WEAVIATE_HTTP_HOST", "127.0.0.1")
    port = int(require_env("DEMOCRATA_WEAVIATE_HTTP_PORT"))
    grpc_port = int(require_env("DEMOCRATA_WEAVIATE_GRPC_PORT"))
    client = weaviate.connect_to_local(host=host, port=port, grpc_port=grpc_port)
    try:
        assert client.is_ready()
        assert client.get_meta()["version"] == "1.39.0"
    finally:
        client.close()


def test_s3_round_trip() -> None:
    import boto3

    endpoint = require_env("DEMOCRATA_S3_ENDPOINT_URL")
    assert urlparse(endpoint).hostname == "127.0.0.1"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "eu-west-2"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )
    bucket = f"democrata-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    try:
        s3.put_object(Bucket=bucket, Key="hello/world.json", Body=b'{"ok": true}')
        body = s3.get_object(Bucket=bucket, Key="hello/world.json")["Body"].read()
        assert body == b'{"ok": true}'
    finally:
        s3.delete_object(Bucket=bucket, Key="hello/world.json")
        s3.delete_bucket(Bucket=bucket)


def run_services(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SERVICES_SH), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT
    )


def test_start_again_is_a_fast_no_op() -> None:
    t0 = time.monotonic()
    result = run_services("start")
    elapsed = time.monotonic() - t0
    assert result.returncode == 0, f"second start failed:\n{result.stdout}\n{result.stderr}"
    for name in SERVICES:
        assert f"{name}: already up" in result.stdout, result.stdout
    assert elapsed < 10, f"second start took {elapsed:.1f}s; it should only run the readiness checks"


def test_status_reports_all_up() -> None:
    result = run_services("status", timeout=30)
    assert result.returncode == 0, f"status says something is down:\n{result.stdout}\n{result.stderr}"
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    for name in SERVICES:
        assert name in lines, result.stdout
        assert lines[name].split()[1] == "up", lines[name]
