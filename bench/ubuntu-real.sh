#!/usr/bin/env bash
# Real-archive validation for Ubuntu (issue 19): a filtered mirror of a real
# Ubuntu suite works end to end with Ubuntu's own apt. Manual; not run in CI
# (it needs the real archive and root).
#
#   1. `mirror create` of SUITE, components main and universe, ARCHS, with
#      `--filter PACKAGE --with-deps`, verified with Ubuntu's archive keyring;
#      `mirror sync` from the real archive (its Release alone is over 100 KB;
#      the universe Packages.xz is about 16 MB per architecture);
#   2. `snapshot create`, `snapshot publish` signed with a test key made for
#      the run, `serve` on a free loopback port;
#   3. an Ubuntu minbase root of SUITE (debootstrap, cached), copied for the
#      run; its apt is given sources naming ONLY the loopback publication
#      (Signed-By the test key) and command-not-found's index target, then
#      `apt-get update` and `apt-get install PACKAGE`;
#   4. checks: gpgv accepts our InRelease; the Release lists the variant's
#      indices and universe's `cnf/Commands-amd64`, which names PACKAGE and
#      only packages of the snapshot (a component none of whose selected
#      packages has commands gets none), and apt fetched it; PACKAGE and
#      the libraries it needs from main are installed in the root; with
#      amd64v3 in ARCHS, apt told the variant (APT::Architecture-Variants)
#      fetches the variant's indices and downloads PACKAGE's amd64v3 build.
#
# Reports wall time and peak RSS of each debvault step (GNU time -v), the
# bytes the sync downloaded (indices and pool files apart, from its JSON
# report) and what apt printed. The table goes to stdout and
# <run dir>/report.txt; the exit status is 1 if a step or check failed.
#
# Usage: UBUNTU_URL=http://HOST/ubuntu bench/ubuntu-real.sh     (as root)
#   UBUNTU_URL      the Ubuntu archive's base URL (the directory holding
#                   dists/); required, no default
#   SUITE           the suite (default resolute; noble works with ARCHS=amd64)
#   ARCHS           architectures to mirror (default amd64,amd64v3: the
#                   variant's indices come along; apt in the root uses amd64,
#                   then the variant; noble has no amd64v3)
#   PACKAGE         the universe package to mirror with its dependencies and
#                   install (default nnn: small, and needs a library from main
#                   that a minbase root lacks, libreadline8t64)
#   UBUNTU_KEYRING  Ubuntu's archive keyring (default
#                   /usr/share/keyrings/ubuntu-archive-keyring.gpg, from the
#                   ubuntu-keyring package; on bookworm, which lacks it, the
#                   one `.ci/trixie-apt.sh` installs into its trixie root)
#   PROFILE         release (default) or debug: which cargo build to run
#   DEBVAULT_BIN    the debvault binary to run (default: this tree's PROFILE build)
#   DEBVAULT_CI_CACHE  where the debootstrapped Ubuntu root is cached
#                   (default /var/cache/debvault-ci; the root is
#                   ubuntu-SUITE below it, reused while its marker exists)
#   BENCH_OUT       where ubuntu-real-<timestamp> directories go (default bench/out)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${UBUNTU_URL:?set UBUNTU_URL to the Ubuntu archive base URL (the directory holding dists/)}"
UBUNTU_URL=${UBUNTU_URL%/}
SUITE=${SUITE:-resolute}
ARCHS=${ARCHS:-amd64,amd64v3}
PACKAGE=${PACKAGE:-nnn}
CACHE=${DEBVAULT_CI_CACHE:-/var/cache/debvault-ci}
KEYRING=${UBUNTU_KEYRING:-/usr/share/keyrings/ubuntu-archive-keyring.gpg}
if [ ! -s "$KEYRING" ] && [ -z "${UBUNTU_KEYRING:-}" ]; then
    KEYRING="$CACHE/trixie-apt/usr/share/keyrings/ubuntu-archive-keyring.gpg"
fi
if [ ! -s "$KEYRING" ]; then
    echo "error: no Ubuntu archive keyring at \`$KEYRING\`: install ubuntu-keyring, run .ci/trixie-apt.sh, or set UBUNTU_KEYRING" >&2
    exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "error: run as root (debootstrap and chroot)" >&2
    exit 2
fi
for tool in debootstrap curl python3 gpgv; do
    command -v "$tool" > /dev/null || { echo "error: \`$tool\` is needed" >&2; exit 2; }
done

PROFILE=${PROFILE:-release}
BUILD=(); [ "$PROFILE" = release ] && BUILD=(--release)
OUTDIR=${CARGO_TARGET_DIR:-target}
if [ -z "${DEBVAULT_BIN:-}" ]; then
    cargo build "${BUILD[@]}" --locked --quiet --bin debvault
fi
BIN=${DEBVAULT_BIN:-$OUTDIR/$PROFILE/debvault}
BIN=$(realpath "$BIN")

OUT="$(realpath -m "${BENCH_OUT:-bench/out}")/ubuntu-real-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
FAILED=()
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/servers.sh
source bench/servers.sh

DV_ROOT="$OUT/root"
WORK_ROOT="$OUT/ubuntu-root"
SERVE_PID=""
cleanup() {
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2> /dev/null || true
    rm -rf "$WORK_ROOT"
}
trap cleanup EXIT
DV=("$BIN" --root "$DV_ROOT" --no-progress)
# give_up_unless NAME: stop the run when step NAME failed (later steps need it).
give_up_unless() {
    local f
    for f in "${FAILED[@]}"; do
        if [ "$f" = "$1" ]; then
            echo "stopping: $1 failed (logs in $OUT)" >&2
            exit 1
        fi
    done
}
check() {   # check NAME CONDITION-COMMAND...: a named pass/fail line
    local name=$1; shift
    if "$@" >> "$OUT/checks.log" 2>&1; then echo "check $name: ok" >> "$OUT/report.txt"
    else echo "check $name: FAILED" >> "$OUT/report.txt"; FAILED+=("$name"); fi
}
: > "$OUT/report.txt"

# 1. The mirror, synced from the real archive.
setup create "${DV[@]}" mirror create ubuntu "$UBUNTU_URL" "$SUITE" main universe \
    --arch "$ARCHS" --keyring "$KEYRING" --filter "$PACKAGE" --with-deps
measure sync "${DV[@]}" --json mirror sync ubuntu
give_up_unless create
give_up_unless sync
python3 - "$OUT/sync.log" >> "$OUT/report.txt" <<'EOF' || FAILED+=(sync-report)
import json, sys
text = open(sys.argv[1]).read()
report = json.loads(text[text.index("{"):])["mirrors"][0]
mb = lambda b: f"{b / 1048576:.1f} MiB"
print(f"sync: {report['packages']} packages; downloaded {report['downloaded_files']} files, "
      f"{mb(report['downloaded_bytes'])} (indices and Release {mb(report['index_bytes'])}, "
      f"pool {mb(report['downloaded_bytes'] - report['index_bytes'])}); "
      f"debvault's own timing {report['seconds']:.1f} s")
EOF
measure sync.noop "${DV[@]}" mirror sync ubuntu

# 2. Snapshot, publication signed with a test key, served on loopback.
setup key "${DV[@]}" key generate --name "debvault ubuntu-real" --email ubuntu-real@example.invalid
setup key-export "${DV[@]}" key export -o "$OUT/debvault.gpg"
measure snapshot "${DV[@]}" snapshot create s --from-mirror ubuntu
measure publish "${DV[@]}" snapshot publish s --distribution "$SUITE"
give_up_unless publish
PUBLIC="$DV_ROOT/public"
port=$(free_port)
"${DV[@]}" serve --listen "127.0.0.1:$port" > "$OUT/serve.log" 2>&1 &
SERVE_PID=$!
URL="http://127.0.0.1:$port"
wait_server "$URL/dists/$SUITE/InRelease" "$PUBLIC/dists/$SUITE/InRelease" 10 || FAILED+=(serve)
give_up_unless serve
check gpgv-inrelease gpgv --keyring "$OUT/debvault.gpg" "$PUBLIC/dists/$SUITE/InRelease"
release="$PUBLIC/dists/$SUITE/Release"
# A component's Commands file is published when a selected package of it
# has commands (the libraries in main usually have none).
check release-lists-universe-cnf grep -q " universe/cnf/Commands-amd64\$" "$release"
if [[ ",$ARCHS," == *,amd64v3,* ]]; then
    check release-lists-amd64v3 grep -q " universe/binary-amd64v3/Packages\$" "$release"
fi
# Every package command-not-found names is one the snapshot holds.
names() { awk -v f="$1:" '$1 == f { print $2 }' "$2" | sort -u; }
for comp in main universe; do
    commands="$PUBLIC/dists/$SUITE/$comp/cnf/Commands-amd64"
    names Package "$PUBLIC/dists/$SUITE/$comp/binary-amd64/Packages" > "$OUT/packages-$comp.names"
    if [ ! -e "$commands" ]; then
        echo "published $comp: $(wc -l < "$OUT/packages-$comp.names") packages in binary-amd64, no cnf/Commands-amd64" >> "$OUT/report.txt"
        check "release-omits-$comp-cnf" bash -c "! grep -q ' $comp/cnf/' '$release'"
        continue
    fi
    names name "$commands" > "$OUT/cnf-$comp.names"
    check "cnf-$comp-filtered" test -z "$(comm -23 "$OUT/cnf-$comp.names" "$OUT/packages-$comp.names")"
    echo "published $comp: $(wc -l < "$OUT/packages-$comp.names") packages in binary-amd64, $(wc -l < "$OUT/cnf-$comp.names") in cnf/Commands-amd64" >> "$OUT/report.txt"
done
check "cnf-names-$PACKAGE" grep -qx "name: $PACKAGE" "$PUBLIC/dists/$SUITE/universe/cnf/Commands-amd64"
echo "publication: $(du -sb "$PUBLIC" | cut -f1) bytes; dists/$SUITE: $(find "$PUBLIC/dists/$SUITE/" -type f | wc -l) files" >> "$OUT/report.txt"

# 3. An Ubuntu root (debootstrap once, cached), its apt pointed only at us.
cached="$CACHE/ubuntu-$SUITE"
if [ ! -e "$cached/.debvault-ready" ]; then
    rm -rf "$cached" "$cached.tmp"
    mkdir -p "$CACHE"
    # bookworm's debootstrap has no script for recent Ubuntu suites; theirs
    # are links to gutsy's.
    measure debootstrap debootstrap --variant=minbase --keyring="$KEYRING" \
        "$SUITE" "$cached.tmp" "$UBUNTU_URL" /usr/share/debootstrap/scripts/gutsy
    give_up_unless debootstrap
    chroot "$cached.tmp" apt-get clean
    touch "$cached.tmp/.debvault-ready"
    mv "$cached.tmp" "$cached"
fi
setup copy-root cp -a "$cached" "$WORK_ROOT"
rm -f "$WORK_ROOT/etc/apt/sources.list" "$WORK_ROOT"/etc/apt/sources.list.d/*
find "$WORK_ROOT/var/lib/apt/lists" -maxdepth 1 -type f -name '*_*' -delete
mkdir -p "$WORK_ROOT/etc/apt/keyrings"
cp "$OUT/debvault.gpg" "$WORK_ROOT/etc/apt/keyrings/debvault.gpg"
cat > "$WORK_ROOT/etc/apt/sources.list.d/debvault.sources" <<EOF
Types: deb
URIs: $URL/
Suites: $SUITE
Components: main universe
Signed-By: /etc/apt/keyrings/debvault.gpg
EOF
# What Ubuntu's command-not-found package tells apt (a minbase root lacks it).
cat > "$WORK_ROOT/etc/apt/apt.conf.d/50command-not-found" <<'EOF'
Acquire::IndexTargets::deb::CNF {
    MetaKey "$(COMPONENT)/cnf/Commands-$(NATIVE_ARCHITECTURE)";
    ShortDescription "Commands-$(NATIVE_ARCHITECTURE)";
    Description "$(RELEASE)/$(COMPONENT) $(NATIVE_ARCHITECTURE) c-n-f Metadata";
};
EOF
IN_ROOT=(chroot "$WORK_ROOT" env LC_ALL=C DEBIAN_FRONTEND=noninteractive)
in_root() { "${IN_ROOT[@]}" "$@"; }
measure apt-update "${IN_ROOT[@]}" apt-get update
measure apt-install "${IN_ROOT[@]}" apt-get install -y --no-install-recommends "$PACKAGE"
check apt-fetched-cnf grep -q "c-n-f Metadata" "$OUT/apt-update.log"
# The variant, as apt >= 3.1 is told about it: its indices and its build.
if [[ ",$ARCHS," == *,amd64v3,* ]]; then
    VARIANT=(-o APT::Architecture-Variants=amd64v3)
    in_root apt-get clean
    measure apt-update-v3 "${IN_ROOT[@]}" apt-get "${VARIANT[@]}" update
    measure apt-download-v3 "${IN_ROOT[@]}" apt-get "${VARIANT[@]}" \
        install -y --reinstall --download-only "$PACKAGE"
    check apt-fetched-amd64v3-index grep -q "universe amd64v3 Packages" "$OUT/apt-update-v3.log"
    check "apt-downloaded-$PACKAGE-amd64v3" compgen -G "$WORK_ROOT/var/cache/apt/archives/${PACKAGE}_*_amd64v3.deb"
fi
check "installed-$PACKAGE" test "$(in_root dpkg-query -W -f='${Status}' "$PACKAGE")" = "install ok installed"
{
    echo "ubuntu root: $(in_root sh -c '. /etc/os-release; echo "$PRETTY_NAME"'), apt $(in_root dpkg-query -W -f='${Version}' apt)"
    echo "--- apt-get update"
    cat "$OUT/apt-update.log"
    echo "--- apt-get install $PACKAGE"
    cat "$OUT/apt-install.log"
    if [ -e "$OUT/apt-update-v3.log" ]; then
        echo "--- apt-get -o APT::Architecture-Variants=amd64v3 update"
        cat "$OUT/apt-update-v3.log"
        echo "--- apt-get -o APT::Architecture-Variants=amd64v3 install --reinstall --download-only $PACKAGE"
        grep -E '^(Get|Fetched|Download)' "$OUT/apt-download-v3.log" || true
    fi
    echo "--- steps (name, wall seconds, peak RSS MB)"
    cat "$OUT/results"
} >> "$OUT/report.txt"

{
    echo "debvault ubuntu-real: $SUITE [main universe; $ARCHS] --filter $PACKAGE --with-deps ($PROFILE build; $(date -u))"
    cat "$OUT/report.txt"
} | tee "$OUT/report.txt.new"
mv "$OUT/report.txt.new" "$OUT/report.txt"
if [ "${#FAILED[@]}" -gt 0 ]; then
    echo "failed: ${FAILED[*]} (logs in $OUT)" >&2
    exit 1
fi
