#!/usr/bin/env bash
# Builds (once) a Debian trixie minbase chroot whose apt (>= 2.7) the
# `apt update --snapshot` test runs against a loopback publication; prints
# the chroot's path. The chroot also carries trixie's ubuntu-keyring (the
# package behind the transitional ubuntu-archive-keyring; bookworm has
# neither), whose archive keyring verifies the recorded Ubuntu InRelease in
# testdata/ubuntu/. The archive URL comes from this machine's own apt
# sources, so no host name lives in the repository. The chroot is cached
# outside the clone and reused while its marker file exists; a cached root
# from before the keyring was wanted gets the package installed into it.
# Usage: .ci/trixie-apt.sh [CACHE_DIR]
set -euo pipefail

root=${1:-${DEBVAULT_CI_CACHE:-/var/cache/debvault-ci}/trixie-apt}
ubuntu_keyring=usr/share/keyrings/ubuntu-archive-keyring.gpg
if [ -e "$root/.debvault-ready" ] && [ -s "$root/$ubuntu_keyring" ]; then
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

if [ -e "$root/.debvault-ready" ]; then
    # A root cached before the Ubuntu keyring was wanted: install it with
    # the chroot's own apt from a sources file that lives only for this
    # step, then drop the lists again (the tests write their own sources).
    sources="$root/etc/apt/sources.list.d/debvault-keyring.sources"
    trap 'rm -f "$sources"; find "$root/var/lib/apt/lists" -maxdepth 1 -type f -name "*_*" -delete' EXIT
    printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$mirror" >"$sources"
    chroot "$root" apt-get update -qq >&2
    chroot "$root" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends ubuntu-keyring >&2
    chroot "$root" apt-get clean
else
    rm -rf "$root"
    mkdir -p "$(dirname "$root")"
    debootstrap --variant=minbase --include=ubuntu-keyring trixie "$root" "$mirror" >&2
    # The test writes its own sources; the chroot's own ones would reach out.
    rm -f "$root/etc/apt/sources.list"
    rm -f "$root"/etc/apt/sources.list.d/*
    touch "$root/.debvault-ready"
fi
if [ ! -s "$root/$ubuntu_keyring" ]; then
    echo "trixie-apt: \`$root/$ubuntu_keyring\` is missing after installing ubuntu-keyring" >&2
    exit 1
fi
echo "$root"
