from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
MIRROR = REPO_ROOT / "data" / "mirror"


@pytest.fixture(scope="session")
def mirror_root() -> Path:
    return MIRROR
