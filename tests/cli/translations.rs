//! Long descriptions (`i18n/Translation-<lang>`), issue 18: Debian's
//! Packages carry only the one-line Description and its md5, so without the
//! Translation files `apt-cache show` prints one line.
//!
//! Covered: a filtered mirror keeps only its packages' entries, from the
//! languages it has (`en` by default, `--languages`, `none`); a Translation
//! file with a wrong hash fails the sync naming it, nothing committed; a bad
//! language is a usage error naming it; publications carry
//! `Translation-<lang>` listed in the Release and the real apt shows the
//! long text; a snapshot merged from two mirrors keeps each package's own.

use crate::support::apt::{Apt, Serve, Sources};
use crate::support::translations::{Described, translation_file};
use crate::support::{Pkg, Repo, TestEnv, json};

/// curl, zsh and vim, Debian-style, with English and German Translation files.
fn described() -> Vec<Described> {
    vec![
        Described::new(
            Pkg::new("curl", "8.14.1-2"),
            "command line tool for transferring data with URL syntax",
            &[
                "curl is a command line tool for transferring data with URL syntax.",
                ".",
                "It supports DICT, FILE, FTP and many more.",
            ],
        ),
        Described::new(
            Pkg::new("zsh", "5.9-8"),
            "shell with lots of features",
            &["Zsh is a UNIX command interpreter usable as an interactive login shell."],
        ),
        Described::new(
            Pkg::new("vim", "2:9.1.1230-2"),
            "Vi IMproved - enhanced vi editor",
            &["Vim is an almost compatible version of the UNIX editor Vi."],
        ),
    ]
}

/// An upstream of `pkgs` listing a Translation file for each of `langs`.
fn repo(pkgs: &[Described], langs: &[&str]) -> Repo {
    let mut repo = Repo::new(Vec::new());
    repo.raw = pkgs.iter().map(Described::raw).collect();
    repo.dists_files = langs.iter().map(|l| translation_file(l, pkgs)).collect();
    repo
}

/// The Translation files the sync asked the upstream for.
fn i18n_requests(env: &TestEnv) -> Vec<String> {
    let mut paths: Vec<String> = env
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/i18n/"))
        .map(|r| r.path)
        .collect();
    paths.sort();
    paths
}

fn sync(env: &TestEnv, mirror: &str) -> serde_json::Value {
    let out = env.ok(&["--json", "mirror", "sync", mirror]);
    json(&out)["mirrors"][0].clone()
}

#[test]
fn a_filtered_sync_keeps_only_its_packages_descriptions() {
    let env = TestEnv::new();
    env.publish_upstream(&repo(&described(), &["en", "de"]));
    env.create_mirror("m", &["--filter", "curl | zsh"]);
    let report = sync(&env, "m");
    assert_eq!(report["packages"], 2, "{report}");
    assert_eq!(report["descriptions"], 2, "{report}");
    let asked = i18n_requests(&env);
    assert_eq!(asked.len(), 1, "English only, by default: {asked:?}");
    assert!(asked[0].contains("/main/i18n/by-hash/SHA256/"), "{asked:?}");
    let shown = env.ok(&["mirror", "show", "m"]);
    assert!(
        shown.stdout.contains("languages:     en\n"),
        "{}",
        shown.stdout
    );
}

#[test]
fn languages_option_fetches_each_language_and_none_fetches_none() {
    let env = TestEnv::new();
    env.publish_upstream(&repo(&described(), &["en", "de"]));
    env.create_mirror("both", &["--languages", "de,en", "--filter", "curl"]);
    let report = sync(&env, "both");
    assert_eq!(report["descriptions"], 2, "curl in en and de: {report}");
    assert_eq!(i18n_requests(&env).len(), 2);

    env.server.clear_requests();
    env.create_mirror("none", &["--languages", "none"]);
    let report = sync(&env, "none");
    assert_eq!(report["packages"], 3, "{report}");
    assert_eq!(report["descriptions"], 0, "{report}");
    assert_eq!(i18n_requests(&env), Vec::<String>::new());
    let shown = json(&env.ok(&["--json", "mirror", "show", "none"]));
    assert_eq!(shown["mirror"]["languages"], serde_json::json!([]));

    // A language upstream lacks is a note, not an error.
    env.ok(&["mirror", "edit", "none", "--languages", "fr,en"]);
    let out = env.ok(&["--json", "mirror", "sync", "none"]);
    assert_eq!(
        json(&out)["mirrors"][0]["descriptions"],
        3,
        "{}",
        out.transcript()
    );
}

#[test]
fn a_bad_language_is_a_usage_error_naming_it() {
    let env = TestEnv::new();
    env.publish_upstream(&repo(&described(), &["en"]));
    for bad in ["english", "../en", "none,en"] {
        let key = crate::support::fixture::public_key("upstream");
        let out = env.run(&[
            "mirror",
            "create",
            "m",
            &env.url(),
            "stable",
            "--keyring",
            &key.display().to_string(),
            "--languages",
            bad,
        ]);
        assert_eq!(out.code, 2, "{bad}: {}", out.transcript());
        let named = bad.split(',').next().unwrap_or(bad);
        assert!(
            out.stderr.contains(&format!("invalid language `{named}`")),
            "{bad}: {}",
            out.transcript()
        );
    }
}

#[test]
fn a_translation_file_with_a_wrong_hash_fails_the_sync_naming_it() {
    let env = TestEnv::new();
    let pkgs = described();
    let mut upstream = repo(&pkgs, &["en"]);
    upstream.by_hash = false;
    env.publish_upstream(&upstream);
    // Same size, other bytes: only the SHA256 tells.
    let path = env
        .upstream()
        .join("dists/stable/main/i18n/Translation-en.xz");
    let mut data = std::fs::read(&path).expect("read");
    let last = data.len() - 1;
    data[last] ^= 0xff;
    std::fs::write(&path, data).expect("write");
    env.create_mirror("m", &[]);
    let out = env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stderr.contains("main/i18n/Translation-en.xz"),
        "{}",
        out.transcript()
    );
    let shown = json(&env.ok(&["--json", "mirror", "show", "m"]));
    assert_eq!(shown["packages"], 0, "nothing committed: {shown}");
    assert_eq!(shown["revisions"], 0, "{shown}");
}

/// A signing key, exported (binary) for apt's `signed-by=`.
fn signing_key(env: &TestEnv) -> std::path::PathBuf {
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let keyring = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &keyring.display().to_string()]);
    keyring
}

/// Publishes `snapshot` as `stable`.
fn publish(env: &TestEnv, snapshot: &str) {
    env.ok(&["snapshot", "publish", snapshot, "--distribution", "stable"]);
}

fn published(env: &TestEnv, rel: &str) -> String {
    let path = env.root().join("public/dists/stable").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn apt_shows_long_descriptions_from_a_served_publication() {
    apt_shows_long_descriptions(TestEnv::new());
}

#[test]
fn apt_shows_long_descriptions_from_a_publication_in_s3() {
    apt_shows_long_descriptions(TestEnv::new_s3());
}

/// Publishes two of [`described`] with `de` and `en`, checks the tree (when
/// local) and has the real apt, through `serve`, show each language's text.
fn apt_shows_long_descriptions(env: TestEnv) {
    let pkgs = described();
    env.publish_upstream(&repo(&pkgs, &["en", "de"]));
    env.create_mirror("m", &["--filter", "curl | zsh", "--languages", "de,en"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s", "--from-mirror", "m"]);
    let keyring = signing_key(&env);
    publish(&env, "s");
    if env.s3.is_none() {
        published_tree_is_debians(&env, &pkgs);
    }

    let serve = Serve::start(&env);
    for (lang, text) in [
        (
            "en",
            "Description-en: command line tool for transferring data with URL syntax\n curl is a command line tool for transferring data with URL syntax.\n .\n It supports DICT",
        ),
        (
            "de",
            "Description-de: command line tool for transferring data with URL syntax\n [de] curl is",
        ),
    ] {
        let apt = Apt::new(
            env.dir.path().join(format!("apt-{lang}")),
            &serve.url(),
            &keyring,
            Sources::OneLine,
        );
        let languages = format!("Acquire::Languages={lang}");
        let update = apt.run(&["-o", &languages, "update"]);
        assert_eq!(update.code, 0, "{}", update.transcript());
        assert!(
            !update.stderr.contains("W:") && !update.stderr.contains("E:"),
            "{}",
            update.transcript()
        );
        let show = apt.tool("apt-cache", &["-o", &languages, "show", "curl"]);
        assert_eq!(show.code, 0, "{}", show.transcript());
        assert!(show.stdout.contains(text), "{lang}: {}", show.transcript());
    }
}

/// The local tree: both Translation files listed in the Release, only the
/// mirrored packages' entries, Packages stanzas as upstream wrote them.
fn published_tree_is_debians(env: &TestEnv, pkgs: &[Described]) {
    let release = published(env, "Release");
    for lang in ["de", "en"] {
        for ext in ["", ".gz", ".xz"] {
            let listed = format!(" main/i18n/Translation-{lang}{ext}\n");
            assert!(release.contains(&listed), "{listed:?} not in\n{release}");
        }
    }
    // Only the mirrored packages, sorted by name, as upstream wrote them.
    let want: Vec<String> = [&pkgs[0], &pkgs[1]]
        .iter()
        .map(|d| d.translation("en"))
        .collect();
    assert_eq!(
        published(env, "main/i18n/Translation-en"),
        want.join("\n") + "\n"
    );
    // The Packages entry stays as upstream had it: short line and md5.
    let index = published(env, "main/binary-amd64/Packages");
    assert!(
        index.contains(&format!(
            "Description: {}\nDescription-md5: {}\n",
            pkgs[0].short,
            pkgs[0].md5()
        )),
        "{index}"
    );
}

#[test]
fn a_merged_snapshot_keeps_each_packages_own_text() {
    let env = TestEnv::new();
    let old = described();
    env.publish_upstream(&repo(&old, &["en"]));
    env.create_mirror("a", &["--filter", "curl"]);
    env.ok(&["mirror", "sync", "a"]);
    // Upstream moves on: curl's text changes; mirror `b` takes zsh only.
    let mut new = described();
    new[0].pkg = Pkg::new("curl", "8.15.0-1");
    new[0].long[0] = "curl, newer.".into();
    let mut moved = repo(&new, &["en"]);
    moved.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&moved);
    env.create_mirror("b", &["--filter", "zsh"]);
    env.ok(&["mirror", "sync", "b"]);
    env.ok(&["snapshot", "create", "sa", "--from-mirror", "a"]);
    env.ok(&["snapshot", "create", "sb", "--from-mirror", "b"]);
    env.ok(&["snapshot", "merge", "ab", "sa", "sb"]);
    signing_key(&env);
    publish(&env, "ab");
    let want = [old[0].translation("en"), new[1].translation("en")];
    assert_eq!(
        published(&env, "main/i18n/Translation-en"),
        want.join("\n") + "\n"
    );
}

#[test]
fn gc_deletes_the_descriptions_no_package_carries() {
    let env = TestEnv::new();
    env.publish_upstream(&repo(&described(), &["en"]));
    env.create_mirror("gone", &["--filter", "curl | zsh"]);
    env.create_mirror("kept", &["--filter", "zsh"]);
    env.ok(&["mirror", "sync", "gone"]);
    env.ok(&["mirror", "sync", "kept"]);
    env.ok(&["mirror", "drop", "gone"]);
    let out = env.ok(&["--json", "gc"]);
    assert_eq!(json(&out)["descriptions"], 1, "curl's: {}", out.stdout);
    // zsh's text is still there for a publication of `kept`.
    env.ok(&["snapshot", "create", "s", "--from-mirror", "kept"]);
    signing_key(&env);
    publish(&env, "s");
    let text = published(&env, "main/i18n/Translation-en");
    assert!(text.starts_with("Package: zsh\n"), "{text}");
}
