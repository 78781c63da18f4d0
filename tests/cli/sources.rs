//! Source packages (`mirror create --with-sources`): sources follow the
//! binaries the filter selects (or are named by it), every file is verified
//! and stored once by content, snapshots and gc treat them like packages,
//! and the real `apt-get source --download-only` fetches one from a
//! publication served by `debvault serve`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use debvault::digest::Sha256;

use crate::support::apt::{Apt, Serve, Sources as AptSources};
use crate::support::sources::SrcPkg;
use crate::support::{Pkg, Repo, TestEnv, json, tree};

/// `foo-utils` is a binNMU (`Source: foo (1.0-1)`); `bar` is its own
/// source; `baz` builds only `baz-bin`.
fn repo() -> Repo {
    let mut repo = Repo::new(vec![
        Pkg::new("foo-utils", "1.0-1+b1").source("foo (1.0-1)"),
        Pkg::new("bar", "2.0"),
        Pkg::new("baz-bin", "3.0").source("baz"),
    ]);
    repo.sources = vec![
        SrcPkg::new("foo", "1.0-1", &["foo-utils"]),
        SrcPkg::new("bar", "2.0", &["bar"]),
        SrcPkg::new("baz", "3.0", &["baz-bin"]),
    ];
    repo
}

fn blob_names(env: &TestEnv) -> Vec<String> {
    tree(&env.root().join("blobs/sha256"))
        .into_iter()
        .map(|(p, _)| p.rsplit('/').next().unwrap().to_owned())
        .collect()
}

/// The `name_version_arch` keys of a mirror's packages.
fn mirror_packages(env: &TestEnv, mirror: &str) -> Vec<String> {
    let v = json(&env.ok(&["--json", "mirror", "show", mirror, "--with-packages"]));
    let mut keys: Vec<String> = v["package_list"]
        .as_array()
        .unwrap_or_else(|| panic!("no package_list in {v}"))
        .iter()
        .map(|p| p["package"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

/// The one mirror report of `mirror sync --json`.
fn synced(env: &TestEnv, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "mirror", "sync"];
    all.extend_from_slice(args);
    json(&env.ok(&all))["mirrors"][0].clone()
}

#[test]
fn a_binarys_source_follows_it_with_every_file_stored() {
    let env = TestEnv::new();
    let repo = repo();
    env.publish_upstream(&repo);
    env.create_mirror("m", &["--with-sources", "--filter", "foo-utils"]);
    let show = env.ok(&["mirror", "show", "m"]);
    assert!(
        show.stdout.contains("sources:       yes"),
        "{}",
        show.transcript()
    );
    let dry = synced(&env, &["m", "--dry-run"]);
    assert_eq!(dry["sources_added"], 1, "{dry}");
    assert_eq!(
        dry["download_files"], 4,
        "a .deb and three source files: {dry}"
    );
    env.ok(&["mirror", "sync", "m"]);
    assert_eq!(
        mirror_packages(&env, "m"),
        ["foo-utils_1.0-1+b1_amd64", "foo_1.0-1_source"]
    );
    let blobs = blob_names(&env);
    for (name, _) in repo.sources[0].files() {
        let sha = repo.sources[0].sha256_of(&name).to_string();
        assert!(blobs.contains(&sha), "{name} is not stored");
    }
    assert_eq!(blobs.len(), 4, "{blobs:?}");
}

#[test]
fn a_filter_may_name_a_source_alone() {
    let env = TestEnv::new();
    env.publish_upstream(&repo());
    env.create_mirror("m", &["--with-sources", "--filter", "baz"]);
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(!out.stderr.contains("warning"), "{}", out.transcript());
    assert_eq!(mirror_packages(&env, "m"), ["baz_3.0_source"]);
}

#[test]
fn a_tampered_orig_tarball_fails_the_sync_and_commits_nothing() {
    let env = TestEnv::new();
    let mut repo = repo();
    repo.sources[0].tampered_orig = true;
    env.publish_upstream(&repo);
    env.create_mirror("m", &["--with-sources", "--filter", "foo-utils"]);
    let out = env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(out.stderr.contains("mirror `m`"), "{}", out.transcript());
    assert!(
        out.stderr.contains("pool/main/f/foo/foo_1.0.orig.tar.gz"),
        "{}",
        out.transcript()
    );
    let v = json(&env.ok(&["--json", "mirror", "show", "m"]));
    assert!(v["mirror"]["state"]["revision"].is_null(), "{v}");
}

#[test]
fn an_orig_tarball_shared_by_two_mirrors_is_stored_once() {
    let env = TestEnv::new();
    let mut repo = repo();
    let mut newer = SrcPkg::new("foo", "1.0-2", &["foo-utils"]);
    newer.orig = repo.sources[0].orig.clone();
    repo.sources.push(newer);
    env.publish_upstream(&repo);
    env.create_mirror("one", &["--with-sources", "--filter", "foo (= 1.0-1)"]);
    env.create_mirror("two", &["--with-sources", "--filter", "foo (= 1.0-2)"]);
    let one = synced(&env, &["one"]);
    assert_eq!(one["downloaded_files"], 3, "{one}");
    let two = synced(&env, &["two"]);
    assert_eq!(
        two["downloaded_files"], 2,
        "the orig is in the store: {two}"
    );
    assert_eq!(blob_names(&env).len(), 5);
}

/// The acceptance test: a source followed from a filtered binary is
/// published and the real `apt-get source --download-only` fetches and
/// verifies it from `debvault serve`.
#[test]
fn apt_get_source_downloads_a_published_source() {
    let env = TestEnv::new();
    apt_get_source(&env);
    let dist = env.root().join("public/dists/stable");
    let sources = std::fs::read_to_string(dist.join("main/source/Sources")).unwrap();
    assert!(
        sources.contains("Package: foo\n") && sources.contains("Directory: pool/main/f/foo\n"),
        "{sources}"
    );
    let release = std::fs::read_to_string(dist.join("Release")).unwrap();
    for f in ["Sources", "Sources.gz", "Sources.xz", "Release"] {
        assert!(
            release.contains(&format!(" main/source/{f}\n")),
            "{f}:\n{release}"
        );
    }
}

/// The same from a publication in S3 (the test run's bucket).
#[test]
fn apt_get_source_from_a_publication_in_s3() {
    apt_get_source(&TestEnv::new_s3());
}

/// Two upstreams with different content under the same source version,
/// published side by side under one prefix: the second's orig tarball and
/// .dsc clash with the first's pool files, so its whole source — the debian
/// tarball, which does not clash, too — goes to one hash-qualified
/// directory, and apt still fetches every file.
#[test]
fn a_clashing_source_moves_whole_to_a_qualified_directory() {
    let env = TestEnv::new();
    let mut repo = repo();
    env.publish_upstream(&repo);
    env.create_mirror("first", &["--with-sources", "--filter", "foo-utils"]);
    env.ok(&["mirror", "sync", "first"]);
    env.ok(&["snapshot", "create", "one", "--from-mirror", "first"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "one", "--distribution", "old"]);
    repo.sources[0].orig = b"another orig tarball".to_vec();
    env.publish_upstream(&repo);
    let repo = apt_get_source_of(&env, repo);
    let sources =
        std::fs::read_to_string(env.root().join("public/dists/stable/main/source/Sources"))
            .unwrap();
    let dsc = repo.sources[0]
        .sha256_of(&repo.sources[0].dsc_name())
        .to_hex();
    let want = format!("Directory: pool/main/f/foo/sha256-{}\n", &dsc[..16]);
    assert!(sources.contains(&want), "{sources}");
}

/// Mirrors `foo-utils` with its source, publishes it as `stable`, and has
/// apt fetch the source through `serve`: every file with its SHA256.
fn apt_get_source(env: &TestEnv) {
    let repo = repo();
    env.publish_upstream(&repo);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    apt_get_source_of(env, repo);
}

/// [`apt_get_source`] from the served `repo` (a signing key exists).
fn apt_get_source_of(env: &TestEnv, repo: Repo) -> Repo {
    env.create_mirror("m", &["--with-sources", "--filter", "foo-utils"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s", "--from-mirror", "m"]);
    env.ok(&["snapshot", "publish", "s", "--distribution", "stable"]);
    let keyring = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &keyring.display().to_string()]);

    let serve = Serve::start(env);
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &keyring,
        AptSources::WithSrc,
    );
    apt.ok(&["update"]);
    let work = env.dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let out = apt.run_in(&work, &["source", "--download-only", "foo"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    let src = &repo.sources[0];
    for (name, _) in src.files() {
        let data = std::fs::read(work.join(&name))
            .unwrap_or_else(|e| panic!("{name} not downloaded ({e}): {}", out.transcript()));
        assert_eq!(Sha256::of(&data), src.sha256_of(&name), "{name}");
    }
    repo
}

#[test]
fn snapshot_diff_shows_a_source_version_change() {
    let env = TestEnv::new();
    let mut repo = repo();
    env.publish_upstream(&repo);
    env.create_mirror("m", &["--with-sources", "--filter", "foo-utils"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    repo.packages[0] = Pkg::new("foo-utils", "1.0-2").source("foo (1.0-2)");
    repo.sources[0] = SrcPkg::new("foo", "1.0-2", &["foo-utils"]);
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "b", "--from-mirror", "m"]);
    let out = env.ok(&["snapshot", "diff", "a", "b"]);
    insta::assert_snapshot!("sources_diff", env.redact(&out.transcript()));
}

#[test]
fn gc_keeps_source_files_while_referenced() {
    let env = TestEnv::new();
    let repo = repo();
    env.publish_upstream(&repo);
    env.create_mirror("m", &["--with-sources", "--filter", "foo-utils"]);
    env.ok(&["mirror", "sync", "m"]);
    std::fs::write(env.root().join("config.toml"), "[gc]\nretention-days = 0\n").unwrap();
    let v = json(&env.ok(&["--json", "gc"]));
    assert_eq!(v["blobs"], 0, "every source file is referenced: {v}");
    assert_eq!(blob_names(&env).len(), 4);

    env.ok(&["mirror", "edit", "m", "--no-sources"]);
    env.ok(&["mirror", "sync", "m", "--allow-mass-removal"]);
    assert_eq!(mirror_packages(&env, "m"), ["foo-utils_1.0-1+b1_amd64"]);
    let v = json(&env.ok(&["--json", "gc"]));
    assert_eq!(
        (v["packages"].as_u64(), v["blobs"].as_u64()),
        (Some(1), Some(3)),
        "{v}"
    );
    let blobs = blob_names(&env);
    assert_eq!(blobs, [repo.packages[0].sha256().to_string()]);
}

#[test]
fn verify_checks_source_files() {
    let env = TestEnv::new();
    let repo = repo();
    env.publish_upstream(&repo);
    env.create_mirror("m", &["--with-sources", "--filter", "foo-utils"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "s", "--distribution", "stable"]);
    let v = json(&env.ok(&["--json", "verify"]));
    assert_eq!(
        (v["blobs"].as_u64(), v["pool_files"].as_u64()),
        (Some(4), Some(4)),
        "a .deb and three source files: {v}"
    );
    // A source file's blob changed and one of its pool files gone: both named.
    let src = &repo.sources[0];
    let orig = src.sha256_of(&src.orig_name()).to_hex();
    let rel = format!("blobs/sha256/{}/{orig}", &orig[..2]);
    let mut bad = std::fs::read(env.root().join(&rel)).unwrap();
    bad[0] ^= 0xff;
    env.tamper(&rel, &bad);
    let dsc = format!("{}/{}", src.directory(), src.dsc_name());
    env.remove_stored(&format!("public/{dsc}"));
    let out = env.run(&["--json", "verify"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    let v = json(&out);
    let subjects: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.len(), 2, "{v}");
    assert!(subjects.iter().any(|s| s.contains(&orig)), "{v}");
    assert!(subjects.iter().any(|s| s.ends_with(&dsc)), "{v}");
}

#[test]
fn a_binary_without_a_listed_source_is_a_warning() {
    let env = TestEnv::new();
    let mut repo = repo();
    repo.packages.push(Pkg::new("orphan", "1.0"));
    env.publish_upstream(&repo);
    env.create_mirror("m", &["--with-sources", "--filter", "orphan | bar"]);
    let out = env.ok(&["mirror", "sync", "m"]);
    insta::assert_snapshot!("sources_orphan", env.redact(&out.transcript()));
    assert_eq!(
        mirror_packages(&env, "m"),
        ["bar_2.0_amd64", "bar_2.0_source", "orphan_1.0_amd64"]
    );
}

#[test]
fn snapshot_filter_keeps_the_sources_of_what_it_selects() {
    let env = TestEnv::new();
    env.publish_upstream(&repo());
    env.create_mirror("m", &["--with-sources", "--filter", "foo-utils | bar"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s", "--from-mirror", "m"]);
    env.ok(&["snapshot", "filter", "f", "s", "bar"]);
    let out = env.ok(&["snapshot", "show", "f", "--with-packages"]);
    insta::assert_snapshot!("sources_snapshot_filter", env.redact(&out.transcript()));
}
