#!/usr/bin/env bash
# The whole suite ROUNDS times in a row while CPU hogs keep every core busy (`make soak`).
#
# CI machines are loaded and shared: a race between threads, timers or the event loop that a quiet
# machine hides shows up there. Run this before resolving anything that touches them.
#   ROUNDS   rounds of the suite (default 5)
#   HOGS     busy processes beside it (default: one per core)
#   PYTEST_ARGS  extra pytest arguments (default: none; e.g. "-x tests/e2e")
# Exit status: 0 when every round passed. A summary line per round, and the log of each failed round
# is kept under .soak/.
set -uo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-5}"
HOGS="${HOGS:-$(nproc)}"
PY="${PY:-.venv/bin/python}"
mkdir -p .soak

hogs=()
stop_hogs() {
  if [ "${#hogs[@]}" -gt 0 ]; then
    kill "${hogs[@]}" 2>/dev/null
    wait "${hogs[@]}" 2>/dev/null
  fi
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$HOGS"); do
  "$PY" -c 'while True: pass' &
  hogs+=("$!")
done
echo "soak: $ROUNDS rounds of the suite beside $HOGS CPU hogs ($(nproc) cores)"

failed=0
start_all=$SECONDS
for round in $(seq "$ROUNDS"); do
  log=".soak/round-$round.log"
  start=$SECONDS
  # shellcheck disable=SC2086  # PYTEST_ARGS is a list of words
  if "$PY" -m pytest -q -p no:cacheprovider ${PYTEST_ARGS:-} >"$log" 2>&1; then
    verdict="passed"
  else
    verdict="FAILED (log: $log)"
    failed=$((failed + 1))
  fi
  echo "soak: round $round/$ROUNDS $verdict in $((SECONDS - start)) s: $(tail -n 1 "$log")"
  [ "$verdict" = "passed" ] && rm -f "$log"
done
echo "soak: $((ROUNDS - failed))/$ROUNDS rounds green in $((SECONDS - start_all)) s"
[ "$failed" -eq 0 ]
