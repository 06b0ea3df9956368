"""Sensors pick up new sittings; schedules refresh recent partitions.

Both only add partition keys and request runs: the run queue (QueuedRunCoordinator, see
dagster_home/dagster.yaml) decides when they execute, with backfills limited by tag so bulk
history cannot starve scheduled or interactive work.
"""

import dagster as dg

from democrata_assets.pipeline.factory import SourcePipeline
from democrata_assets.pipeline.resources import SourcesResource

PRIORITY_TAG = "democrata/priority"
RECENT_PARTITIONS = 7


def build_discovery_sensor(pipeline: SourcePipeline) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{pipeline.name}_new_partitions",
        job=pipeline.job,
        minimum_interval_seconds=60 * 60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Adds {pipeline.name} partitions the source has published and requests their runs.",
    )
    def discover(context: dg.SensorEvaluationContext, sources: SourcesResource):
        available = sources.connector(pipeline.connector_cls).list_partitions()
        known = set(context.instance.get_dynamic_partitions(pipeline.partitions.name))
        new = [key for key in available if key not in known]
        if not new:
            return dg.SkipReason(f"no new {pipeline.name} partitions ({len(known)} known)")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(partition_key=key, run_key=f"{pipeline.name}:{key}", tags={PRIORITY_TAG: "new"})
                for key in new
            ],
            dynamic_partitions_requests=[pipeline.partitions.build_add_request(new)],
        )

    return discover


def build_refresh_schedule(pipeline: SourcePipeline) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{pipeline.name}_refresh_recent",
        job=pipeline.job,
        cron_schedule="30 5 * * *",
        execution_timezone="Europe/London",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Re-materialises the latest {RECENT_PARTITIONS} {pipeline.name} partitions "
        "(Hansard corrections and late divisions arrive days later).",
    )
    def refresh(context: dg.ScheduleEvaluationContext):
        keys = context.instance.get_dynamic_partitions(pipeline.partitions.name)
        recent = sorted(keys)[-RECENT_PARTITIONS:]
        if not recent:
            return dg.SkipReason(f"no {pipeline.name} partitions yet")
        stamp = context.scheduled_execution_time.strftime("%Y%m%d")
        return [
            dg.RunRequest(
                partition_key=key, run_key=f"refresh:{stamp}:{key}", tags={PRIORITY_TAG: "scheduled"}
            )
            for key in recent
        ]

    return refresh
