#!/usr/bin/env bash
# An S3-compatible server of the tests' own: SeaweedFS (`weed server -s3`: master, volume, filer and the S3
# gateway in one process) on 127.0.0.1 only, S3 at http://127.0.0.1:28610 with the test-only key pair
# runbook-test-s3 / runbook-s3-test-secret (given in an identities file, never on the command line). Its data
# lives under the test state directory; the snapshot-store tests create and empty their own buckets.
#   bash test/services/s3.sh start|stop|status
# Idempotent: `start` builds weed into the e2e toolchain cache (test/e2e/toolchain/build.sh seaweedfs, ~33 min
# cold on 2 cores) when it is missing and leaves a running server alone.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE_DIR="${RUNBOOK_TEST_STATE:-/tmp/release-runbook-test}"
DIR="$STATE_DIR/s3"
TOOLCHAIN=${RUNBOOK_TOOLCHAIN_DIR:-$HOME/.cache/release-runbook/toolchain}
# Keep in step with build.sh's SEAWEEDFS_VERSION.
WEED="$TOOLCHAIN/seaweedfs-$(sed -n 's/^SEAWEEDFS_VERSION=\([^ ]*\).*/\1/p' "$HERE/../e2e/toolchain/build.sh")/bin/weed"
# Ports: every listener weed opens, all on 127.0.0.1 (gRPC ports are given, else weed takes HTTP port + 10000).
S3_PORT=28610
S3_GRPC_PORT=28611
MASTER_PORT=28600
MASTER_GRPC_PORT=28601
VOLUME_PORT=28602
VOLUME_GRPC_PORT=28603
FILER_PORT=28604
FILER_GRPC_PORT=28605
ACCESS_KEY=runbook-test-s3
SECRET_KEY=runbook-s3-test-secret

die() { echo "s3.sh: $*" >&2; exit 1; }

ensure_weed() {
  [[ -x "$WEED" ]] && return 0
  echo "s3.sh: $WEED is missing; building it (test/e2e/toolchain/build.sh seaweedfs)" >&2
  bash "$HERE/../e2e/toolchain/build.sh" seaweedfs >&2
  [[ -x "$WEED" ]] || die "the seaweedfs build did not produce $WEED"
}

# The S3 gateway answers an unsigned request with 403 AccessDenied once it is serving.
answers() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$S3_PORT/" 2>/dev/null) || return 1
  [[ "$code" == 403 || "$code" == 200 ]]
}

is_up() { [[ -f "$DIR/pid" ]] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null && answers; }

start() {
  ensure_weed
  if is_up; then
    echo "s3 127.0.0.1:$S3_PORT: already running (pid $(cat "$DIR/pid"))"
    return 0
  fi
  stop >/dev/null   # a weed left by a failed start, not answering
  local port
  for port in $S3_PORT $S3_GRPC_PORT $MASTER_PORT $MASTER_GRPC_PORT $VOLUME_PORT $VOLUME_GRPC_PORT $FILER_PORT $FILER_GRPC_PORT; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "127.0.0.1:$port is in use by another process (ss -ltnp 'sport = :$port'); SeaweedFS needs it"
    fi
  done
  mkdir -p "$DIR/data"
  chmod 700 "$DIR"
  cat >"$DIR/s3-identities.json" <<JSON
{
  "identities": [
    {
      "name": "runbook-test",
      "credentials": [{ "accessKey": "$ACCESS_KEY", "secretKey": "$SECRET_KEY" }],
      "actions": ["Admin", "Read", "Write", "List", "Tagging"]
    }
  ]
}
JSON
  chmod 600 "$DIR/s3-identities.json"
  # -master.telemetry=false: no statistics leave the machine. Iceberg and Lance endpoints are off (port 0).
  nohup "$WEED" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$DIR/data" \
    -master.port=$MASTER_PORT -master.port.grpc=$MASTER_GRPC_PORT -master.telemetry=false \
    -master.volumeSizeLimitMB=256 -volume.max=16 \
    -volume.port=$VOLUME_PORT -volume.port.grpc=$VOLUME_GRPC_PORT \
    -filer -filer.port=$FILER_PORT -filer.port.grpc=$FILER_GRPC_PORT -filer.localSocket="$DIR/filer.sock" \
    -s3 -s3.port=$S3_PORT -s3.port.grpc=$S3_GRPC_PORT -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.config="$DIR/s3-identities.json" -s3.localSocket="$DIR/s3.sock" \
    >"$DIR/weed.log" 2>&1 </dev/null &
  echo $! >"$DIR/pid"
  for _ in $(seq 1 300); do
    if answers; then
      echo "s3 127.0.0.1:$S3_PORT: started (pid $(cat "$DIR/pid"))"
      return 0
    fi
    kill -0 "$(cat "$DIR/pid")" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 30 "$DIR/weed.log" >&2 || true
  stop >/dev/null
  die "weed did not serve S3 on 127.0.0.1:$S3_PORT within 60 s (log: $DIR/weed.log)"
}

# weed shuts its servers down one by one on TERM (measured ~25 s); pidfile.sh's 5 s wait is too short, so
# this waits up to 60 s and then kills it, and says stopped only once the process is gone.
stop() {
  local pid
  if [[ -f "$DIR/pid" ]]; then
    pid=$(cat "$DIR/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "s3.sh: weed (pid $pid) did not exit within 60 s of TERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
    fi
    rm -f "$DIR/pid"
  fi
  echo "s3 127.0.0.1:$S3_PORT: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if is_up; then echo "s3 127.0.0.1:$S3_PORT: up"; else echo "s3 127.0.0.1:$S3_PORT: down"; exit 1; fi ;;
  *) die "usage: bash test/services/s3.sh start|stop|status" ;;
esac
