#!/usr/bin/env bash
# Mirror-sync benchmark: debvault beside aptly (when installed) in one run.
#
# Generates a signed 60,000-package upstream (and a second state with 1% new
# versions and 0.2% removals), serves it on loopback, and reports wall time and
# peak RSS for: first sync, no-op re-sync, incremental sync.
#   bench/run.sh [N]      (default N=60000; install aptly with `apt-get install aptly`)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-60000}
# A fresh directory per run, and old runs deleted only after measuring: ext4
# skips inodes freed in the last minutes when allocating new ones, so mass
# deletes right before a run slow every file creation in it (seen: 2x).
BASE=${BENCH_OUT:-bench/out}
mkdir -p "$BASE"
OUT="$BASE/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

cargo build --release --locked --quiet --bin debvault --example gen_upstream
BIN=target/release/debvault
GEN=target/release/examples/gen_upstream
KEY=$PWD/testdata/keys/upstream.pub.gpg

echo "generating $N packages (two states)..." >&2
$GEN generate "$OUT/state1" "$N" 1
$GEN generate "$OUT/state2" "$N" 2
sync; sleep 5   # let the generator's writeback settle before anything is timed
ln -sfn "$OUT/state1" "$OUT/current"
$GEN serve "$OUT/current" "$OUT/port" & SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$OUT/port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$OUT/port")"

# measure NAME CMD...: wall seconds and peak RSS (MB) via GNU time.
measure() {
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$OUT/$name.time" "$@" > "$OUT/$name.log" 2>&1 || {
        echo "FAILED: $name" >&2; cat "$OUT/$name.log" >&2; exit 1; }
    read -r secs kb < "$OUT/$name.time"
    printf '%s %s %s\n' "$name" "$secs" "$((kb / 1024))" >> "$OUT/results"
}

export DEBVAULT_ROOT="$OUT/debvault"
$BIN mirror create bench "$URL" stable main --arch amd64 --keyring "$KEY" >/dev/null
ln -sfn "$OUT/state1" "$OUT/current"
measure debvault.first  $BIN mirror sync bench
measure debvault.noop   $BIN mirror sync bench
ln -sfn "$OUT/state2" "$OUT/current"
measure debvault.incr   $BIN mirror sync bench
ln -sfn "$OUT/state1" "$OUT/current"

if command -v aptly >/dev/null 2>&1; then
    cat > "$OUT/aptly.conf" <<CONF
{"rootDir": "$OUT/aptly", "downloadConcurrency": 8, "gpgDisableVerify": false, "gpgProvider": "gpg"}
CONF
    A="aptly -config=$OUT/aptly.conf"
    $A mirror create -keyring="$KEY" -architectures=amd64 bench "$URL" stable main >/dev/null
    measure aptly.first $A mirror update -keyring="$KEY" bench
    measure aptly.noop  $A mirror update -keyring="$KEY" bench
    ln -sfn "$OUT/state2" "$OUT/current"
    measure aptly.incr  $A mirror update -keyring="$KEY" bench
fi

echo
printf '%-10s %12s %10s %12s %10s %8s\n' step debvault_s rss_MB aptly_s rss_MB speedup
for step in first noop incr; do
    read -r _ ds dm < <(grep "^debvault.$step " "$OUT/results")
    if grep -q "^aptly.$step " "$OUT/results"; then
        read -r _ as am < <(grep "^aptly.$step " "$OUT/results")
        ratio=$(awk -v a="$as" -v d="$ds" 'BEGIN { if (d > 0) printf "%.1fx", a / d; else printf ">%.0fx", a / 0.01 }')
    else
        as=-; am=-; ratio=-
    fi
    printf '%-10s %12s %10s %12s %10s %8s\n' "$step" "$ds" "$dm" "$as" "$am" "$ratio"
done

# Old runs go last (see above); the newest stays for inspection.
find "$BASE" -mindepth 1 -maxdepth 1 -name 'run-*' ! -name "$(basename "$OUT")" -exec rm -rf {} +
