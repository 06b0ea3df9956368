"""Sensors discover new sittings; schedules refresh recent partitions."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from democrata_assets.definitions import PIPELINES, defs
from democrata_assets.pipeline.automation import build_discovery_sensor, build_refresh_schedule
from democrata_assets.pipeline.resources import DemocrataConfig, SourcesResource


@pytest.fixture
def instance():
    with dg.DagsterInstance.local_temp() as instance:
        yield instance


def _sources(mirror_root) -> SourcesResource:
    return SourcesResource(config=DemocrataConfig(mirror_root=str(mirror_root)))


def test_discovery_sensor_adds_only_new_sittings_and_requests_their_runs(instance, mirror_root):
    sensor = build_discovery_sensor(PIPELINES["twfy"])
    instance.add_dynamic_partitions("twfy", ["2009-10-26"])
    with dg.build_sensor_context(instance=instance, resources={"sources": _sources(mirror_root)}) as context:
        result = sensor(context)
    new = ["2009-10-27", "2009-10-28", "2009-10-29"]
    assert [r.partition_key for r in result.run_requests] == new
    assert {r.run_key for r in result.run_requests} == {f"twfy:{k}" for k in new}
    (add,) = result.dynamic_partitions_requests
    assert add.partitions_def_name == "twfy" and list(add.partition_keys) == new

    instance.add_dynamic_partitions("twfy", new)
    with dg.build_sensor_context(instance=instance, resources={"sources": _sources(mirror_root)}) as context:
        assert isinstance(sensor(context), dg.SkipReason)


def test_refresh_schedule_requests_the_latest_partitions(instance):
    schedule = build_refresh_schedule(PIPELINES["twfy"])
    when = dt.datetime(2026, 12, 3, 5, 30, tzinfo=dt.UTC)
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=when) as context:
        assert isinstance(schedule(context), dg.SkipReason)
    keys = [f"2009-10-{day:02d}" for day in range(1, 21)]
    instance.add_dynamic_partitions("twfy", keys)
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=when) as context:
        requests = schedule(context)
    assert [r.partition_key for r in requests] == keys[-7:]
    assert all(r.tags["democrata/priority"] == "scheduled" for r in requests)
    assert len({r.run_key for r in requests}) == 7


def test_definitions_load_with_a_chain_per_source():
    repo = defs.get_repository_def()
    for name, pipeline in PIPELINES.items():
        assert repo.has_job(f"{name}_pipeline")
        keys = {a.key.to_user_string() for a in pipeline.assets}
        assert keys == {f"{name}/{stage}" for stage in ("raw", "cleaned", "chunked", "embedded", "index")}
    assert {s.name for s in repo.sensor_defs} == {f"{n}_new_partitions" for n in PIPELINES}
    assert {s.name for s in repo.schedule_defs} == {f"{n}_refresh_recent" for n in PIPELINES}
