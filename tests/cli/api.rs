//! The HTTP API for CI (issue 21): `token create|list|revoke` and `serve
//! --api`, driven over loopback by a plain HTTP client, published to the
//! real apt.
//!
//! Covered:
//! - the CI flow with a token: upload → add → snapshot → publish → apt
//!   installs; a second version (`?_async=true`, then `/wait`) switches the
//!   distribution in place; the token's name is the audit actor;
//! - no token, an unknown or revoked one: 401 with `WWW-Authenticate:
//!   Bearer`; a token without the scope or outside its repos: 403; the
//!   per-token rate limit: 429;
//! - an upload over the limit (announced, or sent chunked) is refused with
//!   nothing stored; hostile `.deb`s are reported failed with nothing
//!   stored; hostile names never leave the token's upload directory;
//! - a table per route: aptly's status codes and JSON field names; unknown
//!   route 404, wrong method 405, bad JSON 400 naming the field, a
//!   `.changes` that is not there 404;
//! - `docs/openapi.json` lists exactly the router's routes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::api::{Http, Req, enable_api, multipart, request, token, try_request};
use crate::support::apt::{Apt, Serve, Sources};
use crate::support::repos::{ar, deb_with_control, files_below, gzip_tar};
use crate::support::{Pkg, TestEnv, json};
use serde_json::{Value, json};

/// A signing key, exported (binary) to `<tmp>/debvault.gpg`.
fn keyring(env: &TestEnv) -> PathBuf {
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let path = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &path.display().to_string()]);
    path
}

fn blobs(env: &TestEnv) -> Vec<PathBuf> {
    let mut out = files_below(&env.root().join("blobs/sha256"));
    out.extend(files_below(&env.root().join("blobs/tmp")));
    out
}

fn uploads(env: &TestEnv) -> Vec<PathBuf> {
    files_below(&env.root().join("uploads"))
}

/// Calls the API with `token` and a JSON body.
fn call(serve: &Serve, token: &str, method: &str, path: &str, body: &str) -> Http {
    request(
        &serve.addr,
        method,
        path,
        &Req {
            token: Some(token),
            content_type: Some("application/json"),
            body: body.as_bytes(),
            ..Req::default()
        },
    )
}

fn upload(serve: &Serve, token: &str, dir: &str, files: &[(&str, &[u8])]) -> Http {
    let (ct, body) = multipart(files);
    request(
        &serve.addr,
        "POST",
        &format!("/api/files/{dir}"),
        &Req {
            token: Some(token),
            content_type: Some(&ct),
            body: &body,
            ..Req::default()
        },
    )
}

/// Calls the API and checks the status; the JSON answer.
fn expect(serve: &Serve, token: &str, method: &str, path: &str, body: &str, status: u16) -> Value {
    let r = call(serve, token, method, path, body);
    assert_eq!(r.status, status, "{method} {path}: {}", r.text());
    r.json()
}

/// Every `actions` event of the audit trail names `actor`.
fn assert_audited_as(env: &TestEnv, actor: &str, actions: &[&str]) {
    let audit = json(&env.ok(&["--json", "audit"]));
    let seen: BTreeSet<(&str, &str)> = audit
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap_or(""),
                r["actor"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for action in actions {
        assert!(
            seen.contains(&(action, actor)),
            "{action} by {actor} not audited: {seen:?}"
        );
    }
}

/// The second version of the CI flow: a raw PUT, an asynchronous add, a
/// snapshot, a diff, a switch in place that apt sees.
fn second_version_switches_in_place(serve: &Serve, ci: &str, apt: &Apt) {
    let v2 = Pkg::new("hello", "1.1-1");
    let put = Req {
        token: Some(ci),
        body: &v2.deb(),
        chunked: true,
        ..Req::default()
    };
    let r = request(
        &serve.addr,
        "PUT",
        "/api/files/build-2/hello_1.1-1_amd64.deb",
        &put,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let task = expect(
        serve,
        ci,
        "POST",
        "/api/repos/team/file/build-2?_async=true",
        "",
        202,
    );
    let id = task["ID"].as_u64().expect("task ID");
    let done = expect(serve, ci, "GET", &format!("/api/tasks/{id}/wait"), "", 200);
    assert_eq!(done["State"], 2, "{done}");
    assert_eq!(
        done["Output"]["Report"]["Added"][0],
        "hello_1.1-1_amd64 added"
    );
    expect(
        serve,
        ci,
        "POST",
        "/api/repos/team/snapshots",
        r#"{"Name": "team-2"}"#,
        201,
    );
    let diff = expect(
        serve,
        ci,
        "GET",
        "/api/snapshots/team-1/diff/team-2",
        "",
        200,
    );
    let side = |s: &str, prefix: &str| diff[0][s].as_str().is_some_and(|l| l.starts_with(prefix));
    assert!(
        side("Left", "Pamd64 hello 1.0-1 ") && side("Right", "Pamd64 hello 1.1-1 "),
        "{diff}"
    );
    let body = r#"{"Snapshots": [{"Component": "main", "Name": "team-2"}]}"#;
    let switched = expect(serve, ci, "PUT", "/api/publish/:./stable", body, 200);
    assert_eq!(switched["Sources"][0]["Name"], "team-2");
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "hello"]);
    assert_eq!(
        apt.archives().get("hello_1.1-1_amd64.deb"),
        Some(&v2.sha256()),
        "apt did not get the new version"
    );
}

#[test]
fn the_ci_flow_publishes_an_upload_apt_installs_and_a_second_version_switches_in_place() {
    let env = TestEnv::new();
    let key = keyring(&env);
    enable_api(&env, "");
    let ci = token(&env, "ci-bot", "upload,publish,admin", &[]);
    let serve = Serve::start(&env);

    expect(
        &serve,
        &ci,
        "POST",
        "/api/repos",
        r#"{"Name": "team"}"#,
        201,
    );
    let v1 = Pkg::new("hello", "1.0-1");
    let r = upload(
        &serve,
        &ci,
        "build-1",
        &[("hello_1.0-1_amd64.deb", &v1.deb())],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!(["build-1/hello_1.0-1_amd64.deb"]));
    let added = expect(&serve, &ci, "POST", "/api/repos/team/file/build-1", "", 200);
    assert_eq!(
        added,
        json!({"FailedFiles": [], "Report": {"Warnings": [], "Added": ["hello_1.0-1_amd64 added"], "Removed": []}})
    );
    // Added files and their emptied directory are removed, as aptly does.
    assert_eq!(uploads(&env), Vec::<PathBuf>::new());
    expect(
        &serve,
        &ci,
        "POST",
        "/api/repos/team/snapshots",
        r#"{"Name": "team-1"}"#,
        201,
    );
    let body =
        r#"{"SourceKind": "snapshot", "Sources": [{"Name": "team-1"}], "Distribution": "stable"}"#;
    let published = expect(&serve, &ci, "POST", "/api/publish/:.", body, 201);
    assert_eq!(published["Sources"][0]["Name"], "team-1");

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
        Some(&v1.sha256())
    );

    second_version_switches_in_place(&serve, &ci, &apt);

    // Every change names the token as its actor.
    assert_audited_as(&env, "ci-bot", &["repo-add", "publish"]);
    assert_audited_as(&env, "tester@ci", &["token-create"]);
}

#[test]
fn no_token_is_401_a_token_without_the_scope_or_repo_is_403() {
    let env = TestEnv::new();
    enable_api(&env, "rate-limit = 0");
    let admin = token(&env, "admin", "admin", &[]);
    let uploader = token(&env, "uploader", "upload", &["team"]);
    let publisher = token(&env, "publisher", "publish", &[]);
    let revoked = token(&env, "old", "admin", &[]);
    env.ok(&["token", "revoke", "old"]);
    let list = json(&env.ok(&["--json", "token", "list"]));
    assert_eq!(list.as_array().map(Vec::len), Some(3), "{list}");
    assert!(
        !list.to_string().contains("dvt_"),
        "a secret is listed: {list}"
    );
    env.ok(&["repo", "create", "team"]);
    env.ok(&["repo", "create", "other"]);
    let serve = Serve::start(&env);

    // Health probes need no token.
    assert_eq!(
        request(&serve.addr, "GET", "/api/healthy", &Req::default()).status,
        200
    );
    for (what, t) in [
        ("no token", None),
        ("unknown", Some("dvt_00")),
        ("revoked", Some(revoked.as_str())),
    ] {
        let r = request(
            &serve.addr,
            "GET",
            "/api/repos",
            &Req {
                token: t,
                ..Req::default()
            },
        );
        assert_eq!(r.status, 401, "{what}: {}", r.text());
        assert!(
            r.header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{what}: {}",
            r.head
        );
        assert!(r.json()["error"].is_string(), "{what}");
    }
    let forbidden = [
        (&publisher, "POST", "/api/files/x", "upload"),
        (&uploader, "POST", "/api/repos", "admin"),
        (&uploader, "DELETE", "/api/repos/team", "admin"),
        (&uploader, "POST", "/api/repos/other/file/x", "repo `other`"),
        (&uploader, "GET", "/api/repos/other", "repo `other`"),
        (&uploader, "POST", "/api/publish/:.", "publish"),
        (&publisher, "POST", "/api/repos/team/file/x", "upload"),
    ];
    for (t, method, path, why) in forbidden {
        let r = call(&serve, t, method, path, "{}");
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text());
        assert!(
            r.json()["error"].as_str().is_some_and(|e| e.contains(why)),
            "{}",
            r.text()
        );
    }
    // A token limited to repos sees only those.
    let r = call(&serve, &uploader, "GET", "/api/repos", "");
    assert_eq!(
        r.json(),
        serde_json::json!([{"Name": "team", "Comment": "", "DefaultDistribution": "", "DefaultComponent": "main"}])
    );
    let r = call(&serve, &admin, "GET", "/api/repos", "");
    assert_eq!(r.json().as_array().map(Vec::len), Some(2));
    // Upload directories are private to their token.
    assert_eq!(
        upload(&serve, &uploader, "mine", &[("a.deb", b"x")]).status,
        200
    );
    assert_eq!(
        call(&serve, &admin, "GET", "/api/files", "").json(),
        serde_json::json!([])
    );
    assert_eq!(
        call(&serve, &admin, "GET", "/api/files/mine", "").status,
        404
    );
    assert_eq!(
        call(&serve, &uploader, "GET", "/api/files", "").json(),
        serde_json::json!(["mine"])
    );
}

#[test]
fn a_token_past_its_rate_limit_is_told_to_wait() {
    let env = TestEnv::new();
    enable_api(&env, "rate-limit = 3");
    let t = token(&env, "ci", "upload", &[]);
    let serve = Serve::start(&env);
    for _ in 0..3 {
        assert_eq!(call(&serve, &t, "GET", "/api/version", "").status, 200);
    }
    let r = call(&serve, &t, "GET", "/api/version", "");
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("`ci`"))
    );
}

#[test]
fn uploads_over_the_limit_are_refused_with_nothing_stored() {
    let env = TestEnv::new();
    enable_api(&env, "upload-limit = 4000");
    let t = token(&env, "ci", "upload", &[]);
    let serve = Serve::start(&env);
    let big = vec![7u8; 10_000];
    // Announced too large: refused before a byte of it is read.
    let (ct, body) = multipart(&[("big.deb", &big)]);
    let r = request(
        &serve.addr,
        "POST",
        "/api/files/ci",
        &Req {
            token: Some(&t),
            content_type: Some(&ct),
            announce_only: Some(body.len() as u64),
            ..Req::default()
        },
    );
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("4000"))
    );
    // Sent chunked, multipart or raw: refused once the count passes the
    // limit, and what was written of it is deleted. A small file of the
    // same request goes too.
    let (ct, body) = multipart(&[("small.deb", b"fine"), ("big.deb", &big)]);
    for (method, path, ct, body) in [
        ("POST", "/api/files/ci", Some(ct.as_str()), &body),
        ("PUT", "/api/files/ci/big.deb", None, &big),
    ] {
        let r = try_request(
            &serve.addr,
            method,
            path,
            &Req {
                token: Some(&t),
                content_type: ct,
                body,
                chunked: true,
                ..Req::default()
            },
        );
        // The server may close before the client has sent everything; a
        // reset then hides the 413 from this client.
        if let Some(r) = r {
            assert_eq!(r.status, 413, "{method}: {}", r.text());
        }
        assert_eq!(
            uploads(&env),
            Vec::<PathBuf>::new(),
            "{method}: something was stored"
        );
    }
    assert_eq!(
        call(&serve, &t, "GET", "/api/files", "").json(),
        serde_json::json!([])
    );
    // Under the limit, it is stored.
    assert_eq!(upload(&serve, &t, "ci", &[("ok.deb", b"fine")]).status, 200);
    assert_eq!(uploads(&env).len(), 1);
}

#[test]
fn hostile_uploads_are_refused_with_nothing_stored() {
    let env = TestEnv::new();
    enable_api(&env, "");
    let t = token(&env, "ci", "upload,admin", &[]);
    env.ok(&["repo", "create", "team"]);
    let serve = Serve::start(&env);
    let good = Pkg::new("hello", "1.0").deb();
    let control_only = gzip_tar(&[("./control", b"Package: x1\nVersion: 1\nArchitecture: all\n")]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a control naming ../ in the pool path",
            deb_with_control(
                "Package: evil\nSource: ../../etc\nVersion: 1.0\nArchitecture: amd64\nDescription: x\n",
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
    ];
    for (what, data) in cases {
        assert_eq!(
            upload(&serve, &t, "in", &[("evil.deb", &data)]).status,
            200,
            "{what}"
        );
        let r = call(&serve, &t, "POST", "/api/repos/team/file/in/evil.deb", "");
        assert_eq!(r.status, 200, "{what}: {}", r.text());
        let v = r.json();
        assert_eq!(
            v["FailedFiles"],
            serde_json::json!(["in/evil.deb"]),
            "{what}: {v}"
        );
        assert_eq!(v["Report"]["Added"], serde_json::json!([]), "{what}");
        let warning = v["Report"]["Warnings"][0].as_str().unwrap_or("");
        assert!(
            warning.contains("`in/evil.deb`")
                && !warning.contains(&env.root().display().to_string()),
            "{what}: the warning names the upload, not the server's paths: {warning}"
        );
        assert_eq!(
            blobs(&env),
            Vec::<PathBuf>::new(),
            "{what}: something was stored"
        );
        assert_eq!(
            call(&serve, &t, "GET", "/api/repos/team/packages", "").json(),
            serde_json::json!([])
        );
    }
    // Names that try to leave the token's directory.
    let r = call(&serve, &t, "PUT", "/api/files/..%2F..%2Fx/a.deb", "x");
    assert_eq!(r.status, 400, "{}", r.text());
    let r = call(&serve, &t, "PUT", "/api/files/in/..", "x");
    assert!(r.status == 400 || r.status == 404, "{}", r.text());
    let r = upload(&serve, &t, "in2", &[("../../../escape.deb", b"x")]);
    assert_eq!(
        r.json(),
        serde_json::json!(["in2/escape.deb"]),
        "{}",
        r.text()
    );
    assert!(!env.root().join("escape.deb").exists() && !env.dir.path().join("escape.deb").exists());
    for f in uploads(&env) {
        assert!(f.starts_with(env.root().join("uploads")), "{}", f.display());
    }
}

/// One row of the route table, `METHOD PATH | BODY | STATUS | FIELDS`:
/// the request, the status expected, and the JSON fields the answer (or
/// its first element) must have.
struct Case<'a> {
    method: &'a str,
    path: &'a str,
    body: &'a str,
    status: u16,
    fields: Vec<&'a str>,
}

impl<'a> Case<'a> {
    fn parse(line: &'a str) -> Case<'a> {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let (method, path) = cols[0].split_once(' ').expect("METHOD PATH");
        Case {
            method,
            path,
            body: cols[1],
            status: cols[2].parse().expect("status"),
            fields: cols.get(3).map_or(Vec::new(), |f| {
                f.split(',').filter(|f| !f.is_empty()).collect()
            }),
        }
    }
}

/// Every route, in the order the test runs them (later rows see what
/// earlier ones made).
const ROUTE_TABLE: &str = r#"
GET /api/version |  | 200 | Version
GET /api/healthy |  | 200 | Status
GET /api/ready |  | 200 | Status
GET /api/files |  | 200 |
GET /api/files/d |  | 200 |
GET /api/files/none |  | 404 | error
POST /api/files/d | {} | 400 | error
POST /api/repos | {"Name": "team", "Comment": "ours"} | 201 | Name,Comment,DefaultDistribution,DefaultComponent
POST /api/repos | {"Name": "team"} | 400 | error
POST /api/repos | {"Name": 7} | 400 | error
POST /api/repos | {"Comment": "x"} | 400 | error
POST /api/repos | {nope | 400 | error
GET /api/repos |  | 200 | Name,Comment,DefaultDistribution,DefaultComponent
GET /api/repos/team |  | 200 | Name,Comment,DefaultDistribution,DefaultComponent
GET /api/repos/none |  | 404 | error
PUT /api/repos/team | {"DefaultDistribution": "stable"} | 200 | Name,Comment,DefaultDistribution,DefaultComponent
PUT /api/repos/team | {"DefaultDistribution": "a/b"} | 400 | error
PUT /api/repos/none | {} | 404 | error
POST /api/repos/none/file/d |  | 404 | error
POST /api/repos/team/file/none |  | 404 | error
POST /api/repos/team/file/d/hello.deb |  | 200 | FailedFiles,Report
POST /api/repos/team/include/d |  | 404 | error
POST /api/repos/team/include/d/x.changes |  | 404 | error
GET /api/repos/team/packages |  | 200 |
GET /api/repos/team/packages?format=details |  | 200 | Key,Package,Version,Architecture
GET /api/repos/team/packages?q=Name%20(hello) |  | 200 |
POST /api/repos/team/snapshots | {"Name": "s1"} | 201 | Name,CreatedAt,Description
POST /api/repos/team/snapshots | {"Name": "s1"} | 400 | error
POST /api/repos/none/snapshots | {"Name": "s9"} | 404 | error
POST /api/repos/team/snapshots | {} | 400 | error
POST /api/mirrors/none/snapshots | {"Name": "m1"} | 404 | error
GET /api/snapshots |  | 200 | Name,CreatedAt,Description
GET /api/snapshots/s1 |  | 200 | Name,CreatedAt,Description
GET /api/snapshots/none |  | 404 | error
GET /api/snapshots/s1/diff/s1 |  | 200 |
GET /api/snapshots/s1/diff/none |  | 404 | error
POST /api/snapshots/merge | {"Destination": "s2", "Sources": ["s1"]} | 201 | Name,CreatedAt,Description
POST /api/snapshots/merge | {"Destination": "s2", "Sources": ["s1"]} | 400 | error
POST /api/snapshots/merge | {"Destination": "s3", "Sources": ["none"]} | 404 | error
POST /api/snapshots/merge | {"Destination": "s3", "Sources": []} | 400 | error
POST /api/snapshots/merge?latest=1&no-remove=1 | {"Destination": "s3", "Sources": ["s1"]} | 400 | error
POST /api/publish/ci_main | {"SourceKind": "snapshot", "Sources": [{"Name": "s1"}], "Distribution": "stable"} | 201 | Storage,Prefix,Distribution,SourceKind,Sources,Architectures,Label,Origin
POST /api/publish/ci_main | {"SourceKind": "snapshot", "Sources": [{"Name": "s1"}], "Distribution": "stable"} | 400 | error
POST /api/publish | {"SourceKind": "local", "Sources": [{"Name": "team"}]} | 400 | error
POST /api/publish | {"SourceKind": "snapshot", "Sources": "s1"} | 400 | error
POST /api/publish | {"SourceKind": "snapshot", "Sources": [{"Name": "none"}], "Distribution": "x"} | 404 | error
GET /api/publish |  | 200 | Storage,Prefix,Distribution,SourceKind,Sources,Architectures,Label,Origin
GET /api/publish/ci_main |  | 200 | Storage,Prefix,Distribution,SourceKind,Sources,Architectures,Label,Origin
GET /api/publish/ci_main/stable |  | 200 | Storage,Prefix,Distribution,SourceKind,Sources,Architectures,Label,Origin
PUT /api/publish/ci_main/stable | {"Snapshots": [{"Component": "main", "Name": "s1"}]} | 200 | Storage,Prefix,Distribution,SourceKind,Sources,Architectures,Label,Origin
PUT /api/publish/ci_main/nothing | {"Snapshots": [{"Name": "s1"}]} | 404 | error
PUT /api/publish/ci_main/stable | {} | 400 | error
PUT /api/publish/s3:x:/stable | {"Snapshots": [{"Name": "s1"}]} | 400 | error
DELETE /api/publish/ci_main/stable |  | 200 |
DELETE /api/publish/ci_main/stable |  | 404 | error
GET /api/tasks |  | 200 |
GET /api/tasks/999 |  | 404 | error
GET /api/tasks/999/wait |  | 404 | error
DELETE /api/files/d/none.deb |  | 404 | error
DELETE /api/files/d |  | 200 |
DELETE /api/repos/team |  | 200 |
DELETE /api/repos/team |  | 404 | error
GET /api/nothing/here |  | 404 | error
PATCH /api/repos |  | 405 | error
"#;

fn check(serve: &Serve, t: &str, c: &Case<'_>) {
    let r = call(serve, t, c.method, c.path, c.body);
    assert_eq!(r.status, c.status, "{} {}: {}", c.method, c.path, r.text());
    assert!(
        r.header("content-type")
            .is_some_and(|h| h.starts_with("application/json")),
        "{} {}: {}",
        c.method,
        c.path,
        r.head
    );
    let v = r.json();
    let obj = match &v {
        serde_json::Value::Array(items) => items.first().cloned().unwrap_or_default(),
        v => v.clone(),
    };
    for f in &c.fields {
        assert!(
            obj.get(f).is_some(),
            "{} {}: no `{f}` in {v}",
            c.method,
            c.path
        );
    }
}

#[test]
fn routes_answer_aptly_status_codes_and_field_names() {
    let env = TestEnv::new();
    keyring(&env);
    enable_api(&env, "rate-limit = 0");
    let t = token(&env, "ci", "admin", &[]);
    let serve = Serve::start(&env);
    assert_eq!(
        upload(
            &serve,
            &t,
            "d",
            &[("hello.deb", &Pkg::new("hello", "1.0").deb())]
        )
        .status,
        200
    );
    for line in ROUTE_TABLE.lines().filter(|l| !l.trim().is_empty()) {
        check(&serve, &t, &Case::parse(line));
    }
    // The publication was reachable under its decoded prefix meanwhile.
    assert!(env.root().join("public/ci/main").is_dir());
    let r = call(&serve, &t, "PATCH", "/api/repos", "");
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
    let r = call(&serve, &t, "POST", "/api/repos", r#"{"Name": ["x"]}"#);
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("`Name`")),
        "{}",
        r.text()
    );
    // An async change answers 202 with aptly's task fields.
    let r = call(
        &serve,
        &t,
        "POST",
        "/api/repos?_async=true",
        r#"{"Name": "later"}"#,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    for f in ["ID", "Name", "State"] {
        assert!(r.json().get(f).is_some(), "no `{f}`: {}", r.text());
    }
    let id = r.json()["ID"].as_u64().expect("ID");
    let done = call(&serve, &t, "GET", &format!("/api/tasks/{id}/wait"), "");
    assert_eq!(done.json()["State"], 2, "{}", done.text());
    assert_eq!(call(&serve, &t, "GET", "/api/repos/later", "").status, 200);
}

/// `(METHOD, /path)` of every operation in `docs/openapi.json`.
fn openapi_routes(path: &Path) -> BTreeSet<(String, String)> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read openapi.json"))
            .expect("openapi.json is JSON");
    let mut out = BTreeSet::new();
    for (p, ops) in doc["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("operations").keys() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                out.insert((method.to_uppercase(), p.clone()));
            }
        }
    }
    out
}

#[test]
fn openapi_lists_every_route_of_the_router_and_no_other() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let documented = openapi_routes(&file);
    let routed: BTreeSet<(String, String)> = debvault::serve::api::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/openapi.json differs from the router: not documented {missing:?}, not routed {extra:?}"
    );
}

/// `.changes` uploads through the API go through `repo include`: a good
/// one is added and its files removed; one listing other bytes is a failed
/// file and nothing of it is stored.
#[test]
fn a_changes_upload_is_included_through_the_api_and_a_bad_one_stores_nothing() {
    use crate::support::changes::Changes;
    let env = TestEnv::new();
    enable_api(&env, "");
    let ci = token(&env, "ci-bot", "upload", &[]);
    env.ok(&["repo", "create", "team"]);
    let serve = Serve::start(&env);

    let hello = Pkg::new("hello", "1.0-1");
    let deb = hello.deb();
    let changes = Changes::new("hello", &["hello"])
        .file("hello_1.0-1_amd64.deb", &deb)
        .text();
    let files: [(&str, &[u8]); 2] = [
        ("hello_1.0-1_amd64.deb", &deb),
        ("hello_1.0-1_amd64.changes", changes.as_bytes()),
    ];
    assert_eq!(upload(&serve, &ci, "up-1", &files).status, 200);
    let got = expect(&serve, &ci, "POST", "/api/repos/team/include/up-1", "", 200);
    assert_eq!(
        got,
        json!({"FailedFiles": [], "Report": {"Warnings": [], "Added": ["hello_1.0-1_amd64 added"], "Removed": []}})
    );
    assert_eq!(uploads(&env), Vec::<PathBuf>::new(), "included files stay");
    let shown = json(&env.ok(&["--json", "repo", "show", "team"]));
    assert_eq!(shown["packages"], 1, "{shown}");

    // The .changes lists other bytes than those uploaded.
    let other = Pkg::new("other", "2.0");
    let listed = Changes::new("other", &["other"])
        .file("other_2.0_amd64.deb", b"not these bytes")
        .text();
    let files: [(&str, &[u8]); 2] = [
        ("other_2.0_amd64.deb", &other.deb()),
        ("other_2.0_amd64.changes", listed.as_bytes()),
    ];
    assert_eq!(upload(&serve, &ci, "up-2", &files).status, 200);
    let path = "/api/repos/team/include/up-2/other_2.0_amd64.changes";
    let got = expect(&serve, &ci, "POST", path, "", 200);
    assert_eq!(
        got["FailedFiles"],
        json!(["up-2/other_2.0_amd64.changes"]),
        "{got}"
    );
    assert_eq!(got["Report"]["Added"], json!([]), "{got}");
    let shown = json(&env.ok(&["--json", "repo", "show", "team"]));
    assert_eq!(shown["packages"], 1, "nothing of the bad upload: {shown}");
}
