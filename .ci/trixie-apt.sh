#!/usr/bin/env bash
# Builds (once) a Debian trixie minbase chroot whose apt (>= 2.7) the
# `apt update --snapshot` test runs against a loopback publication; prints
# the chroot's path. The archive URL comes from this machine's own apt
# sources, so no host name lives in the repository. The chroot is cached
# outside the clone and reused while its marker file exists.
# Usage: .ci/trixie-apt.sh [CACHE_DIR]
set -euo pipefail

root=${1:-${DEBVAULT_CI_CACHE:-/var/cache/debvault-ci}/trixie-apt}
if [ -e "$root/.debvault-ready" ]; then
    echo "$root"
    exit 0
fi

# The first Debian archive URL in the machine's sources (deb822 or one-line).
archive_url() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f"
    done
    if [ -r /etc/apt/sources.list ]; then
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\// && $i !~ /security/) { print $i; exit } }' /etc/apt/sources.list
    fi
}
mirror=$(archive_url | head -n 1)
if [ -z "$mirror" ]; then
    echo "trixie-apt: no archive URL in /etc/apt/sources.list{,.d}" >&2
    exit 1
fi

rm -rf "$root"
mkdir -p "$(dirname "$root")"
debootstrap --variant=minbase trixie "$root" "$mirror" >&2
# The test writes its own sources; the chroot's own ones would reach out.
rm -f "$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*
touch "$root/.debvault-ready"
echo "$root"
