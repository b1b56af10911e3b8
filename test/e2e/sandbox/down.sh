#!/usr/bin/env bash
# Stops the e2e sandbox of up.sh: the Alexandria API fixture and the cluster (test/e2e/cluster/down.sh), and
# removes sandbox.env, so that the next up.sh starts from the seeded state. PostgreSQL and the registries are
# shared with the other test suites and keep running, unless --all is given. Idempotent.
#   bash test/e2e/sandbox/down.sh [--all]
# Keeps $STATE/logs and $STATE/fixture.log for a look after a failed run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL=false
case "${1:-}" in
  "") ;;
  --all) ALL=true ;;
  *) echo "usage: bash test/e2e/sandbox/down.sh [--all]" >&2; exit 2 ;;
esac

rm -f "$SANDBOX_ENV"
stop_fixture
rm -f "$FIXTURE_MODE_FILE"
bash "$REPO_ROOT/test/e2e/cluster/down.sh"
if [[ $ALL == true ]]; then
  bash "$REPO_ROOT/test/services/redis.sh" stop >&2
  bash "$REPO_ROOT/test/services/registry.sh" stop >&2
  bash "$REPO_ROOT/test/services/postgres.sh" stop >&2
  RUNBOOK_PG_PORT=$EM_PG_PORT RUNBOOK_PG_STATE=$EM_PG_STATE bash "$REPO_ROOT/test/services/postgres.sh" stop >&2
fi
log "sandbox is down$([[ $ALL == true ]] && echo ', services stopped too' || echo ' (PostgreSQL, the registries and Redis still run; --all stops them)')"
