//! `snapshot publish` and `publish list | show | drop`: the tree on disk,
//! no-op re-publish, atomic switches, by-hash grace, dated distributions.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};

use crate::snapshot::two_snapshots;
use crate::support::TestEnv;

fn public(env: &TestEnv) -> PathBuf {
    env.root().join("public")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// [`TestEnv::redact`], plus digests of signed (dated) files and column padding after tree ids.
fn redact(env: &TestEnv, text: &str) -> String {
    let s = env.redact(text);
    let s = regex::Regex::new(r"SHA256 [0-9a-f]{64}")
        .unwrap()
        .replace_all(&s, "SHA256 [HASH]");
    regex::Regex::new(r"\[TREE\] +")
        .unwrap()
        .replace_all(&s, "[TREE] ")
        .into_owned()
}

fn keyed() -> TestEnv {
    let env = two_snapshots();
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env
}

#[test]
fn publish_noop_switch_and_drop() {
    let env = keyed();
    let out = env.run(&[
        "snapshot",
        "publish",
        "s1",
        "--distribution",
        "stable",
        "--dry-run",
    ]);
    insta::assert_snapshot!("publish_dry_run", redact(&env, &out.transcript()));
    assert!(
        !public(&env).join("dists").exists(),
        "a dry run writes nothing"
    );

    let out = env.run(&[
        "snapshot",
        "publish",
        "s1",
        "--distribution",
        "stable",
        "--origin",
        "Example",
    ]);
    insta::assert_snapshot!("publish_first", redact(&env, &out.transcript()));
    let dist = public(&env).join("dists/stable");
    assert!(
        std::fs::symlink_metadata(&dist)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let release = read(&dist.join("Release"));
    for field in [
        "Origin: Example\n",
        "Suite: stable\n",
        "Codename: stable\n",
        "Acquire-By-Hash: yes\n",
        "Components: main\n",
        "Architectures: amd64\n",
        "Signed-By: ",
    ] {
        assert!(release.contains(field), "{field:?} missing:\n{release}");
    }
    let packages = read(&dist.join("main/binary-amd64/Packages"));
    assert!(
        packages.contains("Filename: pool/main/a/app/app_1.0-1_amd64.deb\n"),
        "{packages}"
    );
    assert!(
        packages.contains("Package: base-files\n"),
        "`all` packages are in every architecture's index"
    );
    assert!(
        public(&env)
            .join("pool/main/a/app/app_1.0-1_amd64.deb")
            .is_file()
    );

    // The same snapshot again: nothing to do, nothing touched.
    let before = std::fs::read_link(&dist).unwrap();
    let out = env.run(&[
        "snapshot",
        "publish",
        "s1",
        "--distribution",
        "stable",
        "--origin",
        "Example",
    ]);
    insta::assert_snapshot!("publish_noop", redact(&env, &out.transcript()));
    assert_eq!(std::fs::read_link(&dist).unwrap(), before);

    // Switch the moving distribution to s2: a new tree, the old by-hash files kept.
    let old_xz = sha_of(&dist.join("main/binary-amd64/Packages.xz"));
    let out = env.run(&[
        "snapshot",
        "publish",
        "s2",
        "--distribution",
        "stable",
        "--origin",
        "Example",
    ]);
    insta::assert_snapshot!("publish_switch", redact(&env, &out.transcript()));
    assert_ne!(std::fs::read_link(&dist).unwrap(), before);
    assert!(
        dist.join(format!("main/binary-amd64/by-hash/SHA256/{old_xz}"))
            .is_file(),
        "the replaced tree's by-hash files stay reachable"
    );
    let packages = read(&dist.join("main/binary-amd64/Packages"));
    assert!(
        packages.contains("Version: 1.4-1\n") && !packages.contains("Package: gone\n"),
        "{packages}"
    );
    // The replaced tree is still whole (snapshot URLs serve it).
    let trees = public(&env).join(".debvault/trees/stable");
    assert_eq!(std::fs::read_dir(&trees).unwrap().count(), 2);

    // Another distribution of an already rendered snapshot reuses its indices.
    let out = env.ok(&["snapshot", "publish", "s1", "--distribution", "again"]);
    assert!(
        out.stdout.contains("2 indices (2 reused)"),
        "{}",
        out.transcript()
    );
    env.ok(&["publish", "drop", "again"]);

    let out = env.run(&["publish", "list"]);
    insta::assert_snapshot!("publish_list", redact(&env, &out.transcript()));
    let out = env.run(&["publish", "show", "stable"]);
    insta::assert_snapshot!("publish_show", redact(&env, &out.transcript()));
    let out = env.ok(&["publish", "show", "stable", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["snapshot"], "s2");
    assert_eq!(v["history"].as_array().map(Vec::len), Some(2));

    let out = env.run(&["publish", "drop", "stable"]);
    insta::assert_snapshot!("publish_drop", redact(&env, &out.transcript()));
    assert!(std::fs::symlink_metadata(&dist).is_err());
    assert!(!trees.exists());
    let out = env.run(&["publish", "show", "stable"]);
    insta::assert_snapshot!("publish_show_missing", redact(&env, &out.transcript()));
}

fn sha_of(path: &Path) -> String {
    use sha2::Digest as _;
    let data = std::fs::read(path).unwrap();
    hex::encode(sha2::Sha256::digest(&data))
}

#[test]
fn prefixes_options_and_refusals() {
    let env = keyed();
    env.ok(&[
        "snapshot",
        "publish",
        "s1",
        "--prefix",
        "ci/debian",
        "--distribution",
        "s1",
        "--label",
        "CI",
        "--suite",
        "frozen",
        "--codename",
        "bookworm",
        "--valid-for",
        "7d",
        "--not-automatic",
        "--but-automatic-upgrades",
        "--snapshots-url",
        "http://repo.example.invalid/ci/debian",
    ]);
    let dist = public(&env).join("ci/debian/dists/s1");
    let release = read(&dist.join("Release"));
    for field in [
        "Label: CI\n",
        "Suite: frozen\n",
        "Codename: bookworm\n",
        "Valid-Until: ",
        "NotAutomatic: yes\n",
        "ButAutomaticUpgrades: yes\n",
        "Snapshots: http://repo.example.invalid/ci/debian/snapshots/@SNAPSHOTID@/\n",
    ] {
        assert!(release.contains(field), "{field:?} missing:\n{release}");
    }
    assert!(public(&env).join("ci/debian/pool/main/a/app").is_dir());

    // A distribution named after its snapshot is immutable.
    let out = env.run(&[
        "snapshot",
        "publish",
        "s2",
        "--prefix",
        "ci/debian",
        "--distribution",
        "s1",
    ]);
    insta::assert_snapshot!("publish_dated_immutable", redact(&env, &out.transcript()));

    for (args, name) in [
        (
            vec!["--prefix", "../up", "--distribution", "x"],
            "publish_bad_prefix",
        ),
        (
            vec!["--distribution", ".hidden"],
            "publish_bad_distribution",
        ),
        (
            vec!["--distribution", "x", "--valid-for", "soon"],
            "publish_bad_duration",
        ),
        (
            vec!["--distribution", "x", "--but-automatic-upgrades"],
            "publish_bad_option",
        ),
    ] {
        let mut all = vec!["snapshot", "publish", "s2"];
        all.extend(args);
        let out = env.run(&all);
        insta::assert_snapshot!(name, redact(&env, &out.transcript()));
    }

    // Something that is not ours at dists/<name> is never replaced.
    std::fs::create_dir_all(public(&env).join("dists/handmade")).unwrap();
    let out = env.run(&["snapshot", "publish", "s2", "--distribution", "handmade"]);
    insta::assert_snapshot!("publish_foreign", redact(&env, &out.transcript()));
}

#[test]
fn default_distribution_is_the_mirror_suite() {
    let env = keyed();
    let out = env.ok(&["snapshot", "publish", "s1"]);
    assert!(
        out.stdout.contains("as `dists/stable`"),
        "{}",
        out.transcript()
    );
    env.ok(&["snapshot", "merge", "mixed", "s1", "s2"]);
    let out = env.run(&["snapshot", "publish", "mixed"]);
    insta::assert_snapshot!(
        "publish_merge_needs_distribution",
        redact(&env, &out.transcript())
    );
}

#[test]
fn pool_files_are_write_once() {
    let env = keyed();
    // Another file already sits at app's pool path: the package goes to a
    // hash-qualified path, the squatter is left alone.
    let squat = public(&env).join("pool/main/a/app/app_1.0-1_amd64.deb");
    std::fs::create_dir_all(squat.parent().unwrap()).unwrap();
    std::fs::write(&squat, b"not the package").unwrap();
    let out = env.run(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    insta::assert_snapshot!("publish_qualified", redact(&env, &out.transcript()));
    assert_eq!(std::fs::read(&squat).unwrap(), b"not the package");
    let packages = read(&public(&env).join("dists/stable/main/binary-amd64/Packages"));
    let line = packages
        .lines()
        .find(|l| l.contains("/app_1.0-1_amd64.deb"))
        .unwrap();
    assert!(
        line.starts_with("Filename: pool/main/a/app/sha256-"),
        "{line}"
    );
    let path = public(&env).join(line.trim_start_matches("Filename: "));
    assert!(path.is_file());
    // The indices were rendered first with app at its plain path, then
    // again: only the final tree is left.
    let trees = public(&env).join(".debvault/trees/stable");
    let names: Vec<String> = std::fs::read_dir(&trees)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(!names[0].starts_with('.'), "{names:?}");
}

#[test]
fn a_blocked_pool_directory_fails_the_publish_and_switches_nothing() {
    let env = keyed();
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    let in_release = public(&env).join("dists/stable/InRelease");
    let served = read(&in_release);
    // A dangling link where the `a` directories of the pool were: app's
    // file is missing, and its directory cannot be made.
    let letter = public(&env).join("pool/main/a");
    std::fs::remove_dir_all(&letter).unwrap();
    std::os::unix::fs::symlink("nowhere", &letter).unwrap();
    let out = env.run(&["snapshot", "publish", "s2", "--distribution", "stable"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stderr.contains("pool/main/a/app"),
        "names the directory: {}",
        out.stderr
    );
    assert_eq!(read(&in_release), served, "the served tree stays");
}

#[test]
fn publish_without_a_key_fails_cleanly() {
    let env = two_snapshots();
    let out = env.run(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    insta::assert_snapshot!("publish_no_key", redact(&env, &out.transcript()));
    assert!(!public(&env).join("dists").exists());
}

#[test]
fn killed_publish_leaves_the_served_tree_alone() {
    let env = keyed();
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    let dist = public(&env).join("dists/stable");
    let served = read(&dist.join("InRelease"));
    // What a publish killed while rendering leaves: a staging directory and
    // a half-made symlink, neither visible at `dists/stable`.
    let trees = public(&env).join(".debvault/trees/stable");
    std::fs::create_dir_all(trees.join(".tmp-20990101T000000Z-1/main")).unwrap();
    std::os::unix::fs::symlink("nowhere", public(&env).join("dists/.tmp-stable-1")).unwrap();
    assert_eq!(read(&dist.join("InRelease")), served);
    env.ok(&["snapshot", "publish", "s2", "--distribution", "stable"]);
    assert!(
        !trees.join(".tmp-20990101T000000Z-1").exists(),
        "staging cleaned"
    );
    assert!(read(&dist.join("Release")).contains("Suite: stable"));
    assert!(
        std::fs::symlink_metadata(public(&env).join("dists/.tmp-stable-1")).is_err(),
        "half-made link cleaned"
    );
}

#[test]
fn xz_preset_from_the_config_file() {
    let env = keyed();
    let config = env.dir.path().join("config.toml");
    std::fs::write(&config, "[publish]\nxz-preset = 6\n").unwrap();
    let cfg = config.display().to_string();
    let out = env.ok(&["--config", &cfg, "config", "show"]);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("publish.xz-preset"))
        .unwrap();
    assert!(line.contains('6') && line.contains("config.toml"), "{line}");
    env.ok(&[
        "--config",
        &cfg,
        "snapshot",
        "publish",
        "s1",
        "--distribution",
        "stable",
    ]);
    let xz =
        std::fs::read(public(&env).join("dists/stable/main/binary-amd64/Packages.xz")).unwrap();
    assert!(xz.starts_with(b"\xfd7zXZ\0"), "an xz stream");

    std::fs::write(&config, "[publish]\nxz-preset = 12\n").unwrap();
    let out = env.run(&[
        "--config",
        &cfg,
        "snapshot",
        "publish",
        "s2",
        "--distribution",
        "stable",
    ]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("publish.xz-preset"),
        "{}",
        out.transcript()
    );
}

#[test]
fn a_switched_in_release_is_dated_after_the_one_it_replaces() {
    // Two switches within one second: `Last-Modified` has whole seconds,
    // so the second tree's top-level files must still carry a later
    // second, or a client revalidating the first `InRelease` by date would
    // be told "not modified".
    let env = keyed();
    let mtime = |name: &str| {
        std::fs::metadata(public(&env).join("dists/stable").join(name))
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    let first = mtime("InRelease");
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    env.ok(&["snapshot", "publish", "s2", "--distribution", "stable"]);
    for name in ["InRelease", "Release", "Release.gpg"] {
        let second = mtime(name);
        assert!(second > first, "{name}: {second} after {first}");
        assert!(
            second >= before,
            "{name}: {second}, switched after {before}"
        );
    }
    env.ok(&["verify"]);
}

/// Issue 24: `--prefix /abs` was published below the endpoint as `abs/`,
/// and a prefix passing through a symbolic link followed it out of the
/// endpoint. Both are refused, naming the prefix, and nothing is written.
#[test]
fn issue_24_absolute_and_symlinked_prefixes_are_refused() {
    let env = keyed();
    let publish = |prefix: &str| {
        env.run(&[
            "snapshot",
            "publish",
            "s1",
            "--prefix",
            prefix,
            "--distribution",
            "stable",
        ])
    };
    let out = publish("/abs");
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("`/abs`"), "{}", out.transcript());
    assert!(!public(&env).join("abs").exists());

    let outside = env.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(public(&env).join("real")).unwrap();
    std::os::unix::fs::symlink(&outside, public(&env).join("ci")).unwrap();
    std::os::unix::fs::symlink(&outside, public(&env).join("real/link")).unwrap();
    // The link as the prefix, as an intermediate part, below a real directory.
    for prefix in ["ci", "ci/debian", "real/link/debian"] {
        let out = publish(prefix);
        assert_eq!(out.code, 2, "{prefix}: {}", out.transcript());
        assert!(
            out.stderr.contains(&format!("prefix `{prefix}`")) && out.stderr.contains("link"),
            "{prefix}: {}",
            out.transcript()
        );
    }
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing written through the link"
    );
    env.ok(&["snapshot", "publish", "s1", "--prefix", "real/debian"]);
}

/// `publish list` printed `curated/dists/bookworm`, which `publish show`
/// and `drop` refused: they take what `list` prints.
#[test]
fn show_and_drop_take_what_list_prints() {
    let env = keyed();
    env.ok(&[
        "snapshot",
        "publish",
        "s1",
        "--prefix",
        "curated",
        "--distribution",
        "bookworm",
    ]);
    let out = env.ok(&["publish", "list"]);
    assert!(
        out.stdout.contains("curated/dists/bookworm "),
        "{}",
        out.transcript()
    );
    let out = env.ok(&["publish", "show", "curated/dists/bookworm"]);
    assert!(
        out.stdout
            .contains("publication:  curated/dists/bookworm\n"),
        "{}",
        out.transcript()
    );
    env.ok(&["publish", "show", "bookworm", "--prefix", "curated"]);
    let out = env.run(&[
        "publish",
        "show",
        "curated/dists/bookworm",
        "--prefix",
        "other",
    ]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    env.ok(&["publish", "drop", "curated/dists/bookworm"]);
    assert!(std::fs::symlink_metadata(public(&env).join("curated/dists/bookworm")).is_err());
}

/// Re-publishing without `--snapshots-url` silently dropped the
/// `Snapshots:` field, and the next `gc` deleted the dated trees it
/// announced. Settings belong to the publication: an absent flag keeps the
/// stored value, a different one is refused unless `--set` is given,
/// `--unset` clears one, and retention follows what was published.
#[test]
fn settings_stick_to_the_publication() {
    let env = keyed();
    let trees = public(&env).join(".debvault/trees/stable");
    let count = |dir: &Path| std::fs::read_dir(dir).unwrap().count();
    let release = || read(&public(&env).join("dists/stable/Release"));
    let publish = |args: &[&str]| {
        let mut all = vec!["snapshot", "publish"];
        all.extend_from_slice(args);
        all.extend(["--distribution", "stable"]);
        env.run(&all)
    };
    let url = "http://repo.example.invalid/debian";
    let out = publish(&["s1", "--origin", "Example", "--snapshots-url", url]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let out = publish(&["s2"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let text = release();
    assert!(
        text.contains("Origin: Example\n")
            && text.contains(&format!("Snapshots: {url}/snapshots/@SNAPSHOTID@/\n")),
        "the stored settings are reused:\n{text}"
    );
    env.ok(&["gc", "--grace", "0s"]);
    assert_eq!(
        count(&trees),
        2,
        "dated trees stay for the retention period"
    );

    let out = publish(&["s2"]);
    assert!(
        out.code == 0 && out.stdout.contains("nothing to do"),
        "same snapshot, same settings: {}",
        out.transcript()
    );

    // A flag that differs from the stored value is refused.
    let out = publish(&["s2", "--origin", "Other"]);
    insta::assert_snapshot!("publish_setting_changed", redact(&env, &out.transcript()));
    assert!(release().contains("Origin: Example\n"));

    // `--set` changes it, in the plan, the report and the audit trail.
    let out = publish(&["s2", "--origin", "Other", "--set", "--dry-run"]);
    assert!(
        out.code == 0 && out.stdout.contains("origin: `Example` -> `Other`"),
        "{}",
        out.transcript()
    );
    let out = publish(&["s2", "--origin", "Other", "--set"]);
    assert!(
        out.code == 0 && out.stdout.contains("origin: `Example` -> `Other`"),
        "{}",
        out.transcript()
    );
    assert!(release().contains("Origin: Other\n"));
    let out = env.ok(&["--json", "audit"]);
    assert!(
        out.stdout.contains("settings_changed") && out.stdout.contains("Other"),
        "{}",
        out.transcript()
    );

    // `--unset` clears one.
    let out = publish(&["s2", "--unset", "snapshots-url"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(!release().contains("Snapshots:"), "{}", release());
    let out = env.ok(&["publish", "show", "stable"]);
    insta::assert_snapshot!("publish_show_settings", redact(&env, &out.stdout));

    // What was published with `Snapshots:` is kept by its retention, not
    // by the current flags.
    env.ok(&["gc", "--grace", "0s"]);
    assert_eq!(count(&trees), 4, "{:?}", std::fs::read_dir(&trees).unwrap());
}

/// Issue 23: the dependency gate checks the snapshots published together
/// as components, their packages together: `app` alone is refused, `app`
/// with its dependencies in another component passes.
#[test]
fn issue_23_components_are_checked_for_dependencies_together() {
    let env = keyed();
    env.ok(&["snapshot", "filter", "apps", "s1", "app"]);
    env.ok(&[
        "snapshot",
        "filter",
        "deps",
        "s1",
        "libfoo | tool | base-files",
    ]);
    let out = env.run(&["snapshot", "publish", "apps", "--distribution", "stable"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(out.stderr.contains("unmet"), "{}", out.transcript());
    let out = env.run(&[
        "snapshot",
        "publish",
        "apps",
        "deps",
        "--component",
        "main,libs",
        "--distribution",
        "together",
    ]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let release = read(&public(&env).join("dists/together/Release"));
    assert!(release.contains("\nComponents: libs main\n"), "{release}");
}
