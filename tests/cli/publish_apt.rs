//! Publications as real clients see them: the real `apt-get`, `gpgv` and
//! plain HTTP against `debvault serve` on 127.0.0.1.
//!
//! Covered:
//! - `apt-get update` + `install --download-only` from a served publication,
//!   with a one-line `sources.list` and with a deb822 `.sources` file (both
//!   forms the README shows); the downloaded `.deb`s (the app, its library
//!   and an `all` package) are the fixture's bytes; apt also takes a Release
//!   with `Valid-Until`, `Origin` and `Label`;
//! - apt refuses a publication whose `Packages` indices (plain names and
//!   by-hash copies) were replaced behind its back: by their size, and, when
//!   the replacements have the exact sizes, by their hash;
//! - apt refuses a publication signed by a key other than its `signed-by=`;
//! - `gpgv` accepts `InRelease` and `Release` + `Release.gpg` with the
//!   exported binary keyring, and rejects tampered copies;
//! - switching a distribution between two snapshots while a client fetches
//!   `InRelease` and then by-hash indices never shows it a mismatch;
//! - the `Snapshots` field and `snapshots/<id>/` URLs (`apt --snapshot`,
//!   itself run only with apt >= 2.7).
//!
//! apt runs with a private configuration (`APT_CONFIG` pointing at a file of
//! our own with every `Dir::` in the test's temp dir, so the machine's
//! `/etc/apt` is never read), no root needed and no locks taken. A missing
//! `apt-get` or `gpgv` fails the tests: `.ci/run` installs them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use debvault::digest::Sha256;

use crate::support::apt::{Apt, Serve, Sources, apt_version, http_get};
use crate::support::{Output, Pkg, Repo, TestEnv};

/// Snapshot `a`: an app, its library dependency, an `all` package it
/// depends on, and a package with a `Pre-Depends`.
fn packages_a() -> Vec<Pkg> {
    vec![
        Pkg::new("app", "1.0-1").depends("libfoo (>= 1.2), base-files"),
        Pkg::new("libfoo", "1.3-1"),
        Pkg::new("base-files", "12").arch("all"),
        Pkg::new("tool", "0.9").pre_depends("base-files"),
    ]
}

/// Snapshot `b`: libfoo upgraded, tool gone, fresh added.
fn packages_b() -> Vec<Pkg> {
    vec![
        Pkg::new("app", "1.0-1").depends("libfoo (>= 1.2), base-files"),
        Pkg::new("libfoo", "1.4-1"),
        Pkg::new("base-files", "12").arch("all"),
        Pkg::new("fresh", "0.1"),
    ]
}

/// A mirror `m` of [`packages_a`] with snapshot `a`, a signing key, and the
/// key exported (binary) to `<tmp>/debvault.gpg`. With `with_b`, upstream
/// then moves to [`packages_b`] and snapshot `b` is taken too.
fn setup(with_b: bool) -> (TestEnv, PathBuf) {
    setup_in(TestEnv::new(), with_b)
}

/// [`setup`] in a given world (one in S3, say).
fn setup_in(env: TestEnv, with_b: bool) -> (TestEnv, PathBuf) {
    let mut repo = Repo::new(packages_a());
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    if with_b {
        repo.packages = packages_b();
        repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
        env.publish_upstream(&repo);
        // tool leaving is a quarter of this small mirror: past the mass-removal guard.
        env.ok(&["mirror", "sync", "m", "--allow-mass-removal"]);
        env.ok(&["snapshot", "create", "b", "--from-mirror", "m"]);
    }
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let keyring = env.dir.path().join("debvault.gpg");
    export_key(&env, &keyring);
    (env, keyring)
}

/// `key export -o FILE` (binary, for `signed-by=` and `gpgv --keyring`).
fn export_key(env: &TestEnv, to: &Path) {
    env.ok(&["key", "export", "-o", &to.display().to_string()]);
    let data = std::fs::read(to).expect("read exported key");
    assert!(
        !data.is_empty() && !data.starts_with(b"-----BEGIN"),
        "`key export` is not a binary keyring"
    );
}

/// Publishes `snapshot` as `stable` (plus `extra` flags); returns the tree id.
fn publish(env: &TestEnv, snapshot: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "--json",
        "snapshot",
        "publish",
        snapshot,
        "--distribution",
        "stable",
    ];
    args.extend_from_slice(extra);
    let out = env.ok(&args);
    let report: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("publish --json: {e}\n{}", out.transcript()));
    assert_eq!(report["outcome"], "published", "{}", out.transcript());
    report["tree"]
        .as_str()
        .unwrap_or_else(|| panic!("no tree id in {}", out.stdout))
        .to_owned()
}

/// `<root>/public/dists/stable`.
fn dist_dir(env: &TestEnv) -> PathBuf {
    env.root().join("public/dists/stable")
}

/// The `.deb` file names apt saves `names` of `pkgs` under, with their SHA256.
fn debs(pkgs: &[Pkg], names: &[&str]) -> BTreeMap<String, Sha256> {
    names
        .iter()
        .map(|name| {
            let p = find(pkgs, name);
            (
                format!("{}_{}_{}.deb", p.name, p.version, p.arch),
                p.sha256(),
            )
        })
        .collect()
}

fn find(pkgs: &[Pkg], name: &str) -> Pkg {
    pkgs.iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no fixture package `{name}`"))
        .clone()
}

// --- Release parsing --------------------------------------------------------

/// The `SHA256:` list of a (clearsigned or plain) Release: path → (hex, size).
fn sha256_list(release: &str) -> BTreeMap<String, (String, u64)> {
    let mut out = BTreeMap::new();
    let mut inside = false;
    for line in release.lines() {
        if !line.starts_with(' ') {
            inside = line.trim_end() == "SHA256:";
            continue;
        }
        if !inside {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [hex, size, path] = parts[..] {
            let size = size.parse().expect("size in Release");
            out.insert(path.to_owned(), (hex.to_owned(), size));
        }
    }
    out
}

const INDEX_DIR: &str = "main/binary-amd64";

/// The `main/binary-amd64/Packages{,.gz,.xz}` entries of a Release.
fn packages_entries(release: &str) -> Vec<(String, String, u64)> {
    let entries: Vec<_> = sha256_list(release)
        .into_iter()
        .filter(|(path, _)| {
            path.strip_prefix(INDEX_DIR)
                .and_then(|rest| rest.strip_prefix("/Packages"))
                .is_some_and(|ext| ["", ".gz", ".xz"].contains(&ext))
        })
        .map(|(path, (hex, size))| (path, hex, size))
        .collect();
    assert_eq!(entries.len(), 3, "Packages entries in Release:\n{release}");
    entries
}

// --- tests ------------------------------------------------------------------

#[test]
fn apt_get_update_and_download() {
    let (env, keyring) = setup(false);
    publish(&env, "a", &[]);
    let serve = Serve::start(&env);
    let expected = debs(&packages_a(), &["app", "libfoo", "base-files"]);

    for (form, sources, release_flags) in [
        ("one-line", Sources::OneLine, &[][..]),
        // Re-published with more Release fields: apt must take those too.
        (
            "deb822",
            Sources::Deb822,
            &[
                "--set",
                "--valid-for",
                "7d",
                "--origin",
                "Example",
                "--label",
                "Example-Label",
            ][..],
        ),
    ] {
        if !release_flags.is_empty() {
            publish(&env, "a", release_flags);
        }
        let apt = Apt::new(
            env.dir.path().join(format!("apt-{form}")),
            &serve.url(),
            &keyring,
            sources,
        );
        let out = apt.ok(&["update"]);
        assert!(
            out.stdout.contains(&format!(
                "Get:1 {} stable InRelease",
                serve.url().trim_end_matches('/')
            )),
            "{form}: apt did not fetch InRelease:\n{}",
            out.transcript()
        );
        apt.ok(&["install", "--download-only", "-y", "app"]);
        assert_eq!(apt.archives(), expected, "{form}: downloaded .debs");
        if !release_flags.is_empty() {
            let out = apt.tool("apt-cache", &["policy"]);
            assert!(
                out.code == 0
                    && out
                        .stdout
                        .contains("o=Example,a=stable,n=stable,l=Example-Label"),
                "{form}: Release fields as apt sees them:\n{}",
                out.transcript()
            );
        }
    }
}

/// The same client path with the blob store and the publish endpoint in S3
/// (the test run's SeaweedFS): the data root holds neither blobs nor trees,
/// `serve` streams from the bucket, a re-publish costs at most 5 requests,
/// and a switch reaches apt.
#[test]
fn apt_get_from_a_publication_in_s3() {
    let (env, keyring) = setup_in(TestEnv::new_s3(), true);
    publish(&env, "a", &[]);
    for local in ["blobs", "public"] {
        let files = crate::support::tree(&env.root().join(local));
        assert!(files.is_empty(), "{local}/ in the data root: {files:?}");
    }
    let serve = Serve::start(&env);
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &keyring,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "app"]);
    let mut expected = debs(&packages_a(), &["app", "libfoo", "base-files"]);
    assert_eq!(apt.archives(), expected, "downloaded .debs");

    let again = env.ok(&[
        "--json",
        "snapshot",
        "publish",
        "a",
        "--distribution",
        "stable",
    ]);
    let v: serde_json::Value = serde_json::from_str(&again.stdout).expect("json");
    assert_eq!(v["outcome"], "unchanged", "{}", again.transcript());
    let requests = v["s3_requests"].as_u64().expect("s3_requests");
    assert!(requests <= 5, "a no-op publish made {requests} S3 requests");

    // Within the second of `a`'s switch and of apt's fetch of its (then
    // undated) InRelease: the publish waits for the next second to upload.
    publish(&env, "b", &[]);
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "libfoo"]);
    expected.extend(debs(&packages_b(), &["libfoo"]));
    assert_eq!(apt.archives(), expected, "after the switch to `b`");
}

/// A well-formed `Packages` (compressed like `name`) that lists only a
/// package `evil`. With `size`, a description filler makes it exactly that
/// many bytes, so apt's size check cannot tell it from the real one.
fn evil_index(name: &str, size: Option<u64>) -> Vec<u8> {
    let stanza = "Package: evil\nVersion: 6.6.6\nArchitecture: amd64\n\
                  Maintainer: X <x@example.invalid>\n\
                  Filename: pool/main/e/evil/evil_6.6.6_amd64.deb\nSize: 1\nSHA256: \
                  0000000000000000000000000000000000000000000000000000000000000000\n\
                  Description: evil\n";
    // Pseudo-random hex compresses about 2:1, so the compressed size grows
    // in small steps with the filler's length (xz sizes are multiples of 4,
    // as is the target's).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let stream: String = (0..8192)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            char::from(b"0123456789abcdef"[(x >> 60) as usize])
        })
        .collect();
    let encode = |n: usize| {
        let text = format!("{stanza} {}\n", &stream[..n]);
        match name {
            "Packages.gz" => crate::support::fixture::gzip(text.as_bytes()),
            "Packages.xz" => crate::support::fixture::xz(text.as_bytes()),
            _ => text.into_bytes(),
        }
    };
    let Some(size) = size else {
        return encode(0);
    };
    // The longest filler still well below the size, then count up.
    let (mut lo, mut hi) = (0, stream.len());
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if (encode(mid).len() as u64) + 16 < size {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo..(lo + 256).min(stream.len()))
        .map(encode)
        .find(|data| data.len() as u64 == size)
        .unwrap_or_else(|| panic!("cannot make a {name} of exactly {size} bytes"))
}

/// Replaces the published `Packages`, `.gz`, `.xz` and their by-hash copies
/// by [`evil_index`]es (of the original sizes with `same_size`).
fn corrupt_indices(env: &TestEnv, same_size: bool) {
    let index_dir = dist_dir(env).join(INDEX_DIR);
    let release = std::fs::read_to_string(dist_dir(env).join("Release")).expect("read Release");
    for (path, hex, size) in &packages_entries(&release) {
        let name = path.rsplit('/').next().expect("file name");
        let data = evil_index(name, same_size.then_some(*size));
        assert_ne!(&Sha256::of(&data).to_hex(), hex);
        assert_eq!(data.len() as u64 == *size, same_size, "{name}");
        for target in [
            index_dir.join(name),
            index_dir.join("by-hash/SHA256").join(hex),
        ] {
            // A new file renamed over the name: the files the original was
            // hardlinked with (its twin, the index cache) stay intact.
            let tmp = target.with_file_name(".corrupt.tmp");
            std::fs::write(&tmp, &data).expect("write corrupt index");
            std::fs::rename(&tmp, &target).expect("rename corrupt index");
        }
    }
}

#[test]
fn apt_refuses_corrupted_packages() {
    let (env, keyring) = setup(false);
    publish(&env, "a", &[]);
    let serve = Serve::start(&env);
    // apt 2.6 fetches one compressed index (by hash, the best compression
    // the Release lists), checks its size, then its hashes, and on failure
    // exits 100 without trying the other compressions or the plain names.
    for (same_size, error) in [
        (false, "File has unexpected size"),
        (true, "Hash Sum mismatch"),
    ] {
        corrupt_indices(&env, same_size);
        let apt = Apt::new(
            env.dir.path().join(format!("apt-{same_size}")),
            &serve.url(),
            &keyring,
            Sources::OneLine,
        );
        let out = apt.run(&["update"]);
        assert_eq!(
            out.code,
            100,
            "apt-get update accepted corrupt indices:\n{}",
            out.transcript()
        );
        let failed = format!(
            "E: Failed to fetch {}dists/stable/{INDEX_DIR}/by-hash/SHA256/",
            serve.url()
        );
        assert!(
            out.stderr.contains(&failed)
                && out.stderr.contains(error)
                && out
                    .stderr
                    .contains("E: Some index files failed to download"),
            "expected `{error}` for a by-hash index:\n{}",
            out.transcript()
        );
        assert!(
            !apt.lists().contains("evil"),
            "apt stored a corrupt index:\n{}",
            apt.lists()
        );
        let out = apt.run(&["install", "--download-only", "-y", "evil"]);
        assert_eq!(out.code, 100, "{}", out.transcript());
        assert!(
            out.stderr.contains("Unable to locate package evil"),
            "{}",
            out.transcript()
        );
    }
}

#[test]
fn apt_refuses_wrong_key() {
    let (env, _keyring) = setup(false);
    publish(&env, "a", &[]);
    let other = TestEnv::new();
    other.ok(&["key", "generate", "--email", "other@example.invalid"]);
    let wrong = env.dir.path().join("other.gpg");
    export_key(&other, &wrong);

    let serve = Serve::start(&env);
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &wrong,
        Sources::OneLine,
    );
    let out = apt.run(&["update"]);
    assert_eq!(
        out.code,
        100,
        "apt-get update trusted the wrong key:\n{}",
        out.transcript()
    );
    assert!(
        out.stderr.contains("NO_PUBKEY") && out.stderr.contains("is not signed"),
        "{}",
        out.transcript()
    );
    assert!(
        apt.lists().is_empty(),
        "apt stored indices:\n{}",
        apt.lists()
    );
}

/// `gpgv --keyring KEYRING ARGS` with a private home: exit code and output.
fn gpgv(home: &Path, keyring: &Path, args: &[&Path]) -> Output {
    std::fs::create_dir_all(home).expect("mkdir gpg home");
    let out = Command::new("gpgv")
        .arg("--homedir")
        .arg(home)
        .arg("--keyring")
        .arg(keyring)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("run `gpgv` (is gpgv installed?): {e}"));
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn gpgv_accepts_inrelease_and_release_gpg() {
    let (env, keyring) = setup(false);
    publish(&env, "a", &[]);
    let dist = dist_dir(&env);
    let home = env.dir.path().join("gnupg");
    let (inrelease, release, sig) = (
        dist.join("InRelease"),
        dist.join("Release"),
        dist.join("Release.gpg"),
    );

    let out = gpgv(&home, &keyring, &[&inrelease]);
    assert_eq!(out.code, 0, "gpgv InRelease:\n{}", out.transcript());
    assert!(
        out.stderr.contains("Good signature"),
        "{}",
        out.transcript()
    );
    let out = gpgv(&home, &keyring, &[&sig, &release]);
    assert_eq!(
        out.code,
        0,
        "gpgv Release.gpg Release:\n{}",
        out.transcript()
    );
    assert!(
        out.stderr.contains("Good signature"),
        "{}",
        out.transcript()
    );

    let text = std::fs::read_to_string(&release).expect("read Release");
    assert!(text.contains("Suite: stable\n"), "{text}");
    let tampered = env.dir.path().join("Release.tampered");
    std::fs::write(
        &tampered,
        text.replace("Suite: stable\n", "Suite: stabl3\n"),
    )
    .expect("write");
    let out = gpgv(&home, &keyring, &[&sig, &tampered]);
    assert_ne!(
        out.code,
        0,
        "gpgv accepted a tampered Release:\n{}",
        out.transcript()
    );
    assert!(out.stderr.contains("BAD signature"), "{}", out.transcript());

    let text = std::fs::read_to_string(&inrelease).expect("read InRelease");
    let tampered = env.dir.path().join("InRelease.tampered");
    std::fs::write(
        &tampered,
        text.replace("Suite: stable\n", "Suite: stabl3\n"),
    )
    .expect("write");
    let out = gpgv(&home, &keyring, &[&tampered]);
    assert_ne!(
        out.code,
        0,
        "gpgv accepted a tampered InRelease:\n{}",
        out.transcript()
    );
    assert!(out.stderr.contains("BAD signature"), "{}", out.transcript());
}

/// What the switching client saw.
#[derive(Default, Debug)]
struct ClientStats {
    rounds: u32,
    /// By-hash files missing or not matching the InRelease just read.
    by_hash_failures: Vec<String>,
    /// Plain `Packages.xz` not matching the InRelease just read.
    plain_races: u32,
    /// SHA256 of the plain `Packages` of each Release seen.
    releases_seen: BTreeSet<String>,
}

/// One apt-like round: `InRelease`, then every listed `Packages*` by hash,
/// then the plain `Packages.xz`.
fn client_round(addr: &str, stats: &mut ClientStats) {
    let (status, body) = http_get(addr, "/dists/stable/InRelease");
    if status != 200 {
        stats
            .by_hash_failures
            .push(format!("InRelease answered {status}"));
        return;
    }
    let release = String::from_utf8_lossy(&body).into_owned();
    for (path, hex, size) in packages_entries(&release) {
        if path == format!("{INDEX_DIR}/Packages") {
            stats.releases_seen.insert(hex.clone());
        }
        let url = format!("/dists/stable/{INDEX_DIR}/by-hash/SHA256/{hex}");
        let (status, body) = http_get(addr, &url);
        let got = Sha256::of(&body).to_hex();
        if status != 200 || body.len() as u64 != size || got != hex {
            stats.by_hash_failures.push(format!(
                "{url}: status {status}, {} bytes (want {size}), sha256 {got}",
                body.len()
            ));
        }
        if path.ends_with(".xz") {
            let (status, body) = http_get(addr, &format!("/dists/stable/{path}"));
            if status != 200 || Sha256::of(&body).to_hex() != hex {
                stats.plain_races += 1;
            }
        }
    }
    stats.rounds += 1;
}

#[test]
fn switch_is_atomic_for_clients() {
    let (env, _keyring) = setup(true);
    publish(&env, "a", &[]);
    let serve = Serve::start(&env);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (stats, switches) = std::thread::scope(|s| {
        let addr = serve.addr.as_str();
        let stop = &stop;
        let client = s.spawn(move || {
            let mut stats = ClientStats::default();
            // At least a few rounds after the last switch, and a bound on time.
            while (!stop.load(Ordering::Relaxed) || stats.rounds < 20)
                && started.elapsed() < Duration::from_secs(8)
            {
                client_round(addr, &mut stats);
            }
            stats
        });
        let mut switches = 0;
        for snapshot in ["b", "a", "b", "a", "b", "a"] {
            publish(&env, snapshot, &[]);
            switches += 1;
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, Ordering::Relaxed);
        (client.join().expect("client thread"), switches)
    });
    assert!(
        stats.by_hash_failures.is_empty(),
        "{} by-hash mismatches in {} rounds over {switches} switches:\n{}",
        stats.by_hash_failures.len(),
        stats.rounds,
        stats.by_hash_failures.join("\n")
    );
    assert_eq!(
        stats.releases_seen.len(),
        2,
        "the client should have seen both snapshots' indices: {stats:?}"
    );
    // The plain `Packages.xz` name may legitimately race with a switch (the
    // InRelease read before it may belong to the previous tree); apt only
    // falls back to plain names when by-hash fails, so these are not errors.
    eprintln!(
        "{} client rounds over {switches} switches; {} plain-name races (allowed)",
        stats.rounds, stats.plain_races
    );
}

/// The real client in a loop: `apt-get update` runs again and again while
/// the distribution switches between two snapshots; not one run fails or
/// warns (apt fetches indices by hash, and replaced trees' by-hash files
/// stay), and the runs see both snapshots.
#[test]
fn apt_get_update_loop_during_switches() {
    let (env, keyring) = setup(true);
    publish(&env, "a", &[]);
    let serve = Serve::start(&env);
    let apt = Apt::new(
        env.dir.path().join("apt-loop"),
        &serve.url(),
        &keyring,
        Sources::OneLine,
    );
    // A run before the switches sees a, one after them sees b; what the
    // runs in between see depends on timing: they only must never fail.
    apt.ok(&["update"]);
    assert!(!apt.lists().contains("Version: 1.4-1"), "starts on a");
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let runs = std::thread::scope(|s| {
        let (apt, stop) = (&apt, &stop);
        let client = s.spawn(move || {
            let mut runs = 0;
            while (!stop.load(Ordering::Relaxed) || runs < 3)
                && started.elapsed() < Duration::from_secs(60)
            {
                let out = apt.run(&["update"]);
                assert!(
                    out.code == 0 && !out.stderr.contains("W:") && !out.stderr.contains("E:"),
                    "apt-get update run {runs} during switches:\n{}",
                    out.transcript()
                );
                runs += 1;
            }
            runs
        });
        for snapshot in ["b", "a", "b", "a", "b", "a", "b"] {
            publish(&env, snapshot, &[]);
            std::thread::sleep(Duration::from_millis(150));
        }
        stop.store(true, Ordering::Relaxed);
        client.join().expect("apt loop")
    });
    assert!(runs >= 3, "only {runs} apt-get update runs in a minute");
    apt.ok(&["update"]);
    assert!(apt.lists().contains("Version: 1.4-1"), "ends on b");
}

#[test]
fn apt_snapshot_field() {
    let (env, keyring) = setup(true);
    // Bound first: the publication needs the URL, and serve reads the tree
    // on each request.
    let serve = Serve::start(&env);
    let url = serve.url();
    let tree_a = publish(&env, "a", &["--snapshots-url", &url]);
    let current_a = serve.get_ok("/dists/stable/InRelease");
    let text = String::from_utf8_lossy(&current_a).into_owned();
    assert!(
        text.contains(&format!("\nSnapshots: {url}snapshots/@SNAPSHOTID@/\n")),
        "{text}"
    );
    assert_eq!(
        serve.get_ok(&format!("/snapshots/{tree_a}/dists/stable/InRelease")),
        current_a
    );
    let deb = find(&packages_a(), "tool");
    assert_eq!(
        Sha256::of(&serve.get_ok(&format!("/snapshots/{tree_a}/{}", deb.pool_path()))),
        deb.sha256(),
        "pool file through the snapshot URL"
    );

    let apt = Apt::new(env.dir.path().join("apt"), &url, &keyring, Sources::OneLine);
    apt.ok(&["update"]);
    assert!(apt.lists().contains("Package: tool\n"));

    // A snapshot id has one-second resolution and names the newest tree of
    // that second: publish B in a later second, or A's id would name B.
    let a_time = debvault::tree::layout::parse_tree_id(&tree_a).expect("tree id");
    while chrono::Utc::now() < a_time + chrono::Duration::seconds(1) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let tree_b = publish(&env, "b", &["--snapshots-url", &url]);
    assert_ne!(tree_a, tree_b);
    let current_b = serve.get_ok("/dists/stable/InRelease");
    assert_ne!(current_a, current_b);
    assert_eq!(
        serve.get_ok(&format!("/snapshots/{tree_a}/dists/stable/InRelease")),
        current_a,
        "A's snapshot id must still give A's InRelease"
    );
    assert_eq!(
        serve.get_ok(&format!("/snapshots/{tree_b}/dists/stable/InRelease")),
        current_b
    );
    assert_eq!(
        serve.get_ok("/snapshots/29991231T235959Z/dists/stable/InRelease"),
        current_b,
        "a later id names the newest tree"
    );
    let (status, _) = serve.get("/snapshots/20000101T000000Z/dists/stable/InRelease");
    assert_eq!(status, 404, "an id before the first publication");

    let (major, minor) = apt_version();
    if (major, minor) >= (2, 7) {
        // apt reads the Snapshots template from the Release it has.
        apt.ok(&["update"]);
        assert!(apt.lists().contains("Package: fresh\n"));
        apt.ok(&["update", "--snapshot", &tree_a]);
        let lists = apt.lists();
        assert!(
            lists.contains("Package: tool\n") && !lists.contains("Package: fresh\n"),
            "apt --snapshot {tree_a} should see snapshot A:\n{lists}"
        );
    } else {
        // `apt-get update --snapshot` arrived in apt 2.7; this apt is
        // older (Debian 12 ships 2.6.1), so only the URLs are checked.
        eprintln!("apt {major}.{minor} has no `--snapshot`; skipped that part");
    }
}

/// The Debian root the `apt --snapshot` test runs apt from (apt >= 2.7;
/// `.ci/run` builds it and exports `DEBVAULT_TEST_TRIXIE_ROOT`). Unset on a
/// developer machine: the test says why it skips; in CI a missing root
/// fails.
fn trixie_root() -> Option<PathBuf> {
    match std::env::var_os("DEBVAULT_TEST_TRIXIE_ROOT") {
        Some(root) => {
            let root = PathBuf::from(root);
            assert!(
                root.join("usr/bin/apt-get").is_file(),
                "DEBVAULT_TEST_TRIXIE_ROOT `{}` holds no apt",
                root.display()
            );
            Some(root)
        }
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true but DEBVAULT_TEST_TRIXIE_ROOT is unset: `.ci/run` builds the trixie root"
            )
        }
        None => {
            eprintln!(
                "skipped: DEBVAULT_TEST_TRIXIE_ROOT is unset (a Debian trixie root, as `.ci/trixie-apt.sh` builds, runs apt >= 2.7)"
            );
            None
        }
    }
}

/// `apt update --snapshot` against a publication did not work: apt ignores
/// `Snapshots:` in a Release with neither `Origin` nor `Label`, and the
/// template lacked its trailing slash. Run with a real apt >= 2.7 (trixie's,
/// in a chroot): A's tree id gives A's packages, a plain update B's.
#[test]
fn apt_update_snapshot_with_apt_2_7() {
    let Some(root) = trixie_root() else { return };
    let (env, keyring) = setup(true);
    let serve = Serve::start(&env);
    let url = serve.url();
    let tree_a = publish(&env, "a", &["--snapshots-url", &url]);
    let a_time = debvault::tree::layout::parse_tree_id(&tree_a).expect("tree id");
    while chrono::Utc::now() < a_time + chrono::Duration::seconds(1) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The settings stick: B is published with A's snapshots URL.
    publish(&env, "b", &[]);

    let apt = Apt::in_chroot(&root, &url, &keyring, Sources::Deb822);
    let version = apt.tool("apt-get", &["--version"]);
    assert!(
        version.stdout.starts_with("apt 3.") || version.stdout.starts_with("apt 2.7"),
        "the chroot's apt: {}",
        version.transcript()
    );
    // apt reads the `Snapshots` template from the Release it already has.
    apt.ok(&["update"]);
    assert!(apt.lists().contains("Package: fresh\n"), "B first");
    let out = apt.ok(&["update", "--snapshot", &tree_a]);
    let lists = apt.lists_of(&format!("_snapshots_{tree_a}_"));
    assert!(
        lists.contains("Package: tool\n")
            && lists.contains("Version: 1.3-1\n")
            && !lists.contains("Package: fresh\n"),
        "apt --snapshot {tree_a} should see snapshot A:\n{}\n{lists}",
        out.transcript()
    );
    let out = apt.ok(&["update"]);
    let lists = apt.lists();
    assert!(
        lists.contains("Package: fresh\n")
            && lists.contains("Version: 1.4-1\n")
            && !lists.contains("Package: tool\n"),
        "a plain update sees B:\n{lists}\n{}",
        out.transcript()
    );
}

/// The curation scenario end to end: upstream silently replaces a `.deb`
/// under the same version → sync exits 4 and freezes it → a new snapshot
/// still carries the old bytes → apt installs the old one from the
/// publication → `status` shows it frozen → `audit` shows the event →
/// `unfreeze --accept-new`, and the next sync takes the new content.
#[test]
fn frozen_package_serves_the_known_good_copy_until_accepted() {
    let (env, keyring) = setup(false);
    let good = find(&packages_a(), "libfoo");
    let rebuilt = good.clone().salt("silently rebuilt upstream");
    let mut repo = Repo::new(
        packages_a()
            .into_iter()
            .map(|p| {
                if p.name == "libfoo" {
                    rebuilt.clone()
                } else {
                    p
                }
            })
            .collect(),
    );
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    let out = env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 4, "{}", out.transcript());
    assert!(
        out.stdout.contains("frozen libfoo_1.3-1_amd64"),
        "{}",
        out.stdout
    );

    env.ok(&["snapshot", "create", "after", "--from-mirror", "m"]);
    publish(&env, "after", &[]);
    let serve = Serve::start(&env);
    let apt = Apt::new(
        env.dir.path().join("apt-frozen"),
        &serve.url(),
        &keyring,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "libfoo"]);
    assert_eq!(
        apt.archives().get("libfoo_1.3-1_amd64.deb"),
        Some(&good.sha256()),
        "apt got the known-good bytes"
    );

    let out = env.run(&["--json", "status", "--check"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    let st: serde_json::Value = serde_json::from_str(&out.stdout).expect("status json");
    assert_eq!(st["mirrors"][0]["frozen"], 1, "{st}");
    let audit: serde_json::Value =
        serde_json::from_str(&env.ok(&["--json", "audit"]).stdout).expect("audit json");
    let freeze = audit
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["action"] == "freeze")
        .unwrap_or_else(|| panic!("no freeze in {audit}"));
    assert_eq!(freeze["subject"], "mirror `m` package `libfoo_1.3-1_amd64`");
    assert_eq!(
        freeze["detail"]["upstream_sha256"],
        rebuilt.sha256().to_string()
    );

    env.ok(&[
        "unfreeze",
        "m",
        "libfoo",
        "--reason",
        "rebuild verified with upstream",
        "--accept-new",
    ]);
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(10);
    env.publish_upstream(&repo);
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(
        out.stdout.contains("1 new") && out.stdout.contains("0 frozen"),
        "{}",
        out.stdout
    );
    env.ok(&["snapshot", "create", "accepted", "--from-mirror", "m"]);
    std::thread::sleep(Duration::from_millis(1100));
    publish(&env, "accepted", &[]);
    let apt2 = Apt::new(
        env.dir.path().join("apt-accepted"),
        &serve.url(),
        &keyring,
        Sources::OneLine,
    );
    apt2.ok(&["update"]);
    apt2.ok(&["install", "--download-only", "-y", "libfoo"]);
    assert_eq!(
        apt2.archives().get("libfoo_1.3-1_amd64.deb"),
        Some(&rebuilt.sha256())
    );
    env.ok(&["status", "--check"]);
}

/// Issue 23: two snapshots published as the components of one distribution
/// (aptly's `-component=main,internal`): one Release lists both, apt
/// installs from each, the component map is a setting that sticks, and a
/// snapshot serving a component cannot be dropped.
#[test]
fn issue_23_snapshots_as_components_of_one_distribution() {
    let (env, keyring) = setup(true);
    // Usage errors: counts that differ, a repeated name, a bad name.
    for (args, why) in [
        (
            &["a", "b", "--component", "main"][..],
            "2 snapshots, 1 component",
        ),
        (
            &["a", "b", "--component", "main,main"][..],
            "repeated component",
        ),
        (
            &["a", "--component", "main,internal"][..],
            "1 snapshot, 2 components",
        ),
        (
            &["a", "b", "--component", "main,../x"][..],
            "bad component name",
        ),
        (&["a", "b"][..], "2 snapshots, no `--component`"),
    ] {
        let mut full = vec!["snapshot", "publish", "--distribution", "stable"];
        full.extend_from_slice(args);
        let out = env.run(&full);
        assert_eq!(out.code, 2, "{why}:\n{}", out.transcript());
        assert!(
            out.stderr.contains("component"),
            "{why}:\n{}",
            out.transcript()
        );
    }

    // `a` serves `main`, `b` serves `internal`, whatever their own components.
    publish(&env, "a", &["b", "--component", "main,internal"]);
    let release = std::fs::read_to_string(dist_dir(&env).join("Release")).expect("Release");
    assert!(
        release.contains("\nComponents: internal main\n"),
        "Release components:\n{release}"
    );
    let listed = sha256_list(&release);
    for index in [
        "main/binary-amd64/Packages",
        "internal/binary-amd64/Packages",
    ] {
        assert!(
            listed.contains_key(index),
            "{index} not in Release:\n{release}"
        );
    }
    assert!(
        std::fs::read_dir(env.root().join("public/pool/internal/f/fresh")).is_ok(),
        "the pool path names the component"
    );

    // apt installs from each component: `tool` is only in `a`, `fresh` only in `b`.
    let serve = Serve::start(&env);
    let apt_dir = env.dir.path().join("apt");
    let apt = Apt::new(apt_dir.clone(), &serve.url(), &keyring, Sources::OneLine);
    std::fs::write(
        apt_dir.join("etc/sources.list"),
        format!(
            "deb [signed-by={}] {} stable main internal\n",
            keyring.display(),
            serve.url()
        ),
    )
    .expect("write sources.list");
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "tool", "fresh"]);
    let mut expected = debs(&packages_a(), &["tool", "base-files"]);
    expected.extend(debs(&packages_b(), &["fresh"]));
    assert_eq!(apt.archives(), expected, "downloaded .debs");

    // `publish show` and `list` name each component's snapshot.
    let want = serde_json::json!([
        {"component": "main", "snapshot": "a"},
        {"component": "internal", "snapshot": "b"},
    ]);
    let show = crate::support::json(&env.ok(&["--json", "publish", "show", "stable"]));
    assert_eq!(show["components"], want, "{show}");
    let list = crate::support::json(&env.ok(&["--json", "publish", "list"]));
    assert_eq!(list[0]["components"], want, "{list}");
    let text = env.ok(&["publish", "show", "stable"]).stdout;
    assert!(text.contains("main=a, internal=b"), "{text}");

    // Neither snapshot can be dropped while it serves a component.
    for snap in ["a", "b"] {
        let out = env.run(&["snapshot", "drop", snap]);
        assert_eq!(out.code, 1, "drop `{snap}`:\n{}", out.transcript());
        assert!(out.stderr.contains("dists/stable"), "{}", out.transcript());
    }

    // The same publish again is a no-op; another component set needs `--set`.
    let out = env.ok(&[
        "--json",
        "snapshot",
        "publish",
        "a",
        "b",
        "--component",
        "main,internal",
        "--distribution",
        "stable",
    ]);
    assert_eq!(crate::support::json(&out)["outcome"], "unchanged");
    for args in [&["a", "b", "--component", "main,extra"][..], &["a"][..]] {
        let mut full = vec!["snapshot", "publish", "--distribution", "stable"];
        full.extend_from_slice(args);
        let out = env.run(&full);
        assert_eq!(out.code, 2, "{args:?}:\n{}", out.transcript());
        assert!(
            out.stderr.contains("components `main,internal`"),
            "{args:?}:\n{}",
            out.transcript()
        );
    }
    // Switching which snapshot serves a component is a plain re-publish.
    std::thread::sleep(Duration::from_millis(1100));
    publish(&env, "b", &["a", "--component", "main,internal"]);
    let show = crate::support::json(&env.ok(&["--json", "publish", "show", "stable"]));
    assert_eq!(show["components"][0]["snapshot"], "b", "{show}");
    std::thread::sleep(Duration::from_millis(1100));
    publish(&env, "a", &["b", "--component", "main,extra", "--set"]);

    // gc keeps what every component uses.
    env.ok(&["gc", "--grace", "0s"]);
    let apt2_dir = env.dir.path().join("apt2");
    let apt2 = Apt::new(apt2_dir.clone(), &serve.url(), &keyring, Sources::OneLine);
    std::fs::write(
        apt2_dir.join("etc/sources.list"),
        format!(
            "deb [signed-by={}] {} stable main extra\n",
            keyring.display(),
            serve.url()
        ),
    )
    .expect("write sources.list");
    apt2.ok(&["update"]);
    apt2.ok(&["install", "--download-only", "-y", "tool", "fresh"]);
    assert_eq!(apt2.archives(), expected, "downloaded .debs after gc");
}

/// Issue 23 in a bucket: `gc` keeps the pool objects of every component of
/// a publication of several snapshots, not only the first snapshot's.
#[test]
fn issue_23_gc_in_a_bucket_keeps_every_component() {
    let (env, _keyring) = setup_in(TestEnv::new_s3(), true);
    let bucket = env.s3.as_ref().expect("an S3 world").bucket();
    publish(&env, "a", &["b", "--component", "main,internal"]);
    let before = bucket.keys("public/pool");
    for dir in ["internal/f/fresh/", "main/t/tool/"] {
        assert!(
            before.iter().any(|k| k.starts_with(dir)),
            "{dir} in {before:?}"
        );
    }
    env.ok(&["gc", "--grace", "0s"]);
    assert_eq!(bucket.keys("public/pool"), before, "pool objects after gc");
}
