//! Mirror groups (issue 19): suites clients use together close their
//! dependencies together.
//!
//! The fixture is a main suite and a security suite in one archive, as
//! Debian's are: the security suite's newer curl needs a library only the
//! main suite has, and a main-suite filter of `curl` alone would never
//! take it.

use std::path::Path;

use crate::support::{Pkg, Repo, TestEnv, json};

/// Copies every file below `from` into `to`, keeping what `to` has.
fn merge_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            merge_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Writes the main suite `stable` and the security suite
/// `stable-security` under the served upstream.
fn publish_two_suites(env: &TestEnv) {
    let mut main = Repo::new(vec![
        Pkg::new("curl", "1.0-1").depends("libc6 (>= 2.0)"),
        Pkg::new("libc6", "2.0-1"),
        Pkg::new("libssh", "1.0-1").depends("libc6"),
        Pkg::new("unrelated", "1.0-1"),
    ]);
    main.suite = "stable".into();
    let mut security = Repo::new(vec![
        Pkg::new("curl", "1.0-1+sec1").depends("libc6 (>= 2.0), libssh (>= 1.0)"),
    ]);
    security.suite = "stable-security".into();
    env.publish_upstream(&main);
    let other = tempfile::tempdir().expect("tempdir");
    security.write(other.path());
    merge_tree(other.path(), &env.upstream());
}

fn create(env: &TestEnv, name: &str, suite: &str, extra: &[&str]) {
    let key = crate::support::fixture::public_key("upstream");
    let url = env.url();
    let mut args = vec![
        "mirror",
        "create",
        name,
        &url,
        suite,
        "main",
        "--arch",
        "amd64",
        "--keyring",
        key.to_str().expect("utf-8 path"),
        "--filter",
        "curl",
        "--with-deps",
    ];
    args.extend_from_slice(extra);
    env.ok(&args);
}

/// `name_version` of each package of the mirror's current revision.
fn packages(env: &TestEnv, mirror: &str) -> Vec<String> {
    let out = env.ok(&["--json", "mirror", "show", mirror, "--with-packages"]);
    let doc = json(&out);
    let mut names: Vec<String> = doc["package_list"]
        .as_array()
        .expect("package_list")
        .iter()
        .map(|p| {
            let key = p["package"].as_str().expect("package");
            key.rsplit_once('_')
                .expect("name_version_arch")
                .0
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn issue_19_a_group_closes_dependencies_over_all_members() {
    let env = TestEnv::new();
    publish_two_suites(&env);
    // Named so that `--all` syncs the security suite first, before the
    // main suite has any indices: its warning waits for the second pass.
    create(&env, "a-security", "stable-security", &["--group", "box"]);
    create(&env, "b-main", "stable", &["--group", "box"]);

    let out = env.ok(&["mirror", "sync", "--all"]);
    assert!(!out.stderr.contains("not satisfiable"), "{}", out.stderr);
    // The main suite holds what the security suite's curl needs, though
    // its own filter names only curl; the security suite holds only its own.
    assert_eq!(
        packages(&env, "b-main"),
        ["curl_1.0-1", "libc6_2.0-1", "libssh_1.0-1"]
    );
    assert_eq!(packages(&env, "a-security"), ["curl_1.0-1+sec1"]);
    let show = env.ok(&["mirror", "show", "b-main"]);
    assert!(
        show.stdout.contains("group:         box"),
        "{}",
        show.stdout
    );

    // Nothing changed: a second run is quiet and changes nothing.
    let again = env.ok(&["mirror", "sync", "--all"]);
    assert!(
        !again.stderr.contains("not satisfiable"),
        "{}",
        again.stderr
    );
    assert!(!again.stdout.contains("+ libssh"), "{}", again.stdout);
    assert_eq!(
        packages(&env, "b-main"),
        ["curl_1.0-1", "libc6_2.0-1", "libssh_1.0-1"]
    );

    // Out of the group, the security suite's dependencies are unsatisfiable
    // inside it, and the main suite keeps only its own closure.
    env.ok(&["mirror", "edit", "b-main", "--no-group"]);
    env.ok(&["mirror", "edit", "a-security", "--no-group"]);
    let alone = env.ok(&["mirror", "sync", "--all", "--allow-mass-removal"]);
    assert!(
        alone
            .stderr
            .contains("2 dependencies are not satisfiable inside the mirror"),
        "{}",
        alone.stderr
    );
    assert_eq!(packages(&env, "b-main"), ["curl_1.0-1", "libc6_2.0-1"]);
}

#[test]
fn issue_19_a_member_synced_alone_uses_the_others_last_indices() {
    let env = TestEnv::new();
    publish_two_suites(&env);
    create(&env, "main", "stable", &["--group", "box"]);
    create(&env, "security", "stable-security", &["--group", "box"]);
    env.ok(&["mirror", "sync", "main"]);
    assert_eq!(packages(&env, "main"), ["curl_1.0-1", "libc6_2.0-1"]);
    // The security suite's sync reads the main suite's last indices.
    let out = env.ok(&["mirror", "sync", "security"]);
    assert!(!out.stderr.contains("not satisfiable"), "{}", out.stderr);
    // The main suite's next sync sees the security suite's indices, though
    // its own upstream did not change.
    env.ok(&["mirror", "sync", "main"]);
    assert_eq!(
        packages(&env, "main"),
        ["curl_1.0-1", "libc6_2.0-1", "libssh_1.0-1"]
    );
    let bad = env.run(&["mirror", "edit", "main", "--group", "no good"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("invalid group name `no good`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn issue_19_snapshot_create_from_group_takes_every_member_at_once() {
    let env = TestEnv::new();
    publish_two_suites(&env);
    create(&env, "main", "stable", &["--group", "box"]);
    create(&env, "security", "stable-security", &["--group", "box"]);
    env.ok(&["mirror", "sync", "main"]);
    // A member that never synced: no snapshot is taken.
    let early = env.run(&["snapshot", "create", "--from-group", "box"]);
    assert_eq!(early.code, 1, "{}", early.stderr);
    assert!(
        early
            .stderr
            .contains("mirror `security` has not been synced yet"),
        "{}",
        early.stderr
    );
    assert_eq!(
        json(&env.ok(&["--json", "snapshot", "list"]))
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    env.ok(&["mirror", "sync", "--all"]);
    let out = env.ok(&["--json", "snapshot", "create", "--from-group", "box"]);
    let snaps = json(&out);
    let snaps = snaps.as_array().expect("a list");
    assert_eq!(snaps.len(), 2);
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    assert_eq!(snaps[0]["name"], format!("main-{today}"));
    assert_eq!(snaps[1]["name"], format!("security-{today}"));
    assert_eq!(snaps[0]["created_at"], snaps[1]["created_at"]);
    assert_eq!(snaps[0]["packages"], 3);
    assert_eq!(snaps[1]["packages"], 1);
    // Merged, they are what a client of both suites sees.
    env.ok(&[
        "snapshot",
        "merge",
        "both",
        &format!("main-{today}"),
        &format!("security-{today}"),
    ]);
    let verify = env.ok(&["snapshot", "verify", "both"]);
    assert!(verify.stdout.is_empty(), "{}", verify.stdout);

    let none = env.run(&["snapshot", "create", "--from-group", "nobody"]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(
        none.stderr.contains("no mirror is in group `nobody`"),
        "{}",
        none.stderr
    );
}
