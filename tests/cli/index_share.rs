//! Issue 23: mirrors of one upstream share its verified indices through the
//! index cache of the data root instead of downloading them once each.

use std::path::PathBuf;

use debvault::digest::Sha256;

use crate::support::{Pkg, Repo, TestEnv, json};

fn repo() -> Repo {
    Repo::new(vec![
        Pkg::new("curl", "8.5-1"),
        Pkg::new("git", "2.43-1"),
        Pkg::new("base-files", "12").arch("all"),
    ])
}

fn cache_dir(env: &TestEnv) -> PathBuf {
    env.root().join("cache/indices")
}

/// The cache's entries: (name, whether the content has the digest the name says).
fn entries(env: &TestEnv) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = std::fs::read_dir(cache_dir(env))
        .map(|rd| {
            rd.map(|e| {
                let e = e.expect("entry");
                let name = e.file_name().to_string_lossy().into_owned();
                let data = std::fs::read(e.path()).expect("read entry");
                let sound = Sha256::of(&data).to_string() == name;
                (name, sound)
            })
            .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Paths of the index requests (Packages, by name or by hash) the upstream answered.
fn index_requests(env: &TestEnv) -> Vec<String> {
    env.server
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.contains("/binary-"))
        .collect()
}

#[test]
fn issue_23_second_mirror_reads_the_indices_from_the_cache() {
    let env = TestEnv::new();
    env.publish_upstream(&repo());
    for (name, filter) in [("curl", "curl"), ("git", "git"), ("base", "base-files")] {
        env.create_mirror(name, &["--filter", filter]);
    }
    let first = json(&env.ok(&["mirror", "sync", "curl", "--json"]));
    let first = &first["mirrors"][0];
    assert!(
        first["index_bytes"].as_u64().is_some_and(|b| b > 0),
        "{first}"
    );
    assert_eq!(first["index_cached_bytes"], 0, "{first}");
    let stored = entries(&env);
    assert_eq!(stored.len(), 1, "one index, at its best compression");
    assert!(stored[0].1, "{stored:?}");

    // The second mirror asks the upstream for its Release only.
    env.server.clear_requests();
    let second = json(&env.ok(&["mirror", "sync", "git", "--json"]));
    let second = &second["mirrors"][0];
    assert_eq!(index_requests(&env), Vec::<String>::new());
    let inrelease = std::fs::metadata(env.upstream().join("dists/stable/InRelease"))
        .expect("InRelease")
        .len();
    assert_eq!(second["index_bytes"], inrelease, "{second}");
    assert_eq!(
        second["index_cached_bytes"].as_u64(),
        first["index_bytes"].as_u64().map(|b| b - inrelease),
        "{second}"
    );
    assert_eq!(second["packages"], 1, "{second}");

    // The text report says where the indices came from.
    let out = env.ok(&["mirror", "sync", "base"]);
    assert!(out.stdout.contains(" from cache)"), "{}", out.transcript());
    assert!(
        out.stdout.contains("synced 1 packages"),
        "{}",
        out.transcript()
    );
}

#[test]
fn issue_23_a_corrupt_cache_entry_is_refetched_not_trusted() {
    let env = TestEnv::new();
    env.publish_upstream(&repo());
    env.create_mirror("curl", &["--filter", "curl"]);
    env.create_mirror("git", &["--filter", "git"]);
    env.ok(&["mirror", "sync", "curl"]);
    let (name, _) = entries(&env).pop().expect("a cache entry");
    // Same size, other bytes: only the digest tells.
    let path = cache_dir(&env).join(&name);
    let mut data = std::fs::read(&path).expect("read");
    data.iter_mut().for_each(|b| *b = !*b);
    std::fs::write(&path, &data).expect("corrupt");

    env.server.clear_requests();
    let v = json(&env.ok(&["mirror", "sync", "git", "--json"]));
    let m = &v["mirrors"][0];
    assert_eq!(m["index_cached_bytes"], 0, "{m}");
    assert_eq!(m["packages"], 1, "{m}");
    assert_eq!(index_requests(&env).len(), 1, "{:?}", env.server.requests());
    assert_eq!(
        entries(&env),
        vec![(name, true)],
        "the entry is sound again"
    );
}

#[test]
fn issue_23_gc_removes_cache_entries_no_current_revision_lists() {
    let env = TestEnv::new();
    let mut arm = repo();
    arm.architectures = vec!["amd64".into(), "arm64".into()];
    env.publish_upstream(&arm);
    env.create_mirror("curl", &["--filter", "curl"]);
    env.create_mirror("gone", &["--filter", "git", "--arch", "arm64"]);
    env.ok(&["mirror", "sync", "curl"]);
    env.ok(&["mirror", "sync", "gone"]);
    let before = entries(&env);
    assert_eq!(before.len(), 2, "amd64 and arm64 indices: {before:?}");
    let stray = Sha256::of(b"an index nobody lists").to_string();
    std::fs::write(cache_dir(&env).join(&stray), b"stray").expect("write stray");

    env.ok(&["mirror", "drop", "gone"]);
    let v = json(&env.ok(&["--json", "gc"]));
    assert_eq!(v["index_cache_files"], 2, "{v}");
    let after = entries(&env);
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(before.contains(&after[0]), "curl's index stays: {after:?}");

    // What stays is still shared.
    env.create_mirror("again", &["--filter", "git"]);
    let v = json(&env.ok(&["mirror", "sync", "again", "--json"]));
    let m = &v["mirrors"][0];
    assert!(
        m["index_cached_bytes"].as_u64().is_some_and(|b| b > 0),
        "{m}"
    );
}
