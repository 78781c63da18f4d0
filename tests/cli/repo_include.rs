//! `repo include` (issue 21): uploads described by a `.changes`, checked
//! file by file and against the repo's uploaders rules.
//!
//! Covered:
//! - a `.changes` signed by a key the rules allow → included → snapshot →
//!   publish → the real apt installs it; `repo show` lists the uploaders;
//! - an unsigned `.changes` for a repo with uploaders, a key the rules do
//!   not allow for the package, and a key not in the uploaders keyring are
//!   refused (exit 3) with nothing stored;
//! - a listed file with another size, SHA256 or MD5 is refused naming the
//!   file and the field, nothing stored;
//! - a `.changes` naming `../x.deb` is refused;
//! - a source upload brings the `.dsc` and the files it lists;
//! - a repo without uploaders takes an unsigned upload; `repo edit`
//!   sets and removes uploaders; `status` lists local repositories.

use std::path::{Path, PathBuf};

use crate::support::apt::{Apt, Serve, Sources};
use crate::support::changes::{Changes, fingerprint};
use crate::support::fixture::public_key;
use crate::support::repos::{files_below, write, write_source};
use crate::support::{Pkg, TestEnv, json};

fn incoming(env: &TestEnv) -> PathBuf {
    env.dir.path().join("incoming")
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn blobs(env: &TestEnv) -> Vec<PathBuf> {
    let mut out = files_below(&env.root().join("blobs/sha256"));
    out.extend(files_below(&env.root().join("blobs/tmp")));
    out
}

fn package_count(env: &TestEnv, repo: &str) -> u64 {
    json(&env.ok(&["--json", "repo", "show", repo]))["packages"]
        .as_u64()
        .unwrap_or(u64::MAX)
}

/// Rules: the `upstream` key may upload `hello`, the `wrong` key `other*`;
/// both keys are in the uploaders keyring.
fn uploaders(env: &TestEnv) -> (String, String) {
    let rules = format!(
        r#"{{
  // who uploads what
  "Groups": {{ "maintainers": ["{up}"] }},
  "Rules": [
    {{ "Condition": "hello", "Allow": ["maintainers"] }},
    {{ "Condition": "other*", "Allow": ["{wrong}"], }},
  ]
}}"#,
        up = fingerprint("upstream"),
        wrong = fingerprint("wrong"),
    );
    let rules = write(env.dir.path(), "uploaders.json", rules.as_bytes());
    let mut keys = std::fs::read(public_key("upstream")).expect("key");
    keys.extend(std::fs::read(public_key("wrong")).expect("key"));
    let keyring = write(env.dir.path(), "uploaders.asc", &keys);
    (path(&rules), path(&keyring))
}

fn create_with_uploaders(env: &TestEnv, repo: &str) {
    let (rules, keyring) = uploaders(env);
    env.ok(&[
        "repo",
        "create",
        repo,
        "--uploaders",
        &rules,
        "--uploaders-keyring",
        &keyring,
    ]);
}

/// An upload of `pkg`'s .deb to `dir`, its `.changes` signed by `signer`.
fn upload(dir: &Path, pkg: &Pkg, file: &str, signer: Option<&str>) -> PathBuf {
    let deb = pkg.deb();
    write(dir, file, &deb);
    Changes::new(&pkg.name, &[&pkg.name])
        .file(file, &deb)
        .write(dir, "upload.changes", signer)
}

#[test]
fn a_signed_upload_by_an_allowed_key_is_included_and_apt_installs_it() {
    let env = TestEnv::new();
    create_with_uploaders(&env, "team");
    let shown = json(&env.ok(&["--json", "repo", "show", "team"]));
    assert_eq!(shown["uploaders"]["rules"], 2, "{shown}");
    assert_eq!(
        shown["uploaders"]["keys"][0],
        fingerprint("upstream"),
        "{shown}"
    );

    let hello = Pkg::new("hello", "1.0-1");
    let changes = upload(
        &incoming(&env),
        &hello,
        "hello_1.0-1_amd64.deb",
        Some("upstream"),
    );
    let dry = json(&env.ok(&[
        "--json",
        "repo",
        "include",
        "team",
        &path(&changes),
        "--dry-run",
    ]));
    assert_eq!(dry["added"][0]["name"], "hello", "{dry}");
    assert_eq!(package_count(&env, "team"), 0, "a dry run stored something");

    let out = env.ok(&["--json", "repo", "include", "team", &path(&changes)]);
    let report = json(&out);
    assert_eq!(report["added"][0]["name"], "hello", "{}", out.stdout);
    assert_eq!(report["added"][0]["sha256"], hello.sha256().to_string());
    assert_eq!(
        report["signers"][0]["cert"],
        fingerprint("upstream"),
        "{}",
        out.stdout
    );
    let audit = env.ok(&["--json", "audit"]);
    assert!(audit.stdout.contains("repo-include"), "{}", audit.stdout);

    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let key = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &path(&key)]);
    env.ok(&["snapshot", "create", "s1", "--from-repo", "team"]);
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
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
        apt.archives().get("hello_1.0-1_amd64.deb"),
        Some(&hello.sha256()),
        "apt did not get the included package"
    );
}

#[test]
fn unsigned_or_unallowed_uploads_to_a_repo_with_uploaders_store_nothing() {
    let env = TestEnv::new();
    create_with_uploaders(&env, "team");
    let hello = Pkg::new("hello", "1.0");
    let cases: [(&str, Option<&str>, &str); 3] = [
        ("unsigned", None, "is not signed"),
        // `wrong` is an uploader, but only of `other*`.
        (
            "a key not allowed for hello",
            Some("wrong"),
            "rule 1 does not allow",
        ),
        (
            "a key not in the uploaders keyring",
            Some("rotated"),
            "signature",
        ),
    ];
    for (what, signer, says) in cases {
        let dir = incoming(&env).join(what.replace(' ', "-"));
        let changes = upload(&dir, &hello, "hello_1.0_amd64.deb", signer);
        let out = env.run(&["repo", "include", "team", &path(&changes)]);
        assert_eq!(out.code, 3, "{what}: {}", out.transcript());
        assert!(out.stderr.contains(says), "{what}: {}", out.stderr);
        assert!(out.stderr.contains("team"), "{what}: {}", out.stderr);
        assert_eq!(blobs(&env), Vec::<PathBuf>::new(), "{what}: stored");
        assert_eq!(package_count(&env, "team"), 0, "{what}");
    }
    // The package the `wrong` key may upload goes in.
    let other = Pkg::new("other-tool", "2");
    let changes = upload(
        &incoming(&env).join("other"),
        &other,
        "other-tool_2_amd64.deb",
        Some("wrong"),
    );
    env.ok(&["repo", "include", "team", &path(&changes)]);
    assert_eq!(package_count(&env, "team"), 1);

    // Without uploaders, an unsigned upload is taken.
    env.ok(&["repo", "edit", "team", "--no-uploaders"]);
    let changes = upload(
        &incoming(&env).join("open"),
        &hello,
        "hello_1.0_amd64.deb",
        None,
    );
    env.ok(&["repo", "include", "team", &path(&changes)]);
    assert_eq!(package_count(&env, "team"), 2);
    let shown = json(&env.ok(&["--json", "repo", "show", "team"]));
    assert!(shown["uploaders"].is_null(), "{shown}");

    // `status` lists the repo with its packages and last change.
    let st = json(&env.ok(&["--json", "status"]));
    assert_eq!(st["repos"][0]["name"], "team", "{st}");
    assert_eq!(st["repos"][0]["packages"], 2, "{st}");
    assert_eq!(st["repos"][0]["uploaders"], false, "{st}");
    assert!(st["repos"][0]["last_change"].is_string(), "{st}");
    let text = env.ok(&["status"]);
    assert!(
        text.stdout.contains("REPO") && text.stdout.contains("team"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_listed_file_with_other_bytes_is_refused_naming_file_and_field() {
    let env = TestEnv::new();
    env.ok(&["repo", "create", "team"]);
    let hello = Pkg::new("hello", "1.0");
    let deb = hello.deb();
    let mut longer = deb.clone();
    longer.extend_from_slice(b"tail");
    let mut flipped = deb.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let cases: [(&str, &[u8], &str); 2] = [
        ("longer", &longer, "`Files`"),
        ("other bytes", &flipped, "`Checksums-Sha256`"),
    ];
    for (what, on_disk, field) in cases {
        let dir = incoming(&env).join(what.replace(' ', "-"));
        let changes = Changes::new("hello", &["hello"])
            .file("hello_1.0_amd64.deb", &deb)
            .write(&dir, "hello.changes", None);
        write(&dir, "hello_1.0_amd64.deb", on_disk);
        let out = env.run(&["repo", "include", "team", &path(&changes)]);
        assert_eq!(out.code, 3, "{what}: {}", out.transcript());
        assert!(
            out.stderr.contains("hello_1.0_amd64.deb") && out.stderr.contains(field),
            "{what}: {}",
            out.stderr
        );
        assert_eq!(blobs(&env), Vec::<PathBuf>::new(), "{what}: stored");
        assert_eq!(package_count(&env, "team"), 0, "{what}");
    }
    // A package the `.changes` does not declare is refused too.
    let dir = incoming(&env).join("undeclared");
    write(&dir, "hello_1.0_amd64.deb", &deb);
    let changes = Changes::new("hello", &["hello-doc"])
        .file("hello_1.0_amd64.deb", &deb)
        .write(&dir, "hello.changes", None);
    let out = env.run(&["repo", "include", "team", &path(&changes)]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(out.stderr.contains("`Binary`"), "{}", out.stderr);
    assert_eq!(blobs(&env), Vec::<PathBuf>::new());
}

#[test]
fn a_changes_naming_a_path_outside_its_directory_is_refused() {
    let env = TestEnv::new();
    env.ok(&["repo", "create", "team"]);
    let deb = Pkg::new("hello", "1.0").deb();
    // The file exists where the path points: only the name refuses it.
    write(&incoming(&env), "x.deb", &deb);
    let changes = Changes::new("hello", &["hello"])
        .file("../x.deb", &deb)
        .write(&incoming(&env).join("up"), "hello.changes", None);
    let out = env.run(&["repo", "include", "team", &path(&changes)]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stderr.contains("../x.deb") && out.stderr.contains("`Files`"),
        "{}",
        out.stderr
    );
    assert_eq!(blobs(&env), Vec::<PathBuf>::new());
    assert_eq!(package_count(&env, "team"), 0);
}

#[test]
fn uploaders_rules_naming_unknown_keys_are_refused() {
    let env = TestEnv::new();
    let rules = write(
        env.dir.path(),
        "u.json",
        br#"{"Rules": [{"Condition": "*", "Allow": ["0123456789ABCDEF"]}]}"#,
    );
    let keyring = path(&public_key("upstream"));
    let out = env.run(&[
        "repo",
        "create",
        "team",
        "--uploaders",
        &path(&rules),
        "--uploaders-keyring",
        &keyring,
    ]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("0123456789ABCDEF"), "{}", out.stderr);
    let short = write(
        env.dir.path(),
        "s.json",
        br#"{"Rules": [{"Condition": "*", "Allow": ["16DB3E6D"]}]}"#,
    );
    let out = env.run(&[
        "repo",
        "create",
        "team",
        "--uploaders",
        &path(&short),
        "--uploaders-keyring",
        &keyring,
    ]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("16DB3E6D"), "{}", out.stderr);
    let listed = json(&env.ok(&["--json", "repo", "list"]));
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
}

#[test]
fn a_source_upload_brings_the_dsc_and_its_files() {
    let env = TestEnv::new();
    env.ok(&["repo", "create", "team"]);
    let dir = incoming(&env).join("src");
    let (dsc, files) = write_source(&dir);
    let mut changes = Changes::new("foo", &["foo-utils"])
        .file("foo_1.0-1.dsc", &std::fs::read(&dsc).expect("read .dsc"));
    for (name, data) in &files {
        changes = changes.file(name, data);
    }
    let changes = changes.write(&dir, "foo_1.0-1_source.changes", None);
    let report = json(&env.ok(&["--json", "repo", "include", "team", &path(&changes)]));
    assert_eq!(report["added"][0]["name"], "foo", "{report}");
    assert_eq!(report["added"][0]["architecture"], "source", "{report}");
    // The .dsc and the two files it lists.
    assert_eq!(blobs(&env).len(), 3, "{:?}", blobs(&env));
}
