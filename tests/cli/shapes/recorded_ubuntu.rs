//! Ubuntu's real `InRelease` (`testdata/ubuntu/resolute.InRelease`),
//! verified with Ubuntu's real archive keyring (Debian's `ubuntu-keyring`
//! package, which `.ci/trixie-apt.sh` installs into the trixie root and
//! `.ci/run` exports as `DEBVAULT_TEST_UBUNTU_KEYRING`).
//!
//! The indices are not recorded, so a sync passes the signature and the
//! Release parsing and then fails on the first index it asks for; the
//! server's log shows which files it asked for.

use std::path::Path;
use std::process::Command;

use crate::support::fixture::testdata;
use crate::support::shapes::ubuntu_keyring;
use crate::support::{Output, TestEnv};

/// The recorded file, byte for byte.
fn recorded() -> Vec<u8> {
    std::fs::read(testdata().join("ubuntu/resolute.InRelease")).expect("read recorded InRelease")
}

/// Serves `data` as `ubuntu/dists/resolute/InRelease`; returns the archive URL.
fn serve_inrelease(env: &TestEnv, data: &[u8]) -> String {
    let dists = env.upstream().join("ubuntu/dists/resolute");
    std::fs::create_dir_all(&dists).expect("mkdir dists");
    std::fs::write(dists.join("InRelease"), data).expect("write InRelease");
    format!("{}/ubuntu", env.url())
}

fn gpgv(env: &TestEnv, keyring: &Path, file: &Path) -> Output {
    let home = env.dir.path().join("gnupg");
    std::fs::create_dir_all(&home).expect("mkdir gpg home");
    let out = Command::new("gpgv")
        .arg("--homedir")
        .arg(&home)
        .arg("--keyring")
        .arg(keyring)
        .arg(file)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("run `gpgv` (is gpgv installed?): {e}"));
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `mirror create NAME URL resolute COMPONENTS… --arch ARCHS --keyring K`.
fn create(env: &TestEnv, name: &str, url: &str, components: &[&str], archs: &str, key: &Path) {
    let key = key.display().to_string();
    let mut args = vec!["mirror", "create", name, url, "resolute"];
    args.extend_from_slice(components);
    args.extend_from_slice(&["--arch", archs, "--keyring", &key]);
    env.ok(&args);
}

/// The SHA256 the recorded Release gives for `rel` (below `dists/resolute/`).
fn listed_sha256(release: &str, rel: &str) -> Option<String> {
    let section = release.split("\nSHA256:\n").nth(1)?;
    section
        .lines()
        .take_while(|l| l.starts_with(' '))
        .find_map(|l| {
            let mut f = l.split_whitespace();
            let (sha, _size, name) = (f.next()?, f.next()?, f.next()?);
            (name == rel).then(|| sha.to_owned())
        })
}

/// The paths below `dists/resolute/` the server was asked for, in order.
fn asked(env: &TestEnv) -> Vec<String> {
    env.server
        .requests()
        .into_iter()
        .map(|r| {
            r.path
                .strip_prefix("/ubuntu/dists/resolute/")
                .unwrap_or_else(|| panic!("a request outside the suite: {}", r.path))
                .to_owned()
        })
        .collect()
}

/// The recorded file is real test data: the real gpgv verifies it with the
/// real keyring (Ubuntu's 2018 archive key), and refuses a copy with one
/// byte changed.
#[test]
fn the_recorded_ubuntu_inrelease_verifies_with_gpgv() {
    let Some(keyring) = ubuntu_keyring() else {
        return;
    };
    let env = TestEnv::new();
    let path = testdata().join("ubuntu/resolute.InRelease");
    let out = gpgv(&env, &keyring, &path);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("using RSA key F6ECB3762474EDA9D21B7022871920D1991BC93C"),
        "{}",
        out.transcript()
    );
    let tampered = env.dir.path().join("InRelease");
    std::fs::write(&tampered, tamper(&recorded())).expect("write copy");
    let out = gpgv(&env, &keyring, &tampered);
    assert_ne!(out.code, 0, "{}", out.transcript());
    assert!(out.stderr.contains("BAD signature"), "{}", out.transcript());
}

/// One byte of the signed text changed (the `Version` in `Description`).
fn tamper(data: &[u8]) -> Vec<u8> {
    let from = b"Description: Ubuntu Resolute 26.04\n";
    let pos = data
        .windows(from.len())
        .position(|w| w == from)
        .expect("the recorded Description");
    let mut out = data.to_vec();
    out[pos + from.len() - 2] = b'5';
    out
}

/// A sync of main and universe for `amd64` and its variant `amd64v3`
/// accepts the signature and the Release (MD5Sum, SHA1 and SHA256 over
/// eight architectures, `Acquire-By-Hash`), then asks for the first index
/// by the hash the Release gives for its `.xz`, falls back to its name, and
/// fails naming it. A mirror of universe for `amd64v3` alone asks for the
/// variant's own index the same way. Nothing else is asked for: no other
/// architecture or component, no index the Release does not list.
#[test]
fn a_sync_of_the_recorded_ubuntu_release_verifies_and_asks_for_listed_indices() {
    let Some(keyring) = ubuntu_keyring() else {
        return;
    };
    let env = TestEnv::new();
    let data = recorded();
    let release = String::from_utf8(data.clone()).expect("InRelease is UTF-8");
    let url = serve_inrelease(&env, &data);

    for (name, components, archs, first) in [
        (
            "u",
            &["main", "universe"][..],
            "amd64,amd64v3",
            "main/binary-amd64/Packages.xz",
        ),
        (
            "v3",
            &["universe"][..],
            "amd64v3",
            "universe/binary-amd64v3/Packages.xz",
        ),
    ] {
        create(&env, name, &url, components, archs, &keyring);
        env.server.clear_requests();
        let out = env.run(&["mirror", "sync", name]);
        assert_eq!(out.code, 1, "{}", out.transcript());
        assert!(
            out.stderr.contains(&format!("cannot fetch `{first}`")),
            "{}",
            out.transcript()
        );
        assert!(!out.stderr.contains("signature"), "{}", out.transcript());

        let sha = listed_sha256(&release, first).expect("the index is listed");
        let dir = first.rsplit_once('/').expect("a directory").0;
        assert_eq!(
            asked(&env),
            [
                "InRelease".to_owned(),
                format!("{dir}/by-hash/SHA256/{sha}"),
                first.to_owned(),
            ],
            "{}",
            out.transcript()
        );
    }
}

/// A variant the Release does not list (`amd64v2`) is refused before any
/// index is asked for, naming the index it would need.
#[test]
fn a_variant_the_recorded_ubuntu_release_does_not_list_is_refused() {
    let Some(keyring) = ubuntu_keyring() else {
        return;
    };
    let env = TestEnv::new();
    let url = serve_inrelease(&env, &recorded());
    create(&env, "v2", &url, &["main"], "amd64,amd64v2", &keyring);
    env.server.clear_requests();
    let out = env.run(&["mirror", "sync", "v2"]);
    assert_ne!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stderr.contains("`main/binary-amd64v2/Packages`"),
        "{}",
        out.transcript()
    );
    assert_eq!(asked(&env), ["InRelease"], "{}", out.transcript());
}

/// One byte changed in the signed text: debvault's own verification
/// refuses the file as a bad signature (exit 3), naming it, and asks for
/// nothing more.
#[test]
fn a_tampered_copy_of_the_recorded_ubuntu_inrelease_is_a_bad_signature() {
    let Some(keyring) = ubuntu_keyring() else {
        return;
    };
    let env = TestEnv::new();
    let url = serve_inrelease(&env, &tamper(&recorded()));
    create(&env, "u", &url, &["main"], "amd64", &keyring);
    env.server.clear_requests();
    let out = env.run(&["mirror", "sync", "u"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    let named = format!("signature of `{url}/dists/resolute/InRelease` does not verify");
    assert!(out.stderr.contains(&named), "{}", out.transcript());
    assert!(out.stderr.contains("bad signature"), "{}", out.transcript());
    assert_eq!(asked(&env), ["InRelease"], "{}", out.transcript());
}
