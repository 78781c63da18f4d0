# shellcheck shell=bash
# Shared by the benchmark scripts: timed and untimed steps. Expects OUT
# (the run directory) and FAILED (an array) to be set by the caller.

# measure NAME CMD...: runs CMD under GNU time -v (full output kept in
# NAME.time, the command's output in NAME.log) and appends
# "NAME wall_seconds peak_rss_MB" to results; "FAIL FAIL" if CMD failed.
measure() {
    local name=$1; shift
    sync   # flush the previous step's writes so they are not billed to this one
    if /usr/bin/time -v -o "$OUT/$name.time" "$@" > "$OUT/$name.log" 2>&1; then
        awk -F': ' -v name="$name" '
            /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0
                                       for (i = 1; i <= n; i++) s = s * 60 + p[i] }
            /Maximum resident set size/ { mb = int($2 / 1024) }
            END { printf "%s %.2f %d\n", name, s, mb }' "$OUT/$name.time" >> "$OUT/results"
    else
        echo "FAILED: $name (log: $OUT/$name.log)" >&2
        tail -n 20 "$OUT/$name.log" >&2
        FAILED+=("$name")
        echo "$name FAIL FAIL" >> "$OUT/results"
    fi
}

# setup NAME CMD...: an untimed step; output in NAME.log, failures recorded.
setup() {
    local name=$1; shift
    "$@" > "$OUT/$name.log" 2>&1 || {
        echo "FAILED: $name (log: $OUT/$name.log)" >&2
        tail -n 20 "$OUT/$name.log" >&2
        FAILED+=("$name"); }
}

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }
