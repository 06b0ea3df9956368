"""Ingestion job control end to end: the API launches a Dagster run over GraphQL and reports it.

A real dagster-webserver and dagster-daemon (queued runs) start on a Postgres-backed instance of
this session's own; the upload is then searchable in the session's Weaviate collection.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
REPO_ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dagster_webserver(dagster_home, settings, tmp_path_factory):
    config = yaml.safe_load((dagster_home / "dagster.yaml").read_text())
    config["run_coordinator"] = {
        "module": "dagster.core.run_coordinator",
        "class": "QueuedRunCoordinator",
        "config": {"dequeue_interval_seconds": 1},
    }
    home = tmp_path_factory.mktemp("dagster_home_daemon")
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DEMOCRATA_COLLECTION": settings.collection,
        "DEMOCRATA_LANDING_DIR": str(settings.landing_dir),
        "PYTHONWARNINGS": "ignore",
    }
    logs = tmp_path_factory.mktemp("dagster_logs")
    common = {"cwd": REPO_ROOT, "env": env, "stderr": subprocess.STDOUT, "start_new_session": True}
    web = subprocess.Popen(
        [BIN / "dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        stdout=(logs / "webserver.log").open("wb"),
        **common,
    )
    daemon = subprocess.Popen(
        [BIN / "dagster-daemon", "run", "-w", "workspace.yaml"],
        stdout=(logs / "daemon.log").open("wb"),
        **common,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    deadline = time.monotonic() + 180
    while True:
        try:
            body = httpx.post(url, json={"query": "{ version }"}, timeout=5).json()
            if body.get("data", {}).get("version"):
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or web.poll() is not None:
            web.kill()
            daemon.kill()
            pytest.fail(
                f"dagster-webserver did not come up; log: {(logs / 'webserver.log').read_text()[-3000:]}"
            )
        time.sleep(1)
    yield url
    for proc in (daemon, web):
        proc.terminate()
    for proc in (daemon, web):
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_ui_shows_every_source_as_a_partitioned_asset_chain(dagster_webserver):
    query = "{ assetNodes { assetKey { path } groupName partitionDefinition { type } } }"
    nodes = httpx.post(dagster_webserver, json={"query": query}, timeout=60).json()["data"]["assetNodes"]
    keys = {tuple(n["assetKey"]["path"]): n for n in nodes}
    for source in ("twfy", "hansard_api", "uk_bills", "commons_votes", "lords_votes", "parlamint", "upload"):
        for stage in ("raw", "cleaned", "chunked", "embedded", "index"):
            node = keys[(source, stage)]
            assert node["groupName"] == source
            assert node["partitionDefinition"]["type"] == "DYNAMIC"


def test_upload_launches_a_run_that_makes_the_document_searchable(dagster_webserver, settings, chunk_index):
    from democrata_serving.app import create_app

    api_settings = settings.model_copy(update={"dagster_graphql_url": dagster_webserver})
    html = (
        b"<html><head><title>Estuary Bridge Report</title></head><body><h1>Estuary Bridge Report</h1>"
        b"<p>The committee recommends that the Severn estuary tidal lagoon proposal be reconsidered.</p>"
        b"<p>Witnesses described the lagoon as a generational investment in renewable power.</p></body></html>"
    )
    with TestClient(create_app(api_settings)) as client:
        response = client.post(
            "/ingest/upload",
            files={"file": ("estuary.html", html, "text/html")},
            data={"title": "Estuary Bridge Report"},
        )
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["source"] == "upload" and job["partition_key"]

        deadline = time.monotonic() + 300
        status = job["status"]
        while status not in ("SUCCESS", "FAILURE", "CANCELED") and time.monotonic() < deadline:
            time.sleep(2)
            status = client.get(f"/jobs/{job['run_id']}").json()["status"]
        assert status == "SUCCESS"

        assert chunk_index.count("upload", job["partition_key"]) >= 1
        hits = client.get(
            "/search", params={"q": "Severn tidal lagoon", "source": "upload", "limit": 3}
        ).json()
        assert hits["hits"][0]["native_id"] == job["partition_key"]
        assert client.get("/jobs/not-a-run").status_code == 404
