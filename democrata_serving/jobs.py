"""Ingestion job control through Dagster's GraphQL API.

The serving image carries no Dagster code: it asks the webserver to add a partition and launch the
source's job for it, tagged interactive so the run queue lets it past bulk backfills.
"""

from __future__ import annotations

from typing import Any

import httpx

REPOSITORY = {"repositoryLocationName": "democrata", "repositoryName": "__repository__"}

_ADD_PARTITION = """
mutation($repo: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: $name, partitionKey: $key) {
    __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on DuplicateDynamicPartitionError { partitionName }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
}"""

_LAUNCH = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { invalidOutputName }
    ... on RunConflict { message }
    ... on UnauthorizedError { message }
    ... on PresetNotFoundError { message }
    ... on ConflictingExecutionParamsError { message }
    ... on NoModeProvidedError { message }
  }
}"""

_RUN = """
query($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status jobName tags { key value } startTime endTime }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}"""


class JobControlError(RuntimeError):
    pass


class DagsterJobs:
    def __init__(self, graphql_url: str, timeout: float = 15.0) -> None:
        self.url = graphql_url
        self.timeout = timeout

    def _call(self, query: str, variables: dict[str, Any]) -> dict:
        try:
            response = httpx.post(
                self.url, json={"query": query, "variables": variables}, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise JobControlError(f"Dagster webserver at {self.url} unreachable: {exc}") from exc
        body = response.json()
        if body.get("errors"):
            raise JobControlError(f"Dagster GraphQL error: {body['errors'][0].get('message')}")
        return body["data"]

    def launch_partition(self, source: str, partition_key: str, priority: str = "interactive") -> dict:
        added = self._call(_ADD_PARTITION, {"repo": REPOSITORY, "name": source, "key": partition_key})
        kind = added["addDynamicPartition"]["__typename"]
        if kind not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
            raise JobControlError(f"could not add partition {source}/{partition_key}: {added}")
        params = {
            "selector": {**REPOSITORY, "jobName": f"{source}_pipeline"},
            "executionMetadata": {
                "tags": [
                    {"key": "dagster/partition", "value": partition_key},
                    {"key": "democrata/priority", "value": priority},
                    # Higher dagster/priority is dequeued first by the QueuedRunCoordinator.
                    {"key": "dagster/priority", "value": "10" if priority == "interactive" else "0"},
                ]
            },
        }
        launched = self._call(_LAUNCH, {"params": params})["launchRun"]
        if launched["__typename"] != "LaunchRunSuccess":
            raise JobControlError(f"launch failed for {source}/{partition_key}: {launched}")
        return launched["run"]

    def run_status(self, run_id: str) -> dict:
        run = self._call(_RUN, {"runId": run_id})["runOrError"]
        if run["__typename"] != "Run":
            raise JobControlError(run.get("message", run["__typename"]))
        return run
