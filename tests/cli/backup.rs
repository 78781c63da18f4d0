//! `db backup` / `db restore` against what can go wrong around them: a
//! backup killed half-way, a restore onto a new machine (the signing keys),
//! publications the restored database does not know, and leftovers for `gc`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::support::{Pkg, Repo, TestEnv, json};

/// The files or objects of a backup at `dest` (`<dest><suffix>`), behind
/// debvault's back.
enum Stored<'a> {
    File(&'a str),
    Object(crate::support::TestBucket, &'a str),
}

impl Stored<'_> {
    fn get(&self, suffix: &str) -> Option<Vec<u8>> {
        match self {
            Stored::File(dest) => std::fs::read(format!("{dest}{suffix}")).ok(),
            Stored::Object(b, rel) => b.get(&format!("{rel}{suffix}")),
        }
    }

    fn put(&self, suffix: &str, data: &[u8]) {
        match self {
            Stored::File(dest) => std::fs::write(format!("{dest}{suffix}"), data).unwrap(),
            Stored::Object(b, rel) => b.put(&format!("{rel}{suffix}"), data),
        }
    }

    fn exists(&self, suffix: &str) -> bool {
        self.get(suffix).is_some()
    }
}

fn snapshot_names(env: &TestEnv) -> Vec<String> {
    json(&env.ok(&["--json", "snapshot", "list"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A mirror of `app`, synced.
fn synced(env: &TestEnv) {
    env.publish_upstream(&Repo::new(vec![Pkg::new("app", "1.0")]));
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
}

/// Regression (a kill during `db backup` can destroy the last good backup):
/// the states a kill leaves between the steps of a backup's switch each
/// still hold a whole backup, the restore takes the newest and says which
/// pair it took, and the next backup finishes the switch.
fn a_killed_backup_leaves_a_restorable_pair(env: &TestEnv, dest: &str, stored: &Stored<'_>) {
    synced(env);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    env.ok(&["db", "backup", dest]);
    let old_manifest = stored.get(".manifest.json").unwrap();
    let old_copy = stored.get("").unwrap();
    env.ok(&["snapshot", "create", "s2", "--from-mirror", "m"]);
    env.ok(&["db", "backup", dest]);
    let new_manifest = stored.get(".manifest.json").unwrap();
    let new_copy = stored.get("").unwrap();
    assert!(!stored.exists(".next"), "a finished backup leaves one pair");
    assert!(!stored.exists(".next.manifest.json"));

    // Killed after the new pair was written beside the old one.
    stored.put("", &old_copy);
    stored.put(".manifest.json", &old_manifest);
    stored.put(".next", &new_copy);
    stored.put(".next.manifest.json", &new_manifest);
    env.ok(&["snapshot", "create", "later", "--from-mirror", "m"]);
    let v = json(&env.ok(&["--json", "db", "restore", dest]));
    assert_eq!(v["location"], format!("{dest}.next"), "{v}");
    assert_eq!(
        v["manifest_location"],
        format!("{dest}.next.manifest.json"),
        "{v}"
    );
    assert_eq!(snapshot_names(env), ["s1", "s2"]);

    // Killed after the new copy replaced the old one, before its manifest
    // did: the old manifest no longer matches, the new one does.
    stored.put("", &new_copy);
    stored.put(".manifest.json", &old_manifest);
    match stored {
        Stored::File(d) => std::fs::remove_file(format!("{d}.next")).unwrap(),
        Stored::Object(b, rel) => b.delete(&format!("{rel}.next")),
    }
    env.ok(&["snapshot", "create", "later", "--from-mirror", "m"]);
    let out = env.ok(&["db", "restore", dest]);
    assert!(
        out.stdout.contains(&format!(
            "restored the database from `{dest}` with the manifest `{dest}.next.manifest.json`"
        )),
        "{}",
        out.transcript()
    );
    assert_eq!(snapshot_names(env), ["s1", "s2"]);

    // The next backup completes the interrupted switch before its own.
    env.ok(&["snapshot", "create", "s3", "--from-mirror", "m"]);
    env.ok(&["db", "backup", dest]);
    assert!(!stored.exists(".next"));
    assert!(!stored.exists(".next.manifest.json"));
    env.ok(&["snapshot", "drop", "s3"]);
    let v = json(&env.ok(&["--json", "db", "restore", dest]));
    assert_eq!(v["manifest_location"], format!("{dest}.manifest.json"));
    assert_eq!(snapshot_names(env), ["s1", "s2", "s3"]);
}

#[test]
fn a_killed_backup_leaves_a_restorable_pair_in_a_file() {
    let env = TestEnv::new();
    let dest = env.dir.path().join("backup.db").display().to_string();
    a_killed_backup_leaves_a_restorable_pair(&env, &dest, &Stored::File(&dest));
    let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "a backup holds secrets");
}

#[test]
fn a_killed_backup_leaves_a_restorable_pair_in_s3() {
    let env = TestEnv::new_s3();
    let place = env.s3.clone().unwrap();
    let dest = place.url("backups/debvault.db");
    let stored = Stored::Object(place.bucket(), "backups/debvault.db");
    a_killed_backup_leaves_a_restorable_pair(&env, &dest, &stored);
}

/// `key export` to a file, returned.
fn export_key(env: &TestEnv, name: &str) -> std::path::PathBuf {
    let to = env.dir.path().join(name);
    env.ok(&["key", "export", "-o", &to.display().to_string()]);
    to
}

/// A fresh data root whose blob store is `from`'s (the blobs survive the
/// machine; the database and keys come from the backup).
fn fresh_root_sharing_blobs(from: &TestEnv) -> TestEnv {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.root()).unwrap();
    std::fs::write(
        env.root().join("config.toml"),
        format!(
            "[storage]\nblobs = \"{}\"\n",
            from.root().join("blobs").display()
        ),
    )
    .unwrap();
    env
}

fn gpgv(env: &TestEnv, keyring: &Path, file: &Path) -> std::process::Output {
    let home = env.dir.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    std::process::Command::new("gpgv")
        .arg("--homedir")
        .arg(&home)
        .arg("--keyring")
        .arg(keyring)
        .arg(file)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("run `gpgv` (is gpgv installed?): {e}"))
}

/// Regression (`db backup` leaves out `<root>/keys`): a restore into a
/// fresh data root brings the signing key back, so what it publishes
/// verifies with the key clients already trust; `--no-keys` leaves it out.
#[test]
fn a_backup_carries_the_signing_keys_to_a_fresh_root() {
    let env = TestEnv::new();
    synced(&env);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    let trusted = export_key(&env, "trusted.gpg");
    let dest = env.dir.path().join("backup.db").display().to_string();
    let out = env.ok(&["db", "backup", &dest]);
    assert!(
        out.stdout.contains("with 1 signing key"),
        "{}",
        out.transcript()
    );
    let v = json(&env.ok(&["--json", "db", "backup", &dest]));
    let keys = v["manifest"]["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{v}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{dest}.manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["keys"], v["manifest"]["keys"]);

    let new = fresh_root_sharing_blobs(&env);
    let out = new.ok(&["db", "restore", &dest]);
    assert!(
        out.stdout.contains("restored 1 signing key"),
        "{}",
        out.transcript()
    );
    let keys_dir = new.root().join("keys");
    for e in std::fs::read_dir(&keys_dir).unwrap() {
        let mode = e.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    new.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    let inrelease = new.root().join("public/dists/stable/InRelease");
    let out = gpgv(&new, &trusted, &inrelease);
    assert!(
        out.status.success(),
        "gpgv: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The restore is in the audit trail.
    let audit = new.ok(&["audit"]);
    assert!(
        audit.stdout.contains("db-restore"),
        "{}",
        audit.transcript()
    );

    // `--no-keys`: the copy holds no key, and says so.
    let bare = env.dir.path().join("bare.db").display().to_string();
    let out = env.ok(&["db", "backup", "--no-keys", &bare]);
    assert!(
        out.stdout.contains("without the signing keys"),
        "{}",
        out.transcript()
    );
    let other = fresh_root_sharing_blobs(&env);
    other.ok(&["db", "restore", &bare]);
    let out = other.run(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("no signing key"),
        "{}",
        out.transcript()
    );
}

/// Regression (publications the restored database does not know): `verify`
/// names them, `publish drop` removes them.
fn unknown_publications_are_found_and_dropped(env: &TestEnv, dest: &str) {
    synced(env);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    env.ok(&["db", "backup", dest]);
    env.ok(&[
        "snapshot",
        "publish",
        "s1",
        "--distribution",
        "testing",
        "--prefix",
        "extra",
    ]);
    env.ok(&["db", "restore", dest]);

    let out = env.run(&["verify"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stderr.contains(
            "problem: publication `extra/dists/testing`: on the publish endpoint but not in the database"
        ),
        "{}",
        out.transcript()
    );
    let out = env.ok(&["publish", "drop", "testing", "--prefix", "extra"]);
    assert!(
        out.stdout.contains("not in the database"),
        "{}",
        out.transcript()
    );
    let v = json(&env.ok(&["--json", "verify"]));
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    assert_eq!(v["publications"], 1, "{v}");
}

#[test]
fn unknown_publications_are_found_and_dropped_locally() {
    let env = TestEnv::new();
    let dest = env.dir.path().join("backup.db").display().to_string();
    unknown_publications_are_found_and_dropped(&env, &dest);
}

#[test]
fn unknown_publications_are_found_and_dropped_in_s3() {
    let env = TestEnv::new_s3();
    let dest = env.s3.as_ref().unwrap().url("backups/debvault.db");
    unknown_publications_are_found_and_dropped(&env, &dest);
}

/// Dates `path` (a file or directory) `age` back.
fn age(path: &Path, age: Duration) {
    let f = std::fs::File::open(path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

/// Regression (leftovers of killed backups and failed publishes): `gc`
/// removes those older than its grace period, names them, and leaves the
/// young ones (a backup or publish may still be running).
#[test]
fn gc_removes_old_leftovers_of_backups_and_publishes() {
    let env = TestEnv::new();
    synced(&env);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    let root = env.root();
    let old_backup = root.join("tmp/backup-killed");
    let young_backup = root.join("tmp/backup-running");
    let trees = root.join("public/.debvault/trees/stable");
    let old_tree = trees.join(".tmp-20250101T000000Z-4242");
    let young_tree = trees.join(".tmp-20250101T000001Z-4343");
    for dir in [&old_backup, &young_backup, &old_tree, &young_tree] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("part"), b"half").unwrap();
    }
    let two_days = Duration::from_secs(2 * 24 * 3600);
    age(&old_backup, two_days);
    age(&old_tree, two_days);

    let v = json(&env.ok(&["--json", "gc", "--dry-run"]));
    assert_eq!(v["leftovers"].as_array().unwrap().len(), 2, "{v}");
    assert!(old_backup.exists());
    let out = env.ok(&["gc"]);
    assert!(out.stdout.contains("2 leftovers"), "{}", out.transcript());
    assert!(
        out.stdout
            .contains(&format!("removed leftover `{}`", old_tree.display())),
        "{}",
        out.transcript()
    );
    assert!(!old_backup.exists() && !old_tree.exists());
    assert!(young_backup.exists() && young_tree.exists());
    env.ok(&["verify"]);
}
