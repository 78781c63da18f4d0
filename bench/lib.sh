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

# Report helpers, shared by run.sh and s3.sh.
# get NAME: "seconds MB" of a step, "- -" if it did not run.
get() { awk -v n="$1" '$1 == n { print $2, $3; f = 1 } END { if (!f) print "- -" }' "$OUT/results"; }
# ratio APTLY_S DEBVAULT_S: how many times faster debvault was.
ratio() {
    awk -v a="$1" -v d="$2" 'BEGIN {
        if (a !~ /^[0-9.]+$/ || d !~ /^[0-9.]+$/) print "-"
        else if (d > 0) printf "%.1fx\n", a / d
        else printf ">%.0fx\n", a / 0.01 }'
}
# faster APTLY_S DEBVAULT_S TIMES: PASS if debvault took at most 1/TIMES of aptly's time.
faster() { awk -v a="$1" -v d="$2" -v t="$3" 'BEGIN {
    if (a !~ /^[0-9.]+$/ || d !~ /^[0-9.]+$/) print "n/a"
    else print (a >= t * (d > 0 ? d : 0.01)) ? "PASS" : "MISS" }'; }
# at_most VALUE LIMIT: PASS, MISS, or n/a when VALUE is not a number.
at_most() { awk -v v="$1" -v t="$2" 'BEGIN {
    if (v !~ /^[0-9.]+$/) print "n/a"; else print (v + 0 <= t + 0) ? "PASS" : "MISS" }'; }
