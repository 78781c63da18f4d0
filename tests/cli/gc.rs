//! `gc`: what nothing kept references goes (database rows, blobs, retired
//! trees, pool files); what is referenced — above all a publication — stays.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use crate::support::{Pkg, Repo, TestEnv, json, tree};

fn blob_names(env: &TestEnv) -> Vec<String> {
    tree(&env.root().join("blobs/sha256"))
        .into_iter()
        .map(|(p, _)| p.rsplit('/').next().unwrap().to_owned())
        .collect()
}

#[test]
fn gc_removes_only_what_nothing_kept_references() {
    let env = TestEnv::new();
    let old = Pkg::new("libfoo", "1.3-1");
    let mut repo = Repo::new(vec![Pkg::new("app", "1.0"), old.clone()]);
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    let old_pool = env.root().join("public").join(old.pool_path());
    assert!(old_pool.exists(), "{}", old_pool.display());

    // Nothing is garbage yet: every blob is in the live revision and the publication.
    let v = json(&env.ok(&["--json", "gc"]));
    assert_eq!(
        (v["blobs"].as_u64(), v["packages"].as_u64()),
        (Some(0), Some(0)),
        "{v}"
    );

    // Upstream upgrades libfoo; s2 replaces s1 under `stable`; s1 is dropped.
    let new = Pkg::new("libfoo", "1.4-1");
    repo.packages[1] = new.clone();
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s2", "--from-mirror", "m"]);
    let out = env.run(&["snapshot", "drop", "s1"]);
    assert_eq!(out.code, 1, "s1 is still published: {}", out.transcript());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.ok(&["snapshot", "publish", "s2", "--distribution", "stable"]);
    env.ok(&["snapshot", "drop", "s1"]);

    // Within the retention period the old revision (and so libfoo 1.3-1) stays.
    let v = json(&env.ok(&["--json", "gc", "--grace", "0s"]));
    assert_eq!(v["blobs"], 0, "{v}");
    assert_eq!(v["trees"], 1, "the retired tree of s1: {v}");
    assert!(!old_pool.exists(), "no kept tree lists the old pool file");
    assert!(blob_names(&env).contains(&old.sha256().to_string()));

    // With a zero retention, the old revision goes, then its package and blob.
    std::fs::write(env.root().join("config.toml"), "[gc]\nretention-days = 0\n").unwrap();
    let dry = json(&env.ok(&["--json", "gc", "--dry-run", "--grace", "0s"]));
    assert_eq!(
        (
            dry["dry_run"].as_bool(),
            dry["revisions"].as_u64(),
            dry["packages"].as_u64(),
            dry["blobs"].as_u64()
        ),
        (Some(true), Some(1), Some(1), Some(1)),
        "{dry}"
    );
    assert!(
        blob_names(&env).contains(&old.sha256().to_string()),
        "a dry run removes nothing"
    );
    let out = env.ok(&["gc", "--grace", "0s"]);
    insta::assert_snapshot!("gc_removed", env.redact(&out.transcript()));
    let blobs = blob_names(&env);
    assert!(!blobs.contains(&old.sha256().to_string()));
    assert!(blobs.contains(&new.sha256().to_string()));

    // What is published stays whole.
    let show = json(&env.ok(&["--json", "publish", "show", "stable"]));
    assert_eq!(show["snapshot"], "s2", "{show}");
    assert!(env.root().join("public").join(new.pool_path()).exists());
    assert!(env.root().join("public/dists/stable/InRelease").exists());
    let v = json(&env.ok(&["--json", "gc", "--grace", "0s"]));
    assert_eq!(
        (
            v["blobs"].as_u64(),
            v["trees"].as_u64(),
            v["pool_files"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{v}"
    );

    // A dropped mirror's blobs go once no snapshot holds them; the drop
    // says which do (a merge of s2 too).
    env.ok(&["snapshot", "merge", "both", "s2", "s2"]);
    let out = env.ok(&["mirror", "drop", "m"]);
    assert_eq!(
        out.stdout,
        "dropped mirror `m`; its packages stay while snapshots `both`, `s2` hold them \
         (`debvault gc` frees the rest)\n"
    );
    let v = json(&env.ok(&["--json", "gc"]));
    assert_eq!(v["blobs"], 0, "s2 still holds them: {v}");
    let audit = json(&env.ok(&["--json", "audit"]));
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "mirror-create",
            "key-generate",
            "publish",
            "publish",
            "snapshot-drop",
            "mirror-drop"
        ]
    );
}

#[test]
fn gc_and_sync_exclude_each_other() {
    use std::io::Write;
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(vec![Pkg::new("app", "1.0")]));
    env.create_mirror("m", &[]);
    let path = env.root().join("locks/gc.lock");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .read(true)
        .open(&path)
        .unwrap();
    f.lock().unwrap();
    writeln!(f, "515151").unwrap();
    let out = env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("(gc) is locked by another debvault process (PID 515151)"),
        "{}",
        out.stderr
    );
    let out = env.run(&["gc"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("cannot collect while a sync or another gc runs"),
        "{}",
        out.stderr
    );
    drop(f);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["gc"]);
}

/// Bytes of the regular files under `dirs`, each inode once (as `du`).
fn disk_bytes(dirs: &[std::path::PathBuf]) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut stack = dirs.to_vec();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else if m.is_file() && seen.insert((m.dev(), m.ino())) {
                total += m.len();
            }
        }
    }
    total
}

/// A published pool file is a hard link to its blob: when both go, gc
/// counts their bytes once (it counted them twice: "freed 95.6 MiB" where
/// `du` fell by 49 MiB).
#[test]
fn gc_counts_each_freed_byte_once() {
    let env = TestEnv::new();
    let pkgs = vec![Pkg::new("app", "1.0"), Pkg::new("libfoo", "1.3-1")];
    let package_bytes: u64 = pkgs.iter().map(|p| p.deb().len() as u64).sum();
    env.publish_upstream(&Repo::new(pkgs));
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    std::fs::write(env.root().join("config.toml"), "[gc]\nretention-days = 0\n").unwrap();
    env.ok(&["publish", "drop", "stable"]);
    env.ok(&["snapshot", "drop", "s1"]);
    env.ok(&["mirror", "drop", "m"]);
    let dry = json(&env.ok(&["--json", "gc", "--dry-run", "--grace", "0s"]));
    // Blobs, the endpoint (pool, index cache) and the cache of upstream
    // indices; the database is left out.
    let dirs = ["blobs", "public", "cache"].map(|d| env.root().join(d));
    let stored = || disk_bytes(&dirs);
    let before = stored();
    let v = json(&env.ok(&["--json", "gc", "--grace", "0s"]));
    let freed_on_disk = before - stored();
    assert_eq!(v["blob_bytes"].as_u64(), Some(package_bytes), "{v}");
    assert_eq!(v["freed_bytes"].as_u64(), Some(freed_on_disk), "{v}");
    assert_eq!(dry["freed_bytes"], v["freed_bytes"], "dry run: {dry}");
}
