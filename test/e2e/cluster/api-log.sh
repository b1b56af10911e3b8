#!/usr/bin/env bash
# Appends stdin, line by line, to the file kwok serves as the logs of every container named "api"
# ($RUNBOOK_E2E_STATE/logs/api.log): container-log.sh for the api container. With --reset the file is emptied first.
#   printf 'migration 42 applied\nready\n' | test/e2e/cluster/api-log.sh
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/container-log.sh" api "$@"
