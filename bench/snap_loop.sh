#!/usr/bin/env bash
# Runs one command COUNT times and logs each run's wall time, for the
# mass-snapshot step of bench/run.sh.
#
#   bench/snap_loop.sh COUNT TIMES_FILE CMD [ARG...]
#
# Every `@N@` in the arguments is replaced by the iteration number (1..COUNT),
# e.g. `debvault snapshot create snap@N@ --from-mirror bench`. Each run's wall
# time in microseconds goes to TIMES_FILE, one line per run. Timing uses bash's
# $EPOCHREALTIME, so the loop itself forks nothing but the command.
set -euo pipefail
count=$1 times=$2
shift 2
: > "$times"
for ((i = 1; i <= count; i++)); do
    args=("${@//@N@/$i}")
    t0=$EPOCHREALTIME
    "${args[@]}" > /dev/null
    t1=$EPOCHREALTIME
    # $EPOCHREALTIME is "seconds.micros" (6 digits; a comma in some locales):
    # drop the separator and subtract.
    echo $((10#${t1/[.,]/} - 10#${t0/[.,]/})) >> "$times"
done
