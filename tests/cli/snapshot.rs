//! `snapshot create | list | show | diff | merge | filter | drop`: whole outputs.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use crate::support::{Pkg, Repo, TestEnv};

fn repo_v1() -> Repo {
    Repo::new(vec![
        Pkg::new("app", "1.0-1").depends("libfoo (>= 1.2), tool"),
        Pkg::new("libfoo", "1.3-1"),
        Pkg::new("tool", "0.9").pre_depends("base-files"),
        Pkg::new("base-files", "12").arch("all"),
        Pkg::new("gone", "2.0"),
        Pkg::new("rebuilt", "1.0"),
    ])
}

/// A mirror `m` synced from `repo_v1`, snapshot `s1`; then upstream moves
/// on (libfoo upgraded, tool downgraded, gone removed, fresh added) and `s2`
/// is taken. (A package changed under its version is frozen by sync, so
/// `changed` is covered by the unit tests of `diff_entries`.)
pub fn two_snapshots() -> TestEnv {
    let env = TestEnv::new();
    let mut repo = repo_v1();
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    repo.packages[1] = Pkg::new("libfoo", "1.4-1");
    repo.packages[2] = Pkg::new("tool", "0.8").pre_depends("base-files");
    repo.packages.retain(|p| p.name != "gone");
    repo.packages.push(Pkg::new("fresh", "0.1"));
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s2", "--from-mirror", "m"]);
    env
}

#[test]
fn create_list_show() {
    let env = two_snapshots();
    let out = env.run(&["snapshot", "create", "--from-mirror", "m"]);
    insta::assert_snapshot!(
        "snapshot_create_default_name",
        env.redact(&out.transcript())
    );
    let out = env.run(&["snapshot", "create", "--from-mirror", "m"]);
    assert!(
        out.stdout.contains("m-") && out.stdout.contains("-2`"),
        "{}",
        out.transcript()
    );
    let out = env.run(&["snapshot", "list"]);
    insta::assert_snapshot!("snapshot_list", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "show", "s1", "--with-packages"]);
    insta::assert_snapshot!("snapshot_show", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    insta::assert_snapshot!("snapshot_create_exists", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "create", "x", "--from-mirror", "nope"]);
    insta::assert_snapshot!("snapshot_create_no_mirror", env.redact(&out.transcript()));
}

#[test]
fn diff_whole_output() {
    let env = two_snapshots();
    let out = env.run(&["snapshot", "diff", "s1", "s2"]);
    insta::assert_snapshot!("snapshot_diff", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "diff", "s2", "s1", "--json"]);
    insta::assert_snapshot!("snapshot_diff_json", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "diff", "s1", "s1"]);
    insta::assert_snapshot!("snapshot_diff_same", env.redact(&out.transcript()));
}

#[test]
fn merge_whole_output() {
    let env = two_snapshots();
    // s2 has tool 0.8 where s1 had 0.9: by default the newest version
    // wins whatever the order, as apt would pick it.
    let out = env.run(&["snapshot", "merge", "both", "s1", "s2"]);
    insta::assert_snapshot!("snapshot_merge", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "show", "both", "--with-packages"]);
    insta::assert_snapshot!("snapshot_merge_show", env.redact(&out.transcript()));
    // `--latest` (the old opt-in) is still accepted and means the same.
    env.ok(&["snapshot", "merge", "newest", "s2", "s1", "--latest"]);
    let out = env.run(&["snapshot", "diff", "both", "newest"]);
    assert!(
        out.stdout.is_empty() && out.stderr.contains("0 upgraded, 0 downgraded, 0 changed"),
        "{}",
        out.transcript()
    );
    // Later sources win only when asked, and each downgrade is named.
    let out = env.run(&["snapshot", "merge", "later", "s1", "s2", "--later-wins"]);
    insta::assert_snapshot!("snapshot_merge_later_wins", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "diff", "s2", "later"]);
    insta::assert_snapshot!(
        "snapshot_merge_later_wins_diff",
        env.redact(&out.transcript())
    );
    let out = env.ok(&[
        "snapshot",
        "merge",
        "later2",
        "s1",
        "s2",
        "--later-wins",
        "--json",
    ]);
    let v = crate::support::json(&out);
    assert_eq!(v["strategy"], "later_wins", "{v}");
    assert_eq!(v["downgrades"][0]["name"], "tool", "{v}");
    assert_eq!(v["downgrades"][0]["from_version"], "0.9", "{v}");
}

/// Two mirrors of one upstream, `old` synced before it moved on (libfoo
/// 1.3, tool 0.9) and `new` after (libfoo 1.4, tool 0.8).
#[test]
fn create_from_several_mirrors_takes_the_newest_unless_told() {
    let env = TestEnv::new();
    let mut repo = repo_v1();
    env.publish_upstream(&repo);
    env.create_mirror("old", &[]);
    env.ok(&["mirror", "sync", "old"]);
    repo.packages[1] = Pkg::new("libfoo", "1.4-1");
    repo.packages[2] = Pkg::new("tool", "0.8").pre_depends("base-files");
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    env.create_mirror("new", &[]);
    env.ok(&["mirror", "sync", "new"]);
    let versions = |snap: &str| {
        let out = env.ok(&["snapshot", "show", snap, "--with-packages", "--json"]);
        let v = crate::support::json(&out);
        let mut got: Vec<String> = v["package_list"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| {
                let f: Vec<&str> = p.as_str().unwrap().split(' ').collect();
                ["libfoo", "tool"]
                    .contains(&f[1])
                    .then(|| format!("{} {}", f[1], f[2]))
            })
            .collect();
        got.sort();
        got
    };
    // `new` listed first, `old` last: before, old's lower libfoo won.
    let out = env.ok(&[
        "snapshot",
        "create",
        "apt",
        "--from-mirror",
        "new",
        "--from-mirror",
        "old",
    ]);
    assert!(out.stderr.is_empty(), "{}", out.transcript());
    assert_eq!(versions("apt"), ["libfoo 1.4-1", "tool 0.9"]);
    let out = env.ok(&[
        "snapshot",
        "create",
        "order",
        "--from-mirror",
        "new",
        "--from-mirror",
        "old",
        "--later-wins",
    ]);
    assert!(
        out.stderr
            .contains("downgraded main libfoo/amd64: 1.3-1 from `old` replaces 1.4-1 from `new`"),
        "{}",
        out.transcript()
    );
    assert_eq!(versions("order"), ["libfoo 1.3-1", "tool 0.9"]);
}

#[test]
fn filter_whole_output() {
    let env = two_snapshots();
    let out = env.run(&["snapshot", "filter", "apps", "s1", "app", "--with-deps"]);
    insta::assert_snapshot!("snapshot_filter_deps", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "show", "apps", "--with-packages"]);
    insta::assert_snapshot!("snapshot_filter_show", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "filter", "bare", "s1", "app"]);
    assert!(
        out.stdout.contains("with 1 packages"),
        "{}",
        out.transcript()
    );
    let out = env.run(&["snapshot", "filter", "bad", "s1", "app (>>"]);
    insta::assert_snapshot!("snapshot_filter_bad_expr", env.redact(&out.transcript()));
}

#[test]
fn drop_refused_while_published() {
    let env = two_snapshots();
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    let out = env.run(&["snapshot", "drop", "s1"]);
    insta::assert_snapshot!("snapshot_drop_published", env.redact(&out.transcript()));
    env.ok(&["publish", "drop", "stable"]);
    let out = env.run(&["snapshot", "drop", "s1"]);
    insta::assert_snapshot!("snapshot_drop", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "show", "s1"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
}

/// `package search` (aptly's `package search`, reprepro's `ls`): what
/// matches, and where each package is.
#[test]
fn package_search_finds_packages_and_where_they_are() {
    let env = two_snapshots();
    let out = env.ok(&["package", "search", "libfoo | tool (<< 0.9)"]);
    assert_eq!(
        out.stdout,
        "libfoo 1.3-1 amd64 (main)  in snapshot s1\n\
         libfoo 1.4-1 amd64 (main)  in mirror m, snapshot s2\n\
         tool 0.8 amd64 (main)  in mirror m, snapshot s2\n"
    );
    let out = env.ok(&["package", "search", "libfoo", "--snapshot", "s1"]);
    assert_eq!(out.stdout, "libfoo 1.3-1 amd64 (main)  in snapshot s1\n");
    let v =
        crate::support::json(&env.ok(&["--json", "package", "search", "gone", "--mirror", "m"]));
    assert_eq!(v, serde_json::json!([]));
    let out = env.ok(&["package", "search", "nothing-like-it"]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", "no package matches `nothing-like-it`\n")
    );
    for (args, code, says) in [
        (
            &["package", "search", "app (>>"][..],
            2,
            "expected a version",
        ),
        (
            &["package", "search", "app", "--mirror", "nope"],
            1,
            "mirror `nope`",
        ),
        (
            &["package", "search", "app", "--snapshot", "nope"],
            1,
            "snapshot `nope`",
        ),
    ] {
        let out = env.run(args);
        assert_eq!(out.code, code, "{args:?}: {}", out.transcript());
        assert!(out.stderr.contains(says), "{args:?}: {}", out.transcript());
    }
}

/// `mirror rename` and `snapshot rename`: the rest follows the new name
/// (a publication of the snapshot, the next sync of the mirror), both are
/// audited, and a taken or invalid name is refused.
#[test]
fn mirrors_and_snapshots_can_be_renamed() {
    let env = two_snapshots();
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    let out = env.ok(&["snapshot", "rename", "s1", "release-1"]);
    assert_eq!(out.stdout, "renamed snapshot `s1` to `release-1`\n");
    let v = crate::support::json(&env.ok(&["--json", "publish", "show", "stable"]));
    assert_eq!(v["snapshot"], "release-1", "{v}");
    assert_eq!(env.run(&["snapshot", "show", "s1"]).code, 1);
    let out = env.run(&["snapshot", "rename", "release-1", "s2"]);
    assert!(
        out.stderr.contains("snapshot `s2` already exists"),
        "{}",
        out.transcript()
    );
    let out = env.run(&["snapshot", "rename", "release-1", "bad/name"]);
    assert_eq!(out.code, 2, "{}", out.transcript());

    let out = env.ok(&["--json", "mirror", "rename", "m", "upstream"]);
    let v = crate::support::json(&out);
    assert_eq!(
        (v["mirror"].as_str(), v["renamed_from"].as_str()),
        (Some("upstream"), Some("m"))
    );
    let out = env.ok(&["mirror", "sync", "upstream"]);
    assert!(out.stdout.contains("unchanged"), "{}", out.transcript());
    assert_eq!(env.run(&["mirror", "show", "m"]).code, 1);
    let out = env.run(&["mirror", "rename", "upstream", "bad name"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    let out = env.run(&["mirror", "rename", "nope", "other"]);
    assert!(
        out.stderr.contains("mirror `nope` does not exist"),
        "{}",
        out.transcript()
    );
    let audit = env.ok(&["--json", "audit"]).stdout;
    assert!(
        audit.contains("\"mirror-rename\"") && audit.contains("\"snapshot-rename\""),
        "{audit}"
    );
}

/// Two unmet dependencies, and Multi-Arch and Provides that do satisfy.
fn uninstallable_repo() -> Repo {
    let mut perl = Pkg::new("perl", "5.36");
    perl.extra.push(("Multi-Arch".into(), "allowed".into()));
    let mut mawk = Pkg::new("mawk", "1.3").provides("awk");
    mawk.extra.push(("Multi-Arch".into(), "foreign".into()));
    Repo::new(vec![
        Pkg::new("app", "1.0").depends("libfoo (>= 2), perl:any, awk | gawk"),
        Pkg::new("libfoo", "1.0"),
        perl,
        mawk,
        Pkg::new("data", "1.0")
            .arch("all")
            .pre_depends("libc6 (>= 2.36)"),
    ])
}

/// Issue 23: a filtered mirror without `--with-deps` published a snapshot
/// apt could not install from, and nothing said so.
#[test]
fn issue_23_verify_lists_unmet_and_publish_refuses() {
    let env = TestEnv::new();
    env.publish_upstream(&uninstallable_repo());
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s", "--from-mirror", "m"]);
    let out = env.run(&["snapshot", "verify", "s"]);
    insta::assert_snapshot!("snapshot_verify_unmet", env.redact(&out.transcript()));
    let out = env.run(&["--json", "snapshot", "verify", "s"]);
    insta::assert_snapshot!("snapshot_verify_unmet_json", env.redact(&out.transcript()));

    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let out = env.run(&["snapshot", "publish", "s", "--distribution", "stable"]);
    insta::assert_snapshot!("snapshot_publish_unmet", env.redact(&out.transcript()));
    assert!(!env.root().join("public/dists").exists());
    env.ok(&[
        "snapshot",
        "publish",
        "s",
        "--distribution",
        "stable",
        "--allow-unmet",
    ]);

    // An installable snapshot verifies clean.
    env.ok(&["snapshot", "filter", "f", "s", "mawk | perl"]);
    let out = env.ok(&["snapshot", "verify", "f"]);
    assert_eq!(
        (out.stdout.as_str(), out.code),
        ("", 0),
        "{}",
        out.transcript()
    );
}
