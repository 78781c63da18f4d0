//! `mirror sync`: the happy paths, no-op and incremental syncs, freezes, locks.

use crate::support::{Pkg, Repo, TestEnv, fixture, tree};

fn base_repo() -> Repo {
    Repo::new(vec![
        Pkg::new("app", "1.0-1").depends("libfoo (>= 1.2) | libbar, tool"),
        Pkg::new("libfoo", "1.3-1"),
        Pkg::new("libbar", "2.0-1"),
        Pkg::new("tool", "0.9").pre_depends("base-files"),
        Pkg::new("base-files", "12").arch("all"),
        Pkg::new("unrelated", "5.0"),
    ])
}

fn blobs(env: &TestEnv) -> Vec<(String, u64)> {
    tree(&env.root().join("blobs/sha256"))
}

#[test]
fn first_sync_noop_and_incremental() {
    let env = TestEnv::new();
    let mut repo = base_repo();
    env.publish_upstream(&repo);
    env.create_mirror("m", &["--filter", "app", "--with-deps"]);
    let out = env.run(&["mirror", "sync", "m"]);
    insta::assert_snapshot!("sync_first", env.redact(&out.transcript()));
    assert_eq!(blobs(&env).len(), 4, "app, libfoo, tool, base-files");

    // No-op: one conditional request, answered 304.
    env.server.clear_requests();
    let out = env.run(&["mirror", "sync", "m"]);
    insta::assert_snapshot!("sync_noop", env.redact(&out.transcript()));
    let reqs = env.server.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert!(
        reqs[0].path.ends_with("/InRelease") && reqs[0].status == 304,
        "{reqs:?}"
    );

    // Incremental: a new version of libfoo, tool drops its dependency, base-files leaves.
    repo.packages[1] = Pkg::new("libfoo", "1.4-1");
    repo.packages[3] = Pkg::new("tool", "1.0");
    repo.packages.retain(|p| p.name != "base-files");
    repo.date = chrono::Utc::now();
    env.publish_upstream(&repo);
    // base-files leaving is a quarter of this small mirror: past the
    // mass-removal guard, so the dry run shows the plan, then fails as the
    // real run would.
    let out = env.run(&["mirror", "sync", "m", "--dry-run"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    insta::assert_snapshot!("sync_incremental_dry_run", env.redact(&out.transcript()));
    let out = env.run(&["mirror", "sync", "m", "--allow-mass-removal"]);
    insta::assert_snapshot!("sync_incremental", env.redact(&out.transcript()));
    let out = env.ok(&["mirror", "show", "m", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["packages"], 3);
    assert_eq!(v["revisions"], 2);
}

#[test]
fn json_summary() {
    let env = TestEnv::new();
    env.publish_upstream(&base_repo());
    env.create_mirror("m", &[]);
    let out = env.ok(&["mirror", "sync", "m", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let m = &v["mirrors"][0];
    assert_eq!(m["mirror"], "m");
    assert_eq!(m["outcome"], "synced");
    assert_eq!(m["packages"], 6);
    assert_eq!(m["added"].as_array().map(Vec::len), Some(6));
    assert_eq!(m["downloaded_files"], 6);
    // Pool and index bytes apart: the pool part is exactly the packages'.
    let pool: u64 = base_repo()
        .packages
        .iter()
        .map(|p| p.deb().len() as u64)
        .sum();
    let (total, index) = (m["downloaded_bytes"].as_u64(), m["index_bytes"].as_u64());
    assert!(index.is_some_and(|i| i > 0), "{m}");
    assert_eq!(total.zip(index).map(|(t, i)| t - i), Some(pool), "{m}");
}

#[test]
fn dry_run_changes_nothing() {
    let env = TestEnv::new();
    env.publish_upstream(&base_repo());
    env.create_mirror("m", &[]);
    let out = env.ok(&["mirror", "sync", "m", "--dry-run"]);
    assert!(
        out.stdout.contains("would sync 6 packages"),
        "{}",
        out.stdout
    );
    assert!(blobs(&env).is_empty());
    let out = env.ok(&["mirror", "show", "m", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["revisions"], 0);
}

#[test]
fn release_gpg_fallback_when_no_inrelease() {
    let env = TestEnv::new();
    let mut repo = base_repo();
    repo.inrelease = false;
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(out.stdout.contains("synced 6 packages"), "{}", out.stdout);
}

#[test]
fn gzip_only_and_plain_only_indices_without_by_hash() {
    for comp in [".gz", ""] {
        let env = TestEnv::new();
        let mut repo = base_repo();
        repo.compressions = vec![comp];
        repo.by_hash = false;
        env.publish_upstream(&repo);
        env.create_mirror("m", &[]);
        env.ok(&["mirror", "sync", "m"]);
        let reqs = env.server.requests();
        assert!(
            reqs.iter()
                .any(|r| r.path.ends_with(&format!("binary-amd64/Packages{comp}"))),
            "{reqs:?}"
        );
    }
}

#[test]
fn indices_fetched_by_hash_and_best_compression() {
    let env = TestEnv::new();
    env.publish_upstream(&base_repo());
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    let reqs = env.server.requests();
    let index: Vec<_> = reqs
        .iter()
        .filter(|r| r.path.contains("binary-amd64"))
        .collect();
    assert_eq!(index.len(), 1, "{reqs:?}");
    assert!(index[0].path.contains("/by-hash/SHA256/"), "{reqs:?}");
    let xz = std::fs::read(
        env.upstream()
            .join("dists/stable/main/binary-amd64/Packages.xz"),
    )
    .expect("xz");
    assert!(
        index[0]
            .path
            .ends_with(&debvault::digest::Sha256::of(&xz).to_string())
    );
}

#[test]
fn store_reuses_blobs_across_mirrors() {
    let env = TestEnv::new();
    env.publish_upstream(&base_repo());
    env.create_mirror("one", &[]);
    env.create_mirror("two", &["--filter", "app"]);
    env.ok(&["mirror", "sync", "one"]);
    env.server.clear_requests();
    let out = env.ok(&["mirror", "sync", "two"]);
    assert!(out.stdout.contains("downloaded 0 files"), "{}", out.stdout);
    assert!(
        env.server
            .requests()
            .iter()
            .all(|r| !r.path.ends_with(".deb"))
    );
}

#[test]
fn changed_content_under_same_version_freezes() {
    let env = TestEnv::new();
    let mut repo = base_repo();
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    let before = blobs(&env);
    repo.packages[1] = Pkg::new("libfoo", "1.3-1").salt("silently rebuilt");
    repo.date = chrono::Utc::now();
    env.publish_upstream(&repo);
    let out = env.run(&["mirror", "sync", "m"]);
    insta::assert_snapshot!("sync_freeze", env.redact(&out.transcript()));
    assert_eq!(out.code, 4);
    // The known-good blob stays; the changed one was never downloaded.
    assert_eq!(blobs(&env), before);
    let show = env.ok(&["mirror", "show", "m", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&show.stdout).expect("json");
    assert_eq!(v["freezes"][0]["key"]["name"], "libfoo");
    assert_eq!(v["packages"], 6);
    // The next sync holds it without a new freeze.
    repo.date = chrono::Utc::now();
    repo.packages.push(Pkg::new("newcomer", "1"));
    env.publish_upstream(&repo);
    let out = env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout.contains("1 new") && out.stdout.contains("0 frozen"),
        "{}",
        out.stdout
    );
}

#[test]
fn second_sync_of_same_mirror_fails_fast_naming_pid() {
    use std::io::Write;
    let env = TestEnv::new();
    env.publish_upstream(&base_repo());
    env.create_mirror("m", &[]);
    let path = env.root().join("locks/mirror-m.lock");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .read(true)
        .open(&path)
        .expect("open");
    f.lock().expect("lock");
    writeln!(f, "424242").expect("write");
    let out = env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("mirror `m` is locked by another debvault process (PID 424242)"),
        "{}",
        out.stderr
    );
    drop(f);
    env.ok(&["mirror", "sync", "m"]);
}

#[test]
fn sync_all_and_partial_failure() {
    let env = TestEnv::new();
    env.publish_upstream(&base_repo());
    env.create_mirror("good", &[]);
    let key = fixture::public_key("upstream").display().to_string();
    let url = format!("{}/missing", env.url());
    env.ok(&["mirror", "create", "bad", &url, "stable", "--keyring", &key]);
    let out = env.run(&["mirror", "sync", "--all"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stdout.contains("mirror `good`: synced"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("mirror `bad`"), "{}", out.stderr);
    let show = env.ok(&["mirror", "show", "bad"]);
    assert!(
        show.stdout.contains("last error:") && show.stdout.contains("InRelease"),
        "{}",
        show.stdout
    );
}

/// Unsatisfiable dependencies are warned about by the sync that finds them,
/// not by every later sync of the same upstream; `mirror show` and `status`
/// carry them meanwhile.
#[test]
fn unmet_dependencies_are_warned_once_and_shown_after() {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(vec![
        Pkg::new("app", "1.0").depends("libmissing (>= 2)"),
        Pkg::new("other", "1.0"),
    ]));
    env.create_mirror("m", &["--filter", "app", "--with-deps"]);
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(
        out.stderr
            .contains("1 dependencies are not satisfiable inside the mirror, e.g. app (amd64): libmissing (>= 2)"),
        "{}",
        out.transcript()
    );
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(!out.stderr.contains("warning"), "{}", out.transcript());
    let out = env.ok(&["mirror", "show", "m"]);
    assert!(
        out.stdout.contains(
            "unmet deps:    1 (nothing in the mirror satisfies them), e.g. app (amd64): libmissing (>= 2)"
        ),
        "{}",
        out.transcript()
    );
    let v = crate::support::json(&env.ok(&["--json", "status"]));
    assert_eq!(v["mirrors"][0]["unmet"], 1, "{v}");
    let prom = env.root().with_file_name("debvault.prom");
    env.ok(&["status", "--prometheus", prom.to_str().unwrap_or_default()]);
    let text = std::fs::read_to_string(&prom).unwrap_or_default();
    assert!(
        text.contains("debvault_mirror_unmet_dependencies{mirror=\"m\"} 1"),
        "{text}"
    );
}
