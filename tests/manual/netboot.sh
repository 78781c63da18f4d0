#!/usr/bin/env bash
# Manual check (issue 19): the real Debian installer netboots from a debvault
# publication. Run by hand, as root, on a machine with qemu; not part of CI.
#
#   tests/manual/netboot.sh [--source archive|fixture] [--work DIR]
#                           [--timeout SECONDS] [--no-negative] [--no-first-boot]
#                           [--debootstrap]
#
# What it does:
#  1. debvault mirrors bookworm main amd64 with --with-udebs --with-installer
#     and a filter complete for d-i: every udeb (Section debian-installer), the
#     base system debootstrap installs (Priority required/important) and what
#     d-i puts in the target (kernel, grub, locales, console-setup), closed
#     over their dependencies, and usr-is-merged, which debootstrap asks for
#     by name (the closure takes `usrmerge`, the first of `usrmerge |
#     usr-is-merged`); then syncs, snapshots, publishes it signed with
#     a throwaway key and serves it on a loopback port (`debvault serve`).
#  2. The netboot kernel and initrd are taken from the publication, checked
#     with `sha256sum -c` against its SHA256SUMS, which is checked against the
#     Release that gpgv verifies with the publication's key.
#  3. A cpio (newc, gzip) appended to the initrd puts that key at
#     /usr/share/keyrings/archive.gpg (how an operator makes d-i trust a
#     mirror of its own; no allow_unauthenticated) and a /preseed.cfg that
#     points d-i at the publication (qemu's user network reaches the host's
#     loopback as 10.0.2.2) and installs as little as it can.
#  4. qemu (TCG; NETBOOT_ACCEL=kvm where KVM works) boots it with a
#     hard timeout; a second serial port carries d-i's syslog (an
#     early_command copies it there, closing debconf's descriptors that
#     d-i would otherwise wait on). A d-i question on the console means it
#     is stuck (everything is preseeded), so the run stops there. With
#     -no-reboot, qemu exits when d-i reboots; the disk is then booted once to
#     see a login prompt.
#  5. The verdict comes from evidence: the serve access log (InRelease, the
#     udeb index, udebs and .debs fetched from the publication) and the
#     serial log (Release verified, components retrieved, debootstrap done).
#  6. Negative check: the stock initrd (Debian's key only) with the same
#     preseed must refuse the publication.
#  7. With --debootstrap, the base system part on the host, for where d-i
#     cannot get that far (the fixture): the host's debootstrap (the script
#     d-i's debootstrap-udeb runs) builds bookworm from the publication,
#     checked with the publication's key, and apt in the result resolves
#     and downloads what base-installer and grub-installer add (kernel, grub,
#     locales, console-setup) from it.
#
# Sources (--source):
#  archive  the Debian archive this machine's apt uses (the first Debian URL
#           in /etc/apt/sources.list{,.d}) or NETBOOT_UPSTREAM, checked with
#           the Debian archive keyring. Needs an archive that serves udebs and
#           installer images.
#  fixture  for a network that serves .debs and indices but not udebs or
#           installer images: a loopback upstream signed with a throwaway
#           "upstream" key holding the archive's real Packages index (pool
#           files are passed through from the archive), an empty udeb index,
#           and the real netboot images taken from the archive's
#           debian-installer-12-netboot-amd64 package, each checked against
#           the archive's own Debian-signed SHA256SUMS. Its udeb index holds
#           one marker udeb made here (the real udebs cannot be had). d-i then
#           gets as far as the udebs it cannot have: it boots, verifies the
#           publication's Release with the appended key, reads the udeb index
#           and (told to go on without kernel modules) retrieves the marker,
#           then stops for want of its components.
#
# Environment: DEBVAULT (the binary; default target/{release,debug}/debvault
# under CARGO_TARGET_DIR or the checkout, else PATH), NETBOOT_UPSTREAM,
# NETBOOT_KEYRING (default /usr/share/keyrings/debian-archive-keyring.gpg).
# Needs: qemu-system-x86 qemu-utils cpio gpg gpgv curl python3 xz-utils.
# Leaves everything in the work directory (default: a new one under TMPDIR)
# and prints its path; every process it starts is stopped on exit.
set -euo pipefail

source_kind=archive
work=
timeout=2700
negative=1
first_boot=1
debootstrap_check=0
while [ $# -gt 0 ]; do
    case "$1" in
    --source) source_kind=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --no-negative) negative=0; shift ;;
    --no-first-boot) first_boot=0; shift ;;
    --debootstrap) debootstrap_check=1; shift ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "netboot: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$source_kind" in archive | fixture) ;; *) echo "netboot: --source archive|fixture" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")/../.." && pwd)
suite=bookworm
arch=amd64
prefix=debian
images=main/installer-$arch/current/images
keyring=${NETBOOT_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
filter='Section (debian-installer) | Priority (required) | Priority (important)
 | linux-image-amd64 | grub-pc | os-prober | locales | console-setup | keyboard-configuration
 | busybox | initramfs-tools | sudo | discover | laptop-detect | eject | usr-is-merged'

for tool in qemu-system-x86_64 qemu-img cpio gpg gpgv curl python3 xz sha256sum dpkg-deb; do
    command -v "$tool" >/dev/null || { echo "netboot: $tool is missing" >&2; exit 1; }
done

debvault=${DEBVAULT:-}
if [ -z "$debvault" ]; then
    for d in "${CARGO_TARGET_DIR:-$here/target}"/{release,debug}/debvault; do
        [ -x "$d" ] && { debvault=$d; break; }
    done
fi
debvault=${debvault:-$(command -v debvault || true)}
[ -n "$debvault" ] || { echo "netboot: no debvault binary (set DEBVAULT)" >&2; exit 1; }

work=${work:-$(mktemp -d "${TMPDIR:-/tmp}/debvault-netboot.XXXXXX")}
mkdir -p "$work"
work=$(cd "$work" && pwd)
export DEBVAULT_ROOT=$work/root
log() { printf '[netboot %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
log "work directory $work, debvault $debvault, source $source_kind"

pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() {
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.2
    done
    die "nothing answers at $1"
}
elapsed() { echo $(($(date +%s) - $1))s; }

# The first Debian archive URL in the machine's sources (as .ci/trixie-apt.sh).
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
archive=${NETBOOT_UPSTREAM:-$(archive_url | head -n 1)}
[ -n "$archive" ] || die "no archive URL in /etc/apt/sources.list{,.d}; set NETBOOT_UPSTREAM"
archive=${archive%/}

# The SHA256 a verified Release lists for PATH.
release_sha256() {
    awk -v p="$2" '/^SHA256:/ { on = 1; next } /^[^ ]/ { on = 0 } on && $3 == p { print $1; exit }' "$1"
}
# Fetches URL to FILE and checks it against SHA256.
fetch_checked() {
    curl -sfS -o "$2" "$1" || die "cannot fetch $1"
    [ -n "$3" ] || die "no SHA256 to check $1 against"
    echo "$3  $2" | sha256sum -c --quiet - || die "$1 does not match its SHA256"
}

# The fixture's one udeb, the only one it can have: a marker d-i's anna
# installs (Priority standard), so the chain Release -> udeb index -> udeb
# runs. Writes it under UPSTREAM/pool and its stanza to INDEX.
fixture_udeb() {
    local up=$1 index=$2 b=$work/marker-udeb rel=pool/main/n/netboot-marker/netboot-marker_1.0_all.udeb
    # Built once and kept: other bytes under the same version would be
    # frozen by the mirror's next sync (as it should).
    if [ ! -s "$work/marker.udeb" ]; then
        rm -rf "$b" && mkdir -p "$b/DEBIAN" "$b/usr/share/netboot-marker"
        echo "installed by d-i's anna from the debvault publication" >"$b/usr/share/netboot-marker/README"
        printf '%s\n' "Package: netboot-marker" "Version: 1.0" "Architecture: all" "Section: debian-installer" \
            "Priority: standard" "Maintainer: debvault netboot check <netboot@example.invalid>" \
            "Description: marker udeb of debvault's netboot check" >"$b/DEBIAN/control"
        dpkg-deb -Zxz --root-owner-group -b "$b" "$work/marker.udeb" >/dev/null
    fi
    mkdir -p "$up/${rel%/*}" && cp "$work/marker.udeb" "$up/$rel"
    {
        grep -v '^Description:' "$b/DEBIAN/control"
        echo "Installed-Size: 1"
        echo "Filename: $rel"
        echo "Size: $(stat -c %s "$up/$rel")"
        echo "SHA256: $(sha256sum <"$up/$rel" | cut -d' ' -f1)"
        grep '^Description:' "$b/DEBIAN/control"
    } >"$index"
}

# The throwaway "upstream": real indices and images, our signature (see header).
build_fixture() {
    local up=$work/upstream dists=$work/upstream/dists/$suite gh=$work/gnupg-upstream
    local rel=$work/archive-Release deb_dir=$work/di-netboot
    rm -rf "$up" && mkdir -p "$dists/main/binary-$arch" "$dists/main/debian-installer/binary-$arch" "$dists/$images"
    curl -sfS -o "$work/archive-InRelease" "$archive/dists/$suite/InRelease" || die "no InRelease at the archive"
    gpgv --keyring "$keyring" --output "$rel" "$work/archive-InRelease" 2>/dev/null \
        || die "the archive's InRelease does not verify with $keyring"
    log "archive InRelease verified with $keyring"
    fetch_checked "$archive/dists/$suite/main/binary-$arch/Packages.xz" "$dists/main/binary-$arch/Packages.xz" \
        "$(release_sha256 "$rel" "main/binary-$arch/Packages.xz")"
    xz -dk "$dists/main/binary-$arch/Packages.xz"
    fetch_checked "$archive/dists/$suite/$images/SHA256SUMS" "$work/archive-SHA256SUMS" \
        "$(release_sha256 "$rel" "$images/SHA256SUMS")"
    # The package that carries the netboot images, checked by its Packages entry.
    local entry fname sha
    entry=$(awk -v RS= "/(^|\n)Package: debian-installer-12-netboot-$arch\n/" "$dists/main/binary-$arch/Packages")
    fname=$(awk '/^Filename:/ { print $2 }' <<<"$entry")
    sha=$(awk '/^SHA256:/ { print $2 }' <<<"$entry")
    [ -n "$fname" ] || die "no debian-installer-12-netboot-$arch in the archive's Packages"
    if ! echo "$sha  $work/di-netboot.deb" | sha256sum -c --quiet - >/dev/null 2>&1; then
        fetch_checked "$archive/$fname" "$work/di-netboot.deb" "$sha"
    fi
    rm -rf "$deb_dir" && dpkg-deb -x "$work/di-netboot.deb" "$deb_dir"
    local text=$deb_dir/usr/lib/debian-installer/images/12/$arch/text
    # Every ./netboot/ file of the archive's SHA256SUMS the package holds, with
    # the archive's hash (the package's text/ tree is the archive's netboot/).
    local hash path src n=0
    : >"$dists/$images/SHA256SUMS"
    while read -r hash path; do
        case "$path" in ./netboot/gtk/* | ./netboot/xen/* | ./netboot/depthcharge/* | ./netboot/mini.iso | ./netboot/netboot.tar.gz) continue ;; ./netboot/*) ;; *) continue ;; esac
        src=$text/${path#./netboot/}
        [ -f "$src" ] || continue
        echo "$hash  $src" | sha256sum -c --quiet - || die "$src differs from the archive's SHA256SUMS"
        mkdir -p "$(dirname "$dists/$images/$path")"
        cp -L "$src" "$dists/$images/$path"
        echo "$hash  $path" >>"$dists/$images/SHA256SUMS"
        n=$((n + 1))
    done <"$work/archive-SHA256SUMS"
    log "fixture: $n netboot images from $(basename "$fname"), each matching the archive's signed SHA256SUMS"
    fixture_udeb "$up" "$dists/main/debian-installer/binary-$arch/Packages"
    xz -kf "$dists/main/debian-installer/binary-$arch/Packages"
    {
        echo "Origin: Debian"
        echo "Label: Debian"
        echo "Suite: stable"
        echo "Codename: $suite"
        echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
        echo "Architectures: $arch"
        echo "Components: main"
        echo "Description: debvault netboot fixture (indices and images of the archive)"
        echo "SHA256:"
        (cd "$dists" && for f in main/binary-$arch/Packages main/binary-$arch/Packages.xz \
            main/debian-installer/binary-$arch/Packages main/debian-installer/binary-$arch/Packages.xz \
            "$images/SHA256SUMS"; do
            printf ' %s %16d %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
        done)
    } >"$dists/Release"
    if [ ! -s "$work/upstream.gpg" ]; then
        rm -rf "$gh" && mkdir -m 700 "$gh"
        GNUPGHOME=$gh gpg --batch -q --passphrase '' --quick-gen-key 'netboot fixture upstream' ed25519 sign never
        GNUPGHOME=$gh gpg --batch -q --export >"$work/upstream.gpg"
    fi
    GNUPGHOME=$gh gpg --batch -q --yes --clearsign -o "$dists/InRelease" "$dists/Release"
    GNUPGHOME=$gh gpg --batch -q --yes -abs -o "$dists/Release.gpg" "$dists/Release"
    gpgconf --homedir "$gh" --kill gpg-agent 2>/dev/null || true
    # Serves the fixture; pool files it lacks come from the archive.
    # The same port on a re-run: the mirror keeps its URL.
    local port
    [ -s "$work/upstream.port" ] || free_port >"$work/upstream.port"
    port=$(cat "$work/upstream.port")
    python3 - "$up" "$archive/" "$port" >"$work/upstream.log" 2>&1 <<'PY' &
import http.server, os, sys, urllib.error, urllib.request
root, archive, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def send_head(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/pool/") and ".." not in path and not os.path.exists(self.translate_path(path)):
            try:
                r = urllib.request.urlopen(archive + path.lstrip("/"), timeout=120)
            except urllib.error.HTTPError as e:
                self.send_error(e.code)
                return None
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", r.headers["Content-Length"])
            self.end_headers()
            return r
        return super().send_head()
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
PY
    pids+=($!)
    wait_http "http://127.0.0.1:$port/dists/$suite/Release"
    upstream=http://127.0.0.1:$port/
    upstream_keyring=$work/upstream.gpg
}

# --- 1. mirror, snapshot, publish, serve ---------------------------------
if [ "$source_kind" = fixture ]; then
    build_fixture
else
    upstream=$archive/
    upstream_keyring=$keyring
    probe=$archive/dists/$suite/$images/netboot/debian-installer/$arch/linux
    curl -sfI -o /dev/null "$probe" \
        || die "the archive does not serve installer images ($probe); try --source fixture"
fi

if "$debvault" mirror show nb >/dev/null 2>&1; then
    "$debvault" -q mirror edit nb --filter "$filter"
else
    "$debvault" -q mirror create nb "$upstream" "$suite" main --arch "$arch" --keyring "$upstream_keyring" \
        --with-udebs --with-installer --filter "$filter" --with-deps
fi
"$debvault" --no-progress mirror sync nb --dry-run >"$work/sync-plan.txt" || die "sync plan failed"
t=$(date +%s)
"$debvault" --no-progress mirror sync nb 2>"$work/sync.log" || { tail -5 "$work/sync.log" >&2; die "sync failed"; }
log "sync took $(elapsed "$t"); plan in $work/sync-plan.txt"
"$debvault" mirror show nb | sed 's/^/    /' >&2

[ -n "$("$debvault" key list 2>/dev/null)" ] \
    || "$debvault" -q key generate --name "debvault netboot check" --email netboot@example.invalid
"$debvault" key export >"$work/publication.gpg"
snap=nb-$(date -u +%Y%m%dT%H%M%S)
"$debvault" -q snapshot create "$snap" --from-mirror nb
t=$(date +%s)
"$debvault" -q snapshot publish "$snap" --prefix "$prefix" --distribution "$suite" \
    --suite stable --codename "$suite" --set
log "published $snap as $prefix/$suite in $(elapsed "$t")"

port=$(free_port)
"$debvault" serve --listen "127.0.0.1:$port" >"$work/serve.out" 2>"$work/serve.log" &
pids+=($!)
base=http://127.0.0.1:$port/$prefix
wait_http "$base/dists/$suite/Release"

# --- 2. kernel and initrd from the publication, verified ----------------
pub=$work/from-publication
rm -rf "$pub" && mkdir -p "$pub/images/netboot/debian-installer/$arch"
for f in InRelease Release Release.gpg; do
    curl -sfS -o "$pub/$f" "$base/dists/$suite/$f" || die "the publication has no $f"
done
gpgv --keyring "$work/publication.gpg" "$pub/Release.gpg" "$pub/Release" 2>"$pub/gpgv.txt" \
    || die "gpgv refuses the published Release"
gpgv --keyring "$work/publication.gpg" "$pub/InRelease" 2>>"$pub/gpgv.txt" \
    || die "gpgv refuses the published InRelease"
log "gpgv: $(grep -m1 'Good signature' "$pub/gpgv.txt")"
sums_sha=$(release_sha256 "$pub/Release" "$images/SHA256SUMS")
[ -n "$sums_sha" ] || die "the published Release does not list $images/SHA256SUMS"
fetch_checked "$base/dists/$suite/$images/SHA256SUMS" "$pub/images/SHA256SUMS" "$sums_sha"
for f in linux initrd.gz; do
    curl -sfS -o "$pub/images/netboot/debian-installer/$arch/$f" \
        "$base/dists/$suite/$images/netboot/debian-installer/$arch/$f" || die "the publication has no $f"
done
(cd "$pub/images" && grep -E "^[0-9a-f]{64}  \./netboot/debian-installer/$arch/(linux|initrd\.gz)$" SHA256SUMS \
    | sha256sum -c -) >&2 || die "sha256sum -c fails on the published images"
kernel=$pub/images/netboot/debian-installer/$arch/linux
initrd=$pub/images/netboot/debian-installer/$arch/initrd.gz

# --- 3. the operator's additions to the initrd ---------------------------
# `preseed.cfg` with the mirror; HOST:PORT is the host's loopback as qemu's
# user network shows it.
write_preseed() {
    cat <<EOF
d-i preseed/early_command string sh -c 'while [ ! -e /var/log/syslog ]; do sleep 1; done; exec tail -f /var/log/syslog' </dev/null >/dev/ttyS1 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
d-i debian-installer/locale string en_US.UTF-8
d-i keyboard-configuration/xkb-keymap select us
d-i netcfg/choose_interface select auto
d-i netcfg/get_hostname string netboot
d-i netcfg/get_domain string example.invalid
d-i netcfg/hostname string netboot
d-i hw-detect/load_firmware boolean false
d-i mirror/country string manual
d-i mirror/protocol string http
d-i mirror/http/hostname string 10.0.2.2:$port
d-i mirror/http/directory string /$prefix
d-i mirror/http/proxy string
d-i mirror/suite string $suite
d-i mirror/codename string $suite
d-i passwd/root-password password netboot
d-i passwd/root-password-again password netboot
d-i passwd/make-user boolean false
d-i clock-setup/utc boolean true
d-i time/zone string UTC
d-i clock-setup/ntp boolean false
d-i partman-auto/disk string /dev/vda
d-i partman-auto/method string regular
d-i partman-auto/expert_recipe string root :: 1000 10000 -1 ext4 \$primary{ } \$bootable{ } method{ format } format{ } use_filesystem{ } filesystem{ ext4 } mountpoint{ / } .
d-i partman-basicfilesystems/no_swap boolean false
d-i partman-partitioning/confirm_write_new_label boolean true
d-i partman/choose_partition select finish
d-i partman/confirm boolean true
d-i partman/confirm_nooverwrite boolean true
d-i base-installer/install-recommends boolean false
d-i base-installer/kernel/image string linux-image-amd64
d-i apt-setup/services-select multiselect
d-i apt-setup/non-free-firmware boolean false
d-i apt-setup/non-free boolean false
d-i apt-setup/contrib boolean false
d-i apt-setup/enable-source-repositories boolean false
d-i apt-setup/disable-cdrom-entries boolean true
d-i pkgsel/run_tasksel boolean false
d-i tasksel/first multiselect
d-i pkgsel/include string
d-i pkgsel/upgrade select none
d-i pkgsel/update-policy select none
popularity-contest popularity-contest/participate boolean false
d-i grub-installer/only_debian boolean true
d-i grub-installer/bootdev string /dev/vda
d-i finish-install/reboot_in_progress note
EOF
    # The fixture has no kernel module udebs: d-i may go on without them.
    if [ "$source_kind" = fixture ]; then
        echo "d-i anna/no_kernel_modules boolean true"
    fi
}
# A newc cpio (gzip) of DIR, appended to the stock initrd as OUT.
append_cpio() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet --owner 0:0) | gzip -9 >"$1.cpio.gz"
    cat "$initrd" "$1.cpio.gz" >"$2"
}
overlay=$work/overlay
rm -rf "$overlay" && mkdir -p "$overlay/usr/share/keyrings"
cp "$work/publication.gpg" "$overlay/usr/share/keyrings/archive.gpg"
# apt in the target must trust the mirror too (base-installer installs the
# kernel with it): a base-installer hook copies the key in after debootstrap.
# (Not yet seen running: the fixture has no base-installer udeb.)
mkdir -p "$overlay/usr/lib/base-installer.d"
printf '%s\n' '#!/bin/sh' 'mkdir -p /target/etc/apt/trusted.gpg.d' \
    'cp /usr/share/keyrings/archive.gpg /target/etc/apt/trusted.gpg.d/debvault-publication.gpg' \
    >"$overlay/usr/lib/base-installer.d/05debvault-keyring"
chmod 755 "$overlay/usr/lib/base-installer.d/05debvault-keyring"
write_preseed >"$overlay/preseed.cfg"
append_cpio "$overlay" "$work/initrd-operator.gz"
stock=$work/overlay-stock
rm -rf "$stock" && mkdir -p "$stock"
write_preseed >"$stock/preseed.cfg"
append_cpio "$stock" "$work/initrd-stock.gz"

# TCG unless told: a /dev/kvm that is there is not always one that works.
accel=${NETBOOT_ACCEL:-tcg}
append="console=ttyS0,115200n8 auto=true priority=critical DEBIAN_FRONTEND=text --- console=ttyS0,115200n8"
# Boots qemu for at most SECONDS with the console on NAME.serial.log and the
# second serial port on NAME.syslog; extra arguments go to qemu. Stops early
# once the console matches STOP. Sets `ended` to how it ended.
boot() {
    local secs=$1 name=$2 stop=$3 pid start
    shift 3
    : >"$work/$name.serial.log"
    : >"$work/$name.syslog"
    qemu-system-x86_64 -accel "$accel" -m 1024 -smp 1 -nographic -no-reboot -monitor none \
        -serial "file:$work/$name.serial.log" -serial "file:$work/$name.syslog" \
        -netdev user,id=n -device virtio-net-pci,netdev=n "$@" </dev/null >/dev/null 2>&1 &
    pid=$!
    pids+=("$pid")
    start=$(date +%s)
    ended="guest powered off or rebooted"
    while kill -0 "$pid" 2>/dev/null; do
        if [ $(($(date +%s) - start)) -ge "$secs" ]; then
            ended="hard timeout (${secs}s)"
            break
        fi
        if grep -a -q -E "$stop" "$work/$name.serial.log"; then
            sleep 15
            ended="stopped at: $(grep -a -o -E "$stop" "$work/$name.serial.log" | tail -n 1)"
            break
        fi
        sleep 5
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
# The console's last lines, without escapes, for the log.
screen_tail() {
    tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1b[()][0-9A-Za-z]//g' |
        grep -a -v -E '^\s*$|^\[ +[0-9]+\.[0-9]+\]|\]\[ ' | tail -n "$2" | cut -c1-160 | sed 's/^/    /' >&2
}
count() { grep -a -c -E "$1" "$2" || true; }
# A question on d-i's console: everything is preseeded, so it is stuck.
question="Prompt: '\?' for help"
# The access-log lines served since line FROM (`serve` keeps its log open).
access_since() { tail -n "+$(($1 + 1))" "$work/serve.log" >"$2"; }
lines() { wc -l <"$work/serve.log"; }

# --- 6 first (short). The stock initrd must refuse the publication --------
if [ "$negative" = 1 ]; then
    t=$(date +%s)
    from=$(lines)
    boot 900 negative "$question" -kernel "$kernel" -initrd "$work/initrd-stock.gz" -append "$append"
    access_since "$from" "$work/negative.access.log"
    log "negative run (stock initrd): $ended after $(elapsed "$t"); its console:"
    screen_tail "$work/negative.serial.log" 8
    grep -a -E 'gpgv|[Ss]ignature|net-retriever|anna' "$work/negative.syslog" | tr -d '\r' | head -12 | sed 's/^/    /' >&2 || true
    udebs=$(count '\.udeb status=200' "$work/negative.access.log")
    log "negative run: Release.gpg fetched $(count 'Release.gpg status=200' "$work/negative.access.log"), udeb index fetched $(count 'debian-installer/binary-[a-z0-9]+/Packages[.a-z]* status=200' "$work/negative.access.log"), udebs fetched $udebs"
    [ "$udebs" = 0 ] || die "the stock initrd fetched udebs from a mirror it cannot verify"
fi

# --- 4. the install -------------------------------------------------------
disk=$work/disk.qcow2
rm -f "$disk" && qemu-img create -q -f qcow2 "$disk" 4G
from=$(lines)
t=$(date +%s)
boot "$timeout" install "$question" -kernel "$kernel" -initrd "$work/initrd-operator.gz" -append "$append" \
    -drive "file=$disk,if=virtio,format=qcow2"
install_ended=$ended
access_since "$from" "$work/install.access.log"
log "install run: $install_ended after $(elapsed "$t"); its console:"
screen_tail "$work/install.serial.log" 12

# --- 5. evidence ---------------------------------------------------------
acc=$work/install.access.log
sys=$work/install.syslog
ok='status=(200|206|304)'
log "access log: Release/InRelease $(count "dists/$suite/(In)?Release(.gpg)? $ok" "$acc"), udeb index $(count "debian-installer/binary-[a-z0-9]+/Packages[.a-z]* $ok" "$acc"), udebs $(count "\.udeb $ok" "$acc"), .debs $(count "\.deb $ok" "$acc"), 404s $(count 'status=404' "$acc")"
log "d-i syslog ($sys), selected lines:"
grep -a -E 'net-retriever|anna\[|choose-mirror|base-installer|debootstrap|gpgv|[Ss]ignature|unauthenticated|Release|grub-installer|finish-install' "$sys" |
    grep -v 'DEBUG: command' | tr -d '\r' | cut -c1-200 | head -40 | sed 's/^/    /' >&2 || true
verdict=()
[ "$(count "dists/$suite/Release.gpg $ok|dists/$suite/InRelease $ok" "$acc")" -gt 0 ] && verdict+=("fetched-signed-release")
[ "$(count "debian-installer/binary-[a-z0-9]+/Packages[.a-z]* $ok" "$acc")" -gt 0 ] && verdict+=("fetched-udeb-index")
[ "$(count "\.udeb $ok" "$acc")" -gt 0 ] && verdict+=("fetched-udebs")
[ "$(count "\.deb $ok" "$acc")" -gt 0 ] && verdict+=("fetched-debs")
grep -a -q -i -E 'unauthenticated|bad signature|BADSIG|NO_PUBKEY|NODATA' "$sys" && verdict+=("SIGNATURE-COMPLAINT")
grep -a -q -E 'Base system installed successfully' "$sys" && verdict+=("debootstrap-done")
grep -a -q -E 'grub-installer' "$sys" && verdict+=("grub-installer-ran")
if [ "$first_boot" = 1 ] && [ "$install_ended" = "guest powered off or rebooted" ]; then
    t=$(date +%s)
    boot 900 firstboot 'login:' -drive "file=$disk,if=virtio,format=qcow2"
    grep -a -q 'login:' "$work/firstboot.serial.log" && verdict+=("first-boot-login")
    log "first boot: $ended after $(elapsed "$t")"
    screen_tail "$work/firstboot.serial.log" 3
fi
if [ "$debootstrap_check" = 1 ]; then
    tgt=$work/debootstrap-target
    rm -rf "$tgt"
    from=$(lines)
    t=$(date +%s)
    debootstrap --keyring="$work/publication.gpg" --arch="$arch" "$suite" "$tgt" "$base" >"$work/debootstrap.log" 2>&1 ||
        { tail -5 "$work/debootstrap.log" >&2; die "debootstrap from the publication failed"; }
    log "debootstrap: $(grep -a -c '^I: Validating' "$work/debootstrap.log") packages validated, '$(tail -n 1 "$work/debootstrap.log")' in $(elapsed "$t")"
    cp "$work/publication.gpg" "$tgt/etc/apt/trusted.gpg.d/debvault-publication.gpg"
    echo "deb $base $suite main" >"$tgt/etc/apt/sources.list"
    t=$(date +%s)
    {
        chroot "$tgt" apt-get update &&
            chroot "$tgt" apt-get install -y --download-only --no-install-recommends \
                linux-image-amd64 grub-pc locales console-setup keyboard-configuration
    } >"$work/target-apt.log" 2>&1 || { tail -5 "$work/target-apt.log" >&2; die "apt in the target cannot use the publication"; }
    log "target apt: $(grep -a -E '^(Get|Hit|Err|W|E):' "$work/target-apt.log" | sed 's/:.*//' | sort | uniq -c | xargs) in $(elapsed "$t"); $(grep -a -E 'newly installed' "$work/target-apt.log")"
    access_since "$from" "$work/debootstrap.access.log"
    log "debootstrap + target apt access log: $(count "\.deb $ok" "$work/debootstrap.access.log") .debs, $(count 'status=404' "$work/debootstrap.access.log") 404s"
    grep -a -q -E '^I: Base system installed successfully' "$work/debootstrap.log" && verdict+=("host-debootstrap-done")
    grep -a -q -E '^(W|E): ' "$work/target-apt.log" || verdict+=("target-apt-fetched-kernel-and-grub")
fi
log "evidence: ${verdict[*]:-none}"
log "logs in $work: {install,negative,firstboot}.{serial.log,syslog,access.log}"
