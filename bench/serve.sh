#!/usr/bin/env bash
# Benchmark: `debvault serve` beside nginx with Debian's stock configuration,
# over loopback, on the same tree:
#
#   big    one client downloading a BIG_MB file with curl, best of 3 (MB/s)
#   small  wrk, 2 threads, 50 keep-alive connections, WRK_SECONDS seconds, on one
#          20 KB file (a small .deb): requests per second
#   rss    peak RSS of the debvault server over the whole run (GNU time)
#
# Ratios are debvault / nginx (higher is better for both). No targets fail the
# run; the figures are for the note of a change that touches serve.
#
# Needs: curl, wrk (`apt-get install wrk`), nginx (`apt-get install nginx`; its
# column is skipped when missing). As root, nginx's workers run as www-data:
# the run directory must be readable by it (the default under /tmp is).
#
# Usage: bench/serve.sh          BIG_MB=1024 WRK_SECONDS=8 DEBVAULT_BIN=… bench/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/servers.sh
BIG_MB=${BIG_MB:-1024}
SECONDS_WRK=${WRK_SECONDS:-8}
BIN=${DEBVAULT_BIN:-target/release/debvault}
if [ -z "${DEBVAULT_BIN:-}" ]; then
    cargo build --release --quiet
fi
BIN=$(realpath "$BIN")
for tool in curl wrk; do
    command -v "$tool" > /dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done

RUN=$(mktemp -d /tmp/debvault-serve-bench.XXXXXX)
chmod 755 "$RUN"
trap 'stop_servers; [ -n "${DV_PID:-}" ] && pkill -P "$DV_PID" 2> /dev/null; rm -rf "$RUN"' EXIT
mkdir -p "$RUN/root/pool" "$RUN/root/dists/stable"
echo "stand-in" > "$RUN/root/dists/stable/InRelease"   # servers.sh checks it is readable
head -c $((BIG_MB << 20)) /dev/urandom > "$RUN/root/pool/big.bin"
head -c 20000 /dev/urandom > "$RUN/root/pool/small.deb"
chmod -R a+rX "$RUN/root"

# big URL: MB/s of the best of three downloads.
big() {
    local best=0 t
    for _ in 1 2 3; do
        t=$(curl -s -o /dev/null -w '%{time_total}' "$1/pool/big.bin")
        best=$(awk -v b="$best" -v t="$t" -v mb="$BIG_MB" 'BEGIN { r = mb / t; print (r > b ? r : b) }')
    done
    printf '%.0f' "$best"
}
# small URL: requests per second.
small() {
    wrk -t2 -c50 -d"${SECONDS_WRK}s" "$1/pool/small.deb" | awk '/Requests\/sec/ { printf "%.0f", $2 }'
}

port=$(free_port)
DEBVAULT_ROOT="$RUN/dv" /usr/bin/time -f '%M' -o "$RUN/dv.rss" \
    "$BIN" -q serve --dir "$RUN/root" --listen "127.0.0.1:$port" &
DV_PID=$!
wait_server "http://127.0.0.1:$port/pool/small.deb" "$RUN/root/pool/small.deb"
dv_big=$(big "http://127.0.0.1:$port")
dv_small=$(small "http://127.0.0.1:$port")
# GNU time ignores SIGINT: stop the server under it.
kill -INT $(pgrep -P "$DV_PID") 2> /dev/null || true
wait "$DV_PID" 2> /dev/null || true
DV_PID=
dv_rss=$(awk '{ printf "%.0f", $1 / 1024 }' "$RUN/dv.rss")

ng_big=- ng_small=-
nport=$(free_port)
if start_nginx "$RUN/root" "$nport" "$RUN/nginx"; then
    wait_server "http://127.0.0.1:$nport/pool/small.deb" "$RUN/root/pool/small.deb"
    ng_big=$(big "http://127.0.0.1:$nport")
    ng_small=$(small "http://127.0.0.1:$nport")
    stop_nginx "$RUN/nginx"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "-" || b == 0) print "-"; else printf "%.2fx", a / b }'; }
printf '%-8s %14s %14s %8s\n' step debvault "$(server_version nginx)" ratio
printf '%-8s %9s MB/s %9s MB/s %8s\n' big "$dv_big" "$ng_big" "$(ratio "$dv_big" "$ng_big")"
printf '%-8s %10s r/s %10s r/s %8s\n' small "$dv_small" "$ng_small" "$(ratio "$dv_small" "$ng_small")"
printf '%-8s %9s MB\n' rss "$dv_rss"
