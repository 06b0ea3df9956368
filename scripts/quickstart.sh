#!/usr/bin/env bash
# The main job on a fresh machine: install everything, start the services, materialise every
# source's bundled real sample data through Dagster into Weaviate, then print example searches.
# Extra arguments go to `democrata demo` (e.g. --source twfy --latest 1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
scripts/services.sh start
eval "$(scripts/services.sh env)"
exec .venv/bin/democrata demo "$@"
