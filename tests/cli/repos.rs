//! Local repositories (issue 21): `repo create|list|show|drop|add|remove|
//! copy|move` and snapshots taken from repos, published to the real apt.
//!
//! Covered:
//! - a package's control data comes from the `.deb`, not its file name;
//!   `Filename`, `Size`, `MD5sum`, `SHA256` are computed;
//! - repo → snapshot → publish → apt downloads it; a second version →
//!   new snapshot → the distribution switches in place → apt sees it;
//! - a mirror snapshot merged with a repo snapshot (and one snapshot of
//!   both) installs both kinds;
//! - the same version with other bytes is refused (exit 3, both hashes
//!   named); identical bytes are a no-op; `--force-replace` replaces and
//!   is audited;
//! - hostile `.deb`s (a `../` path through the control data, an ar member
//!   that lies about its size, no control member) are refused with nothing
//!   stored: no blob, no staging file, no package;
//! - a `.dsc` with the files it lists → `Sources` → `apt-get source`; a
//!   listed file with other bytes is refused with nothing stored;
//! - remove, copy and move by filter, with `--dry-run`; `package search
//!   --repo`; drop; gc keeps a repo's blobs.

use std::path::{Path, PathBuf};

use debvault::digest::Sha256;

use crate::support::apt::{Apt, Serve, Sources};
use crate::support::repos::{
    ar, deb_with_control, files_below, gzip_tar, write, write_deb, write_source,
};
use crate::support::{Pkg, Repo, TestEnv, json};

fn incoming(env: &TestEnv) -> PathBuf {
    env.dir.path().join("incoming")
}

/// A signing key, exported (binary) to `<tmp>/debvault.gpg`.
fn keyring(env: &TestEnv) -> PathBuf {
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let path = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &path.display().to_string()]);
    path
}

fn publish(env: &TestEnv, snapshot: &str) {
    env.ok(&["snapshot", "publish", snapshot, "--distribution", "stable"]);
}

fn packages(env: &TestEnv, repo: &str) -> Vec<String> {
    let v = json(&env.ok(&["--json", "repo", "show", repo, "--with-packages"]));
    v["package_list"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    format!("{}_{}_{}", p["name"], p["version"], p["architecture"]).replace('"', "")
                })
                .collect()
        })
        .unwrap_or_default()
}

fn blobs(env: &TestEnv) -> Vec<PathBuf> {
    let mut out = files_below(&env.root().join("blobs/sha256"));
    out.extend(files_below(&env.root().join("blobs/tmp")));
    out
}

#[test]
fn repo_packages_reach_apt_and_a_new_version_switches_in_place() {
    let env = TestEnv::new();
    let key = keyring(&env);
    env.ok(&["repo", "create", "team", "--comment", "our packages"]);
    let v1 = Pkg::new("hello", "1.0-1");
    // The file name says nothing true: the control data is what counts.
    let file = write_deb(&incoming(&env), "upload.deb", &v1);
    let out = env.ok(&["--json", "repo", "add", "team", &file.display().to_string()]);
    let report = json(&out);
    assert_eq!(report["added"][0]["name"], "hello", "{}", out.stdout);
    assert_eq!(report["added"][0]["sha256"], v1.sha256().to_string());
    assert_eq!(packages(&env, "team"), ["hello_1.0-1_amd64"]);

    env.ok(&["snapshot", "create", "s1", "--from-repo", "team"]);
    publish(&env, "s1");
    let index = std::fs::read_to_string(
        env.root()
            .join("public/dists/stable/main/binary-amd64/Packages"),
    )
    .expect("Packages");
    assert!(
        index.contains("Filename: pool/main/h/hello/hello_1.0-1_amd64.deb"),
        "{index}"
    );
    assert!(
        index.contains(&format!("SHA256: {}", v1.sha256())),
        "{index}"
    );
    assert!(
        index.contains(&format!("Size: {}", v1.deb().len())),
        "{index}"
    );
    assert!(index.contains("MD5sum: "), "{index}");

    let serve = Serve::start(&env);
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &key,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "hello"]);
    assert_eq!(
        apt.archives().into_iter().collect::<Vec<_>>(),
        [("hello_1.0-1_amd64.deb".to_owned(), v1.sha256())]
    );

    let v2 = Pkg::new("hello", "1.1-1");
    let file = write_deb(&incoming(&env), "hello_1.1-1_amd64.deb", &v2);
    env.ok(&["repo", "add", "team", &file.display().to_string()]);
    env.ok(&["snapshot", "create", "s2", "--from-repo", "team"]);
    publish(&env, "s2");
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "hello"]);
    assert_eq!(
        apt.archives().get("hello_1.1-1_amd64.deb"),
        Some(&v2.sha256()),
        "apt did not get the new version"
    );
}

#[test]
fn a_mirror_snapshot_merged_with_a_repo_snapshot_installs_both() {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(vec![Pkg::new("app", "2.0-1")]));
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["repo", "create", "team"]);
    let ours = Pkg::new("tool", "0.1").arch("all");
    let dir = incoming(&env).join("debs");
    write_deb(&dir.join("nested"), "tool.deb", &ours);
    std::fs::write(dir.join("notes.txt"), b"not a package").expect("write");
    // A directory is searched for .deb files.
    env.ok(&["repo", "add", "team", &dir.display().to_string()]);
    env.ok(&["snapshot", "create", "from-m", "--from-mirror", "m"]);
    env.ok(&["snapshot", "create", "from-team", "--from-repo", "team"]);
    env.ok(&["snapshot", "merge", "both", "from-m", "from-team"]);
    // One snapshot of both kinds at once says where it came from.
    let mixed = json(&env.ok(&[
        "--json",
        "snapshot",
        "create",
        "mixed",
        "--from-mirror",
        "m",
        "--from-repo",
        "team",
    ]));
    assert_eq!(mixed["packages"], 2, "{mixed}");
    assert_eq!(mixed["origin"]["repos"][0]["name"], "team", "{mixed}");
    let diff = env.ok(&["--json", "snapshot", "diff", "both", "mixed"]);
    assert!(!diff.stdout.contains("tool"), "{}", diff.stdout);

    let key = keyring(&env);
    publish(&env, "both");
    let serve = Serve::start(&env);
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &key,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "app", "tool"]);
    let got = apt.archives();
    assert_eq!(got.get("tool_0.1_all.deb"), Some(&ours.sha256()), "{got:?}");
    assert!(got.contains_key("app_2.0-1_amd64.deb"), "{got:?}");
}

#[test]
fn other_bytes_under_the_same_version_are_refused_unless_forced() {
    let env = TestEnv::new();
    env.ok(&["repo", "create", "team"]);
    let a = Pkg::new("hello", "1.0").salt("a");
    let b = Pkg::new("hello", "1.0").salt("b");
    let fa = write_deb(&incoming(&env), "a.deb", &a)
        .display()
        .to_string();
    let fb = write_deb(&incoming(&env), "b.deb", &b)
        .display()
        .to_string();
    env.ok(&["repo", "add", "team", &fa]);

    let out = env.run(&["repo", "add", "team", &fb]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stderr.contains(&a.sha256().to_string()),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&b.sha256().to_string()),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--force-replace"), "{}", out.stderr);
    // The refused file left nothing: one blob, no staging file.
    assert_eq!(blobs(&env).len(), 1, "{:?}", blobs(&env));

    // The same bytes again: nothing to do.
    let same = json(&env.ok(&["--json", "repo", "add", "team", &fa]));
    assert_eq!(
        same["unchanged"].as_array().map(Vec::len),
        Some(1),
        "{same}"
    );
    assert_eq!(same["added"].as_array().map(Vec::len), Some(0), "{same}");

    let dry = json(&env.ok(&[
        "--json",
        "repo",
        "add",
        "team",
        &fb,
        "--force-replace",
        "--dry-run",
    ]));
    assert_eq!(
        dry["replaced"][0]["replaced_sha256"],
        a.sha256().to_string(),
        "{dry}"
    );
    assert_eq!(blobs(&env).len(), 1, "a dry run stored something");

    env.ok(&["repo", "add", "team", &fb, "--force-replace"]);
    let shown = json(&env.ok(&["--json", "repo", "show", "team", "--with-packages"]));
    assert_eq!(
        shown["package_list"][0]["sha256"],
        b.sha256().to_string(),
        "{shown}"
    );
    assert_eq!(shown["packages"], 1);
    let audit = env.ok(&["--json", "audit"]);
    assert!(audit.stdout.contains("repo-replace"), "{}", audit.stdout);
    assert!(
        audit.stdout.contains(&a.sha256().to_string()),
        "{}",
        audit.stdout
    );
}

#[test]
fn hostile_debs_are_refused_with_nothing_stored() {
    let env = TestEnv::new();
    env.ok(&["repo", "create", "team"]);
    let good = Pkg::new("hello", "1.0").deb();
    let control_only = gzip_tar(&[("./control", b"Package: x1\nVersion: 1\nArchitecture: all\n")]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a source naming ../ in the pool path",
            deb_with_control(
                "Package: evil\nSource: ../../etc\nVersion: 1.0\nArchitecture: amd64\nDescription: x\n",
            ),
        ),
        (
            "a version with a path in it",
            deb_with_control(
                "Package: evil\nVersion: 1.0/../../x\nArchitecture: amd64\nDescription: x\n",
            ),
        ),
        (
            "an architecture with a path in it",
            deb_with_control(
                "Package: evil\nVersion: 1.0\nArchitecture: ../amd64\nDescription: x\n",
            ),
        ),
        ("an ar member that lies about its size", {
            let mut d = ar(
                &[
                    ("debian-binary", b"2.0\n"),
                    ("control.tar.gz", &control_only),
                ],
                4096,
            );
            d.extend_from_slice(&good[..64]);
            d
        }),
        (
            "no control member",
            ar(
                &[("debian-binary", b"2.0\n"), ("data.tar.gz", &gzip_tar(&[]))],
                0,
            ),
        ),
        ("not a .deb at all", b"hello world\n".to_vec()),
    ];
    for (what, data) in cases {
        let file = write(&incoming(&env), "upload.deb", &data);
        let out = env.run(&["repo", "add", "team", &file.display().to_string()]);
        assert_eq!(out.code, 3, "{what}: {}", out.transcript());
        assert!(out.stderr.contains("upload.deb"), "{what}: {}", out.stderr);
        assert_eq!(
            blobs(&env),
            Vec::<PathBuf>::new(),
            "{what}: something was stored"
        );
        assert_eq!(packages(&env, "team"), Vec::<String>::new(), "{what}");
    }
    // A batch with one bad file stores none of it.
    let ok = write_deb(&incoming(&env), "ok.deb", &Pkg::new("fine", "1"));
    let bad = write(&incoming(&env), "bad.deb", b"junk");
    let out = env.run(&["repo", "add", "team", &path(&ok), &path(&bad)]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert_eq!(blobs(&env), Vec::<PathBuf>::new());
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn remove_copy_move_by_filter_with_dry_runs() {
    let env = TestEnv::new();
    env.ok(&["repo", "create", "dev"]);
    env.ok(&["repo", "create", "release", "--component", "contrib"]);
    let dir = incoming(&env);
    for p in [
        Pkg::new("app", "1.0").depends("libx"),
        Pkg::new("app", "1.1").depends("libx"),
        Pkg::new("libx", "3"),
        Pkg::new("other", "1"),
    ] {
        write_deb(&dir, &format!("{}_{}.deb", p.name, p.version), &p);
    }
    env.ok(&["repo", "add", "dev", &path(&dir)]);
    assert_eq!(packages(&env, "dev").len(), 4);

    let dry = json(&env.ok(&[
        "--json",
        "repo",
        "copy",
        "dev",
        "release",
        "app (>= 1.1)",
        "--with-deps",
        "--dry-run",
    ]));
    assert_eq!(dry["copied"].as_array().map(Vec::len), Some(2), "{dry}");
    assert_eq!(packages(&env, "release"), Vec::<String>::new());

    env.ok(&[
        "repo",
        "copy",
        "dev",
        "release",
        "app (>= 1.1)",
        "--with-deps",
    ]);
    assert_eq!(packages(&env, "release"), ["app_1.1_amd64", "libx_3_amd64"]);
    // Copying again changes nothing.
    let again = json(&env.ok(&["--json", "repo", "copy", "dev", "release", "app (>= 1.1)"]));
    assert_eq!(
        again["unchanged"].as_array().map(Vec::len),
        Some(1),
        "{again}"
    );

    env.ok(&["repo", "move", "dev", "release", "other"]);
    assert_eq!(
        packages(&env, "dev"),
        ["app_1.0_amd64", "app_1.1_amd64", "libx_3_amd64"]
    );
    assert_eq!(packages(&env, "release").len(), 3);

    let dry = json(&env.ok(&[
        "--json",
        "repo",
        "remove",
        "dev",
        "app (<< 1.1)",
        "--dry-run",
    ]));
    assert_eq!(dry["removed"][0]["version"], "1.0", "{dry}");
    assert_eq!(packages(&env, "dev").len(), 3);
    env.ok(&["repo", "remove", "dev", "app (<< 1.1)"]);
    assert_eq!(packages(&env, "dev"), ["app_1.1_amd64", "libx_3_amd64"]);

    // The destination's component is where its packages are published.
    env.ok(&["snapshot", "create", "rel", "--from-repo", "release"]);
    let shown = env.ok(&["snapshot", "show", "rel"]);
    assert!(shown.stdout.contains("contrib"), "{}", shown.stdout);

    // `package search` looks into repos, one or all.
    let hits = json(&env.ok(&["--json", "package", "search", "libx", "--repo", "dev"]));
    assert_eq!(
        hits[0]["found_in"],
        serde_json::json!(["repo dev"]),
        "{hits}"
    );
    let hits = json(&env.ok(&["--json", "package", "search", "libx"]));
    assert_eq!(
        hits[0]["found_in"],
        serde_json::json!(["snapshot rel", "repo dev", "repo release"]),
        "{hits}"
    );
    let none = env.run(&["package", "search", "libx", "--repo", "nope"]);
    assert_eq!(none.code, 1, "{}", none.transcript());

    let bad = env.run(&["repo", "remove", "dev", "app (>>"]);
    assert_eq!(bad.code, 2, "{}", bad.transcript());
    let list = env.ok(&["repo", "list"]);
    assert!(
        list.stdout.contains("release") && list.stdout.contains("contrib"),
        "{}",
        list.stdout
    );
}

#[test]
fn drop_keeps_snapshots_and_gc_keeps_repo_blobs() {
    let env = TestEnv::new();
    env.ok(&["repo", "create", "team"]);
    let p = Pkg::new("hello", "1.0");
    let file = write_deb(&incoming(&env), "h.deb", &p);
    env.ok(&["repo", "add", "team", &path(&file)]);
    env.ok(&["gc"]);
    let blob_files = blobs(&env);
    assert_eq!(blob_files.len(), 1, "gc collected a repo's blob");
    assert_eq!(
        Sha256::of(&std::fs::read(&blob_files[0]).expect("blob")),
        p.sha256()
    );

    env.ok(&["snapshot", "create", "s", "--from-repo", "team"]);
    let dry = env.ok(&["repo", "drop", "team", "--dry-run"]);
    assert!(dry.stdout.contains("would drop"), "{}", dry.stdout);
    env.ok(&["repo", "drop", "team"]);
    assert_eq!(env.run(&["repo", "show", "team"]).code, 1);
    env.ok(&["gc"]);
    // The snapshot still holds the package and its blob.
    let shown = json(&env.ok(&["--json", "snapshot", "show", "s"]));
    assert_eq!(shown["packages"], 1, "{shown}");
    assert_eq!(blobs(&env).len(), 1);
    env.ok(&["verify"]);
}

#[test]
fn a_source_package_is_added_with_its_files_and_apt_gets_it() {
    let env = TestEnv::new();
    env.ok(&["repo", "create", "team"]);
    let dir = incoming(&env).join("src");
    let (dsc, files) = write_source(&dir);

    // A listed file with other bytes: refused, nothing stored.
    let (name, data) = &files[0];
    write(&dir, name, b"tampered");
    let out = env.run(&["repo", "add", "team", &path(&dsc)]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(out.stderr.contains(name.as_str()), "{}", out.stderr);
    assert_eq!(blobs(&env), Vec::<PathBuf>::new());
    write(&dir, name, data);

    // The directory holds the .dsc and its files: the .dsc is what is added.
    let added = json(&env.ok(&["--json", "repo", "add", "team", &path(&dir)]));
    assert_eq!(added["added"][0]["architecture"], "source", "{added}");
    assert_eq!(blobs(&env).len(), 3, "{:?}", blobs(&env));
    env.ok(&["snapshot", "create", "s", "--from-repo", "team"]);
    let key = keyring(&env);
    publish(&env, "s");
    let index = std::fs::read_to_string(env.root().join("public/dists/stable/main/source/Sources"))
        .expect("Sources");
    assert!(index.contains("Package: foo\n"), "{index}");
    assert!(index.contains("Directory: pool/main/f/foo\n"), "{index}");

    let serve = Serve::start(&env);
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &key,
        Sources::WithSrc,
    );
    apt.ok(&["update"]);
    let work = env.dir.path().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    let out = apt.run_in(&work, &["source", "--download-only", "foo"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    for (name, data) in &files {
        let got = std::fs::read(work.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&got, data, "{name}");
    }
    assert_eq!(
        std::fs::read(work.join("foo_1.0-1.dsc")).expect("dsc"),
        std::fs::read(&dsc).expect("dsc")
    );
}
