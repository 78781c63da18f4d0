//! `snapshot create | list | show | diff | merge | filter | drop`: whole outputs.

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
    let out = env.run(&["snapshot", "merge", "both", "s1", "s2"]);
    insta::assert_snapshot!("snapshot_merge", env.redact(&out.transcript()));
    let out = env.run(&["snapshot", "show", "both", "--with-packages"]);
    insta::assert_snapshot!("snapshot_merge_show", env.redact(&out.transcript()));
    env.ok(&["snapshot", "merge", "newest", "s2", "s1", "--latest"]);
    let out = env.run(&["snapshot", "diff", "s2", "newest"]);
    insta::assert_snapshot!("snapshot_merge_latest_diff", env.redact(&out.transcript()));
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
