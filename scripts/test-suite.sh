#!/usr/bin/env bash
# The suite's specs (npm test runs this after tsc and the layer check), in three runs of mocha:
#   1. the unit specs;
#   2. the integration spec files that change what every lab on the machine shares (a line
#      `// suite: alone (WHY)` in the file, e.g. the runtime root handed to another user for a
#      moment), one after the other with nothing else running;
#   3. every other integration spec file, OVERLAB_TEST_JOBS files at once (default 2, mocha
#      --parallel: each file in a worker of its own, whole). Each file's labs have names,
#      subnets, scratch folders and engine caches of their own. One file at a time kept this
#      2-core machine about 65% busy (much of a spec is waiting on namespaces, engines and
#      timers); two at once, 84%, and the files took 17.7 min instead of about 23.5.
# Every run happens even when one before it failed; the exit status is non-zero when any
# failed, and the last line sums the three: "mocha: N passed, N failed, N skipped".
# One Ctrl-C or SIGTERM stops the mocha that runs (and its workers), takes down the labs it
# left (specs/support/sweep.ts), and ends this with 130 or 143.
set -uo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." || exit

jobs=${OVERLAB_TEST_JOBS:-2}
case $jobs in '' | *[!0-9]* | 0) echo "test-suite: OVERLAB_TEST_JOBS must be a whole number of 1 or more, not '$jobs'" >&2; exit 2 ;; esac
stats=$(mktemp "${TMPDIR:-/tmp}/overlab-suite.XXXXXX")
child=
# shellcheck disable=SC2317 # run by the traps below
stop() {
  if [ -n "$child" ]; then
    # The whole group: mocha's bin starts mocha itself as a child, and that its workers.
    kill -TERM -- "-$child" 2>/dev/null
    wait "$child" 2>/dev/null
    # Its labs, whose after() hooks never ran (a few seconds each).
    [ "$(id -u)" -ne 0 ] || node_modules/.bin/tsx specs/support/sweep.ts
  fi
  rm -f "$stats"
  exit "$1"
}
trap 'stop 130' INT
trap 'stop 143' TERM
trap 'rm -f "$stats"' EXIT

# One mocha, in the background and in a process group of its own (setsid), so that a signal
# reaches the trap at once and the trap stops all of it; its counts are appended to $stats by
# the summary reporter (OVERLAB_SUITE_STATS).
status=0
mocha_run() {
  local before rc
  before=$(wc -l <"$stats")
  OVERLAB_SUITE_STATS=$stats setsid node_modules/.bin/mocha "$@" &
  child=$!
  wait "$child"
  rc=$?
  child=
  [ "$rc" -eq 0 ] || status=1
  # A mocha that ended before its reporter counted (a crash, a file that does not load) is one failure.
  if [ "$(wc -l <"$stats")" -eq "$before" ]; then
    echo "test-suite: mocha $* ended with status $rc and counted nothing" >&2
    echo '0 1 0' >>"$stats"
  fi
}

alone=()
together=()
for f in specs/integration/*.spec.ts; do
  if grep -q '^// suite: alone' "$f"; then alone+=("$f"); else together+=("$f"); fi
done

mocha_run 'specs/unit/**/*.spec.ts'
[ "${#alone[@]}" -eq 0 ] || mocha_run "${alone[@]}"
if [ "$jobs" -gt 1 ]; then
  mocha_run --parallel --jobs "$jobs" "${together[@]}"
else
  mocha_run "${together[@]}"
fi

printf '\ntest-suite: the unit specs; integration spec files: %d alone, %d others %d at once\n' "${#alone[@]}" "${#together[@]}" "$jobs"
awk '{ p += $1; f += $2; s += $3 } END { printf "mocha: %d passed, %d failed, %d skipped\n", p, f, s }' "$stats"
exit "$status"
