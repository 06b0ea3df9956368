"""The dependency directions the architecture promises, checked in a clean interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
for module in {modules!r}:
    __import__(module)
print(sorted({{m.split('.')[0] for m in sys.modules}} & {forbidden!r}))
"""


@pytest.mark.parametrize(
    ("modules", "forbidden"),
    [
        # The serving image needs no Dagster code location, uploads included.
        (["democrata_serving.app", "democrata_assets.sources.upload"], {"dagster", "dagster_aws"}),
        # core is shared by both sides and knows neither.
        (
            [
                "democrata_core.index",
                "democrata_core.retrieval",
                "democrata_core.chunking",
                "democrata_core.storage",
            ],
            {"dagster", "fastapi", "democrata_assets", "democrata_serving"},
        ),
        # A source knows core, not the pipeline.
        (["democrata_assets.sources"], {"dagster", "democrata_serving"}),
    ],
)
def test_imports_point_down_only(modules, forbidden):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=modules, forbidden=forbidden)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "[]", f"{modules} pulled in {out}"
