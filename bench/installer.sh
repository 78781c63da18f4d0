#!/usr/bin/env bash
# Benchmark: W2 with the Debian installer (issue 19), beside the plain W2.
#
# Generates one signed N-package upstream that also holds UDEBS udebs in
# main/debian-installer/binary-amd64/ and an installer images tree of
# INSTALLER_MB MB in main/installer-amd64/current/images/ (shaped like
# Debian's: 48 files, SHA256SUMS listed in the Release; bench/gen_installer.rs),
# and its point release (state 2: 1% of the packages and a tenth of the udebs
# updated, every image new), serves it through nginx with Debian's stock
# configuration (bench/servers.sh), and mirrors it twice into fresh roots,
# each by debvault and by aptly:
#
#   plain  `mirror create` as in bench/run.sh (aptly: `mirror create`)
#   inst   `--with-udebs --with-installer` (aptly: `-with-udebs`; aptly has no
#          installer images, so its column holds the udebs only)
#
# For each it reports wall time and peak RSS (GNU time -v) of
#
#   sync.first     the first `mirror sync` / `mirror update`
#   sync.noop      the same again, upstream unchanged
#   snap.create    snapshot s1 of the mirror
#   publish.first  publish s1 as dists/bench (debvault: with Contents, as by
#                  default; aptly: -skip-contents -acquire-by-hash, as in
#                  bench/run.sh)
#   sync.incr      sync after the upstream moved to its point release
#   snap.create2   snapshot s2
#   publish.incr   switch dists/bench to s2 (debvault: --allow-unmet, as in
#                  bench/run.sh; aptly: publish switch)
#
# the bytes each sync fetched (from nginx's access log) and the first one
# stored (the root after it), and the ratio of every figure of `inst` to `plain`. The
# publications are checked: gpgv on InRelease, and for `inst` the udebs in the
# published debian-installer Packages and `sha256sum -c` on the published
# images' SHA256SUMS.
#
# Usage: bench/installer.sh [N]    or, for a smoke run with a debug build,
#        PROFILE=debug N=2000 UDEBS=200 INSTALLER_MB=20 SETTLE_S=0 bench/installer.sh
#   N             upstream packages (default 60000; the argument wins over the env)
#   UDEBS         udebs (default 3000, about as many as Debian trixie's main amd64;
#                 about 230 MB)
#   INSTALLER_MB  MB of installer images (default 380, like Debian's amd64 tree)
#   PROFILE       release (default) or debug: which cargo build to run and measure
#   DEBVAULT_BIN  the debvault binary to measure (default: this tree's PROFILE build)
#   UPSTREAM      nginx (default) or fixture (the test suite's loopback server);
#                 without nginx installed the fixture server serves, and the
#                 report says so (and has no fetched bytes)
#   NO_APTLY=1    skip aptly even when it is installed
#   BENCH_OUT     where installer-<timestamp> directories go (default bench/out)
#   SETTLE_S      seconds to wait after the previous run's clean-up (default 420;
#                 see bench/run.sh)
#
# The defaults are sized for a release run of about 10 minutes on 2 cores; it needs
# about 3.5 GB of disk. The table goes to stdout and <run dir>/report.txt; the
# exit status is 1 only if a step failed (the run goes on after one).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-${N:-60000}}
UDEBS=${UDEBS:-3000}
INSTALLER_MB=${INSTALLER_MB:-380}
PROFILE=${PROFILE:-release}
UPSTREAM=${UPSTREAM:-nginx}
TARGET_SYNC_RSS_MB=100   # peak RSS of the sync steps (issue 16), with udebs and images too
TARGET_RSS_MB=200        # peak RSS of any debvault step

case $PROFILE in
    release) BUILD=(--release) ;;
    debug) BUILD=() ;;
    *) echo "error: PROFILE must be \`release\` or \`debug\`, not \`$PROFILE\`" >&2; exit 2 ;;
esac
case $UPSTREAM in
    nginx | fixture) ;;
    *) echo "error: UPSTREAM must be \`nginx\` or \`fixture\`, not \`$UPSTREAM\`" >&2; exit 2 ;;
esac
for v in N UDEBS INSTALLER_MB; do
    if [[ ! ${!v} =~ ^[0-9]+$ ]]; then echo "error: $v=\`${!v}\` is not a number" >&2; exit 2; fi
done

# A fresh directory per run; old runs deleted only after measuring, and a run
# waits SETTLE_S after the previous clean-up (bench/run.sh says why).
BASE=${BENCH_OUT:-bench/out}
mkdir -p "$BASE"
SETTLE_S=${SETTLE_S:-420}
if [ -f "$BASE/.cleaned-at" ]; then
    wait_s=$(( $(cat "$BASE/.cleaned-at") + SETTLE_S - $(date +%s) ))
    if [ "$wait_s" -gt 0 ]; then
        echo "waiting ${wait_s} s for the previous run's deleted files to settle (SETTLE_S=0 skips)" >&2
        sleep "$wait_s"
    fi
fi
OUT="$BASE/installer-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

SCRATCH=$(mktemp -d -t debvault-bench.XXXXXX)   # aptly's GnuPG home (short socket path)
SERVER=
FAILED=()
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/servers.sh
source bench/servers.sh
cleanup() {
    stop_servers
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
    if [ -d "$SCRATCH/gnupg" ]; then gpgconf --homedir "$SCRATCH/gnupg" --kill all 2>/dev/null || true; fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
cargo build "${BUILD[@]}" --locked --quiet --bin debvault --example gen_upstream
OUTDIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN=${DEBVAULT_BIN:-$OUTDIR/$PROFILE/debvault}
GEN=$OUTDIR/$PROFILE/examples/gen_upstream
KEY=$PWD/testdata/keys/upstream.pub.gpg
unset DEBVAULT_ROOT DEBVAULT_CONFIG DEBVAULT_KEY_PASSPHRASE DEBVAULT_KEY_PASSPHRASE_FILE
HAVE_APTLY=
if [ -z "${NO_APTLY:-}" ] && command -v aptly > /dev/null 2>&1; then HAVE_APTLY=1; fi

echo "generating $N packages, $UDEBS udebs and $INSTALLER_MB MB of installer images (two states)..." >&2
read -r GEN_UDEBS GEN_UDEB_BYTES GEN_IMAGES GEN_IMAGE_BYTES < <(
    UDEBS=$UDEBS INSTALLER_MB=$INSTALLER_MB "$GEN" generate "$OUT/state1" "$N" 1)
UDEBS=$UDEBS INSTALLER_MB=$INSTALLER_MB "$GEN" generate "$OUT/state2" "$N" 2 > /dev/null
# nginx answers a conditional request by mtime and size (its ETag and
# Last-Modified): state 1's InRelease must look older than state 2's of the
# same size even when a small run writes both within a second.
find "$OUT/state1/dists" -exec touch -h -d "@$(( $(date +%s) - 3600 ))" {} +
sync; sleep 5   # let the generator's writeback settle before anything is timed
# The server serves whatever `current` points at; `upstream 1|2` flips it.
upstream() { ln -sfn "$OUT/state$1" "$OUT/current"; }
upstream 1

# ---------------------------------------------------------------- upstream
# nginx as Debian ships it, logging every answer's bytes; else the fixture server.
ACCESS=
UPSTREAM_NOTE=
start_upstream() {
    local port rc=0 log=$OUT/upstream.start.log
    if [ "$UPSTREAM" = nginx ]; then
        port=$(free_port 2> "$log") || rc=1
        if [ "$rc" -eq 0 ]; then start_nginx "$OUT/current" "$port" "$OUT/nginx" 2>> "$log" || rc=$?; fi
        if [ "$rc" -eq 0 ] && wait_server "http://127.0.0.1:$port/dists/stable/InRelease" \
            "$OUT/current/dists/stable/InRelease" 2>> "$log"; then
            URL=http://127.0.0.1:$port
            ACCESS=$OUT/nginx/access.log
            UPSTREAM_NOTE="nginx: $(server_describe nginx "$OUT/nginx")"
            return 0
        fi
        if [ "$rc" -ne 2 ]; then
            echo "error: nginx did not start:" >&2
            sed 's/^/  /' "$log" >&2
            exit 1
        fi
        echo "warning: $(tail -n 1 "$log"); the fixture server serves instead" >&2
        UPSTREAM_NOTE="nginx not installed (apt-get install nginx): the fixture server served; no fetched bytes"
    else
        UPSTREAM_NOTE="the fixture server (tests/cli/support/server.rs); no fetched bytes"
    fi
    "$GEN" serve "$OUT/current" "$OUT/port" & SERVER=$!
    for _ in $(seq 50); do [ -s "$OUT/port" ] && break; sleep 0.1; done
    URL="http://127.0.0.1:$(cat "$OUT/port")"
}
start_upstream

# timed NAME CMD...: `measure`, plus the bytes nginx sent meanwhile (to `fetched`).
timed() {
    local name=$1 before=0
    [ -n "$ACCESS" ] && before=$(wc -l < "$ACCESS")
    measure "$@"
    if [ -n "$ACCESS" ]; then
        # Combined log format: field 10 is the body's bytes.
        echo "$name $(awk -v m="$before" 'NR > m { s += $10 } END { printf "%d", s }' "$ACCESS")" >> "$OUT/fetched"
    fi
}

# Size in bytes of a directory (0 if missing).
bytes() { if [ -e "$1" ] && du -sb "$1" > "$OUT/du.tmp"; then cut -f1 "$OUT/du.tmp"; else echo 0; fi; }

# check_publication TOOL VARIANT DISTS_DIR KEYRING SNAPSHOT: one line to `trees`.
check_publication() {
    local tool=$1 v=$2 dir=$3 keyring=$4 line udebs images sums
    line=$(printf '%-8s %-5s %-5s' "$tool" "$v" "$5"):
    if gpgv --keyring "$keyring" "$dir/InRelease" > /dev/null 2>&1; then
        line+=" InRelease(gpgv ok)"
    else
        line+=" InRelease(MISSING/BAD)"
    fi
    udebs=$dir/main/debian-installer/binary-amd64
    if [ -f "$udebs/Packages.xz" ]; then
        line+=" udebs($(xz -dc "$udebs/Packages.xz" | grep -c '^Package:'))"
    elif [ -f "$udebs/Packages.gz" ]; then
        line+=" udebs($(gzip -dc "$udebs/Packages.gz" | grep -c '^Package:'))"
    elif [ -f "$udebs/Packages" ]; then
        line+=" udebs($(grep -c '^Package:' "$udebs/Packages"))"
    else
        line+=" no-udebs"
    fi
    if ls "$dir"/main/Contents-udeb-amd64* > /dev/null 2>&1; then line+=" Contents-udeb"; fi
    images=$dir/main/installer-amd64/current/images
    if [ -f "$images/SHA256SUMS" ]; then
        if sums=$(cd "$images" && sha256sum -c --quiet SHA256SUMS 2>&1); then
            line+=" images($(wc -l < "$images/SHA256SUMS") files, sha256sum -c ok,"
            line+=" $(mb "$(bytes "$images")"),"
            # The snapshot's upstream state (s1: state 1) lists the same files.
            if cmp -s <(sort "$images/SHA256SUMS") \
                <(sort "$OUT/state${5#s}/dists/stable/main/installer-amd64/current/images/SHA256SUMS"); then
                line+=" as upstream's)"
            else
                line+=" NOT as upstream's)"
                FAILED+=("$tool.$v.$5.images")
            fi
        else
            line+=" images(sha256sum -c FAILED: $(echo "$sums" | head -n 1))"
            FAILED+=("$tool.$v.$5.images")
        fi
        if grep -q 'main/installer-amd64/current/images/SHA256SUMS' "$dir/Release"; then
            line+=" SHA256SUMS in Release"
        else
            line+=" SHA256SUMS NOT IN Release"
        fi
    else
        line+=" no-images"
    fi
    echo "$line" >> "$OUT/trees"
}

# ---------------------------------------------------------------- debvault
# run_debvault VARIANT [FLAGS...]: the four steps into a fresh root.
run_debvault() {
    local v=$1; shift
    local root=$OUT/roots/debvault.$v
    local -a dv=("$BIN" --root "$root")
    upstream 1
    setup "debvault.$v.mirror.create" "${dv[@]}" mirror create bench "$URL" stable main \
        --arch amd64 --keyring "$KEY" "$@"
    timed "debvault.$v.sync.first" "${dv[@]}" mirror sync bench
    echo "debvault.$v $(bytes "$root")" >> "$OUT/stored"
    timed "debvault.$v.sync.noop" "${dv[@]}" mirror sync bench
    measure "debvault.$v.snap.create" "${dv[@]}" snapshot create s1 --from-mirror bench
    setup "debvault.$v.key.generate" "${dv[@]}" key generate --email bench@example.invalid
    setup "debvault.$v.key.export" "${dv[@]}" key export --output "$OUT/debvault.$v.key.gpg"
    measure "debvault.$v.publish.first" "${dv[@]}" snapshot publish s1 --distribution bench
    check_publication debvault "$v" "$root/public/dists/bench" "$OUT/debvault.$v.key.gpg" s1
    upstream 2
    timed "debvault.$v.sync.incr" "${dv[@]}" mirror sync bench
    measure "debvault.$v.snap.create2" "${dv[@]}" snapshot create s2 --from-mirror bench
    # State 2 removes packages others depend on (as in bench/run.sh).
    measure "debvault.$v.publish.incr" "${dv[@]}" snapshot publish s2 --distribution bench --allow-unmet
    check_publication debvault "$v" "$root/public/dists/bench" "$OUT/debvault.$v.key.gpg" s2
}

# ---------------------------------------------------------------- aptly
# run_aptly VARIANT [FLAGS...]: the same with aptly (flags go to `mirror create`).
run_aptly() {
    [ -n "$HAVE_APTLY" ] || return 0
    local v=$1; shift
    local root=$OUT/roots/aptly.$v fpr
    export GNUPGHOME=$SCRATCH/gnupg
    if [ ! -d "$GNUPGHOME" ]; then
        mkdir -m 700 "$GNUPGHOME"
        setup aptly.key.generate gpg --batch --passphrase '' \
            --quick-gen-key 'aptly bench <bench@example.invalid>' ed25519 sign never
    fi
    fpr=$(gpg --batch --with-colons --list-secret-keys 2> /dev/null | awk -F: '/^fpr/ { print $10; exit }')
    gpg --batch --export "$fpr" > "$OUT/aptly-key.gpg" 2> /dev/null
    mkdir -p "$root"
    cat > "$root.conf" <<CONF
{"rootDir": "$root", "downloadConcurrency": 8, "gpgDisableVerify": false,
 "gpgDisableSign": false, "gpgProvider": "gpg"}
CONF
    local -a a=(aptly -config="$root.conf") sign=(-batch -gpg-key="$fpr")
    upstream 1
    setup "aptly.$v.mirror.create" "${a[@]}" mirror create -keyring="$KEY" -architectures=amd64 "$@" \
        bench "$URL" stable main
    timed "aptly.$v.sync.first" "${a[@]}" mirror update -keyring="$KEY" bench
    echo "aptly.$v $(bytes "$root")" >> "$OUT/stored"
    timed "aptly.$v.sync.noop" "${a[@]}" mirror update -keyring="$KEY" bench
    measure "aptly.$v.snap.create" "${a[@]}" snapshot create s1 from mirror bench
    measure "aptly.$v.publish.first" "${a[@]}" publish snapshot -skip-contents -acquire-by-hash \
        "${sign[@]}" -distribution=bench s1
    check_publication aptly "$v" "$root/public/dists/bench" "$OUT/aptly-key.gpg" s1
    upstream 2
    timed "aptly.$v.sync.incr" "${a[@]}" mirror update -keyring="$KEY" bench
    measure "aptly.$v.snap.create2" "${a[@]}" snapshot create s2 from mirror bench
    measure "aptly.$v.publish.incr" "${a[@]}" publish switch -skip-contents "${sign[@]}" bench s2
    check_publication aptly "$v" "$root/public/dists/bench" "$OUT/aptly-key.gpg" s2
}

run_debvault plain
run_debvault inst --with-udebs --with-installer
run_aptly plain
run_aptly inst -with-udebs
stop_servers

# ---------------------------------------------------------------- report
# value FILE NAME: the number recorded for NAME, or "-".
value() {
    if [ -f "$OUT/$1" ]; then awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print "-" }' "$OUT/$1"; else echo -; fi
}
# mbs BYTES: "12.3" (MB), or "-".
mbs() { awk -v b="$1" 'BEGIN { if (b ~ /^[0-9]+$/) printf "%.1f", b / 1e6; else print "-" }'; }
# quotient A B: A / B to two decimals, "-" unless both are numbers and B > 0.
quotient() { awk -v a="$1" -v b="$2" 'BEGIN {
    if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }
# ratio_of A B: B / A as "1.23x", or "-".
ratio_of() { local q; q=$(quotient "$2" "$1"); [ "$q" = - ] && echo - || echo "${q}x"; }

report_tool() {
    local tool=$1 step label p pm i im
    printf '%-30s %9s %9s %9s %9s %9s %9s\n' "$tool" "plain s" "plain MB" "inst s" "inst MB" "time" "memory"
    while IFS='|' read -r step label; do
        read -r p pm < <(get "$tool.plain.$step")
        read -r i im < <(get "$tool.inst.$step")
        printf '%-30s %9s %9s %9s %9s %9s %9s\n' "  $label" "$p" "$pm" "$i" "$im" "$(ratio_of "$p" "$i")" "$(ratio_of "$pm" "$im")"
    done <<'STEPS'
sync.first|mirror sync, first
sync.noop|mirror sync, no-op
snap.create|snapshot create s1
publish.first|publish s1, first
sync.incr|mirror sync, point release
snap.create2|snapshot create s2
publish.incr|publish s2 (switch)
STEPS
    for step in sync.first sync.incr; do
        p=$(value fetched "$tool.plain.$step"); i=$(value fetched "$tool.inst.$step")
        printf '%-30s %9s %9s %9s %9s %9s\n' "  ${step/./ } fetched, MB" "$(mbs "$p")" "" "$(mbs "$i")" "" "$(ratio_of "$p" "$i")"
    done
    p=$(value stored "$tool.plain"); i=$(value stored "$tool.inst")
    printf '%-30s %9s %9s %9s %9s %9s\n' "  root after sync.first, MB" "$(mbs "$p")" "" "$(mbs "$i")" "" "$(ratio_of "$p" "$i")"
}

report() {
    echo "debvault $(if [ -n "${DEBVAULT_BIN:-}" ]; then echo "$DEBVAULT_BIN"; else
            echo "$(git rev-parse --short HEAD 2>/dev/null || echo '?')$( [ -z "$(git status --porcelain -- src bench 2>/dev/null)" ] || echo '+dirty') ($PROFILE)"; fi) vs" \
        "$( [ -n "$HAVE_APTLY" ] && aptly version 2>/dev/null | head -1 || echo 'no aptly')," \
        "$(nproc) CPUs; load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "upstream: $N packages; $GEN_UDEBS udebs, $(mb "$GEN_UDEB_BYTES"); $GEN_IMAGES installer image files, $(mb "$GEN_IMAGE_BYTES")"
    echo "point release (state 2): 1% of the packages new, 0.2% removed, a tenth of the udebs new, every image new"
    echo "served by $UPSTREAM_NOTE"
    echo
    echo "plain: mirror create as bench/run.sh; inst: debvault --with-udebs --with-installer, aptly -with-udebs."
    echo "time, memory: inst / plain (what udebs and images cost on top of the plain W2)."
    echo
    report_tool debvault
    if [ -n "$HAVE_APTLY" ]; then
        echo
        report_tool aptly
        echo
        echo "aptly has no installer images (no option mirrors installer-<arch>/.../images): its inst"
        echo "column holds the udebs only. aptly publishes with -skip-contents (as in bench/run.sh);"
        echo "debvault's publish writes Contents (and Contents-udeb) as it does by default."
    fi
    echo
    echo "Publications (dists/bench; signatures checked with gpgv, images with sha256sum -c):"
    sed 's/^/  /' "$OUT/trees" 2>/dev/null || true
    echo
    echo "Targets (debvault, inst):"
    local sm=0 m step
    for step in sync.first sync.noop sync.incr; do
        read -r _ m < <(get "debvault.inst.$step")
        if [[ $m =~ ^[0-9]+$ ]] && [ "$m" -gt "$sm" ]; then sm=$m; fi
    done
    echo "  $(at_most "$sm" "$TARGET_SYNC_RSS_MB")  sync peak RSS <= ${TARGET_SYNC_RSS_MB} MB with udebs and images: ${sm} MB"
    read -r step m < <(awk '$1 ~ /^debvault\.inst\./ && $3 ~ /^[0-9]+$/ && $3 + 0 >= m { m = $3 + 0; s = $1 }
                            END { print (s ? s : "-"), (s ? m : "-") }' "$OUT/results")
    echo "  $(at_most "$m" "$TARGET_RSS_MB")  peak RSS <= ${TARGET_RSS_MB} MB: ${m} MB (${step#debvault.inst.})"
    if [ ${#FAILED[@]} -gt 0 ]; then
        local f
        echo
        echo "FAILED steps (logs in $OUT):"
        for f in "${FAILED[@]}"; do
            echo "  $f: $(grep -v '^\s*$' "$OUT/$f.log" 2>/dev/null | tail -n 1)"
        done
    fi
}

echo
touch "$OUT/results"
report | tee "$OUT/report.txt"

# Old runs of this script go last; the newest stays for inspection.
find "$BASE" -mindepth 1 -maxdepth 1 -name 'installer-*' ! -name "$(basename "$OUT")" -exec rm -rf {} +
date +%s > "$BASE/.cleaned-at"
[ ${#FAILED[@]} -eq 0 ]
