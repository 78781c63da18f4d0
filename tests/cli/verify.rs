//! `verify`, `db backup` / `db restore`, and commands running at once —
//! each suite against local storage and against S3.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::process::Stdio;

use crate::support::{Pkg, Repo, TestEnv, json};

fn blob_rel(p: &Pkg) -> String {
    let hex = debvault::digest::Sha256::of(&p.deb()).to_hex();
    format!("blobs/sha256/{}/{hex}", &hex[..2])
}

/// A mirror of `app` and `libfoo`, snapshot `s1` published as `stable`.
fn published(env: &TestEnv) -> Vec<Pkg> {
    let pkgs = vec![Pkg::new("app", "1.0"), Pkg::new("libfoo", "1.3-1")];
    env.publish_upstream(&Repo::new(pkgs.clone()));
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    pkgs
}

fn verify_finds_every_difference(env: &TestEnv) {
    let pkgs = published(env);
    let v = json(&env.ok(&["--json", "verify"]));
    assert_eq!(
        (
            v["blobs"].as_u64(),
            v["blobs_hashed"].as_u64(),
            v["publications"].as_u64(),
            v["pool_files"].as_u64()
        ),
        (Some(2), Some(2), Some(1), Some(2)),
        "{v}"
    );
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");

    // A blob whose bytes changed under its name (same size), and a pool
    // file gone: both named, exit 3, nothing repaired behind the user's back.
    let app = &pkgs[0];
    let mut bad = app.deb();
    bad[0] ^= 0xff;
    env.tamper(&blob_rel(app), &bad);
    env.remove_stored(&format!("public/{}", pkgs[1].pool_path()));
    let out = env.run(&["--json", "verify"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    let v = json(&out);
    let problems: Vec<(String, String)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_owned(),
                p["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let app_sha = debvault::digest::Sha256::of(&app.deb()).to_string();
    assert_eq!(
        problems,
        [
            ("blob".to_owned(), app_sha),
            (
                "pool".to_owned(),
                format!("dists/stable: {}", pkgs[1].pool_path())
            ),
        ],
        "{v}"
    );
    // A sample of 0% still checks presence and size, not content.
    let v = json(&env.run(&["--json", "verify", "--sample", "0"]));
    assert_eq!(v["blobs_hashed"], 0, "{v}");
    assert_eq!(v["problems"].as_array().unwrap().len(), 1, "{v}");

    // A Release replaced behind debvault's back fails the signature check.
    env.tamper("public/dists/stable/Release", b"Origin: evil\n");
    let out = env.run(&["verify", "--sample", "0"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("problem: publication `dists/stable`: `"),
        "{}",
        out.transcript()
    );
}

#[test]
fn verify_finds_every_difference_locally() {
    verify_finds_every_difference(&TestEnv::new());
}

#[test]
fn verify_finds_every_difference_in_s3() {
    verify_finds_every_difference(&TestEnv::new_s3());
}

fn backup_and_restore(env: &TestEnv, dest: &str) {
    published(env);
    let out = env.ok(&["--json", "db", "backup", dest]);
    let v = json(&out);
    assert_eq!(v["location"], dest, "{v}");
    assert_eq!(
        v["manifest_location"],
        format!("{dest}.manifest.json"),
        "{v}"
    );

    // Changes after the backup: the restore takes them back.
    env.ok(&["snapshot", "create", "later", "--from-mirror", "m"]);
    let out = env.ok(&["--json", "db", "restore", dest]);
    let v = json(&out);
    let previous = v["previous"].as_str().unwrap().to_owned();
    assert!(previous.contains("debvault.db.pre-restore-"), "{v}");
    let names: Vec<String> = json(&env.ok(&["--json", "snapshot", "list"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["s1"]);
    env.ok(&["verify"]);
    // Publishing works on the restored database.
    env.ok(&["snapshot", "create", "s2", "--from-mirror", "m"]);
    env.ok(&["snapshot", "publish", "s2", "--distribution", "stable"]);
    env.ok(&["verify"]);
    // The replaced database was kept whole: it has `later`.
    let kept = std::fs::read(&previous).unwrap();
    assert!(!kept.is_empty());
}

#[test]
fn backup_and_restore_through_a_file() {
    let env = TestEnv::new();
    let dest = env.dir.path().join("backup.db").display().to_string();
    backup_and_restore(&env, &dest);

    // A damaged copy is refused, naming it; the database stays as it was.
    let mut data = std::fs::read(&dest).unwrap();
    let at = data.len() / 2;
    data[at] ^= 0xff;
    std::fs::write(&dest, &data).unwrap();
    let out = env.run(&["db", "restore", &dest]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stderr
            .contains(&format!("backup `{dest}` does not match its manifest")),
        "{}",
        out.transcript()
    );
    let v = json(&env.ok(&["--json", "publish", "show", "stable"]));
    assert_eq!(v["snapshot"], "s2", "{v}");

    // No manifest, no restore.
    std::fs::remove_file(format!("{dest}.manifest.json")).unwrap();
    let out = env.run(&["db", "restore", &dest]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stderr
            .contains(&format!("`{dest}.manifest.json` does not exist")),
        "{}",
        out.transcript()
    );
}

#[test]
fn backup_and_restore_through_s3() {
    let env = TestEnv::new_s3();
    let dest = env.s3.as_ref().unwrap().url("backups/debvault.db");
    backup_and_restore(&env, &dest);
}

/// Four syncs and two publishes at once: all succeed (different mirrors and
/// prefixes run in parallel; no "database is locked" reaches anyone), and
/// the result verifies.
fn commands_run_at_once(env: &TestEnv) {
    let pkgs: Vec<Pkg> = (0..40)
        .map(|i| Pkg::new(&format!("pkg{i:02}"), "1.0"))
        .collect();
    env.publish_upstream(&Repo::new(pkgs));
    for m in ["m1", "m2", "m3", "m4", "p1", "p2"] {
        env.create_mirror(m, &[]);
    }
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    for p in ["p1", "p2"] {
        env.ok(&["mirror", "sync", p]);
        env.ok(&[
            "snapshot",
            "create",
            &format!("{p}-snap"),
            "--from-mirror",
            p,
        ]);
    }
    let mut children = Vec::new();
    for m in ["m1", "m2", "m3", "m4"] {
        let child = env
            .cmd()
            .args(["mirror", "sync", m])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        children.push((format!("sync {m}"), child));
    }
    for (p, prefix) in [("p1", "one"), ("p2", "two")] {
        let child = env
            .cmd()
            .args([
                "snapshot",
                "publish",
                &format!("{p}-snap"),
                "--prefix",
                prefix,
                "--distribution",
                "stable",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        children.push((format!("publish {p}"), child));
    }
    for (what, child) in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{what}: {stderr}");
        assert!(!stderr.contains("locked"), "{what}: {stderr}");
    }
    for m in ["m1", "m2", "m3", "m4"] {
        let v = json(&env.ok(&["--json", "mirror", "show", m]));
        assert_eq!(v["packages"], 40, "{m}: {v}");
    }
    let v = json(&env.ok(&["--json", "verify"]));
    assert_eq!(
        (
            v["publications"].as_u64(),
            v["problems"].as_array().map(Vec::len)
        ),
        (Some(2), Some(0)),
        "{v}"
    );
}

#[test]
fn commands_run_at_once_locally() {
    commands_run_at_once(&TestEnv::new());
}

#[test]
fn commands_run_at_once_in_s3() {
    commands_run_at_once(&TestEnv::new_s3());
}
