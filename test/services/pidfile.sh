# Sourced by the service scripts: processes they started, known by a pid file.

# stop_pidfile FILE: sends TERM to the process whose pid FILE holds, waits up to 5 s for it to exit, and
# removes FILE. Returns 1 when there was no FILE, 0 otherwise (also when its process was already gone).
stop_pidfile() {
  local file="$1" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$file"
}
