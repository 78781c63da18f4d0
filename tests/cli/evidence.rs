//! Evidence for review (issue 22): the changelog between two versions with
//! its CVE IDs in `staged list|report` and `snapshot diff`, SBOMs of
//! snapshots, offline advisories.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use crate::support::fixture::gzip;
use crate::support::{Pkg, Repo, TestEnv, json};

const HELLO_OLD: &str = "\
hello (2.10-1) unstable; urgency=low

  * Initial upload.

 -- Test <test@example.invalid>  Mon, 01 Jan 2024 00:00:00 +0000
";

fn hello_new_log() -> String {
    format!(
        "\
hello (2.10-3) unstable; urgency=high

  * Fix a heap overflow in the greeting (CVE-2024-11111).

 -- Test <test@example.invalid>  Mon, 01 Apr 2024 00:00:00 +0000

hello (2.10-2) unstable; urgency=medium

  * Fix a format string bug (CVE-2024-2222).

 -- Test <test@example.invalid>  Mon, 01 Mar 2024 00:00:00 +0000

{HELLO_OLD}"
    )
}

/// `pkg` carrying `log` as its changelog.Debian.gz.
fn with_log(mut pkg: Pkg, log: &str) -> Pkg {
    let path = format!("./usr/share/doc/{}/changelog.Debian.gz", pkg.name);
    pkg.data.push((path, gzip(log.as_bytes())));
    pkg
}

fn repo_old() -> Repo {
    Repo::new(vec![
        with_log(Pkg::new("hello", "2.10-1"), HELLO_OLD),
        Pkg::new("tool", "0.9"),
    ])
}

/// hello upgraded over two uploads naming two CVEs, newpkg new, tool the same.
fn repo_new() -> Repo {
    let mut r = Repo::new(vec![
        with_log(Pkg::new("hello", "2.10-3"), &hello_new_log()),
        Pkg::new("tool", "0.9"),
        Pkg::new("newpkg", "2.0"),
    ]);
    r.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    r
}

/// Mirror `m` in review mode with the old repository promoted and
/// snapshotted as `a`, the new one synced and staged.
fn staged_env() -> TestEnv {
    let env = TestEnv::new();
    env.publish_upstream(&repo_old());
    env.create_mirror("m", &["--review"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["promote", "m", "--all", "--reason", "initial import"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.publish_upstream(&repo_new());
    env.ok(&["mirror", "sync", "m"]);
    env
}

#[test]
fn changelog_between_versions_names_both_cves() {
    let env = staged_env();
    let out = env.ok(&["staged", "report", "--changelog"]);
    for needle in [
        "CVE-2024-11111",
        "CVE-2024-2222",
        "urgency high",
        "hello (2.10-2) unstable; urgency=medium",
        "new package",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.stdout);
    }
    assert!(
        !out.stdout.contains("Initial upload"),
        "the old version's entry is not new: {}",
        out.stdout
    );

    let items = json(&env.ok(&["--json", "staged", "list", "--changelog"]));
    let hello = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "hello")
        .unwrap();
    let log = &hello["changelog"];
    assert_eq!(log["kind"], "upgrade");
    assert_eq!(log["urgency"], "high");
    assert_eq!(
        log["cves"],
        serde_json::json!(["CVE-2024-11111", "CVE-2024-2222"])
    );
    assert_eq!(log["entries"].as_array().unwrap().len(), 2);
    assert_eq!(log["entries"][0]["version"], "2.10-3");

    env.ok(&["promote", "m", "--all", "--reason", "reviewed"]);
    env.ok(&["snapshot", "create", "b", "--from-mirror", "m"]);
    let out = env.ok(&["snapshot", "diff", "a", "b", "--changelog"]);
    for needle in ["CVE-2024-11111", "CVE-2024-2222", "new package"] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.stdout);
    }
    let v = json(&env.ok(&["--json", "snapshot", "diff", "a", "b", "--changelog"]));
    let changes = v["changes"].as_array().unwrap();
    let hello = changes.iter().find(|c| c["name"] == "hello").unwrap();
    assert_eq!(hello["changelog"]["cves"].as_array().unwrap().len(), 2);
    let newpkg = changes.iter().find(|c| c["name"] == "newpkg").unwrap();
    assert_eq!(newpkg["changelog"]["kind"], "new");
    assert_eq!(newpkg["changelog"]["has_changelog"], false);
}
