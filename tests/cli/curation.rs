//! Curation: review mode (staged → promote / reject), operator freezes,
//! `apply` with pins, the mass-removal guard, `status` and `audit`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use crate::support::{Pkg, Repo, TestEnv, fixture, json};

fn repo_v1() -> Repo {
    Repo::new(vec![
        Pkg::new("app", "1.0").depends("libfoo"),
        Pkg::new("libfoo", "1.3-1"),
        Pkg::new("tool", "0.9"),
    ])
}

/// libfoo upgraded, tool gone, newpkg new.
fn repo_v2() -> Repo {
    let mut r = Repo::new(vec![
        Pkg::new("app", "1.0").depends("libfoo"),
        Pkg::new("libfoo", "1.4-1"),
        Pkg::new("newpkg", "2.0"),
    ]);
    r.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    r
}

/// `name_version_arch` of the mirror's live packages.
fn live(env: &TestEnv, mirror: &str) -> Vec<String> {
    let v = json(&env.ok(&["--json", "mirror", "show", mirror, "--with-packages"]));
    v["package_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["package"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn review_mode_stages_then_promotes_and_rejects() {
    let env = TestEnv::new();
    env.publish_upstream(&repo_v1());
    env.create_mirror("m", &["--review"]);
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(
        out.stdout.contains("staged 3 changes for review"),
        "{}",
        out.stdout
    );
    assert!(
        live(&env, "m").is_empty(),
        "nothing is live before promotion"
    );
    env.ok(&["promote", "m", "--all", "--reason", "initial import"]);
    assert_eq!(
        live(&env, "m"),
        ["app_1.0_amd64", "libfoo_1.3-1_amd64", "tool_0.9_amd64"]
    );

    env.publish_upstream(&repo_v2());
    env.ok(&["mirror", "sync", "m"]);
    let out = env.run(&["staged", "list"]);
    insta::assert_snapshot!("staged_list", env.redact(&out.transcript()));
    let items = json(&env.ok(&["--json", "staged", "list", "m"]));
    assert_eq!(items.as_array().unwrap().len(), 3, "{items}");
    assert_eq!(items[0]["name"], "libfoo");
    assert_eq!(items[0]["old_version"], "1.3-1");
    assert_eq!(items[0]["new_version"], "1.4-1");

    // Snapshots take only what is live.
    env.ok(&["snapshot", "create", "before", "--from-mirror", "m"]);
    let v = json(&env.ok(&["--json", "snapshot", "show", "before"]));
    assert_eq!(v["packages"], 3, "{v}");

    let out = env.run(&["promote", "m", "libfoo", "--reason", "security fix"]);
    insta::assert_snapshot!("promote_one", env.redact(&out.transcript()));
    let out = env.run(&[
        "reject",
        "m",
        "newpkg",
        "tool",
        "--reason",
        "not wanted; keep tool",
    ]);
    insta::assert_snapshot!("reject_two", env.redact(&out.transcript()));
    assert_eq!(
        live(&env, "m"),
        ["app_1.0_amd64", "libfoo_1.4-1_amd64", "tool_0.9_amd64"]
    );
    let out = env.ok(&["staged", "list"]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", "nothing staged\n")
    );

    // A rejected change is not staged again; a new one is.
    let mut r = repo_v2();
    r.packages.push(Pkg::new("extra", "1"));
    r.date = chrono::Utc::now() + chrono::Duration::seconds(10);
    env.publish_upstream(&r);
    env.ok(&["mirror", "sync", "m"]);
    let items = json(&env.ok(&["--json", "staged", "list"]));
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["extra"]);

    let out = env.ok(&["staged", "report", "--since", "1d"]);
    insta::assert_snapshot!("staged_report", env.redact(&out.stdout));

    let out = env.run(&["promote", "m", "nosuch", "--reason", "x"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("mirror `m` has no staged change matching `nosuch`"),
        "{}",
        out.stderr
    );
    let out = env.run(&["promote", "m", "extra", "--reason", " "]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    let out = env.run(&["promote", "m", "--reason", "x"]);
    assert_eq!(
        out.code,
        2,
        "PKG or --all is required: {}",
        out.transcript()
    );
}

/// The `--json` outputs of the deciding commands, whole.
#[test]
fn curation_commands_answer_in_json() {
    let env = TestEnv::new();
    env.publish_upstream(&repo_v1());
    env.create_mirror("m", &["--review"]);
    env.ok(&["mirror", "sync", "m"]);
    let out = env.run(&[
        "--json",
        "promote",
        "m",
        "app",
        "libfoo",
        "--reason",
        "initial import",
    ]);
    insta::assert_snapshot!("promote_json", env.redact(&out.transcript()));
    let out = env.run(&["--json", "reject", "m", "tool", "--reason", "not needed"]);
    insta::assert_snapshot!("reject_json", env.redact(&out.transcript()));
    let out = env.run(&[
        "--json",
        "freeze",
        "m",
        "libfoo",
        "--reason",
        "release 1.4 freeze",
    ]);
    insta::assert_snapshot!("freeze_json", env.redact(&out.transcript()));
    let out = env.run(&[
        "--json",
        "unfreeze",
        "m",
        "libfoo",
        "--reason",
        "release shipped",
    ]);
    insta::assert_snapshot!("unfreeze_json", env.redact(&out.transcript()));
}

#[test]
fn operator_freeze_holds_a_package_until_unfrozen() {
    let env = TestEnv::new();
    env.publish_upstream(&repo_v1());
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    let out = env.run(&[
        "freeze",
        "m",
        "libfoo",
        "tool",
        "--reason",
        "release 1.4 freeze",
    ]);
    insta::assert_snapshot!("freeze", env.redact(&out.transcript()));
    env.publish_upstream(&repo_v2());
    env.ok(&["mirror", "sync", "m"]);
    assert_eq!(
        live(&env, "m"),
        [
            "app_1.0_amd64",
            "libfoo_1.3-1_amd64",
            "newpkg_2.0_amd64",
            "tool_0.9_amd64"
        ],
        "held packages neither move nor go"
    );
    let out = env.run(&[
        "unfreeze",
        "m",
        "libfoo",
        "tool",
        "--reason",
        "release shipped",
    ]);
    insta::assert_snapshot!("unfreeze", env.redact(&out.transcript()));
    let mut r = repo_v2();
    r.date = chrono::Utc::now() + chrono::Duration::seconds(10);
    env.publish_upstream(&r);
    // tool leaving is a quarter of the mirror: past the mass-removal guard.
    env.ok(&["mirror", "sync", "m", "--allow-mass-removal"]);
    assert_eq!(
        live(&env, "m"),
        ["app_1.0_amd64", "libfoo_1.4-1_amd64", "newpkg_2.0_amd64"]
    );

    let out = env.run(&["unfreeze", "m", "libfoo", "--reason", "again"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("mirror `m` has no frozen package matching `libfoo`"),
        "{}",
        out.stderr
    );
    let out = env.run(&["freeze", "m", "nosuch", "--reason", "x"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("mirror `m` has no live package matching `nosuch`"),
        "{}",
        out.stderr
    );
    let out = env.run(&["freeze", "m", "a:b:=", "--reason", "x"]);
    assert_eq!(out.code, 2, "{}", out.transcript());

    let audit = json(&env.ok(&["--json", "audit"]));
    let actions: Vec<String> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["action"].as_str().unwrap(),
                r["subject"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "mirror-create mirror `m`",
            "freeze mirror `m` package `libfoo_1.3-1_amd64`",
            "freeze mirror `m` package `tool_0.9_amd64`",
            "unfreeze mirror `m` package `libfoo_1.3-1_amd64`",
            "unfreeze mirror `m` package `tool_0.9_amd64`",
        ]
    );
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["actor"] == "tester@ci")
    );
}

#[test]
fn content_freeze_needs_accept_new_to_lift() {
    let env = TestEnv::new();
    let mut repo = repo_v1();
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    repo.packages[1] = Pkg::new("libfoo", "1.3-1").salt("rebuilt");
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    assert_eq!(env.run(&["mirror", "sync", "m"]).code, 4);
    let out = env.run(&["unfreeze", "m", "libfoo", "--reason", "looks fine"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("pass --accept-new"), "{}", out.stderr);
    env.ok(&[
        "unfreeze",
        "m",
        "libfoo",
        "--reason",
        "rebuild verified",
        "--accept-new",
    ]);
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(10);
    env.publish_upstream(&repo);
    let out = env.ok(&["--json", "mirror", "sync", "m"]);
    let v = json(&out);
    assert_eq!(v["mirrors"][0]["added"][0]["key"]["name"], "libfoo", "{v}");
    assert_eq!(v["mirrors"][0]["freezes"].as_array().unwrap().len(), 0);
    let rebuilt = debvault::digest::Sha256::of(&Pkg::new("libfoo", "1.3-1").salt("rebuilt").deb());
    let show = json(&env.ok(&["--json", "mirror", "show", "m"]));
    assert_eq!(show["freezes"].as_array().unwrap().len(), 0);
    assert!(
        crate::support::tree(&env.root().join("blobs"))
            .iter()
            .any(|(p, _)| p.ends_with(&rebuilt.to_string())),
        "the accepted content was downloaded"
    );
}

#[test]
fn mass_removal_stops_the_sync_unless_allowed() {
    let env = TestEnv::new();
    let pkgs: Vec<Pkg> = (0..10).map(|i| Pkg::new(&format!("p{i}"), "1")).collect();
    let mut repo = Repo::new(pkgs.clone());
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    repo.packages.truncate(7);
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    let out = env.run(&["mirror", "sync", "m"]);
    insta::assert_snapshot!("mass_removal", env.redact(&out.transcript()));
    assert_eq!(live(&env, "m").len(), 10, "nothing changed");
    // A dry run shows the plan, then fails as the real run would.
    let out = env.run(&["mirror", "sync", "m", "--dry-run"]);
    insta::assert_snapshot!("mass_removal_dry_run", env.redact(&out.transcript()));
    let out = env.run(&["--json", "mirror", "sync", "m", "--dry-run"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    let v = json(&out);
    let m = &v["mirrors"][0];
    assert_eq!(m["outcome"], "planned");
    assert_eq!(m["removed"].as_array().map(Vec::len), Some(3));
    assert_eq!(m["verdict"]["mass_removal"]["removed"], 3, "{v}");
    assert_eq!(v["failed"][0]["mirror"], "m");
    assert!(
        v["failed"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("would remove 3 of 10")),
        "{v}"
    );
    assert_eq!(live(&env, "m").len(), 10, "nothing changed");
    std::fs::create_dir_all(env.root()).unwrap();
    std::fs::write(
        env.root().join("config.toml"),
        "[sync]\nmass-removal-percent = 30\n",
    )
    .unwrap();
    env.ok(&["mirror", "sync", "m"]);
    assert_eq!(live(&env, "m").len(), 7);
    repo.packages.truncate(1);
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(10);
    env.publish_upstream(&repo);
    assert_eq!(env.run(&["mirror", "sync", "m"]).code, 1);
    env.ok(&["mirror", "sync", "m", "--allow-mass-removal"]);
    assert_eq!(live(&env, "m").len(), 1);
}

fn scope(env: &TestEnv, review: bool) -> std::path::PathBuf {
    let key = fixture::public_key("upstream");
    let text = format!(
        r#"# The reviewed scope of our mirrors.
[mirrors.curated]
url = "{url}"
suite = "stable"
components = ["main"]
architectures = ["amd64"]
keyrings = ["{key}"]
with-deps = true
review = {review}
packages = [
  "app",
  {{ name = "lib*", versions = ["1.3-1"] }},
]
"#,
        url = env.url(),
        key = key.display()
    );
    let path = env.dir.path().join("curated.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn apply_creates_updates_and_keeps_pinned_versions() {
    let env = TestEnv::new();
    env.publish_upstream(&repo_v1());
    let file = scope(&env, false);
    let f = file.display().to_string();
    let out = env.run(&["apply", &f, "--dry-run"]);
    insta::assert_snapshot!("apply_dry_run", env.redact(&out.transcript()));
    assert_eq!(
        json(&env.ok(&["--json", "mirror", "list"]))
            .as_array()
            .unwrap()
            .len(),
        0
    );
    env.ok(&["apply", &f]);
    let out = env.ok(&["apply", &f]);
    assert_eq!(out.stdout, "mirror `curated` is as declared\n");
    env.ok(&["mirror", "sync", "curated"]);
    assert_eq!(
        live(&env, "curated"),
        ["app_1.0_amd64", "libfoo_1.3-1_amd64"]
    );

    // Upstream moves on: the pinned 1.3-1 stays, and is reported.
    env.publish_upstream(&repo_v2());
    let out = env.ok(&["mirror", "sync", "curated"]);
    assert!(
        out.stderr
            .contains("pinned `lib* 1.3-1` is no longer listed upstream; the live copy is kept"),
        "{}",
        out.transcript()
    );
    // 1.4-1 comes in as app's dependency; the pinned 1.3-1 stays beside it.
    assert_eq!(
        live(&env, "curated"),
        ["app_1.0_amd64", "libfoo_1.3-1_amd64", "libfoo_1.4-1_amd64"]
    );
    scope(&env, true);
    let out = env.run(&["apply", &f]);
    insta::assert_snapshot!("apply_update", env.redact(&out.transcript()));

    // A half-written file changes nothing and says where it broke.
    std::fs::write(&file, "[mirrors.curated]\nurl = \"http://x\n").unwrap();
    let out = env.run(&["apply", &f]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("curated.toml` is invalid") && out.stderr.contains("line 2"),
        "{}",
        out.stderr
    );
    let v = json(&env.ok(&["--json", "mirror", "show", "curated"]));
    assert_eq!(v["mirror"]["review"], true);
}

#[test]
fn status_reports_and_checks() {
    let env = TestEnv::new();
    env.publish_upstream(&repo_v1());
    env.create_mirror("m", &[]);
    env.create_mirror("never", &[]);
    env.ok(&["mirror", "sync", "m"]);
    let prom = env.dir.path().join("debvault.prom");
    let out = env.run(&["status", "--prometheus", &prom.display().to_string()]);
    insta::assert_snapshot!("status", env.redact(&out.transcript()));
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains("debvault_mirror_packages{mirror=\"m\"} 3\n"),
        "{text}"
    );
    assert!(
        text.contains("debvault_mirror_packages{mirror=\"never\"} 0\n"),
        "{text}"
    );
    let v = json(&env.ok(&["--json", "status"]));
    assert_eq!(v["mirrors"][0]["name"], "m");
    assert_eq!(v["mirrors"][0]["packages"], 3);
    assert_eq!(v["storage"]["blobs"], 3);
    let out = env.run(&["status", "--check", "--max-age", "1h"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert_eq!(out.stderr, "problem: mirror `never` has never synced\n");
    env.ok(&["mirror", "drop", "never"]);
    env.ok(&["status", "--check", "--max-age", "1h"]);
    // An operator's hold is deliberate: no problem, and a quiet check of a
    // healthy data root prints nothing at all (cron mails any output).
    env.ok(&["freeze", "m", "tool", "--reason", "hold"]);
    let out = env.ok(&["--json", "status", "--check"]);
    let v = json(&out);
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    assert_eq!(
        (
            v["mirrors"][0]["held"].as_u64(),
            v["mirrors"][0]["frozen"].as_u64()
        ),
        (Some(1), Some(0))
    );
    let out = env.ok(&["-q", "status", "--check"]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", ""),
        "{}",
        out.transcript()
    );
    assert!(
        env.ok(&["-q", "status"]).stdout.contains("HELD"),
        "plain status is data"
    );
}

/// curl needs libcurl4 and libc6; nginx needs iproute2 (issue 23).
fn repo_deps() -> Repo {
    Repo::new(vec![
        Pkg::new("curl", "8.0").depends("libcurl4 (>= 8.0), libc6"),
        Pkg::new("libcurl4", "8.0").depends("libc6 (>= 2.36)"),
        Pkg::new("libc6", "2.36"),
        Pkg::new("nginx", "1.22").depends("iproute2, libc6"),
        Pkg::new("iproute2", "6.1").depends("libc6"),
        Pkg::new("decoy", "1.0"),
    ])
}

fn review_deps_mirror() -> TestEnv {
    let env = TestEnv::new();
    env.publish_upstream(&repo_deps());
    env.create_mirror(
        "m",
        &["--review", "--filter", "curl | nginx", "--with-deps"],
    );
    env.ok(&["mirror", "sync", "m"]);
    env
}

/// Issue 23: `promote curl` left libcurl4 and libc6 staged; `reject
/// iproute2` then `promote --all` published an uninstallable nginx.
#[test]
fn issue_23_promote_and_reject_follow_dependencies() {
    let env = review_deps_mirror();
    let items = json(&env.ok(&["--json", "staged", "list", "m"]));
    let by: Vec<(String, String)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let list: Vec<&str> = i["pulled_in_by"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            (i["name"].as_str().unwrap().to_owned(), list.join(","))
        })
        .collect();
    let by: std::collections::BTreeMap<String, String> = by.into_iter().collect();
    assert_eq!(by["curl"], "", "requested: {items}");
    assert_eq!(by["nginx"], "");
    assert_eq!(by["libcurl4"], "curl");
    assert_eq!(by["libc6"], "curl,nginx");
    assert_eq!(by["iproute2"], "nginx");
    let out = env.ok(&["staged", "list", "m"]);
    insta::assert_snapshot!("staged_list_pulled_in_by", env.redact(&out.transcript()));

    let out = env.run(&["promote", "m", "curl", "--reason", "CVE fix"]);
    insta::assert_snapshot!("promote_with_deps", env.redact(&out.transcript()));
    assert_eq!(
        live(&env, "m"),
        ["curl_8.0_amd64", "libc6_2.36_amd64", "libcurl4_8.0_amd64"]
    );

    let out = env.run(&["reject", "m", "iproute2", "--reason", "not yet"]);
    insta::assert_snapshot!("reject_refused_breaks", env.redact(&out.transcript()));
    let out = env.run(&["reject", "m", "iproute2", "--dry-run", "--reason", "x"]);
    insta::assert_snapshot!("reject_dry_run_breaks", env.redact(&out.transcript()));
    let items = json(&env.ok(&["--json", "staged", "list", "m"]));
    assert_eq!(
        items.as_array().unwrap().len(),
        2,
        "dry run decides nothing"
    );

    env.ok(&["reject", "m", "iproute2", "nginx", "--reason", "not yet"]);
    let out = env.ok(&["staged", "list"]);
    assert_eq!(out.stderr, "nothing staged\n");
    env.ok(&["snapshot", "create", "s", "--from-mirror", "m"]);
    let out = env.ok(&["snapshot", "verify", "s"]);
    assert_eq!(out.stdout, "", "{}", out.transcript());
}

/// `--no-deps` is the old behaviour, said out loud.
#[test]
fn promote_no_deps_prints_what_is_left_unmet() {
    let env = review_deps_mirror();
    let out = env.run(&["promote", "m", "curl", "--no-deps", "--reason", "just curl"]);
    insta::assert_snapshot!("promote_no_deps", env.redact(&out.transcript()));
    assert_eq!(live(&env, "m"), ["curl_8.0_amd64"]);
    // A dry run promotes nothing but shows what would come along.
    let out = env.ok(&["promote", "m", "nginx", "--dry-run", "--reason", "x"]);
    assert!(
        out.stdout.contains("would promote 3 changes")
            && out
                .stdout
                .contains("iproute2_6.1_amd64 comes along: `nginx` depends on it"),
        "{}",
        out.transcript()
    );
    assert_eq!(live(&env, "m"), ["curl_8.0_amd64"]);
}
