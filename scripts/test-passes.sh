#!/usr/bin/env bash
# Run the SQLite pass and the PostgreSQL + NATS pass of the suite side by side (docs/design/tests-on-a-busy-machine.md).
# Each pass writes its own log; while they run, a progress line every minute keeps CI's log alive; at the end both
# logs are printed whole, one after the other, and the script fails if either pass failed.
set -u
logs=.make/test-logs
mkdir -p "$logs"
make --no-print-directory pytest-sqlite-pass >"$logs/sqlite.log" 2>&1 &
sqlite=$!
make --no-print-directory pytest-postgres >"$logs/postgres.log" 2>&1 &
postgres=$!
progress() { grep -o '\[ *[0-9]*%\]' "$1" 2>/dev/null | tail -1 | tr -d '[] ' || true; }
start=$(date +%s)
while kill -0 "$sqlite" 2>/dev/null || kill -0 "$postgres" 2>/dev/null; do
  for _ in $(seq 60); do
    { kill -0 "$sqlite" 2>/dev/null || kill -0 "$postgres" 2>/dev/null; } || break
    sleep 1
  done
  echo "tests: $(( $(date +%s) - start )) s; SQLite pass $(progress "$logs/sqlite.log"), PostgreSQL + NATS pass $(progress "$logs/postgres.log")"
done
wait "$sqlite"; rc_sqlite=$?
wait "$postgres"; rc_postgres=$?
echo "===== SQLite + in-process bus pass (exit $rc_sqlite) ====="
cat "$logs/sqlite.log"
echo "===== PostgreSQL + NATS JetStream pass (exit $rc_postgres) ====="
cat "$logs/postgres.log"
[ "$rc_sqlite" -eq 0 ] && [ "$rc_postgres" -eq 0 ]
