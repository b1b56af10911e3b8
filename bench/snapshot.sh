#!/usr/bin/env bash
# Starts the test PostgreSQL (test/services/postgres.sh) and runs the snapshot benchmark against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/services/postgres.sh start
npm run --silent bench:snapshot
