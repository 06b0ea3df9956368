"""The production shape of storage: raw bytes, quarantine and Dagster IO in S3 (a local S3 server)."""

from __future__ import annotations

import os
import uuid

import boto3
import pytest

from democrata_core.storage import S3LandingZone

pytestmark = pytest.mark.integration
DAY = "2023-02-23"  # the ParlaMint-ES sitting: small, and in Spanish


@pytest.fixture
def bucket(services_env):
    name = f"democrata-test-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=os.environ["DEMOCRATA_S3_ENDPOINT_URL"])
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=obj["Key"])
    s3.delete_bucket(Bucket=name)


def _keys(bucket: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=os.environ["DEMOCRATA_S3_ENDPOINT_URL"])
    return [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    ]


def test_partition_lands_raw_and_intermediates_in_s3(bucket, run_partition, mirror_root, chunk_index):
    result, metadata, _ = run_partition("parlamint", DAY, s3_bucket=bucket)
    assert result.success
    keys = _keys(bucket)
    raw = [k for k in keys if k.startswith(f"democrata/raw/parlamint/{DAY}/")]
    assert raw == [f"democrata/raw/parlamint/{DAY}/ParlaMint-ES/2023/ParlaMint-ES_2023-02-23-CD230223.xml"]
    zone = S3LandingZone(bucket, "democrata", os.environ["DEMOCRATA_S3_ENDPOINT_URL"])
    sample = mirror_root / "parlamint" / "ParlaMint-ES" / "2023" / "ParlaMint-ES_2023-02-23-CD230223.xml"
    assert zone.get(raw[0].removeprefix("democrata/")) == sample.read_bytes()
    assert metadata["raw"]["manifest"].count(f"s3://{bucket}/") == 1
    # dagster-aws pickles each intermediate asset per partition under the IO prefix.
    for stage in ("raw", "cleaned", "chunked", "embedded"):
        assert f"democrata/dagster-io/parlamint/{stage}/{DAY}" in keys
    assert chunk_index.count("parlamint", DAY) == metadata["chunked"]["chunks"]


def test_quarantine_is_kept_in_s3_and_listed(bucket, run_partition, mirror_copy):
    mirror = mirror_copy("parlamint")
    target = mirror / "parlamint" / "ParlaMint-ES" / "2023" / "ParlaMint-ES_2023-02-23-CD230223.xml"
    raw = target.read_bytes()
    target.write_bytes(raw[: len(raw) // 2])  # cut mid-sitting
    result, metadata, checks = run_partition("parlamint", DAY, mirror=mirror, s3_bucket=bucket)
    assert result.success and metadata["cleaned"]["quarantined"] >= 1
    assert not checks["no_quarantined_records"].passed
    zone = S3LandingZone(bucket, "democrata", os.environ["DEMOCRATA_S3_ENDPOINT_URL"])
    records = zone.read_quarantine("parlamint")
    assert records and {r.partition_key for r in records} == {DAY}
    assert all(r.file.endswith("ParlaMint-ES_2023-02-23-CD230223.xml") and r.reason for r in records)
    assert f"democrata/quarantine/parlamint/{DAY}.jsonl" in _keys(bucket)
    # Leave the session's index as the other tests expect it: the whole sitting.
    assert run_partition("parlamint", DAY)[1]["cleaned"]["quarantined"] == 0
