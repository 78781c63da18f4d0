#!/usr/bin/env bash
# Benchmark: pull-through caching beside apt-cacher-ng (issue 20), one run.
#
# The upstream is served as users deploy one: stock nginx (bench/servers.sh)
# in front of a generated signed repository of N packages, MB megabytes of
# `.deb` files in all (default 141 packages, 62 MB, plus one more package no
# client installs, for the fan-in test). In front of it, one mode at a time,
# each with a fresh cache:
#
#   acng        apt-cacher-ng from Debian's archive (installed with apt-get
#               when missing), its stock /etc/apt-cacher-ng copied into the
#               run directory, its own port and cache there (and the
#               upstream's port in `AllowUserPorts`, 80 only by default); clients use
#               `Acquire::http::Proxy` and upstream's URL
#   ondemand    `debvault serve` of a publication of an on-demand mirror
#               (`mirror create --on-demand`, sync, snapshot, publish): pool
#               files come from upstream on first request
#   proxy       `debvault serve` with `[proxy.bench] upstream = URL
#               keyring = FILE` in its config; clients use
#               `Acquire::http::Proxy` and upstream's URL (absolute-URI requests)
#   proxy-path  the same server; clients use `deb http://HOST:PORT/bench/ …`
#
# The proxy modes run only when this `debvault` accepts a `[proxy.NAME]`
# config section (checked with `config show`); otherwise they are skipped
# with a note.
#
# Per mode and per C in CLIENTS: C real apt clients at once (each a private
# `Dir::` root, as tests/cli/support/apt.rs builds), each `apt-get update`
# then `apt-get install --download-only` of the whole set; first against the
# fresh cache (cold), then C new clients again (warm). Reported per round:
# wall time, failed clients (count and the first error), the proxy's CPU
# seconds (user+sys from /proc) and its peak RSS so far (VmHWM), and the
# requests nginx logged. Those raw figures count each client's first try:
# a client that fails early does less work, so a mode with failures looks
# faster than it is. So, as a CI job would, a failed client is retried (a
# fresh apt root, at once, up to RETRIES times), and the round is also
# timed until every client succeeded or gave up (wall_r, fail_r, retries),
# and per client completed (wall/ok: wall_r over clients that succeeded). After the rounds: 1,000 concurrent requests (curl,
# xargs -P) for the one pool file no client asked for, and how many times
# upstream was asked for it.
#
# Targets (issue 20), checked against apt-cacher-ng in the same run: 0 failed
# clients (first tries); wall time with retries <= apt-cacher-ng's; proxy CPU per client served <= 3x
# apt-cacher-ng's (whose failed clients cost it little);
# peak RSS <= 64 MB; 1 upstream fetch for the 1,000 requests. PASS/MISS never
# fail the run; the exit status is 1 only if a setup step failed.
#
# Usage: bench/pullthrough.sh             CLIENTS="20 100" bench/pullthrough.sh
#   CLIENTS       client counts, one round pair each (default "20")
#   RETRIES       tries after a client's first failure (default 3)
#   N, MB         the client set: packages and megabytes (default 141, 62)
#   MODES         which modes (default "acng ondemand proxy proxy-path")
#   FANIN         concurrent requests for one uncached file (default 1000)
#   DEBVAULT_BIN  the debvault to measure (default: this tree's release build)
#   GEN_BIN       the gen_upstream example (default: beside DEBVAULT_BIN)
#   BENCH_OUT     where run-<timestamp> directories go (default bench/out)
#   KEEP=1        keep the run directory's caches and client roots
#
# Needs (as root, as the rest of the bench): nginx, curl, apt, python3 (a free
# port); apt-cacher-ng is installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/servers.sh
. bench/servers.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh

CLIENTS=${CLIENTS:-20}
RETRIES=${RETRIES:-3}
N=${N:-141}
MB=${MB:-62}
MODES=${MODES:-acng ondemand proxy proxy-path}
FANIN=${FANIN:-1000}
if [ -z "${DEBVAULT_BIN:-}" ]; then
    cargo build --release --locked --quiet --bin debvault --example gen_upstream
fi
BIN=$(realpath "${DEBVAULT_BIN:-target/release/debvault}")
GEN=$(realpath "${GEN_BIN:-$(dirname "$BIN")/examples/gen_upstream}")
KEY=$PWD/testdata/keys/upstream.pub.gpg
for tool in curl apt-get python3 xargs; do
    command -v "$tool" > /dev/null || { echo "error: \`$tool\` is not installed" >&2; exit 1; }
done
unset DEBVAULT_ROOT DEBVAULT_CONFIG DEBVAULT_KEY_PASSPHRASE DEBVAULT_KEY_PASSPHRASE_FILE
for v in $(env | sed -n 's/^\([A-Za-z_]*_proxy\)=.*/\1/Ip'); do unset "$v"; done

if ! command -v apt-cacher-ng > /dev/null && [ ! -x /usr/sbin/apt-cacher-ng ]; then
    echo "installing apt-cacher-ng (apt-get install apt-cacher-ng)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends apt-cacher-ng > /dev/null ||
        echo "warning: could not install apt-cacher-ng: its column is skipped" >&2
fi
ACNG_BIN=$(server_bin apt-cacher-ng)

BASE=${BENCH_OUT:-bench/out}
mkdir -p "$BASE"
OUT=$(cd "$BASE" && pwd)/pullthrough-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
chmod 755 "$OUT"
FAILED=()
PROXY_PID=
cleanup() {
    stop_proxy
    stop_servers
    if [ -z "${KEEP:-}" ]; then rm -rf "$OUT"/clients "$OUT"/acng-cache-* "$OUT"/dv-*; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- upstream
# low_port: a free loopback port below 32768 (apt-cacher-ng 3.7 reads its
# `Port` into a signed 16-bit number: a higher one fails with "Error
# resolving address for binding").
low_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        if ! (: < "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then echo "$p"; return 0; fi
    done
    echo "error: found no free port below 32768 on 127.0.0.1" >&2
    return 1
}

echo "generating $((N + 1)) packages, ~$MB MB..." >&2
"$GEN" sized "$OUT/upstream" $((N + 1)) "$MB"
chmod -R a+rX "$OUT/upstream"
NGPORT=$(low_port)   # apt-cacher-ng cannot reach a port above 32767 either
start_nginx "$OUT/upstream" "$NGPORT" "$OUT/nginx" || { echo "error: nginx is needed as the upstream" >&2; exit 1; }
wait_server "http://127.0.0.1:$NGPORT/dists/stable/InRelease" "$OUT/upstream/dists/stable/InRelease"
UP=http://127.0.0.1:$NGPORT
NGLOG=$OUT/nginx/access.log
SET=()
for ((i = 0; i < N; i++)); do SET+=("$(printf 'pkg%05d' "$i")"); done
ODD=$(cd "$OUT/upstream" && find pool -name "$(printf 'pkg%05d' "$N")_*.deb" | head -n 1)
SET_BYTES=$(find "$OUT/upstream/pool" -name '*.deb' ! -path "*/$(basename "$ODD")" -printf '%s\n' |
    awk '{ s += $1 } END { print s }')
logged() { wc -l < "$NGLOG"; }

# ---------------------------------------------------------------- proxies
stop_proxy() {
    if [ -n "$PROXY_PID" ]; then
        kill -TERM "$PROXY_PID" 2> /dev/null || true
        wait "$PROXY_PID" 2> /dev/null || true
        PROXY_PID=
    fi
}

# wait_port PORT: until something accepts connections there (10 s).
wait_port() {
    for _ in $(seq 100); do
        if (: < "/dev/tcp/127.0.0.1/$1") 2> /dev/null; then return 0; fi
        alive "$PROXY_PID" || return 1
        sleep 0.1
    done
    return 1
}

start_acng() {
    local dir=$OUT/acng port=$1
    rm -rf "$dir" && mkdir -p "$dir/log" "$dir/run" "$OUT/acng-cache-$2"
    cp -rL /etc/apt-cacher-ng "$dir/conf"
    "$ACNG_BIN" -c "$dir/conf" ForeGround=1 Port="$port" BindAddress=127.0.0.1 \
        AllowUserPorts="$NGPORT" CacheDir="$OUT/acng-cache-$2" LogDir="$dir/log" PidFile="$dir/run/pid" \
        SocketPath="$dir/run/socket" > "$dir/start.log" 2>&1 &
    PROXY_PID=$!
    wait_port "$port"
}

# dv_ondemand ROUND: a data root with an on-demand mirror of upstream,
# published; its signing key in $OUT/dv-key.gpg.
dv_ondemand() {
    local root=$OUT/dv-ondemand-$1
    DV=("$BIN" --root "$root")
    rm -rf "$root"
    "${DV[@]}" -q mirror create bench "$UP" stable main --arch amd64 --keyring "$KEY" --on-demand &&
        "${DV[@]}" -q mirror sync bench &&
        "${DV[@]}" -q snapshot create s1 --from-mirror bench &&
        "${DV[@]}" -q key generate --email bench@example.invalid &&
        "${DV[@]}" -q key export --output "$OUT/dv-key.gpg" &&
        "${DV[@]}" -q snapshot publish s1 --distribution stable
}

dv_proxy_root() {
    local root=$OUT/dv-proxy-$1
    rm -rf "$root" && mkdir -p "$root"
    printf '[proxy.bench]\nupstream = "%s/"\nkeyring = "%s"\n' "$UP" "$KEY" > "$root/config.toml"
    echo "$root"
}

start_dv() {
    local root=$1 port=$2
    "$BIN" --root "$root" serve --listen "127.0.0.1:$port" > "$root.serve.log" 2>&1 &
    PROXY_PID=$!
    wait_port "$port"
}

# ---------------------------------------------------------------- clients
# client DIR SOURCES_LINE [PROXY]: a private apt root, as tests/cli/support/apt.rs.
client() {
    local d=$1
    mkdir -p "$d"/etc/{apt.conf.d,sources.list.d,preferences.d,trusted.gpg.d} \
        "$d"/state/lists/partial "$d"/cache/archives/partial "$d"/log
    : > "$d/status"; : > "$d/etc/apt.conf"
    cat > "$d/apt.conf" <<CONF
Dir "$d/";
Dir::State "$d/state/";
Dir::State::Lists "$d/state/lists/";
Dir::State::status "$d/status";
Dir::Cache "$d/cache/";
Dir::Cache::Archives "$d/cache/archives/";
Dir::Etc "$d/etc/";
Dir::Etc::main "$d/etc/apt.conf";
Dir::Etc::Parts "$d/etc/apt.conf.d/";
Dir::Etc::SourceList "$d/etc/sources.list";
Dir::Etc::SourceParts "$d/etc/sources.list.d/";
Dir::Etc::Preferences "$d/etc/preferences";
Dir::Etc::PreferencesParts "$d/etc/preferences.d/";
Dir::Etc::Trusted "$d/etc/trusted.gpg";
Dir::Etc::TrustedParts "$d/etc/trusted.gpg.d/";
Dir::Log "$d/log/";
Dir::Bin::Methods "/usr/lib/apt/methods/";
Debug::NoLocking "true";
APT::Sandbox::User "root";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
Acquire::Retries "0";
Acquire::http::Timeout "30";
CONF
    if [ -n "${3:-}" ]; then echo "Acquire::http::Proxy \"$3\";" >> "$d/apt.conf"; fi
    echo "$2" > "$d/etc/sources.list"
}

# one_client DIR: update, then download the whole set; exit status apt's.
one_client() {
    APT_CONFIG=$1/apt.conf LC_ALL=C DEBIAN_FRONTEND=noninteractive \
        apt-get -q update > "$1/out.log" 2>&1 &&
        APT_CONFIG=$1/apt.conf LC_ALL=C DEBIAN_FRONTEND=noninteractive \
            apt-get -q install --download-only -y "${SET[@]}" >> "$1/out.log" 2>&1 &&
        [ "$(find "$1/cache/archives" -maxdepth 1 -name '*.deb' | wc -l)" -eq "$N" ]
}

# retried_client DIR SOURCES_LINE [PROXY]: one_client, then up to RETRIES
# more tries on failure, each in a fresh apt root (the first try's log kept
# as out.log.1, ...). Writes DIR.first ("END_TIME STATUS" of the first try)
# and DIR.final ("END_TIME STATUS TRIES"); exit status the last try's.
retried_client() {
    local d=$1 try=1 rc=0
    one_client "$d" || rc=$?
    echo "$(date +%s.%N) $rc" > "$d.first"
    while [ "$rc" -ne 0 ] && [ "$try" -le "$RETRIES" ]; do
        mv "$d/out.log" "$d.out.log.$try"
        rm -rf "$d" && client "$d" "$2" "${3:-}"
        try=$((try + 1)) rc=0
        one_client "$d" || rc=$?
    done
    echo "$(date +%s.%N) $rc $try" > "$d.final"
    return "$rc"
}

# cpu_s PID: user+sys seconds of PID (all its threads).
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2> /dev/null || echo 0
}
rss_mb() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2> /dev/null || echo -; }

# round MODE C PHASE SOURCES_LINE [PROXY]: C clients at once, each retried
# on failure; appends a line to results: mode c phase wall failed cpu rss
# upstream_requests (first tries: wall until the last first try ended) then
# wall_r fail_r retries (until every client succeeded or gave up).
round() {
    local mode=$1 c=$2 phase=$3 dir=$OUT/clients/$1-$2-$3 i t0 t1 cpu0 req0 failed=0 first=
    local -a pids=()
    rm -rf "$dir"
    for ((i = 0; i < c; i++)); do client "$dir/$i" "$4" "${5:-}"; done
    sync
    cpu0=$(cpu_s "$PROXY_PID") req0=$(logged) t0=$(date +%s.%N)
    for ((i = 0; i < c; i++)); do retried_client "$dir/$i" "$4" "${5:-}" & pids+=($!); done
    for ((i = 0; i < c; i++)); do wait "${pids[i]}" || true; done
    t1=$(date +%s.%N)
    for ((i = 0; i < c; i++)); do
        read -r _ rc < "$dir/$i.first"
        if [ "$rc" -ne 0 ]; then
            failed=$((failed + 1))
            log=$dir/$i.out.log.1
            [ -f "$log" ] || log=$dir/$i/out.log
            [ -n "$first" ] || first=$(grep -m1 -E '^(W|E): Failed to fetch' "$log" || grep -m1 '^E:' "$log" || tail -n 1 "$log")
        fi
    done
    # First tries: until the last of them ended. With retries: until all ended.
    local raw_wall retried
    raw_wall=$(cat "$dir"/*.first | awk -v a="$t0" '{ if ($1 > m) m = $1 } END { printf "%.1f", m - a }')
    retried=$(cat "$dir"/*.final | awk '{ f += ($2 != 0); r += $3 - 1 } END { print f + 0, r + 0 }')
    echo "$mode $c $phase $raw_wall $failed" \
        "$(awk -v a="$cpu0" -v b="$(cpu_s "$PROXY_PID")" 'BEGIN { printf "%.2f", b - a }')" \
        "$(rss_mb "$PROXY_PID") $(($(logged) - req0))" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') $retried" >> "$OUT/results"
    if [ -n "$first" ]; then echo "$mode $c $phase ${first//$'\n'/ }" >> "$OUT/first-errors"; fi
    # The clients' downloads (C x MB) go at once; their logs stay.
    if [ -z "${KEEP:-}" ]; then rm -rf "$dir"/*/cache "$dir"/*/state; fi
    echo "  $mode C=$c $phase: $(tail -n 1 "$OUT/results" | cut -d' ' -f4-)" >&2
}

# fanin MODE URL [PROXY]: FANIN concurrent GETs of URL; appends
# "mode ok_responses upstream_fetches" to fanin.
fanin() {
    local before ok
    before=$(grep -c -F "$(basename "$ODD")" "$NGLOG" || true)
    ok=$(seq "$FANIN" | xargs -P "$FANIN" -I{} curl -s -o /dev/null -w '%{http_code}\n' \
        --max-time 120 ${3:+-x "$3"} "$2" | grep -c '^200$' || true)
    echo "$1 $ok $(($(grep -c -F "$(basename "$ODD")" "$NGLOG" || true) - before))" >> "$OUT/fanin"
}

have_proxy() {
    local root
    root=$(dv_proxy_root check)
    "$BIN" --root "$root" config show > "$root.check.log" 2>&1
}

# ---------------------------------------------------------------- run
: > "$OUT/results"; : > "$OUT/fanin"; : > "$OUT/notes"
for mode in $MODES; do
    port=$(free_port)
    case $mode in
        acng)
            port=$(low_port)
            if [ -z "$ACNG_BIN" ]; then echo "acng: apt-cacher-ng not installed: skipped" >> "$OUT/notes"; continue; fi
            line="deb [signed-by=$KEY] $UP/ stable main" proxy=http://127.0.0.1:$port/ ;;
        ondemand) line="deb [signed-by=$OUT/dv-key.gpg] http://127.0.0.1:$port/ stable main" proxy= ;;
        proxy) line="deb [signed-by=$KEY] $UP/ stable main" proxy=http://127.0.0.1:$port/ ;;
        proxy-path) line="deb [signed-by=$KEY] http://127.0.0.1:$port/bench/ stable main" proxy= ;;
        *) echo "error: unknown mode \`$mode\` in MODES" >&2; exit 2 ;;
    esac
    if [[ $mode == proxy* ]] && ! have_proxy; then
        echo "$mode: this debvault does not accept a \`[proxy.NAME]\` config section: skipped" >> "$OUT/notes"
        continue
    fi
    for c in $CLIENTS; do
        echo "$mode, $c clients..." >&2
        case $mode in
            acng) start_acng "$port" "$c" || { FAILED+=("$mode start"); stop_proxy; continue; } ;;
            ondemand)
                dv_ondemand "$c" > "$OUT/dv-ondemand-$c.setup.log" 2>&1 || { FAILED+=("$mode setup"); continue; }
                start_dv "$OUT/dv-ondemand-$c" "$port" || { FAILED+=("$mode start"); stop_proxy; continue; } ;;
            proxy*) start_dv "$(dv_proxy_root "$mode-$c")" "$port" || { FAILED+=("$mode start"); stop_proxy; continue; } ;;
        esac
        round "$mode" "$c" cold "$line" "$proxy"
        round "$mode" "$c" warm "$line" "$proxy"
        if [ "$c" = "$(echo "$CLIENTS" | awk '{ print $1 }')" ]; then
            case $mode in
                acng | proxy) fanin "$mode" "$UP/$ODD" "$proxy" ;;
                ondemand) fanin "$mode" "http://127.0.0.1:$port/$ODD" ;;
                proxy-path) fanin "$mode" "http://127.0.0.1:$port/bench/$ODD" ;;
            esac
        fi
        stop_proxy
    done
done

# ---------------------------------------------------------------- report
# col MODE C PHASE FIELD: a figure of results (4 wall 5 failed 6 cpu 7 rss
# 8 requests, first tries; 9 wall 10 failed 11 retries, with retries).
col() { awk -v m="$1" -v c="$2" -v p="$3" -v f="$4" '$1 == m && $2 == c && $3 == p { print $f; x = 1 } END { if (!x) print "-" }' "$OUT/results"; }
# per_ok SECONDS C FAILED: seconds (CPU, or wall) per client that succeeded.
per_ok() { awk -v t="$1" -v c="$2" -v f="$3" 'BEGIN {
    if (t !~ /^[0-9.]+$/ || c - f <= 0) print "-"; else printf "%.4f", t / (c - f) }'; }
# vs VALUE LIMIT: at_most, n/a without apt-cacher-ng's figure.
vs() { if [[ $2 =~ ^[0-9.]+$ ]]; then at_most "$1" "$2"; else echo n/a; fi; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b == 0) print "-"; else printf "%.2fx", a / b }'; }
{
    echo "pull-through: $N packages, $(mb "$SET_BYTES") per client; upstream $(server_version nginx);" \
        "apt-cacher-ng $(dpkg-query -W -f '${Version}' apt-cacher-ng 2> /dev/null || echo -); debvault $("$BIN" --version | awk '{ print $2 }')"
    echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
    printf '%-11s %4s %-5s %7s %7s %7s %7s %6s %7s %6s %7s %7s %9s %7s  %s\n' mode C phase wall_s failed cpu_s rss_MB up_req \
        wall_r_s fail_r retries wall/ok wall_r/acng cpu/acng targets
    for c in $CLIENTS; do
        for phase in cold warm; do
            for mode in $MODES; do
                [ "$(col "$mode" "$c" "$phase" 4)" != - ] || continue
                wall=$(col "$mode" "$c" "$phase" 4) failed=$(col "$mode" "$c" "$phase" 5)
                cpu=$(col "$mode" "$c" "$phase" 6) rss=$(col "$mode" "$c" "$phase" 7)
                wr=$(col "$mode" "$c" "$phase" 9) fr=$(col "$mode" "$c" "$phase" 10)
                awr=$(col acng "$c" "$phase" 9)
                # CPU per client served: apt-cacher-ng's failed clients cost it little.
                pc=$(per_ok "$cpu" "$c" "$failed")
                ac=$(per_ok "$(col acng "$c" "$phase" 6)" "$c" "$(col acng "$c" "$phase" 5)")
                verdict="failed:$(at_most "$failed" 0)"
                if [ "$mode" != acng ]; then
                    # Wall time with retries: comparable whatever failed.
                    verdict+=" wall:$(vs "$wr" "$awr") cpu:$(vs "$pc" "$(awk -v a="$ac" 'BEGIN { print (a ~ /^[0-9.]+$/) ? 3 * a : "-" }')") rss:$(at_most "$rss" 64)"
                fi
                printf '%-11s %4s %-5s %7s %7s %7s %7s %6s %7s %6s %7s %7s %9s %7s  %s\n' "$mode" "$c" "$phase" "$wall" "$failed" \
                    "$cpu" "$rss" "$(col "$mode" "$c" "$phase" 8)" "$wr" "$fr" "$(col "$mode" "$c" "$phase" 11)" \
                    "$(per_ok "$wr" "$c" "$fr")" "$(times "$wr" "$awr")" "$(times "$pc" "$ac")" "$verdict"
            done
        done
    done
    echo
    echo "$FANIN concurrent requests for one uncached pool file (target: 1 upstream fetch):"
    awk '{ printf "  %-11s %5s answered 200, %s upstream fetch(es)  %s\n", $1, $2, $3, ($3 == 1 ? "PASS" : "MISS") }' "$OUT/fanin"
    if [ -s "$OUT/first-errors" ]; then echo; echo "first error of a failed client, per round:"; sed 's/^/  /' "$OUT/first-errors"; fi
    if [ -s "$OUT/notes" ]; then echo; sed 's/^/note: /' "$OUT/notes"; fi
    echo "cpu/acng: CPU seconds per client served (C - failed) over apt-cacher-ng's; the cpu target is 3x"
    echo "wall_s, failed: first tries only; wall_r_s, fail_r, retries: each failed client retried (up to $RETRIES times, a fresh"
    echo "  apt root each), timed until all succeeded or gave up; wall/ok: wall_r_s per client that succeeded"
    echo "cpu_s and rss_MB: the proxy process (/proc: user+sys over the round; VmHWM so far); up_req: requests nginx logged in the round"
} | tee "$OUT/report.txt"
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "failed steps: ${FAILED[*]} (logs in $OUT)" >&2
    exit 1
fi
