//! The Debian installer's packages (issue 19, `mirror create --with-udebs`):
//! udebs come from `<component>/debian-installer/binary-<arch>/Packages`,
//! the filter and its dependency closure run over them apart from the
//! .debs, snapshots carry them through merge and filter, and a publication
//! lists them in its own installer index (in the signed Release, by hash)
//! with a `Contents-udeb-<arch>.gz`. A real apt reads these indices only
//! through special configuration, so the tests read the published tree.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::io::Read as _;
use std::path::Path;

use debvault::debian::release::Release;
use debvault::digest::Sha256;

use crate::support::udebs::{publish_with_udebs, udeb};
use crate::support::{Pkg, Repo, TestEnv, json};

/// .debs: `curl` needs `libc6`; `di-utils` 9.0 is a .deb named like a udeb
/// (newer), which must never satisfy a udeb.
fn debs() -> Vec<Pkg> {
    vec![
        Pkg::new("curl", "7.88").depends("libc6"),
        Pkg::new("libc6", "2.36"),
        Pkg::new("di-utils", "9.0"),
    ]
}

/// udebs: `anna` needs `di-utils` (the udeb) and `libc6-udeb`;
/// `cdebconf-udeb` is not asked for.
fn udebs() -> Vec<Pkg> {
    vec![
        udeb("anna", "1.87").depends("di-utils, libc6-udeb"),
        udeb("di-utils", "1.148").depends("libc6-udeb"),
        udeb("libc6-udeb", "2.36"),
        udeb("cdebconf-udeb", "0.270"),
    ]
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = v["package_list"]
        .as_array()
        .unwrap_or_else(|| panic!("no package_list in {v}"))
        .iter()
        .map(|p| p["package"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

/// `name_version_arch` of a snapshot's packages (listed as `component name version arch`).
fn snapshot_packages(env: &TestEnv, name: &str) -> Vec<String> {
    let v = json(&env.ok(&["--json", "snapshot", "show", name, "--with-packages"]));
    let mut keys: Vec<String> = v["package_list"]
        .as_array()
        .unwrap_or_else(|| panic!("no package_list in {v}"))
        .iter()
        .map(|p| {
            let f: Vec<&str> = p.as_str().unwrap().split(' ').collect();
            f[1..].join("_")
        })
        .collect();
    keys.sort();
    keys
}

/// The `Package` and `Filename` of each stanza of an index.
fn listed(index: &str) -> Vec<(String, String)> {
    debvault::debian::parse_str(index)
        .unwrap()
        .iter()
        .map(|s| {
            let get = |k: &str| s.get(k).unwrap_or_else(|| panic!("no {k}")).to_owned();
            (get("Package"), get("Filename"))
        })
        .collect()
}

fn gunzip(path: &Path) -> String {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&data[..])
        .read_to_string(&mut text)
        .expect("gunzip");
    text
}

/// Checks the publication of `stable`: its installer index lists exactly
/// `want` (udebs, by name) with `.udeb` pool files holding the fixture's
/// bytes, its `Packages` lists none of them, the Release lists each form of
/// the installer index with its hash, and `Contents-udeb-amd64.gz` lists
/// the udebs' files.
fn check_published(env: &TestEnv, want: &[&str], debs_want: &[&str]) {
    let public = env.root().join("public");
    let dist = public.join("dists/stable");
    let index_rel = "main/debian-installer/binary-amd64/Packages";
    let text = std::fs::read_to_string(dist.join(index_rel)).unwrap();
    let got = listed(&text);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, want, "{text}");
    let fixtures = udebs();
    for (name, filename) in &got {
        assert!(filename.ends_with(".udeb"), "{filename}");
        let fixture = fixtures.iter().find(|p| p.name == *name).unwrap();
        let bytes = std::fs::read(public.join(filename)).unwrap();
        assert!(bytes == fixture.deb(), "pool file `{filename}` differs");
    }
    let packages = std::fs::read_to_string(dist.join("main/binary-amd64/Packages")).unwrap();
    let deb_names: Vec<String> = listed(&packages).into_iter().map(|(n, _)| n).collect();
    assert_eq!(deb_names, debs_want, "{packages}");
    let release = Release::parse(&std::fs::read_to_string(dist.join("Release")).unwrap()).unwrap();
    for form in ["", ".gz", ".xz"] {
        let rel = format!("{index_rel}{form}");
        let file = release
            .files
            .get(&rel)
            .unwrap_or_else(|| panic!("the Release lists no `{rel}`"));
        let data = std::fs::read(dist.join(&rel)).unwrap();
        assert_eq!(file.sha256, Some(Sha256::of(&data)), "{rel}");
        assert_eq!(file.size, data.len() as u64, "{rel}");
        let by_hash = dist.join(format!(
            "main/debian-installer/binary-amd64/by-hash/SHA256/{}",
            Sha256::of(&data)
        ));
        assert!(by_hash.exists(), "no by-hash copy of `{rel}`");
    }
    let contents = gunzip(&dist.join("main/Contents-udeb-amd64.gz"));
    for name in want {
        let line = format!("usr/share/doc/{name}/README");
        assert!(
            contents.contains(&format!("{line:<55} debian-installer/{name}\n")),
            "{contents}"
        );
    }
    let debs_contents = gunzip(&dist.join("main/Contents-amd64.gz"));
    assert!(
        !debs_contents.contains("debian-installer/"),
        "{debs_contents}"
    );
    assert!(release.files.contains_key("main/Contents-udeb-amd64.gz"));
}

#[test]
fn udebs_close_among_themselves_and_publish_in_their_own_index() {
    let env = TestEnv::new();
    publish_with_udebs(&env, &Repo::new(debs()), &udebs());
    env.create_mirror(
        "m",
        &["--with-udebs", "--filter", "curl | anna", "--with-deps"],
    );
    let show = env.ok(&["mirror", "show", "m"]);
    assert!(
        show.stdout.contains("udebs:         yes"),
        "{}",
        show.transcript()
    );
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(
        !out.stderr.contains("not satisfiable"),
        "{}",
        out.transcript()
    );
    let mirror = keys(&json(&env.ok(&[
        "--json",
        "mirror",
        "show",
        "m",
        "--with-packages",
    ])));
    assert_eq!(
        mirror,
        [
            "anna_1.87_amd64",
            "curl_7.88_amd64",
            "di-utils_1.148_amd64",
            "libc6-udeb_2.36_amd64",
            "libc6_2.36_amd64",
        ],
        "the udeb `di-utils`, not the newer .deb"
    );
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
    check_published(
        &env,
        &["anna", "di-utils", "libc6-udeb"],
        &["curl", "libc6"],
    );
    let v = json(&env.ok(&["--json", "verify"]));
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(0), "{v}");
}

#[test]
fn a_mirror_without_udebs_fetches_no_installer_index() {
    let env = TestEnv::new();
    publish_with_udebs(&env, &Repo::new(debs()), &udebs());
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    let got = keys(&json(&env.ok(&[
        "--json",
        "mirror",
        "show",
        "m",
        "--with-packages",
    ])));
    assert_eq!(
        got,
        ["curl_7.88_amd64", "di-utils_9.0_amd64", "libc6_2.36_amd64"]
    );
    // Turned on later: the next sync adds them.
    env.ok(&["mirror", "edit", "m", "--with-udebs"]);
    env.ok(&["mirror", "sync", "m"]);
    let got = keys(&json(&env.ok(&[
        "--json",
        "mirror",
        "show",
        "m",
        "--with-packages",
    ])));
    assert_eq!(got.len(), 7, "{got:?}");
}

#[test]
fn snapshots_with_udebs_filter_merge_publish_and_survive_gc() {
    let env = TestEnv::new();
    publish_with_udebs(&env, &Repo::new(debs()), &udebs());
    env.create_mirror("m", &["--with-udebs"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "all", "--from-mirror", "m"]);
    assert_eq!(snapshot_packages(&env, "all").len(), 7);
    // The .deb `di-utils` 9.0 is in the snapshot, newer: the filter's
    // closure still takes the udeb.
    env.ok(&["snapshot", "filter", "inst", "all", "anna", "--with-deps"]);
    assert_eq!(
        snapshot_packages(&env, "inst"),
        [
            "anna_1.87_amd64",
            "di-utils_1.148_amd64",
            "libc6-udeb_2.36_amd64"
        ]
    );
    env.ok(&["snapshot", "filter", "net", "all", "curl", "--with-deps"]);
    env.ok(&["snapshot", "merge", "both", "inst", "net"]);
    let diff = env.ok(&["snapshot", "diff", "all", "both"]);
    assert!(
        diff.stdout.contains("cdebconf-udeb"),
        "{}",
        diff.transcript()
    );
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "both", "--distribution", "stable"]);
    // Nothing but the published snapshot keeps the udebs' blobs now.
    for s in ["all", "inst", "net"] {
        env.ok(&["snapshot", "drop", s]);
    }
    env.ok(&["mirror", "drop", "m"]);
    env.ok(&["gc", "--grace", "0s"]);
    check_published(
        &env,
        &["anna", "di-utils", "libc6-udeb"],
        &["curl", "libc6"],
    );
    let v = json(&env.ok(&["--json", "verify"]));
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(0), "{v}");
}

#[test]
fn no_contents_writes_no_contents_udeb_either() {
    let env = TestEnv::new();
    publish_with_udebs(&env, &Repo::new(debs()), &udebs());
    env.create_mirror("m", &["--with-udebs"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let publish = ["snapshot", "publish", "a", "--distribution", "stable"];
    env.ok(&[&publish[..], &["--no-contents"]].concat());
    let dist = env.root().join("public/dists/stable");
    assert!(
        dist.join("main/debian-installer/binary-amd64/Packages.xz")
            .exists()
    );
    let release = std::fs::read_to_string(dist.join("Release")).unwrap();
    assert!(!release.contains("Contents-udeb"), "{release}");
    assert!(!dist.join("main/Contents-udeb-amd64.gz").exists());
}
