//! Curation of local repositories (issue 21): freezes and staging apply to
//! repos as to mirrors.
//!
//! Covered:
//! - a frozen package of a repo: `repo add`/`include` of another version,
//!   `--force-replace`, `repo remove`, `repo move` out of it and `repo
//!   copy` of another version into it are refused with exit 4 naming the
//!   package and the freeze's reason, `--dry-run` too; audited; `status`
//!   lists it; `unfreeze` lifts it; a name that is both a mirror's and a
//!   repo's needs `--repo` or `--mirror`;
//! - a repo's default distribution, set by `repo create --distribution` or
//!   the API's `DefaultDistribution` (`POST`/`PUT /api/repos`), is returned
//!   and is where a snapshot of the repo publishes when none is named; apt
//!   installs from it;
//! - `POST /api/snapshots/merge` of a mirror snapshot and a repo snapshot,
//!   published: apt installs a package of each;
//! - a review-mode repo (`repo create --review`, `repo edit --review`):
//!   `add`, `include` and `copy` stage; `staged list|report` show the
//!   changes; a snapshot takes only live packages; `gc` keeps staged
//!   blobs; `promote` makes them live, `reject` drops them; all audited.

use std::path::{Path, PathBuf};

use crate::support::api::{Req, enable_api, multipart, request, token};
use crate::support::apt::{Apt, Serve, Sources};
use crate::support::changes::Changes;
use crate::support::repos::{write, write_deb};
use crate::support::{Pkg, TestEnv, json};
use serde_json::{Value, json};

fn incoming(env: &TestEnv) -> PathBuf {
    env.dir.path().join("incoming")
}

fn path(p: &Path) -> String {
    p.display().to_string()
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

/// Runs `args` and checks it is refused by the freeze of `hello` in `team`.
fn refused_frozen(env: &TestEnv, args: &[&str]) {
    let out = env.run(args);
    assert_eq!(out.code, 4, "{args:?}: {}", out.transcript());
    assert!(
        out.stderr.contains("hello_1.0_amd64")
            && out.stderr.contains("release 1 ships it")
            && out.stderr.contains("repo `team`"),
        "{args:?}: {}",
        out.transcript()
    );
}

#[test]
fn a_frozen_repo_package_cannot_be_changed_by_any_verb() {
    let env = TestEnv::new();
    env.ok(&["repo", "create", "team"]);
    env.ok(&["repo", "create", "other"]);
    let v1 = Pkg::new("hello", "1.0");
    let v2 = Pkg::new("hello", "1.1");
    let other_bytes = Pkg::new("hello", "1.0").salt("rebuilt");
    let tool = Pkg::new("tool", "1.0");
    let dir = incoming(&env);
    let f1 = path(&write_deb(&dir, "hello_1.0.deb", &v1));
    let f2 = path(&write_deb(&dir, "hello_1.1.deb", &v2));
    let f3 = path(&write_deb(&dir, "hello_1.0-rebuilt.deb", &other_bytes));
    let ft = path(&write_deb(&dir, "tool.deb", &tool));
    env.ok(&["repo", "add", "team", &f1, &ft]);
    env.ok(&["repo", "add", "other", &f2]);

    let out = env.run(&["freeze", "team", "hello", "--reason", " "]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    let out = env.run(&["freeze", "team", "nothing", "--reason", "x"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(out.stderr.contains("`nothing`"), "{}", out.transcript());
    let out = env.ok(&["freeze", "team", "hello", "--reason", "release 1 ships it"]);
    assert!(
        out.stdout.contains("froze hello_1.0_amd64 in repo `team`"),
        "{}",
        out.transcript()
    );

    let add = ["repo", "add", "team", &f2];
    refused_frozen(&env, &add);
    refused_frozen(&env, &[&add[..], &["--dry-run"]].concat());
    let replace = ["repo", "add", "team", &f3, "--force-replace"];
    refused_frozen(&env, &replace);
    refused_frozen(&env, &[&replace[..], &["--dry-run"]].concat());
    refused_frozen(&env, &["repo", "remove", "team", "hello"]);
    refused_frozen(&env, &["repo", "remove", "team", "hello", "--dry-run"]);
    refused_frozen(&env, &["repo", "move", "team", "other", "hello"]);
    refused_frozen(
        &env,
        &["repo", "move", "team", "other", "hello", "--dry-run"],
    );
    refused_frozen(&env, &["repo", "copy", "other", "team", "hello"]);
    let deb = v2.deb();
    let upload = incoming(&env).join("upload");
    write(&upload, "hello_1.1_amd64.deb", &deb);
    let changes = Changes::new("hello", &["hello"])
        .file("hello_1.1_amd64.deb", &deb)
        .write(&upload, "hello.changes", None);
    refused_frozen(&env, &["repo", "include", "team", &path(&changes)]);
    assert_eq!(
        packages(&env, "team"),
        ["hello_1.0_amd64", "tool_1.0_amd64"]
    );
    assert_eq!(packages(&env, "other"), ["hello_1.1_amd64"]);

    // What the freeze does not hold goes on: the same bytes again, another
    // package, a copy out.
    env.ok(&["repo", "add", "team", &f1]);
    env.ok(&["repo", "remove", "team", "tool"]);
    env.ok(&["repo", "copy", "team", "other", "hello"]);

    let status = env.ok(&["status"]);
    assert!(
        status.stdout.contains("repo `team`: 1 held"),
        "{}",
        status.transcript()
    );
    let out = env.run(&["unfreeze", "team", "hello", "--reason", "x", "--accept-new"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    env.ok(&["unfreeze", "team", "hello", "--reason", "release 1 is out"]);
    env.ok(&["repo", "add", "team", &f2]);
    env.ok(&["repo", "remove", "team", "hello (= 1.0)"]);
    assert_eq!(packages(&env, "team"), ["hello_1.1_amd64"]);

    let audit = json(&env.ok(&["--json", "audit"]));
    let entries: Vec<(String, String, String)> = audit
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["action"] == "freeze" || r["action"] == "unfreeze")
        .map(|r| {
            (
                r["action"].as_str().unwrap_or_default().to_owned(),
                r["subject"].as_str().unwrap_or_default().to_owned(),
                r["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                "freeze".to_owned(),
                "repo `team` package `hello_1.0_amd64`".to_owned(),
                "release 1 ships it".to_owned()
            ),
            (
                "unfreeze".to_owned(),
                "repo `team` package `hello_1.0_amd64`".to_owned(),
                "release 1 is out".to_owned()
            ),
        ]
    );
}

#[test]
fn a_name_both_a_mirror_and_a_repo_have_needs_saying_which() {
    let env = TestEnv::new();
    let hello = Pkg::new("hello", "1.0");
    env.publish_upstream(&crate::support::Repo::new(vec![hello.clone()]));
    env.create_mirror("both", &[]);
    env.ok(&["mirror", "sync", "both"]);
    env.ok(&["repo", "create", "both"]);
    let f = path(&write_deb(&incoming(&env), "hello.deb", &hello));
    env.ok(&["repo", "add", "both", &f]);
    let out = env.run(&["freeze", "both", "hello", "--reason", "r"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("--mirror or --repo"),
        "{}",
        out.transcript()
    );
    env.ok(&["freeze", "both", "hello", "--repo", "--reason", "r"]);
    let out = env.run(&["repo", "remove", "both", "hello"]);
    assert_eq!(out.code, 4, "{}", out.transcript());
    env.ok(&["freeze", "both", "hello", "--mirror", "--reason", "r"]);
    let audit = json(&env.ok(&["--json", "audit"]));
    let subjects: Vec<&str> = audit
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["action"] == "freeze")
        .filter_map(|r| r["subject"].as_str())
        .collect();
    assert_eq!(
        subjects,
        [
            "repo `both` package `hello_1.0_amd64`",
            "mirror `both` package `hello_1.0_amd64`"
        ]
    );
}

/// A signing key, exported (binary) to `<tmp>/debvault.gpg`.
fn keyring(env: &TestEnv) -> PathBuf {
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let path = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &path.display().to_string()]);
    path
}

/// Calls the API with `token` and a JSON body, checks the status; the answer.
fn expect(serve: &Serve, t: &str, method: &str, path: &str, body: &str, status: u16) -> Value {
    let r = request(
        &serve.addr,
        method,
        path,
        &Req {
            token: Some(t),
            content_type: Some("application/json"),
            body: body.as_bytes(),
            ..Req::default()
        },
    );
    assert_eq!(r.status, status, "{method} {path}: {}", r.text());
    r.json()
}

/// Uploads `pkg` to upload directory `dir` and adds it to repo `repo`.
fn upload_and_add(serve: &Serve, t: &str, dir: &str, repo: &str, pkg: &Pkg) {
    let file = format!("{}_{}_amd64.deb", pkg.name, pkg.version);
    let (ct, body) = multipart(&[(&file, &pkg.deb())]);
    let r = request(
        &serve.addr,
        "POST",
        &format!("/api/files/{dir}"),
        &Req {
            token: Some(t),
            content_type: Some(&ct),
            body: &body,
            ..Req::default()
        },
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let added = expect(
        serve,
        t,
        "POST",
        &format!("/api/repos/{repo}/file/{dir}"),
        "",
        200,
    );
    assert_eq!(added["FailedFiles"], serde_json::json!([]), "{added}");
}

#[test]
fn a_repo_default_distribution_is_kept_and_publish_uses_it() {
    let env = TestEnv::new();
    let key = keyring(&env);
    enable_api(&env, "rate-limit = 0");
    let t = token(&env, "ci", "upload,publish,admin", &[]);

    // The CLI: set at creation, used by `snapshot publish` without `--distribution`.
    let out = env.run(&["repo", "create", "bad", "--distribution", "a/b"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    env.ok(&["repo", "create", "local", "--distribution", "internal"]);
    let shown = json(&env.ok(&["--json", "repo", "show", "local"]));
    assert_eq!(shown["default_distribution"], "internal", "{shown}");
    let tool = Pkg::new("tool", "2.0");
    let f = path(&write_deb(&incoming(&env), "tool.deb", &tool));
    env.ok(&["repo", "add", "local", &f]);
    env.ok(&["snapshot", "create", "local-1", "--from-repo", "local"]);
    env.ok(&["repo", "edit", "local", "--distribution", "ignored-later"]);
    env.ok(&["snapshot", "publish", "local-1"]);
    assert!(
        env.root().join("public/dists/internal/Release").is_file(),
        "the snapshot's default distribution was not used"
    );

    // The API: stored, returned, changed, and used by a publish naming none.
    let serve = Serve::start(&env);
    let created = expect(
        &serve,
        &t,
        "POST",
        "/api/repos",
        r#"{"Name": "team", "DefaultDistribution": "testing"}"#,
        201,
    );
    assert_eq!(created["DefaultDistribution"], "testing", "{created}");
    let edited = expect(
        &serve,
        &t,
        "PUT",
        "/api/repos/team",
        r#"{"DefaultDistribution": "stable", "Comment": "ours"}"#,
        200,
    );
    assert_eq!(
        (&edited["DefaultDistribution"], &edited["Comment"]),
        (&json!("stable"), &json!("ours")),
        "{edited}"
    );
    let shown = expect(&serve, &t, "GET", "/api/repos/team", "", 200);
    assert_eq!(shown["DefaultDistribution"], "stable", "{shown}");
    let hello = Pkg::new("hello", "1.0");
    upload_and_add(&serve, &t, "b1", "team", &hello);
    expect(
        &serve,
        &t,
        "POST",
        "/api/repos/team/snapshots",
        r#"{"Name": "team-1"}"#,
        201,
    );
    let published = expect(
        &serve,
        &t,
        "POST",
        "/api/publish/:.",
        r#"{"SourceKind": "snapshot", "Sources": [{"Name": "team-1"}]}"#,
        201,
    );
    assert_eq!(published["Distribution"], "stable", "{published}");
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &key,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "hello"]);
    assert_eq!(
        apt.archives().get("hello_1.0_amd64.deb"),
        Some(&hello.sha256())
    );
}

#[test]
fn a_mirror_snapshot_merged_with_a_repo_snapshot_through_the_api_installs_both() {
    let env = TestEnv::new();
    let key = keyring(&env);
    let curl = Pkg::new("curl", "8.0");
    env.publish_upstream(&crate::support::Repo::new(vec![curl.clone()]));
    env.create_mirror("debian", &[]);
    env.ok(&["mirror", "sync", "debian"]);
    enable_api(&env, "rate-limit = 0");
    let t = token(&env, "ci", "upload,publish,admin", &[]);
    let serve = Serve::start(&env);
    expect(&serve, &t, "POST", "/api/repos", r#"{"Name": "team"}"#, 201);
    let hello = Pkg::new("hello", "1.0");
    upload_and_add(&serve, &t, "b1", "team", &hello);
    for (path, name) in [
        ("/api/mirrors/debian/snapshots", "debian-1"),
        ("/api/repos/team/snapshots", "team-1"),
    ] {
        let body = format!(r#"{{"Name": "{name}"}}"#);
        expect(&serve, &t, "POST", path, &body, 201);
    }
    let merged = expect(
        &serve,
        &t,
        "POST",
        "/api/snapshots/merge?latest=1",
        r#"{"Destination": "release-1", "Sources": ["debian-1", "team-1"]}"#,
        201,
    );
    assert_eq!(merged["Name"], "release-1", "{merged}");
    expect(
        &serve,
        &t,
        "POST",
        "/api/publish/:.",
        r#"{"SourceKind": "snapshot", "Sources": [{"Name": "release-1"}], "Distribution": "stable"}"#,
        201,
    );
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &key,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "hello", "curl"]);
    let got = apt.archives();
    assert_eq!(got.get("hello_1.0_amd64.deb"), Some(&hello.sha256()));
    assert_eq!(got.get("curl_8.0_amd64.deb"), Some(&curl.sha256()));
}

fn blob(env: &TestEnv, pkg: &Pkg) -> PathBuf {
    let hex = pkg.sha256().to_string();
    env.root().join(format!("blobs/sha256/{}/{hex}", &hex[..2]))
}

/// `name_version` of a snapshot's packages (`show` lists `COMPONENT NAME VERSION ARCH`).
fn snapshot_packages(env: &TestEnv, name: &str) -> Vec<String> {
    let v = json(&env.ok(&["--json", "snapshot", "show", name, "--with-packages"]));
    v["package_list"]
        .as_array()
        .expect("package list")
        .iter()
        .filter_map(|p| {
            let f: Vec<&str> = p.as_str()?.split(' ').collect();
            Some(format!("{}_{}", f.get(1)?, f.get(2)?))
        })
        .collect()
}

#[test]
fn a_review_repo_stages_changes_until_promoted_or_rejected() {
    let env = TestEnv::new();
    env.ok(&["repo", "create", "team"]);
    env.ok(&["repo", "create", "other"]);
    let dir = incoming(&env);
    let tool = Pkg::new("tool", "1.0");
    let hello = Pkg::new("hello", "1.0");
    let hello2 = Pkg::new("hello", "1.1");
    let extra = Pkg::new("extra", "3.0");
    env.ok(&[
        "repo",
        "add",
        "team",
        &path(&write_deb(&dir, "t.deb", &tool)),
    ]);
    env.ok(&[
        "repo",
        "add",
        "other",
        &path(&write_deb(&dir, "e.deb", &extra)),
    ]);
    env.ok(&["repo", "edit", "team", "--review", "true"]);

    let out = env.ok(&[
        "repo",
        "add",
        "team",
        &path(&write_deb(&dir, "h.deb", &hello)),
    ]);
    assert!(
        out.stdout.contains("staged for review"),
        "{}",
        out.transcript()
    );
    env.ok(&["repo", "copy", "other", "team", "extra"]);
    assert_eq!(packages(&env, "team"), ["tool_1.0_amd64"]);
    let listed = json(&env.ok(&["--json", "staged", "list", "team"]));
    let staged: Vec<String> = listed
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            assert_eq!(i["repo"], true, "{i}");
            format!("{} {}", i["mirror"], i["name"]).replace('"', "")
        })
        .collect();
    assert_eq!(staged, ["team extra", "team hello"]);
    let text = env.ok(&["staged", "list"]);
    assert!(text.stdout.contains("repo:team"), "{}", text.transcript());
    let status = env.ok(&["status"]);
    assert!(
        status.stdout.contains("repo `team`: 2 staged"),
        "{}",
        status.transcript()
    );

    // A snapshot takes the live set only; gc keeps the staged blobs.
    env.ok(&["snapshot", "create", "s0", "--from-repo", "team"]);
    assert_eq!(snapshot_packages(&env, "s0"), ["tool_1.0"]);
    env.ok(&["repo", "drop", "other"]);
    env.ok(&["gc"]);
    assert!(blob(&env, &hello).is_file(), "gc collected a staged blob");
    assert!(blob(&env, &extra).is_file(), "gc collected a staged copy");

    let out = env.run(&["promote", "team", "hello", "--reason", " "]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    let out = env.run(&["promote", "team", "nothing", "--reason", "x"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    let out = env.ok(&[
        "promote",
        "team",
        "hello",
        "--reason",
        "tested",
        "--dry-run",
    ]);
    assert!(
        out.stdout.contains("would promote 1"),
        "{}",
        out.transcript()
    );
    assert_eq!(packages(&env, "team"), ["tool_1.0_amd64"]);
    let out = env.ok(&["promote", "team", "hello", "--reason", "tested"]);
    assert!(
        out.stdout.contains("repo `team`: promoted 1 change"),
        "{}",
        out.transcript()
    );
    assert_eq!(
        packages(&env, "team"),
        ["hello_1.0_amd64", "tool_1.0_amd64"]
    );
    env.ok(&["reject", "team", "--all", "--reason", "not ours"]);
    assert_eq!(
        packages(&env, "team"),
        ["hello_1.0_amd64", "tool_1.0_amd64"]
    );

    // An upload stages too, and a rejected one stays out.
    let deb = hello2.deb();
    let upload = dir.join("upload");
    write(&upload, "hello_1.1_amd64.deb", &deb);
    let changes = Changes::new("hello", &["hello"])
        .file("hello_1.1_amd64.deb", &deb)
        .write(&upload, "hello.changes", None);
    let out = env.ok(&["repo", "include", "team", &path(&changes)]);
    assert!(out.stderr.contains("review mode"), "{}", out.transcript());
    let report = env.ok(&["staged", "report", "team"]);
    assert!(
        report.stdout.contains("| repo:team | hello |")
            && report.stdout.contains("## Promoted (1)"),
        "{}",
        report.transcript()
    );
    env.ok(&["reject", "team", "hello", "--reason", "breaks the build"]);
    assert!(
        json(&env.ok(&["--json", "staged", "list", "team"]))
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    env.ok(&["snapshot", "create", "s1", "--from-repo", "team"]);
    assert_eq!(snapshot_packages(&env, "s1"), ["hello_1.0", "tool_1.0"]);
    env.ok(&["gc"]);
    assert!(!blob(&env, &hello2).exists(), "a rejected blob was kept");

    let audit = json(&env.ok(&["--json", "audit"]));
    let seen: Vec<String> = audit
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| {
            ["repo-stage", "promote", "reject"].contains(&r["action"].as_str().unwrap_or(""))
        })
        .map(|r| format!("{} {}", r["action"], r["subject"]).replace('"', ""))
        .collect();
    assert_eq!(
        seen,
        [
            "repo-stage repo `team` package `hello_1.0_amd64`",
            "repo-stage repo `team` package `extra_3.0_amd64`",
            "promote repo `team` package `hello_1.0_amd64`",
            "reject repo `team` package `extra_3.0_amd64`",
            "repo-stage repo `team` package `hello_1.1_amd64`",
            "reject repo `team` package `hello_1.1_amd64`",
        ]
    );
}
