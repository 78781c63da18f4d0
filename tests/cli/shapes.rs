//! Other archive shapes (issue 19).
//!
//! Covered: a flat repository (`deb URL ./`) built with the real
//! `apt-ftparchive` mirrors, snapshots, publishes as a normal distribution
//! and the real apt downloads from it; a flat repository in a directory
//! (`deb URL dir/`) with only `Release` + `Release.gpg` and one `Packages`
//! for several architectures keeps only the mirror's architectures (and
//! `all`) and publishes under `--component`; COMPONENTS with a flat suite
//! are a usage error; `import-apt-sources` takes flat one-line and deb822
//! entries; an upstream `Signed-By` never reaches our Release; archives
//! shaped like Ubuntu's (four components, no `MD5Sum`, `i18n/Index`,
//! `cnf/Commands-*`, an `amd64v3` variant) and its ports archive mirror,
//! publish, and the variant installs with the real apt. Ubuntu's real
//! `InRelease`, recorded, is in [`recorded_ubuntu`].

mod recorded_ubuntu;

use std::path::PathBuf;

use crate::support::apt::{Apt, Serve, Sources};
use crate::support::fixture::public_key;
use crate::support::shapes::{
    Flat, ubuntu, ubuntu_with_commands, variant, write_debian_all, write_ubuntu,
};
use crate::support::sources::SrcPkg;
use crate::support::{Pkg, Repo, TestEnv, json};

/// An app, its library and an `all` package it depends on.
fn flat_packages() -> Vec<Pkg> {
    vec![
        Pkg::new("app", "1.0-1").depends("libfoo (>= 1.2), data-files"),
        Pkg::new("libfoo", "1.3-1"),
        Pkg::new("data-files", "2").arch("all"),
    ]
}

/// `mirror create NAME URL SUITE --arch amd64 --keyring KEY EXTRA…`.
fn create_flat(env: &TestEnv, name: &str, suite: &str, extra: &[&str]) {
    let key = public_key("upstream").display().to_string();
    let url = env.url();
    let mut args = vec![
        "mirror",
        "create",
        name,
        &url,
        suite,
        "--arch",
        "amd64",
        "--keyring",
        &key,
    ];
    args.extend_from_slice(extra);
    env.ok(&args);
}

/// A signing key, exported (binary) for apt's `signed-by=`.
fn signing_key(env: &TestEnv) -> PathBuf {
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let keyring = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &keyring.display().to_string()]);
    keyring
}

fn publish(env: &TestEnv, snapshot: &str) {
    env.ok(&["snapshot", "publish", snapshot, "--distribution", "stable"]);
}

fn published(env: &TestEnv, rel: &str) -> String {
    let path = env.root().join("public").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn a_flat_repository_mirrors_publishes_and_installs_with_apt() {
    let env = TestEnv::new();
    let pkgs = flat_packages();
    Flat::new(".", pkgs.clone()).write(&env);
    create_flat(&env, "flat", "./", &[]);
    let shown = json(&env.ok(&["--json", "mirror", "show", "flat"]));
    assert_eq!(
        shown["mirror"]["components"],
        serde_json::json!(["main"]),
        "{shown}"
    );
    let out = env.ok(&["--json", "mirror", "sync", "flat"]);
    let report = json(&out);
    assert_eq!(report["mirrors"][0]["packages"], 3, "{}", out.transcript());
    env.ok(&["snapshot", "create", "s", "--from-mirror", "flat"]);
    let keyring = signing_key(&env);
    publish(&env, "s");
    // A normal distribution: pool/main/…, dists/stable/main/binary-amd64/.
    let release = published(&env, "dists/stable/Release");
    assert!(release.contains("Components: main\n"), "{release}");
    assert!(
        release.contains(" main/binary-amd64/Packages\n"),
        "{release}"
    );
    let index = published(&env, "dists/stable/main/binary-amd64/Packages");
    assert!(
        index.contains("Filename: pool/main/a/app/app_1.0-1_amd64.deb\n"),
        "{index}"
    );

    let serve = Serve::start(&env);
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &keyring,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "app"]);
    let want: std::collections::BTreeMap<String, _> = pkgs
        .iter()
        .map(|p| {
            (
                format!("{}_{}_{}.deb", p.name, p.version, p.arch),
                p.sha256(),
            )
        })
        .collect();
    assert_eq!(apt.archives(), want);
}

/// `apt-ftparchive sources .` writes `Directory: .`: the `.dsc` and its
/// tarballs sit beside the index.
#[test]
fn a_flat_repositorys_source_packages_come_with_sources() {
    let env = TestEnv::new();
    let mut flat = Flat::new(".", flat_packages());
    flat.sources = vec![SrcPkg::new("app", "1.0-1", &["app"])];
    flat.write(&env);
    create_flat(
        &env,
        "flat",
        "./",
        &["--with-sources", "--filter", "app", "--with-deps"],
    );
    let out = env.ok(&["mirror", "sync", "flat"]);
    assert!(
        out.stdout.contains("source packages: 1 new"),
        "{}",
        out.transcript()
    );
    env.ok(&["snapshot", "create", "s", "--from-mirror", "flat"]);
    signing_key(&env);
    publish(&env, "s");
    let sources = published(&env, "dists/stable/main/source/Sources");
    assert!(
        sources.contains("Directory: pool/main/a/app\n"),
        "{sources}"
    );
    let dsc = published(&env, "pool/main/a/app/app_1.0-1.dsc");
    assert!(dsc.contains("Source: app\n"), "{dsc}");
}

#[test]
fn a_flat_repository_in_a_directory_keeps_its_architectures_under_a_component() {
    let env = TestEnv::new();
    let mut pkgs = flat_packages();
    pkgs.push(Pkg::new("libfoo", "1.3-1").arch("arm64"));
    let mut flat = Flat::new("amd64-and-arm", pkgs);
    flat.inrelease = false;
    flat.write(&env);
    create_flat(
        &env,
        "flat",
        "amd64-and-arm/",
        &["--component", "contrib", "--with-deps", "--filter", "app"],
    );
    let out = env.ok(&["--json", "mirror", "sync", "flat"]);
    assert_eq!(
        json(&out)["mirrors"][0]["packages"],
        3,
        "{}",
        out.transcript()
    );
    let shown = json(&env.ok(&["--json", "mirror", "show", "flat", "--with-packages"]));
    let listed = shown.to_string();
    assert!(!listed.contains("arm64"), "{listed}");
    env.ok(&["snapshot", "create", "s", "--from-mirror", "flat"]);
    signing_key(&env);
    publish(&env, "s");
    let index = published(&env, "dists/stable/contrib/binary-amd64/Packages");
    for name in ["app", "libfoo", "data-files"] {
        assert!(
            index.contains(&format!("Package: {name}\n")),
            "{name}: {index}"
        );
    }
    assert!(index.contains("Filename: pool/contrib/"), "{index}");
    assert!(!index.contains("arm64"), "{index}");
}

#[test]
fn components_with_a_flat_suite_are_a_usage_error() {
    let env = TestEnv::new();
    let key = public_key("upstream").display().to_string();
    let url = env.url();
    let out = env.run(&[
        "mirror",
        "create",
        "flat",
        &url,
        "./",
        "main",
        "--keyring",
        &key,
    ]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("--component"), "{}", out.transcript());
    let out = env.run(&[
        "mirror",
        "create",
        "flat",
        &url,
        "./",
        "--component",
        "a,b",
        "--keyring",
        &key,
    ]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("one component"), "{}", out.transcript());
}

#[test]
fn import_apt_sources_takes_flat_entries() {
    let env = TestEnv::new();
    Flat::new(".", flat_packages()).write(&env);
    let key = public_key("upstream").display().to_string();
    let url = env.url();
    let list = env.dir.path().join("flat.list");
    std::fs::write(
        &list,
        format!("deb [arch=amd64 signed-by={key}] {url}/ ./\n"),
    )
    .expect("write");
    let sources = env.dir.path().join("flat.sources");
    std::fs::write(
        &sources,
        format!(
            "Types: deb\nURIs: {url}/sub\nSuites: dir/\nArchitectures: amd64\nSigned-By: {key}\n"
        ),
    )
    .expect("write");
    let (l, s) = (list.display().to_string(), sources.display().to_string());
    let out = env.ok(&["mirror", "import-apt-sources", &l, &s, "--no-group"]);
    assert!(!out.stdout.contains("skip"), "{}", out.transcript());
    let mirrors = json(&env.ok(&["--json", "mirror", "list"]));
    let suites: Vec<(String, String, String)> = (mirrors.as_array().expect("array").iter())
        .map(|m| {
            (
                m["name"].as_str().unwrap_or("").to_owned(),
                m["suite"].as_str().unwrap_or("").to_owned(),
                m["components"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        suites,
        [
            ("127.0.0.1".into(), "./".into(), r#"["main"]"#.into()),
            ("sub-dir".into(), "dir/".into(), r#"["main"]"#.into()),
        ],
        "{mirrors}"
    );
    let out = env.ok(&["--json", "mirror", "sync", "127.0.0.1"]);
    assert_eq!(
        json(&out)["mirrors"][0]["packages"],
        3,
        "{}",
        out.transcript()
    );
}

/// Debian's Release names its keys in `Signed-By`; a re-signed Release
/// must name ours, never the upstream's.
#[test]
fn an_upstream_signed_by_is_never_copied_into_our_release() {
    let env = TestEnv::new();
    let theirs = "0123456789ABCDEF0123456789ABCDEF01234567";
    let mut flat = Flat::new(".", flat_packages());
    flat.fields = vec![
        ("Signed-By".into(), theirs.into()),
        ("Origin".into(), "Upstream".into()),
    ];
    let upstream = flat.write(&env);
    assert!(
        upstream.contains(&format!("Signed-By: {theirs}\n")),
        "{upstream}"
    );
    create_flat(&env, "flat", "./", &[]);
    env.ok(&["mirror", "sync", "flat"]);
    env.ok(&["snapshot", "create", "s", "--from-mirror", "flat"]);
    signing_key(&env);
    publish(&env, "s");
    let ours = json(&env.ok(&["--json", "key", "list"]));
    let fingerprint = ours[0]["fingerprint"]
        .as_str()
        .unwrap_or_else(|| panic!("no fingerprint in {ours}"));
    for file in ["Release", "InRelease"] {
        let release = published(&env, &format!("dists/stable/{file}"));
        let signed_by: Vec<&str> = release
            .lines()
            .filter(|l| l.starts_with("Signed-By:"))
            .collect();
        assert_eq!(
            signed_by,
            [format!("Signed-By: {fingerprint}")],
            "{file}:\n{release}"
        );
        assert!(!release.contains(theirs), "{file}:\n{release}");
        assert!(!release.contains("Upstream"), "{file}:\n{release}");
    }
}

/// An app in universe, the library it needs in main, an `all` package.
fn ubuntu_packages() -> Vec<Pkg> {
    vec![
        Pkg::new("app", "1.0-1")
            .component("universe")
            .depends("libfoo (>= 1.2), data-files"),
        Pkg::new("libfoo", "1.3-1"),
        Pkg::new("data-files", "2").arch("all"),
        Pkg::new("extra", "1").component("multiverse"),
    ]
}

/// Ubuntu's shape: four components, no `MD5Sum`, `i18n/Index`,
/// `cnf/Commands-*` and an `amd64v3` variant whose index lists the
/// variant's builds as `Architecture: amd64`. A mirror of main and
/// universe for `amd64v3` keeps the variant's builds, publishes them in
/// `binary-amd64v3` listed in the Release, and the real apt, told about
/// the variant, downloads them.
#[test]
fn an_ubuntu_shaped_archive_with_a_variant_architecture_mirrors_and_installs() {
    let env = TestEnv::new();
    let pkgs = ubuntu_packages();
    let variants: Vec<_> = pkgs
        .iter()
        .filter(|p| p.arch != "all")
        .map(|p| variant(p, "amd64v3"))
        .collect();
    let repo = ubuntu(
        "noble",
        &["amd64", "amd64v3"],
        pkgs.clone(),
        variants.clone(),
    );
    write_ubuntu(&repo, &env.upstream().join("ubuntu"));
    let key = public_key("upstream").display().to_string();
    let url = format!("{}/ubuntu", env.url());
    env.ok(&[
        "mirror",
        "create",
        "u",
        &url,
        "noble",
        "main",
        "universe",
        "--arch",
        "amd64v3",
        "--keyring",
        &key,
    ]);
    let out = env.ok(&["--json", "mirror", "sync", "u"]);
    assert_eq!(
        json(&out)["mirrors"][0]["packages"],
        3,
        "{}",
        out.transcript()
    );
    env.ok(&["snapshot", "create", "s", "--from-mirror", "u"]);
    let keyring = signing_key(&env);
    publish(&env, "s");
    let release = published(&env, "dists/stable/Release");
    assert!(release.contains("Architectures: amd64v3\n"), "{release}");
    assert!(release.contains("Components: main universe\n"), "{release}");
    assert!(
        release.contains(" universe/binary-amd64v3/Packages\n"),
        "{release}"
    );
    let index = published(&env, "dists/stable/universe/binary-amd64v3/Packages");
    assert!(index.contains("Architecture: amd64\n"), "{index}");
    assert!(index.contains("app_1.0-1_amd64v3.deb\n"), "{index}");

    let serve = Serve::start(&env);
    let dir = env.dir.path().join("apt");
    let apt = Apt::new(dir.clone(), &serve.url(), &keyring, Sources::OneLine);
    std::fs::write(
        dir.join("etc/sources.list"),
        format!(
            "deb [signed-by={}] {} stable main universe\n",
            keyring.display(),
            serve.url()
        ),
    )
    .expect("write sources.list");
    std::fs::write(
        dir.join("etc/apt.conf.d/variant.conf"),
        "APT::Architectures:: \"amd64v3\";\n",
    )
    .expect("write apt.conf.d");
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "app"]);
    let mut want: std::collections::BTreeMap<String, _> = variants
        .iter()
        .filter(|v| !v.filename.contains("extra"))
        .map(|v| {
            let p = pkgs
                .iter()
                .find(|p| v.filename.contains(&format!("/{}_", p.name)));
            let p = p.expect("variant of a package");
            (
                format!("{}_{}_amd64.deb", p.name, p.version),
                debvault::digest::Sha256::of(&v.data),
            )
        })
        .collect();
    let data = &pkgs[2];
    want.insert("data-files_2_all.deb".into(), data.sha256());
    assert_eq!(apt.archives(), want);
}

/// Ubuntu's ports archive: other architectures at another URL.
#[test]
fn an_ubuntu_ports_shaped_archive_mirrors_its_architectures() {
    let env = TestEnv::new();
    let pkgs = vec![
        Pkg::new("libfoo", "1.3-1").arch("arm64"),
        Pkg::new("libfoo", "1.3-1").arch("riscv64"),
        Pkg::new("tool", "1").arch("riscv64").component("universe"),
        Pkg::new("data-files", "2").arch("all"),
    ];
    let repo = ubuntu("noble", &["arm64", "armhf", "riscv64"], pkgs, vec![]);
    write_ubuntu(&repo, &env.upstream().join("ubuntu-ports"));
    let key = public_key("upstream").display().to_string();
    let url = format!("{}/ubuntu-ports", env.url());
    env.ok(&[
        "mirror",
        "create",
        "ports",
        &url,
        "noble",
        "--arch",
        "arm64,riscv64",
        "--keyring",
        &key,
    ]);
    let out = env.ok(&["--json", "mirror", "sync", "ports"]);
    assert_eq!(
        json(&out)["mirrors"][0]["packages"],
        4,
        "{}",
        out.transcript()
    );
    env.ok(&["snapshot", "create", "s", "--from-mirror", "ports"]);
    signing_key(&env);
    publish(&env, "s");
    let release = published(&env, "dists/stable/Release");
    assert!(
        release.contains("Architectures: arm64 riscv64\n"),
        "{release}"
    );
    let index = published(&env, "dists/stable/universe/binary-riscv64/Packages");
    assert!(index.contains("Package: tool\n"), "{index}");
}

/// Debian's Release lists `all` in `Architectures` with
/// `No-Support-for-Architecture-all: Packages`: `all` packages are in every
/// architecture's index and in `binary-all`. Mirrored with or without
/// `all`, each comes once; the publication lists them in each
/// architecture's index and claims no `binary-all`.
#[test]
fn debians_architecture_all_packages_come_once() {
    let env = TestEnv::new();
    let mut repo = Repo::new(flat_packages());
    repo.architectures = vec!["all".into(), "amd64".into()];
    let release = write_debian_all(&repo, &env);
    assert!(release.contains("Architectures: all amd64\n"), "{release}");
    for (name, arch) in [("plain", "amd64"), ("with-all", "amd64,all")] {
        env.create_mirror(name, &["--arch", arch]);
        let out = env.ok(&["--json", "mirror", "sync", name]);
        assert_eq!(
            json(&out)["mirrors"][0]["packages"],
            3,
            "{}",
            out.transcript()
        );
        assert!(!out.stderr.contains("warning"), "{}", out.transcript());
    }
    env.ok(&["snapshot", "create", "s", "--from-mirror", "with-all"]);
    signing_key(&env);
    publish(&env, "s");
    let ours = published(&env, "dists/stable/Release");
    assert!(ours.contains("Architectures: amd64\n"), "{ours}");
    assert!(!ours.contains("No-Support-for-Architecture-all"), "{ours}");
    let index = published(&env, "dists/stable/main/binary-amd64/Packages");
    assert_eq!(index.matches("Package: data-files\n").count(), 1, "{index}");
}

/// The IndexTargets Ubuntu's `command-not-found` package gives apt,
/// without `KeepCompressed` so the lists are plain.
const APT_CNF: &str = r#"Acquire::IndexTargets::deb::CNF {
    MetaKey "$(COMPONENT)/cnf/Commands-$(NATIVE_ARCHITECTURE)";
    ShortDescription "Commands-$(NATIVE_ARCHITECTURE)";
    Description "$(RELEASE)/$(COMPONENT) $(NATIVE_ARCHITECTURE) c-n-f Metadata";
};
"#;

/// Ubuntu's `cnf/Commands-<arch>`: mirrored because the Release lists it,
/// filtered to the packages the snapshot holds, published (plain and
/// `.xz`, by hash) under a header naming our suite, and the real apt,
/// told about the target as `command-not-found` tells it, fetches it.
#[test]
fn ubuntu_command_not_found_data_is_filtered_published_and_read_by_apt() {
    let env = TestEnv::new();
    let mut pkgs = ubuntu_packages();
    pkgs.push(Pkg::new("unwanted", "1"));
    let repo = ubuntu("noble", &["amd64"], pkgs, vec![]);
    write_ubuntu(&repo, &env.upstream().join("ubuntu"));
    let key = public_key("upstream").display().to_string();
    let url = format!("{}/ubuntu", env.url());
    env.ok(&[
        "mirror",
        "create",
        "u",
        &url,
        "noble",
        "main",
        "universe",
        "--arch",
        "amd64",
        "--filter",
        "app",
        "--with-deps",
        "--keyring",
        &key,
    ]);
    let out = env.ok(&["--json", "mirror", "sync", "u"]);
    assert_eq!(
        json(&out)["mirrors"][0]["packages"],
        3,
        "{}",
        out.transcript()
    );
    env.ok(&["snapshot", "create", "s", "--from-mirror", "u"]);
    let keyring = signing_key(&env);
    publish(&env, "s");
    let release = published(&env, "dists/stable/Release");
    for listed in [
        " main/cnf/Commands-amd64\n",
        " main/cnf/Commands-amd64.xz\n",
        " universe/cnf/Commands-amd64\n",
    ] {
        assert!(release.contains(listed), "{listed}: {release}");
    }
    assert!(!release.contains("Commands-amd64.gz"), "{release}");
    assert!(!release.contains("multiverse/cnf"), "{release}");
    let main = published(&env, "dists/stable/main/cnf/Commands-amd64");
    assert_eq!(
        main,
        "suite: stable\ncomponent: main\narch: amd64\n\n\
         name: data-files\nversion: 2\ncommands: data-files\n\n\
         name: libfoo\nversion: 1.3-1\ncommands: libfoo\n\n"
    );
    let universe = published(&env, "dists/stable/universe/cnf/Commands-amd64");
    assert!(
        universe.ends_with("\n\nname: app\nversion: 1.0-1\ncommands: app\n\n"),
        "{universe}"
    );

    let serve = Serve::start(&env);
    let dir = env.dir.path().join("apt");
    let apt = Apt::new(dir.clone(), &serve.url(), &keyring, Sources::OneLine);
    std::fs::write(
        dir.join("etc/sources.list"),
        format!(
            "deb [signed-by={}] {} stable main universe\n",
            keyring.display(),
            serve.url()
        ),
    )
    .expect("write sources.list");
    std::fs::write(dir.join("etc/apt.conf.d/50command-not-found"), APT_CNF).expect("write");
    apt.ok(&["update"]);
    let found = std::fs::read_dir(dir.join("state/lists"))
        .expect("lists")
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with("_main_cnf_Commands-amd64")
        });
    let list = found.expect("apt stored main's Commands-amd64");
    assert_eq!(
        std::fs::read_to_string(list.path()).expect("read list"),
        main
    );
}

/// Regression: Ubuntu's real universe `Commands-amd64` (resolute) lists
/// `mailutils-mh` and `nmh` as `commands: ,ali,anno,…`, with an empty first
/// item, and the sync refused the whole file as not a list of command
/// names. Such an entry is taken and published as upstream wrote it.
#[test]
fn ubuntu_command_lists_with_an_empty_item_are_kept_as_written() {
    let env = TestEnv::new();
    let mut pkgs = ubuntu_packages();
    pkgs.push(Pkg::new("mh-tools", "1").component("universe"));
    let repo = ubuntu_with_commands(
        "noble",
        &["amd64"],
        pkgs,
        vec![],
        &[("mh-tools", ",ali,anno")],
    );
    write_ubuntu(&repo, &env.upstream().join("ubuntu"));
    let key = public_key("upstream").display().to_string();
    let url = format!("{}/ubuntu", env.url());
    env.ok(&[
        "mirror",
        "create",
        "u",
        &url,
        "noble",
        "universe",
        "--arch",
        "amd64",
        "--filter",
        "mh-tools",
        "--keyring",
        &key,
    ]);
    env.ok(&["mirror", "sync", "u"]);
    env.ok(&["snapshot", "create", "s", "--from-mirror", "u"]);
    signing_key(&env);
    publish(&env, "s");
    let universe = published(&env, "dists/stable/universe/cnf/Commands-amd64");
    assert!(
        universe.ends_with("\n\nname: mh-tools\nversion: 1\ncommands: ,ali,anno\n\n"),
        "{universe}"
    );
}
