"""The raw landing zone: S3 when a bucket is configured, local files otherwise.

Raw bytes are kept exactly as fetched, under `raw/<source>/<partition>/<name>`, so any later stage
can be re-run from them without touching the source again. Quarantined records live beside them.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path

from democrata_core.models import QuarantineRecord
from democrata_core.settings import Settings


class LandingZone(ABC):
    @abstractmethod
    def put(self, key: str, data: bytes) -> str:
        """Store bytes; returns a URI a person can look up (file:// or s3://)."""

    @abstractmethod
    def get(self, key: str) -> bytes: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int: ...

    @abstractmethod
    def list(self, prefix: str) -> list[str]: ...

    # Quarantine: one JSONL object per partition, replaced on every run so it never goes stale.
    @staticmethod
    def quarantine_key(source: str, partition_key: str) -> str:
        return f"quarantine/{source}/{partition_key}.jsonl"

    def write_quarantine(
        self, source: str, partition_key: str, records: list[QuarantineRecord]
    ) -> str | None:
        key = self.quarantine_key(source, partition_key)
        if not records:
            self.delete_prefix(key)
            return None
        return self.put(key, "".join(r.model_dump_json() + "\n" for r in records).encode("utf-8"))

    def read_quarantine(self, source: str | None = None) -> list[QuarantineRecord]:
        prefix = f"quarantine/{source}/" if source else "quarantine/"
        records = []
        for key in self.list(prefix):
            for line in self.get(key).decode("utf-8").splitlines():
                if line.strip():
                    records.append(QuarantineRecord.model_validate(json.loads(line)))
        return records


class LocalLandingZone(LandingZone):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, key: str, data: bytes) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see half a file
        return path.resolve().as_uri()

    def get(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list(prefix)
        for key in keys:
            (self.root / key).unlink(missing_ok=True)
        return len(keys)

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if base.is_file():
            return [prefix]
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())


class S3LandingZone(LandingZone):
    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.s3 = client or boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def ensure_bucket(self) -> None:
        existing = {b["Name"] for b in self.s3.list_buckets().get("Buckets", [])}
        if self.bucket not in existing:
            self.s3.create_bucket(
                Bucket=self.bucket,
                CreateBucketConfiguration={"LocationConstraint": self.s3.meta.region_name or "eu-west-2"},
            )

    def put(self, key: str, data: bytes) -> str:
        self.s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        return f"s3://{self.bucket}/{self._key(key)}"

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        strip = len(self.prefix) + 1 if self.prefix else 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key(prefix)
        ):
            keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        return sorted(keys)

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list(prefix)
        for start in range(0, len(keys), 1000):
            self.s3.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": self._key(k)} for k in keys[start : start + 1000]]},
            )
        return len(keys)


def build_landing_zone(settings: Settings) -> LandingZone:
    if settings.s3_bucket:
        zone = S3LandingZone(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url)
        zone.ensure_bucket()
        return zone
    return LocalLandingZone(settings.landing_dir)
