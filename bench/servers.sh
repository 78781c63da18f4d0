# shellcheck shell=bash
# Real web servers in front of the benchmark's upstream tree, configured the
# way Debian ships them: nginx and Apache read their stock configuration from
# /etc at run time (no copy lives in this repository), changed only where a
# second instance must differ (listen on a loopback port, pid and log files in
# a run directory, one site whose root is the upstream tree).
#
#   start_nginx DOCROOT PORT RUNDIR    start_apache DOCROOT PORT RUNDIR
#   stop_nginx RUNDIR                  stop_apache RUNDIR
#   stop_servers                       (every server started here; for traps)
#   wait_server URL FILE [SECONDS]     until URL serves the bytes of FILE
#   free_port                          a loopback TCP port nothing listens on
#   server_version nginx|apache        e.g. `nginx/1.22.1`
#   server_describe nginx|apache RUNDIR  version and the settings in force
#
# A start function returns 2 when the server is not installed, 1 when it did
# not start; either way it says why on stderr. Stop functions signal only the
# pid in the run directory's pid file, and only if that process's command line
# names the run directory: another nginx or Apache on the machine is never
# touched. Servers run in the foreground (nginx `-g 'daemon off;'`, apache2
# `-D FOREGROUND`) as background jobs of the calling shell, which reaps them
# when it stops them; so call start_* in that shell, not in a `$(...)`.

SERVERS_STARTED=()   # "nginx RUNDIR" / "apache RUNDIR", for stop_servers

# server_bin NAME: the path of a server binary (also in /usr/sbin when that is
# not on PATH), or nothing.
server_bin() {
    command -v "$1" 2> /dev/null && return 0
    if [ -x "/usr/sbin/$1" ]; then echo "/usr/sbin/$1"; fi
}

server_version() {
    local bin
    case $1 in
        nginx)
            bin=$(server_bin nginx); [ -n "$bin" ] || return 0
            "$bin" -v 2>&1 | sed -n 's|.*version: *||p' ;;
        apache)
            bin=$(server_bin apache2); [ -n "$bin" ] || return 0
            "$bin" -v 2>&1 | sed -n 's|^Server version: *||p' ;;
    esac
}

free_port() {
    if command -v python3 > /dev/null 2>&1 && python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2> /dev/null; then
        return 0
    fi
    # No python3: a random port that refuses connections.
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 30000))
        if ! (: < "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then echo "$p"; return 0; fi
    done
    echo "error: found no free port on 127.0.0.1" >&2
    return 1
}

# plain_path WHAT PATH: the generated configs write paths unquoted, so they
# may hold only characters that need no quoting there (nor in sed or awk).
plain_path() {
    if [[ ! $2 =~ ^/[A-Za-z0-9_./@+,=-]*$ ]]; then
        echo "error: $1 \`$2\` must be an absolute path of letters, digits and _./@+,=- (it is written unquoted into a server config)" >&2
        return 1
    fi
}

# readable_by SERVER USER DOCROOT: whether USER (the account the stock config
# runs the server's workers as) can read the upstream tree; says which path
# stops it if not. Only root can check, and only a server started by root
# switches user, so for anyone else there is nothing to check.
readable_by() {
    local server=$1 user=$2 docroot=$3 f p blocked
    [ "$(id -u)" -eq 0 ] || return 0
    command -v runuser > /dev/null 2>&1 || return 0
    for f in "$docroot" "$docroot/dists/stable/InRelease" \
        "$(find "$docroot/pool" -type f -print -quit 2> /dev/null)"; do
        [ -n "$f" ] || continue
        if runuser -u "$user" -- test -r "$f" &&
            { [ ! -d "$f" ] || runuser -u "$user" -- test -x "$f"; }; then
            continue
        fi
        # The first directory on the way that USER may not enter, if any.
        blocked=$f p=/
        while IFS= read -r -d / part; do
            p+=$part/
            if ! runuser -u "$user" -- test -x "$p"; then blocked=${p%/}; break; fi
        done <<< "${f#/}"
        echo "error: $server: user \`$user\` (the stock config's worker user) cannot read \`$f\`:" \
            "\`${blocked:-/}\` is closed to it; give others read and search permission on the run" \
            "directory and its parents (chmod o+rx), or put the runs where they have it (BENCH_OUT)" >&2
        return 1
    done
}

# alive PID: the process exists and is not a zombie (a container's pid 1 may
# never reap a daemon that exited).
alive() {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2> /dev/null
}

# stop_pidfile PIDFILE MARK: TERM the pid in PIDFILE if its command line holds
# MARK, wait up to 10 s for it to go, then KILL it and its children; reap it
# (a no-op unless this shell started it).
stop_pidfile() {
    local pidfile=$1 mark=$2 pid kids
    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    if alive "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -qF -- "$mark"; then
        kill -TERM "$pid" 2> /dev/null || true
        for _ in $(seq 100); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            echo "warning: pid $pid (from \`$pidfile\`) ignored TERM for 10 s: killing it" >&2
            kids=$(pgrep -P "$pid" || true)
            # shellcheck disable=SC2086 # one pid a word
            kill -KILL "$pid" $kids 2> /dev/null || true
        fi
    fi
    wait "$pid" 2> /dev/null || true
}

# forget KIND RUNDIR: drop a server from SERVERS_STARTED.
forget() {
    local kept=() s
    for s in "${SERVERS_STARTED[@]}"; do [ "$s" = "$1 $2" ] || kept+=("$s"); done
    SERVERS_STARTED=("${kept[@]}")
}

# wait_server URL FILE [SECONDS]: until URL answers with FILE's bytes (which
# shows it is our server on that port, serving our tree); default 10 s.
wait_server() {
    local url=$1 file=$2 tries=$(( ${3:-10} * 10 ))
    if ! command -v curl > /dev/null 2>&1; then
        echo "error: curl is needed to check that a server answers (apt-get install curl)" >&2
        return 1
    fi
    for _ in $(seq "$tries"); do
        if curl -fsS --max-time 2 "$url" 2> /dev/null | cmp -s - "$file"; then return 0; fi
        sleep 0.1
    done
    echo "error: \`$url\` did not serve \`$file\` within ${3:-10} s" >&2
    curl -sS -o /dev/null -w "  last answer: HTTP %{http_code}\n" --max-time 2 "$url" >&2 || true
    return 1
}

# started SERVER PID PIDFILE PORT CONFIG LOG...: waits up to 10 s for a
# server started in the background as PID to write PIDFILE; if it exits first,
# says so with the end of its LOGs.
# (Servers run in the foreground, children of this shell, so that stopping
# one reaps it: a container's pid 1 may never reap an exited daemon.)
started() {
    local server=$1 pid=$2 pidfile=$3 port=$4 config=$5 rc=0
    shift 5
    for _ in $(seq 100); do
        if ! alive "$pid"; then
            wait "$pid" || rc=$?
            echo "error: $server did not start on 127.0.0.1:$port (exit status $rc; config \`$config\`):" >&2
            cat "$@" 2> /dev/null | tail -n 5 | sed 's/^/  /' >&2
            return 1
        fi
        [ -s "$pidfile" ] && [ "$(cat "$pidfile")" = "$pid" ] && return 0
        sleep 0.1
    done
    echo "error: $server wrote no pid file (\`$pidfile\`) within 10 s; stopped it; see \`$*\`" >&2
    kill -TERM "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    return 1
}

# ---------------------------------------------------------------- nginx
# Debian's /etc/nginx/nginx.conf with four lines changed: `pid`, `error_log`
# and `access_log` point into RUNDIR, and `include /etc/nginx/sites-enabled/*;`
# becomes one server block like Debian's default site. Everything else
# (`user www-data`, `worker_processes auto`, sendfile, tcp_nopush, gzip,
# keepalive defaults, modules-enabled, conf.d) stays as installed.
start_nginx() {
    local docroot=$1 port=$2 rundir=$3 stock=/etc/nginx/nginx.conf bin user
    local -a args
    bin=$(server_bin nginx)
    if [ -z "$bin" ] || [ ! -f "$stock" ]; then
        echo "nginx: not installed (apt-get install nginx)" >&2
        return 2
    fi
    plain_path "nginx document root" "$docroot" || return 1
    plain_path "nginx run directory" "$rundir" || return 1
    user=$(awk '$1 == "user" { sub(/;.*/, "", $2); print $2; exit }' "$stock")
    readable_by nginx "${user:-www-data}" "$docroot" || return 1
    mkdir -p "$rundir" || return 1
    awk -v rundir="$rundir" -v docroot="$docroot" -v port="$port" '
        function indent() { match($0, /^[ \t]*/); return substr($0, 1, RLENGTH) }
        /^[ \t]*pid[ \t]/ { print indent() "pid " rundir "/nginx.pid;"; pid++; next }
        /^[ \t]*error_log[ \t]/ { print indent() "error_log " rundir "/error.log;"; next }
        /^[ \t]*access_log[ \t]/ { print indent() "access_log " rundir "/access.log;"; next }
        /^[ \t]*include[ \t]+\/etc\/nginx\/sites-enabled\/\*;/ {
            i = indent()
            print i "# Like Debian'\''s /etc/nginx/sites-available/default, on loopback."
            print i "server {"
            print i "\tlisten 127.0.0.1:" port " default_server;"
            print i "\troot " docroot ";"
            print i "\tindex index.html index.htm index.nginx-debian.html;"
            print i "\tserver_name _;"
            print i "\tlocation / {"
            print i "\t\ttry_files $uri $uri/ =404;"
            print i "\t}"
            print i "}"
            site++; next
        }
        { print }
        END { if (!pid || !site) exit 1 }' "$stock" > "$rundir/nginx.conf" || {
        echo "error: nginx: \`$stock\` has no top-level \`pid\` line or no \`include /etc/nginx/sites-enabled/*;\`;" \
            "without them a second nginx would share the system one's pid file or sites" >&2
        return 1
    }
    args=(-c "$rundir/nginx.conf")
    # nginx >= 1.19.5 logs start-up errors to -e before it has read the config.
    if "$bin" -h 2>&1 | grep -q -- '-e filename'; then args+=(-e "$rundir/error.log"); fi
    SERVERS_STARTED+=("nginx $rundir")
    "$bin" "${args[@]}" -g 'daemon off;' > "$rundir/start.log" 2>&1 &
    started nginx $! "$rundir/nginx.pid" "$port" "$rundir/nginx.conf" \
        "$rundir/start.log" "$rundir/error.log"
}

stop_nginx() {
    stop_pidfile "$1/nginx.pid" "$1/"
    forget nginx "$1"
}

# ---------------------------------------------------------------- apache
# Debian's /etc/apache2 copied into RUNDIR (links followed, so mods-enabled and
# conf-enabled stay as enabled on this machine: mpm_event by default), with
# ports.conf listening on 127.0.0.1:PORT and sites-enabled holding one site
# like 000-default whose DocumentRoot is the upstream tree. The variables
# Debian's envvars sets point into RUNDIR; apache2 runs as apache2ctl would
# run it.
start_apache() {
    local docroot=$1 port=$2 rundir=$3 stock=/etc/apache2 bin conf user group
    bin=$(server_bin apache2)
    if [ -z "$bin" ] || [ ! -f "$stock/apache2.conf" ]; then
        echo "apache: not installed (apt-get install apache2)" >&2
        return 2
    fi
    plain_path "apache document root" "$docroot" || return 1
    plain_path "apache run directory" "$rundir" || return 1
    # Who the workers run as: Debian's envvars says www-data, which only root
    # can switch to; anyone else keeps their own account.
    user=www-data group=www-data
    if [ "$(id -u)" -ne 0 ]; then user=$(id -un) group=$(id -gn); fi
    readable_by apache "$user" "$docroot" || return 1
    conf=$rundir/apache2
    rm -rf "$conf"
    mkdir -p "$rundir/run" "$rundir/lock" "$rundir/log" || return 1
    cp -rL "$stock" "$conf" || return 1
    printf 'Listen 127.0.0.1:%s\n' "$port" > "$conf/ports.conf"
    rm -rf "$conf/sites-enabled"
    mkdir "$conf/sites-enabled"
    cat > "$conf/sites-enabled/000-bench.conf" <<SITE
# Like Debian's sites-available/000-default.conf, serving the upstream tree.
ServerName 127.0.0.1
<VirtualHost *:$port>
	ServerAdmin webmaster@localhost
	DocumentRoot $docroot
	ErrorLog \${APACHE_LOG_DIR}/error.log
	CustomLog \${APACHE_LOG_DIR}/access.log combined
</VirtualHost>

# As apache2.conf opens /var/www/.
<Directory $docroot/>
	Options Indexes FollowSymLinks
	AllowOverride None
	Require all granted
</Directory>
SITE
    SERVERS_STARTED+=("apache $rundir")
    (
        export APACHE_RUN_USER=$user APACHE_RUN_GROUP=$group \
            APACHE_PID_FILE=$rundir/run/apache2.pid APACHE_RUN_DIR=$rundir/run \
            APACHE_LOCK_DIR=$rundir/lock APACHE_LOG_DIR=$rundir/log LANG=C
        exec "$bin" -d "$conf" -f "$conf/apache2.conf" -k start -D FOREGROUND
    ) > "$rundir/start.log" 2>&1 &
    started apache $! "$rundir/run/apache2.pid" "$port" "$conf" \
        "$rundir/start.log" "$rundir/log/error.log"
}

stop_apache() {
    stop_pidfile "$1/run/apache2.pid" "$1/"
    forget apache "$1"
}

# server_describe nginx|apache RUNDIR: one line on a started server: version,
# where its config came from, and the settings that shape a mirror's many
# small requests (workers, keep-alive).
server_describe() {
    local d=
    case $1 in
        nginx)
            d=$(awk '$1 ~ /^(worker_processes|worker_connections|sendfile|tcp_nopush|gzip|keepalive_requests|keepalive_timeout)$/ {
                         sub(/;.*/, ""); sub(/^[ \t]+/, ""); printf "%s%s", sep, $0; sep = ", " }' "$2/nginx.conf")
            grep -Eq '^[[:space:]]*keepalive_(requests|timeout)[[:space:]]' "$2/nginx.conf" ||
                d+=", keep-alive as nginx's defaults"
            echo "$(server_version nginx), /etc/nginx/nginx.conf as installed: $d" ;;
        apache)
            local f
            for f in "$2/apache2/mods-enabled"/mpm_*.load; do
                [ -e "$f" ] && d+=${d:++}$(basename "$f" .load)
            done
            d+=$(awk '$1 ~ /^(KeepAlive|MaxKeepAliveRequests|KeepAliveTimeout)$/ { printf ", %s %s", $1, $2 }' "$2/apache2/apache2.conf")
            d+=$(cat "$2/apache2/mods-enabled"/mpm_*.conf 2> /dev/null |
                awk '$1 ~ /^(ThreadsPerChild|MaxRequestWorkers)$/ { printf ", %s %s", $1, $2 }')
            echo "$(server_version apache), /etc/apache2 as installed: ${d#, }" ;;
    esac
}

# stop_servers: stops every server started above, newest first.
stop_servers() {
    local i kind dir all=("${SERVERS_STARTED[@]}")
    for ((i = ${#all[@]} - 1; i >= 0; i--)); do
        read -r kind dir <<< "${all[i]}"
        "stop_$kind" "$dir"
    done
}
