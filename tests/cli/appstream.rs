//! AppStream metadata (`--with-appstream`), issue 19: software centers read
//! `<component>/dep11/Components-<arch>.yml` and the icon tarballs; unlike
//! aptly's copies, a publication's hold only its packages' documents and
//! the icons they name.
//!
//! Covered: a filtered mirror publishes the header and its packages'
//! documents (an `all` package's and a package's two), the icon tarballs
//! only their icons, all listed in the Release with their hashes, and the
//! real apt's DEP-11 list files equal the published ones; a document
//! without `Package` is skipped with a warning; a Components file with a
//! wrong hash fails the sync naming it; `gc` deletes what no package names.

use debvault::debian::Release;
use debvault::digest::Sha256;

use crate::support::appstream::{Component, HEADER, dep11_files, tar_entries};
use crate::support::apt::{Apt, Serve, Sources};
use crate::support::{Pkg, Repo, TestEnv, json};

/// gimp's one document, puzzles' two, fonts-doc's (an `all` package).
fn components() -> Vec<Component> {
    vec![
        Component::new("gimp", "org.gimp.GIMP"),
        Component::new("puzzles", "net.puzzles.Net"),
        Component::new("puzzles", "net.puzzles.Mines"),
        Component::new("fonts-doc", "org.example.FontsDoc"),
    ]
}

/// A document naming no package: skipped, with a warning.
const ORPHAN: &str = "---\nType: generic\nID: org.example.Orphan\n";

fn upstream() -> Repo {
    let mut repo = Repo::new(vec![
        Pkg::new("gimp", "2.10.38-1"),
        Pkg::new("puzzles", "20250101-1"),
        Pkg::new("fonts-doc", "1.0-1").arch("all"),
    ]);
    repo.dists_files = dep11_files(&components(), ORPHAN);
    repo
}

fn published(env: &TestEnv, rel: &str) -> Vec<u8> {
    let path = env.root().join("public/dists/stable").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A signing key, exported (binary) for apt's `signed-by=`.
fn signing_key(env: &TestEnv) -> std::path::PathBuf {
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let keyring = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &keyring.display().to_string()]);
    keyring
}

/// The IndexTargets Debian's `appstream` package gives apt, without
/// `KeepCompressed` so the lists are plain.
const APT_DEP11: &str = r#"Acquire::IndexTargets::deb::DEP-11 {
    MetaKey "$(COMPONENT)/dep11/Components-$(NATIVE_ARCHITECTURE).yml";
    ShortDescription "Components-$(NATIVE_ARCHITECTURE)";
    Description "$(RELEASE)/$(COMPONENT) $(NATIVE_ARCHITECTURE) DEP-11 Metadata";
};
Acquire::IndexTargets::deb::DEP-11-icons {
    MetaKey "$(COMPONENT)/dep11/icons-64x64.tar";
    ShortDescription "icons-64x64";
    Description "$(RELEASE)/$(COMPONENT) DEP-11 64x64 Icons";
};
"#;

#[test]
fn a_filtered_publication_holds_only_its_packages_metadata_and_apt_reads_it() {
    filtered_publication_read_by_apt(TestEnv::new());
}

#[test]
fn apt_reads_the_metadata_of_a_publication_in_s3() {
    filtered_publication_read_by_apt(TestEnv::new_s3());
}

/// Publishes two of the three packages with their metadata, checks the
/// tree (when local) and has the real apt, through `serve`, fetch the
/// DEP-11 files by hash.
fn filtered_publication_read_by_apt(env: TestEnv) {
    env.publish_upstream(&upstream());
    env.create_mirror(
        "m",
        &["--filter", "puzzles | fonts-doc", "--with-appstream"],
    );
    let shown = env.ok(&["mirror", "show", "m"]);
    assert!(
        shown.stdout.contains("appstream:     yes"),
        "{}",
        shown.stdout
    );
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(
        out.stderr.contains(
            "warning: mirror `m`: 1 documents of `main/dep11/Components-amd64.yml.xz` name no `Package` and are skipped"
        ),
        "{}",
        out.transcript()
    );
    env.ok(&["snapshot", "create", "s", "--from-mirror", "m"]);
    let keyring = signing_key(&env);
    env.ok(&["snapshot", "publish", "s", "--distribution", "stable"]);

    // The header, then fonts-doc's and puzzles' documents by package name.
    let c = components();
    let want = [HEADER, &c[3].document(), &c[1].document(), &c[2].document()].concat();
    let icons = |size: &str| -> Vec<(String, Vec<u8>)> {
        [&c[3], &c[2], &c[1]]
            .iter()
            .map(|c| (c.icon(), c.png(size)))
            .collect()
    };
    if env.s3.is_none() {
        published_tree_is_filtered(&env, &want, icons);
    }

    // The real apt, through `serve`, by hash: its lists are the published files.
    let serve = Serve::start(&env);
    let dir = env.dir.path().join("apt");
    let apt = Apt::new(dir.clone(), &serve.url(), &keyring, Sources::OneLine);
    std::fs::write(dir.join("etc/apt.conf.d/50appstream"), APT_DEP11).expect("write");
    apt.ok(&["update"]);
    let list = |suffix: &str| {
        let found = std::fs::read_dir(dir.join("state/lists"))
            .expect("lists")
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with(suffix));
        let entry = found.unwrap_or_else(|| panic!("no list `*{suffix}`"));
        std::fs::read(entry.path()).expect("read list")
    };
    let yaml = list("_main_dep11_Components-amd64.yml");
    assert_eq!(String::from_utf8_lossy(&yaml), want);
    let tar = list("_main_dep11_icons-64x64.tar");
    assert_eq!(tar_entries(&tar), icons("64x64"));
    if env.s3.is_none() {
        assert_eq!(yaml, published(&env, "main/dep11/Components-amd64.yml"));
        assert_eq!(tar, published(&env, "main/dep11/icons-64x64.tar"));
    }
}

/// The local tree: the documents of the kept packages, the icon tarballs
/// of their icons only, every form listed in the Release with its hash.
fn published_tree_is_filtered(
    env: &TestEnv,
    want: &str,
    icons: impl Fn(&str) -> Vec<(String, Vec<u8>)>,
) {
    let yaml = published(env, "main/dep11/Components-amd64.yml");
    assert_eq!(String::from_utf8_lossy(&yaml), want);
    for size in ["64x64", "128x128"] {
        let tar = published(env, &format!("main/dep11/icons-{size}.tar"));
        assert_eq!(tar_entries(&tar), icons(size), "{size}: no gimp icon");
    }

    // Every form listed with its hash, as apt checks it.
    let release = String::from_utf8(published(env, "Release")).expect("utf-8");
    let parsed = Release::parse(&release).expect("Release");
    for rel in [
        "main/dep11/Components-amd64.yml",
        "main/dep11/Components-amd64.yml.gz",
        "main/dep11/Components-amd64.yml.xz",
        "main/dep11/icons-64x64.tar",
        "main/dep11/icons-64x64.tar.gz",
        "main/dep11/icons-128x128.tar",
        "main/dep11/icons-128x128.tar.gz",
    ] {
        let listed = parsed
            .files
            .get(rel)
            .unwrap_or_else(|| panic!("{rel}: {release}"));
        let data = published(env, rel);
        assert_eq!(listed.sha256, Some(Sha256::of(&data)), "{rel}");
        assert_eq!(listed.size, data.len() as u64, "{rel}");
    }
}

#[test]
fn without_the_option_nothing_of_dep11_is_fetched_or_published() {
    let env = TestEnv::new();
    env.publish_upstream(&upstream());
    env.create_mirror("m", &["--filter", "puzzles"]);
    env.ok(&["mirror", "sync", "m"]);
    let asked = env.server.requests();
    assert!(
        !asked.iter().any(|r| r.path.contains("/dep11/")),
        "{asked:?}"
    );
    env.ok(&["snapshot", "create", "s", "--from-mirror", "m"]);
    signing_key(&env);
    env.ok(&["snapshot", "publish", "s", "--distribution", "stable"]);
    let release = String::from_utf8(published(&env, "Release")).expect("utf-8");
    assert!(!release.contains("dep11"), "{release}");

    // Turned on later: the next sync re-evaluates and fetches it.
    env.ok(&["mirror", "edit", "m", "--with-appstream"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s2", "--from-mirror", "m"]);
    env.ok(&["snapshot", "publish", "s2", "--distribution", "later"]);
    let path = env
        .root()
        .join("public/dists/later/main/dep11/Components-amd64.yml");
    let yaml = std::fs::read_to_string(&path).expect("published");
    let c = components();
    assert_eq!(yaml, [HEADER, &c[1].document(), &c[2].document()].concat());
}

#[test]
fn a_components_file_with_a_wrong_hash_fails_the_sync_naming_it() {
    let env = TestEnv::new();
    let mut repo = upstream();
    repo.by_hash = false;
    env.publish_upstream(&repo);
    // Same size, other bytes: only the SHA256 tells.
    let path = env
        .upstream()
        .join("dists/stable/main/dep11/Components-amd64.yml.xz");
    let mut data = std::fs::read(&path).expect("read");
    let last = data.len() - 1;
    data[last] ^= 0xff;
    std::fs::write(&path, data).expect("write");
    env.create_mirror("m", &["--with-appstream"]);
    let out = env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stderr.contains("main/dep11/Components-amd64.yml.xz"),
        "{}",
        out.transcript()
    );
    let shown = json(&env.ok(&["--json", "mirror", "show", "m"]));
    assert_eq!(shown["packages"], 0, "nothing committed: {shown}");
}

#[test]
fn gc_deletes_the_metadata_no_package_names() {
    let env = TestEnv::new();
    env.publish_upstream(&upstream());
    env.create_mirror(
        "gone",
        &["--filter", "puzzles | fonts-doc", "--with-appstream"],
    );
    env.create_mirror("kept", &["--filter", "fonts-doc", "--with-appstream"]);
    env.ok(&["mirror", "sync", "gone"]);
    env.ok(&["mirror", "sync", "kept"]);
    env.ok(&["mirror", "drop", "gone"]);
    let out = env.ok(&["--json", "gc"]);
    assert_eq!(json(&out)["appstream"], 1, "puzzles': {}", out.stdout);
    env.ok(&["snapshot", "create", "s", "--from-mirror", "kept"]);
    signing_key(&env);
    env.ok(&["snapshot", "publish", "s", "--distribution", "stable"]);
    let c = components();
    let yaml = published(&env, "main/dep11/Components-amd64.yml");
    assert_eq!(
        String::from_utf8_lossy(&yaml),
        [HEADER, &c[3].document()].concat()
    );
    let tar = published(&env, "main/dep11/icons-64x64.tar");
    assert_eq!(tar_entries(&tar), [(c[3].icon(), c[3].png("64x64"))]);
}
