#!/usr/bin/env bash
# The test suite on a fresh machine: install everything, start the real services the integration
# tests use (Postgres, Redis, Weaviate, S3 stand-in), then run pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
scripts/services.sh start
eval "$(scripts/services.sh env)"
exec .venv/bin/python -m pytest "$@"
