#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use md5::Digest as _;

use super::index::join_records;
use super::*;
use crate::pgp::{Keyring, VerifyOptions, verify_clearsigned};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");

fn key(name: &str) -> SigningKey {
    SigningKey::load(
        &Path::new(TESTDATA).join(format!("keys/{name}.sec.asc")),
        None,
    )
    .unwrap()
}

fn keyring(name: &str) -> Keyring {
    Keyring::load(&[Path::new(TESTDATA).join(format!("keys/{name}.pub.asc"))]).unwrap()
}

fn meta() -> ReleaseMeta {
    ReleaseMeta {
        origin: Some("debvault test".into()),
        label: Some("Test".into()),
        suite: "stable".into(),
        codename: Some("bookworm".into()),
        version: Some("12.8".into()),
        description: Some("A test snapshot".into()),
        date: Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap(),
        valid_until: None,
        not_automatic: false,
        but_automatic_upgrades: false,
        snapshots: None,
        changelogs: None,
    }
}

/// main and contrib × amd64 and arm64; contrib/arm64 is empty.
fn inputs() -> Vec<IndexInput> {
    let mut out = Vec::new();
    for (c, component) in ["main", "contrib"].into_iter().enumerate() {
        for (a, arch) in ["amd64", "arm64"].into_iter().enumerate() {
            let n = if (c, a) == (1, 1) {
                0
            } else {
                300 / (1 + c + a)
            };
            out.push(IndexInput {
                component: component.into(),
                kind: IndexKind::Packages {
                    architecture: arch.into(),
                },
                stanzas: synth::stanzas(n, component, arch, (c * 2 + a) as u64 + 1),
            });
        }
    }
    out
}

fn opts(cache: Option<&Path>) -> RenderOptions {
    RenderOptions {
        xz_threads: 2,
        cache_dir: cache.map(Path::to_owned),
        ..RenderOptions::default()
    }
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unxz(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    liblzma::read::XzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Every regular file below `dir`, relative, `/`-separated.
fn files_below(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// Runs the real `gpgv` with binary keyring `keyring`; returns
/// (success, stderr).
fn gpgv(keyring: &Path, args: &[PathBuf]) -> (bool, String) {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("gpgv")
        .arg("--homedir")
        .arg(home.path())
        .arg("--keyring")
        .arg(keyring)
        .args(args)
        .output()
        .expect("gpgv is installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Two architectures whose packages are all `all` have the same Contents:
/// one by-hash file serves both, listed once.
#[test]
fn identical_indices_in_one_directory_share_their_by_hash_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dists/stable");
    let contents = vec!["usr/share/doc/data/README                  misc/data\n".to_owned()];
    let inputs: Vec<IndexInput> = ["arm64", "riscv64"]
        .into_iter()
        .map(|architecture| IndexInput {
            component: "main".into(),
            kind: IndexKind::Contents {
                architecture: architecture.into(),
                udeb: false,
            },
            stanzas: contents.clone(),
        })
        .collect();
    let tree = render_into(&dir, &inputs, &meta());
    verify_tree(&dir, &keyring("upstream")).unwrap();
    let listed: BTreeSet<&str> = tree.release.files.keys().map(String::as_str).collect();
    assert!(listed.contains("main/Contents-arm64.gz"), "{listed:?}");
    assert!(listed.contains("main/Contents-riscv64.gz"), "{listed:?}");
    let paths: Vec<&str> = tree.files.iter().map(|f| f.path.as_str()).collect();
    let unique: BTreeSet<&str> = paths.iter().copied().collect();
    assert_eq!(paths.len(), unique.len(), "{paths:?}");
}

fn render_into(dir: &Path, inputs: &[IndexInput], meta: &ReleaseMeta) -> RenderedTree {
    render(dir, inputs, meta, &[key("upstream")], &opts(None)).unwrap()
}

#[test]
fn renders_a_complete_verifiable_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dists/stable");
    let inputs = inputs();
    let tree = render_into(&dir, &inputs, &meta());
    verify_tree(&dir, &keyring("upstream")).unwrap();
    assert_eq!(tree.reused_indices, 0);

    // The Release lists Packages, .gz, .xz and Release of every index,
    // each with its real size, SHA256 and MD5.
    assert_eq!(tree.release.files.len(), 4 * inputs.len());
    for (rel, listed) in &tree.release.files {
        let data = std::fs::read(dir.join(rel)).unwrap();
        assert_eq!(listed.size, data.len() as u64, "{rel}");
        assert_eq!(listed.sha256, Some(Sha256::of(&data)), "{rel}");
        assert_eq!(
            listed.md5.as_deref(),
            Some(hex::encode(md5::Md5::digest(&data)).as_str()),
            "{rel}"
        );
    }
    // `files` is exactly what is on disk, with the right sums.
    let on_disk = files_below(&dir);
    let reported: BTreeSet<String> = tree.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(on_disk, reported);
    assert!(tree.files.is_sorted_by(|a, b| a.path < b.path));
    for f in &tree.files {
        let data = std::fs::read(dir.join(&f.path)).unwrap();
        assert_eq!((f.size, f.sha256), (data.len() as u64, Sha256::of(&data)));
    }
    // 4 listed + 3 by-hash per index, and Release, InRelease, Release.gpg.
    assert_eq!(tree.files.len(), 7 * inputs.len() + 3);

    for input in &inputs {
        let IndexKind::Packages { architecture } = &input.kind else {
            unreachable!()
        };
        let rel = format!("{}/binary-{architecture}", input.component);
        let plain = std::fs::read(dir.join(&rel).join("Packages")).unwrap();
        assert_eq!(plain, join_records(&input.stanzas, true));
        if input.stanzas.is_empty() {
            assert!(plain.is_empty());
        } else {
            assert!(plain.ends_with(b"\n\n") && !plain.ends_with(b"\n\n\n"));
        }
        let gz = std::fs::read(dir.join(&rel).join("Packages.gz")).unwrap();
        let xz = std::fs::read(dir.join(&rel).join("Packages.xz")).unwrap();
        assert_eq!(gunzip(&gz), plain, "{rel}");
        assert_eq!(unxz(&xz), plain, "{rel}");
        for data in [&plain, &gz, &xz] {
            let copy = dir
                .join(&rel)
                .join("by-hash/SHA256")
                .join(Sha256::of(data).to_hex());
            assert_eq!(&std::fs::read(copy).unwrap(), data, "{rel}");
        }
        let small = std::fs::read_to_string(dir.join(&rel).join("Release")).unwrap();
        assert_eq!(
            small,
            format!(
                "Archive: stable\nOrigin: debvault test\nLabel: Test\nVersion: 12.8\nAcquire-By-Hash: yes\nComponent: {}\nArchitecture: {architecture}\n",
                input.component
            )
        );
    }

    let text = std::fs::read_to_string(dir.join("Release")).unwrap();
    assert_eq!(text, tree.release.render());
    assert!(
        text.starts_with(
            "Origin: debvault test\nLabel: Test\nSuite: stable\nVersion: 12.8\nCodename: bookworm\nDate: Thu, 02 Jan 2025 03:04:05 UTC\nAcquire-By-Hash: yes\nArchitectures: amd64 arm64\nComponents: main contrib\nDescription: A test snapshot\nSigned-By: D1423AF9FECC2F757B336FB44DE39CC1FE2475F9\nMD5Sum:\n"
        ),
        "{text}"
    );
    assert_eq!(Release::parse(&text).unwrap(), tree.release);
    for forbidden in [
        "NotAutomatic",
        "ButAutomaticUpgrades",
        "Valid-Until",
        "Snapshots",
    ] {
        assert!(!text.contains(forbidden), "{text}");
    }

    // InRelease verifies and carries exactly the Release text.
    let inrelease = std::fs::read(dir.join("InRelease")).unwrap();
    let v =
        verify_clearsigned(&keyring("upstream"), &inrelease, &VerifyOptions::default()).unwrap();
    assert_eq!(v.text, text.as_bytes());
}

#[test]
fn gpgv_accepts_inrelease_and_release_gpg() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stable");
    render_into(&dir, &inputs(), &meta());
    let keyring = Path::new(TESTDATA).join("keys/upstream.pub.gpg");
    let (ok, err) = gpgv(&keyring, &[dir.join("InRelease")]);
    assert!(ok, "{err}");
    let (ok, err) = gpgv(&keyring, &[dir.join("Release.gpg"), dir.join("Release")]);
    assert!(ok, "{err}");

    // A tampered Release no longer matches Release.gpg.
    let release = dir.join("Release");
    let text = std::fs::read_to_string(&release).unwrap();
    std::fs::write(&release, text.replace("Suite: stable", "Suite: stabIe")).unwrap();
    let (ok, _) = gpgv(&keyring, &[dir.join("Release.gpg"), release]);
    assert!(!ok);
}

#[test]
fn two_keys_sign_and_are_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stable");
    let keys = [key("upstream"), key("rotated")];
    let tree = render(&dir, &inputs(), &meta(), &keys, &opts(None)).unwrap();
    assert_eq!(
        tree.release.signed_by.as_deref(),
        Some("D1423AF9FECC2F757B336FB44DE39CC1FE2475F9,DD59FACB69FD47FC075F74199E1DF9C541BA15E6")
    );
    // Either key alone is enough, as during a key rotation.
    verify_tree(&dir, &keyring("upstream")).unwrap();
    verify_tree(&dir, &keyring("rotated")).unwrap();
    let err = verify_tree(&dir, &keyring("wrong")).unwrap_err();
    assert!(matches!(err, TreeError::Signature { .. }), "{err}");
    assert!(err.to_string().contains("InRelease`"), "{err}");

    let both = tmp.path().join("both.gpg");
    let mut binary = keys[0].public_cert_binary().unwrap();
    binary.extend(keys[1].public_cert_binary().unwrap());
    std::fs::write(&both, binary).unwrap();
    let (ok, err) = gpgv(&both, &[dir.join("InRelease")]);
    assert!(ok, "{err}");
    let (ok, err) = gpgv(&both, &[dir.join("Release.gpg"), dir.join("Release")]);
    assert!(ok, "{err}");
}

#[test]
fn verify_tree_names_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let kr = keyring("upstream");
    let fresh = |name: &str| {
        let dir = tmp.path().join(name);
        render_into(&dir, &inputs(), &meta());
        dir
    };

    // One flipped byte in a Packages file.
    let dir = fresh("flip");
    let packages = dir.join("main/binary-amd64/Packages");
    let mut data = std::fs::read(&packages).unwrap();
    data[10] ^= 0x20;
    // Replace (not rewrite) it: the by-hash link keeps the good content.
    std::fs::remove_file(&packages).unwrap();
    std::fs::write(&packages, &data).unwrap();
    let err = verify_tree(&dir, &kr).unwrap_err();
    assert!(matches!(err, TreeError::Hash { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("/flip/main/binary-amd64/Packages` has SHA256"),
        "{err}"
    );

    // A truncated Packages.xz.
    let dir = fresh("short");
    let xz = dir.join("contrib/binary-amd64/Packages.xz");
    let data = std::fs::read(&xz).unwrap();
    std::fs::remove_file(&xz).unwrap();
    std::fs::write(&xz, &data[..data.len() - 1]).unwrap();
    let err = verify_tree(&dir, &kr).unwrap_err();
    let want = format!(
        "`{}` has {} bytes, the Release lists {}",
        xz.display(),
        data.len() - 1,
        data.len()
    );
    assert_eq!(err.to_string(), want);

    // A missing by-hash copy.
    let dir = fresh("byhash");
    let gz = std::fs::read(dir.join("main/binary-arm64/Packages.gz")).unwrap();
    let copy = dir
        .join("main/binary-arm64/by-hash/SHA256")
        .join(Sha256::of(&gz).to_hex());
    std::fs::remove_file(&copy).unwrap();
    let err = verify_tree(&dir, &kr).unwrap_err();
    assert!(
        matches!(&err, TreeError::Missing { path } if *path == copy),
        "{err}"
    );

    // A by-hash copy (not a link) with other content.
    std::fs::write(&copy, vec![0u8; gz.len()]).unwrap();
    let err = verify_tree(&dir, &kr).unwrap_err();
    assert!(
        matches!(&err, TreeError::Hash { path, .. } if *path == copy),
        "{err}"
    );

    // Release edited after signing.
    let dir = fresh("release");
    let release = dir.join("Release");
    let text = std::fs::read_to_string(&release).unwrap();
    std::fs::write(&release, text.replace("Label: Test", "Label: Tost")).unwrap();
    let err = verify_tree(&dir, &kr).unwrap_err();
    assert!(matches!(err, TreeError::ReleaseMismatch { .. }), "{err}");

    // Missing Release.gpg.
    let dir = fresh("nogpg");
    std::fs::remove_file(dir.join("Release.gpg")).unwrap();
    let err = verify_tree(&dir, &kr).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("Release.gpg` is listed in the Release but missing"),
        "{err}"
    );
}

#[test]
fn cache_reuses_compressed_indices() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let inputs = inputs();
    let keys = [key("upstream")];
    let first_dir = tmp.path().join("first");
    let first = render(&first_dir, &inputs, &meta(), &keys, &opts(Some(&cache))).unwrap();
    assert_eq!(first.reused_indices, 0);
    assert_eq!(
        files_below(&cache).len(),
        3 * inputs.len(),
        "plain, .gz and .xz of each index, no temporary files left"
    );

    let second_dir = tmp.path().join("second");
    let second = render(&second_dir, &inputs, &meta(), &keys, &opts(Some(&cache))).unwrap();
    assert_eq!(second.reused_indices, inputs.len() as u32);
    let inode = |dir: &std::path::Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(dir.join("main/binary-amd64/Packages"))
            .unwrap()
            .ino()
    };
    assert_eq!(
        inode(&first_dir),
        inode(&second_dir),
        "the plain index is shared"
    );
    verify_tree(&second_dir, &keyring("upstream")).unwrap();
    assert_eq!(second.release, first.release);
    let unsigned = |t: &RenderedTree| {
        t.files
            .iter()
            .filter(|f| f.path != "InRelease" && f.path != "Release.gpg")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(unsigned(&second), unsigned(&first));
    for f in unsigned(&first) {
        let a = std::fs::read(first_dir.join(&f.path)).unwrap();
        let b = std::fs::read(second_dir.join(&f.path)).unwrap();
        assert!(a == b, "{}", f.path);
    }
    // Files linked from the cache are as readable as freshly written ones
    // (a web server must serve them).
    let mode = |p: &str| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(second_dir.join(p))
            .unwrap()
            .permissions()
            .mode()
    };
    assert_eq!(
        mode("main/binary-amd64/Packages.xz"),
        mode("main/binary-amd64/Packages")
    );
    assert_eq!(
        mode("main/binary-amd64/Packages.gz"),
        mode("main/binary-amd64/Packages")
    );

    // One changed index is recompressed, the other three are reused.
    let mut changed = inputs.clone();
    changed[0].stanzas.pop();
    let third_dir = tmp.path().join("third");
    let third = render(&third_dir, &changed, &meta(), &keys, &opts(Some(&cache))).unwrap();
    assert_eq!(third.reused_indices, inputs.len() as u32 - 1);
    verify_tree(&third_dir, &keyring("upstream")).unwrap();
    assert_eq!(files_below(&cache).len(), 3 * inputs.len() + 3);
    let xz = std::fs::read(third_dir.join("main/binary-amd64/Packages.xz")).unwrap();
    assert_eq!(unxz(&xz), join_records(&changed[0].stanzas, true));

    // An unusable cache directory only costs the reuse.
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, b"").unwrap();
    let fourth_dir = tmp.path().join("fourth");
    let fourth = render(
        &fourth_dir,
        &inputs,
        &meta(),
        &keys,
        &opts(Some(&blocker.join("c"))),
    )
    .unwrap();
    assert_eq!(fourth.reused_indices, 0);
    verify_tree(&fourth_dir, &keyring("upstream")).unwrap();
}

#[test]
fn optional_release_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("experimental");
    let mut m = meta();
    m.valid_until = Some(m.date + Duration::days(7));
    m.not_automatic = true;
    m.but_automatic_upgrades = true;
    m.snapshots = Some("https://snapshots.example.org/archive/@SNAPSHOTID@/".into());
    m.origin = None;
    m.label = None;
    m.codename = None;
    m.version = None;
    m.description = None;
    let tree = render_into(&dir, &inputs(), &m);
    verify_tree(&dir, &keyring("upstream")).unwrap();
    let text = std::fs::read_to_string(dir.join("Release")).unwrap();
    assert!(
        text.starts_with(
            "Suite: stable\nDate: Thu, 02 Jan 2025 03:04:05 UTC\nValid-Until: Thu, 09 Jan 2025 03:04:05 UTC\nAcquire-By-Hash: yes\nArchitectures: amd64 arm64\nComponents: main contrib\nSigned-By: D1423AF9FECC2F757B336FB44DE39CC1FE2475F9\nNotAutomatic: yes\nButAutomaticUpgrades: yes\nSnapshots: https://snapshots.example.org/archive/@SNAPSHOTID@/\nMD5Sum:\n"
        ),
        "{text}"
    );
    assert_eq!(tree.release.valid_until, m.valid_until);
    let small = std::fs::read_to_string(dir.join("main/binary-amd64/Release")).unwrap();
    assert_eq!(
        small,
        "Archive: stable\nAcquire-By-Hash: yes\nComponent: main\nArchitecture: amd64\n"
    );
}

#[test]
fn only_empty_indices() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("empty");
    let inputs = [IndexInput {
        component: "main".into(),
        kind: IndexKind::Packages {
            architecture: "riscv64".into(),
        },
        stanzas: Vec::new(),
    }];
    let tree = render_into(&dir, &inputs, &meta());
    verify_tree(&dir, &keyring("upstream")).unwrap();
    let listed = tree.release.file("main/binary-riscv64/Packages").unwrap();
    assert_eq!(listed.size, 0);
    let rel = dir.join("main/binary-riscv64");
    assert!(gunzip(&std::fs::read(rel.join("Packages.gz")).unwrap()).is_empty());
    assert!(unxz(&std::fs::read(rel.join("Packages.xz")).unwrap()).is_empty());
}

/// Sources, Translation and Contents indices land where apt and apt-file
/// look for them, in the forms Debian writes, each listed and by-hash.
#[test]
fn renders_sources_translations_and_contents() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dists/stable");
    let source = "Package: hello\nVersion: 1.0-1\nDirectory: pool/main/h/hello\n".to_owned();
    let translation =
        "Package: hello\nDescription-md5: 0123\nDescription-en: hi\n long\n".to_owned();
    let contents = vec![
        "usr/bin/hello                                           devel/hello\n".to_owned(),
        "usr/share/doc/hello/copyright                           devel/hello\n".to_owned(),
    ];
    let inputs = [
        IndexInput::packages("main", "amd64", synth::stanzas(3, "main", "amd64", 1)),
        IndexInput {
            component: "main".into(),
            kind: IndexKind::Sources,
            stanzas: vec![source.clone()],
        },
        IndexInput {
            component: "main".into(),
            kind: IndexKind::Translation {
                language: "pt_BR".into(),
            },
            stanzas: vec![translation.clone()],
        },
        IndexInput {
            component: "main".into(),
            kind: IndexKind::Contents {
                architecture: "amd64".into(),
                udeb: false,
            },
            stanzas: contents.clone(),
        },
    ];
    let mut meta = meta();
    meta.changelogs = Some("http://h/pool/@CHANGEPATH@_changelog".into());
    let tree = render_into(&dir, &inputs, &meta);
    verify_tree(&dir, &keyring("upstream")).unwrap();

    assert_eq!(tree.release.architectures, ["amd64"]);
    assert_eq!(tree.release.components, ["main"]);
    let text = std::fs::read_to_string(dir.join("Release")).unwrap();
    assert!(text.contains("\nChangelogs: http://h/pool/@CHANGEPATH@_changelog\n"));
    let listed: BTreeSet<&str> = tree.release.files.keys().map(String::as_str).collect();
    for path in [
        "main/source/Sources",
        "main/source/Sources.gz",
        "main/source/Sources.xz",
        "main/source/Release",
        "main/i18n/Translation-pt_BR",
        "main/i18n/Translation-pt_BR.gz",
        "main/i18n/Translation-pt_BR.xz",
        // apt queues the Contents target only if the plain name is listed.
        "main/Contents-amd64",
        "main/Contents-amd64.gz",
    ] {
        assert!(listed.contains(path), "{path} not listed");
    }
    for path in ["main/i18n/Release", "main/Contents-amd64.xz"] {
        assert!(!listed.contains(path), "{path} listed");
        assert!(!dir.join(path).exists(), "{path} written");
    }
    let sources = std::fs::read_to_string(dir.join("main/source/Sources")).unwrap();
    assert_eq!(sources, format!("{source}\n"));
    let small = std::fs::read_to_string(dir.join("main/source/Release")).unwrap();
    assert!(
        small.ends_with("Component: main\nArchitecture: source\n"),
        "{small}"
    );
    let i18n = std::fs::read(dir.join("main/i18n/Translation-pt_BR.xz")).unwrap();
    assert_eq!(unxz(&i18n), format!("{translation}\n").into_bytes());
    let gz = std::fs::read(dir.join("main/Contents-amd64.gz")).unwrap();
    assert_eq!(gunzip(&gz), contents.concat().into_bytes());
    let by_hash = dir
        .join("main/by-hash/SHA256")
        .join(Sha256::of(&gz).to_hex());
    assert_eq!(std::fs::read(by_hash).unwrap(), gz);
    let by_hash = dir
        .join("main/i18n/by-hash/SHA256")
        .join(Sha256::of(&i18n).to_hex());
    assert_eq!(std::fs::read(by_hash).unwrap(), i18n);
}

#[test]
fn rejects_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = [key("upstream")];
    let try_render = |inputs: &[IndexInput], meta: &ReleaseMeta| {
        let dir = tempfile::tempdir_in(tmp.path()).unwrap();
        render(dir.path(), inputs, meta, &keys, &opts(None))
            .unwrap_err()
            .to_string()
    };
    let index = |component: &str, arch: &str, stanzas: &[&str]| IndexInput {
        component: component.into(),
        kind: IndexKind::Packages {
            architecture: arch.into(),
        },
        stanzas: stanzas.iter().map(|s| (*s).to_owned()).collect(),
    };
    let good = "Package: a\n";
    let cases = [
        (vec![index("", "amd64", &[])], "component `` is not valid"),
        (
            vec![index("main/../x", "amd64", &[])],
            "component `main/../x`",
        ),
        (vec![index("ma in", "amd64", &[])], "component `ma in`"),
        (vec![index("/main", "amd64", &[])], "component `/main`"),
        (
            vec![index("main", "AMD64", &[])],
            "architecture `AMD64` is not valid",
        ),
        (vec![index("main", "", &[])], "architecture ``"),
        (
            vec![index("main", "amd64", &[]), index("main", "amd64", &[good])],
            "index `main/binary-amd64/Packages` is given more than once",
        ),
        (
            vec![index("main", "amd64", &[good, "Package: b"])],
            "record 2 of `main/binary-amd64/Packages` does not end with a line break",
        ),
        (
            vec![index("main", "amd64", &["Package: b\n\nPackage: c\n"])],
            "record 1 of `main/binary-amd64/Packages` contains a blank line",
        ),
        (vec![index("main", "amd64", &[""])], "is empty"),
        (
            vec![IndexInput {
                component: "main".into(),
                kind: IndexKind::Translation {
                    language: "e n".into(),
                },
                stanzas: Vec::new(),
            }],
            "language `e n` is not valid",
        ),
        (
            vec![IndexInput {
                component: "main".into(),
                kind: IndexKind::Contents {
                    architecture: "amd64".into(),
                    udeb: true,
                },
                stanzas: vec!["usr/bin/a devel/a\nusr/bin/b devel/b\n".into()],
            }],
            "record 1 of `main/Contents-udeb-amd64` is not one non-empty line",
        ),
    ];
    for (inputs, want) in cases {
        let err = try_render(&inputs, &meta());
        assert!(err.contains(want), "{want}: {err}");
    }

    let ok = [index("main", "amd64", &[good])];
    let mut m = meta();
    m.origin = Some("two\nlines".into());
    assert!(try_render(&ok, &m).contains("field `Origin`: `two\nlines` contains a line break"));
    let mut m = meta();
    m.label = Some("trailing ".into());
    assert!(try_render(&ok, &m).contains("`Label`: `trailing ` has leading or trailing"));
    let mut m = meta();
    m.suite = "two words".into();
    assert!(try_render(&ok, &m).contains("`Suite`: `two words` contains whitespace"));
    let mut m = meta();
    m.valid_until = Some(m.date);
    assert!(try_render(&ok, &m).contains("`Valid-Until`"));

    let bad_preset = RenderOptions {
        xz_preset: 10,
        ..opts(None)
    };
    let err = render(&tmp.path().join("preset"), &ok, &meta(), &keys, &bad_preset).unwrap_err();
    assert!(
        err.to_string()
            .contains("xz encoder (preset 10, 2 threads)"),
        "{err}"
    );

    let dir = tmp.path().join("nokeys");
    let err = render(&dir, &ok, &meta(), &[], &opts(None)).unwrap_err();
    assert!(matches!(err, TreeError::NoSigningKeys));

    // The staging directory must be empty: nothing is overwritten.
    let dir = tmp.path().join("twice");
    render(&dir, &ok, &meta(), &keys, &opts(None)).unwrap();
    let err = render(&dir, &ok, &meta(), &keys, &opts(None)).unwrap_err();
    assert!(matches!(err, TreeError::Write { .. }), "{err}");
    assert!(
        err.to_string().contains("main/binary-amd64/Packages`"),
        "{err}"
    );
}

/// apt itself (`apt-get update` over `file:`) accepts the tree, fetching
/// the indices by hash (it skips the empty one); skipped where apt is not
/// installed.
#[test]
fn apt_get_update_accepts_the_tree() {
    if Command::new("apt-get").arg("--version").output().is_err() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut m = meta();
    m.date = Utc::now() - Duration::hours(1);
    m.valid_until = Some(Utc::now() + Duration::days(1));
    // Two keys: apt must parse the two-fingerprint `Signed-By` and accept
    // the signature of the one it trusts.
    let keys = [key("rotated"), key("upstream")];
    render(
        &root.join("repo/dists/stable"),
        &inputs(),
        &m,
        &keys,
        &opts(None),
    )
    .unwrap();

    for d in [
        "etc/sources.list.d",
        "etc/preferences.d",
        "etc/apt.conf.d",
        "state/lists/partial",
        "cache/archives/partial",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("state/status"), b"").unwrap();
    let keyring = Path::new(TESTDATA).join("keys/upstream.pub.gpg");
    std::fs::write(
        root.join("etc/sources.list"),
        format!(
            "deb [arch=amd64,arm64 signed-by={}] file:{} stable main contrib\n",
            keyring.display(),
            root.join("repo").display()
        ),
    )
    .unwrap();
    let out = Command::new("apt-get")
        .arg("update")
        .arg("-o")
        .arg(format!("Dir::Etc={}", root.join("etc").display()))
        .arg("-o")
        .arg(format!("Dir::State={}", root.join("state").display()))
        .arg("-o")
        .arg(format!(
            "Dir::State::status={}",
            root.join("state/status").display()
        ))
        .arg("-o")
        .arg(format!("Dir::Cache={}", root.join("cache").display()))
        .args(["-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root"])
        .args([
            "-o",
            "Acquire::Languages=none",
            "-o",
            "APT::Architecture=amd64",
        ])
        .args(["-o", "Debug::pkgAcquire::Worker=1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let all = format!("{stdout}\n{stderr}");
    assert!(out.status.success(), "{all}");
    assert!(
        !all.lines()
            .any(|l| l.starts_with("W:") || l.starts_with("E:")),
        "{all}"
    );
    for index in [
        "main/binary-amd64",
        "main/binary-arm64",
        "contrib/binary-amd64",
    ] {
        assert!(
            all.contains(&format!("/dists/stable/{index}/by-hash/SHA256/")),
            "{all}"
        );
    }
    let lists = files_below(&root.join("state/lists"));
    let packages = lists.iter().filter(|f| f.contains("_Packages")).count();
    assert_eq!(packages, 3, "{lists:?}");
}

/// CPU seconds (user + system) this process used so far, from
/// `/proc/self/stat` (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Times a first publish of 60,000 packages in one index, a verification
/// and a cached re-publish (wall and CPU time). Run with
/// `cargo test --release tree::tests::timing -- --ignored --nocapture`;
/// `XZ_PRESET=n` overrides the preset, `TREE_PACKAGES=file` uses a real
/// Packages file instead of synthetic stanzas.
#[test]
#[ignore = "timing; run explicitly"]
fn timing_60k() {
    let stanzas = match std::env::var("TREE_PACKAGES") {
        Ok(path) => std::fs::read_to_string(path)
            .unwrap()
            .split_terminator("\n\n")
            .map(|s| format!("{s}\n"))
            .collect(),
        Err(_) => synth::stanzas(60_000, "main", "amd64", 7),
    };
    let count = stanzas.len();
    let inputs = [IndexInput {
        component: "main".into(),
        kind: IndexKind::Packages {
            architecture: "amd64".into(),
        },
        stanzas,
    }];
    let size: usize = join_records(&inputs[0].stanzas, true).len();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let keys = [key("upstream")];
    let o = RenderOptions {
        cache_dir: Some(cache),
        xz_preset: std::env::var("XZ_PRESET")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_XZ_PRESET),
        ..RenderOptions::default()
    };
    let timed = |f: &mut dyn FnMut()| {
        let (start, cpu) = (Instant::now(), cpu_seconds());
        f();
        format!(
            "{:.3} s (CPU {:.2} s)",
            start.elapsed().as_secs_f64(),
            cpu_seconds() - cpu
        )
    };
    let mut tree = None;
    let first = timed(&mut || {
        tree = Some(render(&tmp.path().join("a"), &inputs, &meta(), &keys, &o).unwrap());
    });
    let verify = timed(&mut || verify_tree(&tmp.path().join("a"), &keyring("upstream")).unwrap());
    let cached = timed(&mut || {
        let again = render(&tmp.path().join("b"), &inputs, &meta(), &keys, &o).unwrap();
        assert_eq!(again.reused_indices, 1);
    });
    let tree = tree.unwrap();
    let sz = |p: &str| tree.release.file(p).unwrap().size;
    println!(
        "{count} stanzas, Packages {size} B, .gz {} B, .xz {} B (xz preset {}):\n  render {first}\n  verify_tree {verify}\n  cached re-render {cached}",
        sz("main/binary-amd64/Packages.gz"),
        sz("main/binary-amd64/Packages.xz"),
        o.xz_preset,
    );
}
