//! On-demand mirrors (issue 20): syncs download no package file, a
//! publication is complete and signed anyway, and `serve` fetches each
//! pool file from upstream when a client first asks for it — verified,
//! once however many ask at once, and kept for when upstream is gone.
//!
//! Covered, with the real `apt-get` against `debvault serve`:
//! - an on-demand sync makes no pool request upstream; publish lists
//!   every package; apt installs through `serve` (fetched through), then
//!   again with the upstream server stopped (from the store);
//! - a tampered upstream `.deb`: apt's download fails, nothing is stored
//!   or linked, the refusal is in the audit trail and counted in `status`;
//! - concurrent requests for one uncached file: one upstream request;
//! - `mirror fill` (and `sync --fetch-all`) make the mirror fully local;
//! - a path left unfilled is taken: a later publish of other content
//!   there uses the hash-qualified path, as for a file on disk; one that
//!   places the same content there forgets its row;
//! - `gc` forgets the paths of a dropped publication, so `serve` no longer
//!   fetches them;
//! - a publish to a bucket is refused, naming it, until `mirror fill`.

use std::path::PathBuf;

use debvault::digest::Sha256;

use crate::support::apt::{Apt, Serve, Sources, http_get};
use crate::support::pull::{
    assert_one_fetch_for_many, blob, debs, find, packages, pool_requests, stop_upstream,
};
use crate::support::server::{Fault, FixtureServer};
use crate::support::{Pkg, Repo, TestEnv, json};

/// An on-demand mirror `m` of [`packages`], synced, snapshot `a`, a
/// signing key exported to `<tmp>/debvault.gpg`.
fn setup() -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(packages()));
    env.create_mirror("m", &["--on-demand"]);
    let synced = env.ok(&["mirror", "sync", "m"]);
    assert!(
        synced
            .stdout
            .contains("on demand: 4 package files left upstream"),
        "{}",
        synced.transcript()
    );
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let keyring = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &keyring.display().to_string()]);
    (env, keyring)
}

/// Publishes `a` as `stable`; returns the report.
fn publish(env: &TestEnv) -> serde_json::Value {
    let out = env.ok(&[
        "--json",
        "snapshot",
        "publish",
        "a",
        "--distribution",
        "stable",
    ]);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", out.transcript()))
}

/// The pool path a published package has (component `main`).
fn pool_path(env: &TestEnv, p: &Pkg) -> PathBuf {
    let first = if p.name.starts_with("lib") {
        &p.name[..4]
    } else {
        &p.name[..1]
    };
    env.root().join(format!(
        "public/pool/main/{first}/{}/{}_{}_{}.deb",
        p.name, p.name, p.version, p.arch
    ))
}

/// A raw `GET` read to the end: the declared `Content-Length` and the
/// body bytes that arrived before the connection closed.
fn raw_get(addr: &str, path: &str) -> (Option<u64>, u64) {
    use std::io::{Read as _, Write as _};
    let mut conn = std::net::TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    let _ = conn.read_to_end(&mut raw);
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok());
    (length, (raw.len() - end - 4) as u64)
}

#[test]
fn on_demand_publication_installs_then_installs_again_without_upstream() {
    let (mut env, keyring) = setup();
    assert_eq!(
        pool_requests(&env),
        Vec::<String>::new(),
        "sync fetched pool files"
    );
    let shown = env.ok(&["mirror", "show", "m"]);
    assert!(
        shown.stdout.contains("on-demand:     yes"),
        "{}",
        shown.stdout
    );

    let report = publish(&env);
    assert_eq!(report["outcome"], "published", "{report}");
    assert_eq!(report["pool_on_demand"], 4, "{report}");
    assert!(!pool_path(&env, &find("app")).exists(), "pool file placed");
    // Files still upstream are not problems for `verify`.
    env.ok(&["verify"]);

    let serve = Serve::start(&env);
    let apt = Apt::new(
        env.dir.path().join("apt1"),
        &serve.url(),
        &keyring,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "app"]);
    let expected = debs(&["app", "libfoo", "base-files"]);
    assert_eq!(apt.archives(), expected, "downloaded through serve");
    assert_eq!(pool_requests(&env).len(), 3, "{:?}", pool_requests(&env));
    for name in ["app", "libfoo", "base-files"] {
        let p = find(name);
        assert!(blob(&env, &p.sha256()).exists(), "`{name}` not stored");
        assert!(
            pool_path(&env, &p).exists(),
            "`{name}` not linked into the pool"
        );
    }
    assert!(
        !blob(&env, &find("tool").sha256()).exists(),
        "`tool` fetched unasked"
    );

    stop_upstream(&mut env);
    let apt = Apt::new(
        env.dir.path().join("apt2"),
        &serve.url(),
        &keyring,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "app"]);
    assert_eq!(apt.archives(), expected, "downloaded from the store");

    let status = env.ok(&["--json", "status"]);
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).expect("status JSON");
    let m = &doc["on_demand"][0];
    assert_eq!(m["mirror"], "m", "{doc}");
    assert_eq!(m["packages"], 4, "{doc}");
    assert_eq!(m["local_packages"], 3, "{doc}");
    assert_eq!(m["fetched"], 3, "{doc}");
}

#[test]
fn tampered_upstream_pool_file_is_refused_and_not_stored() {
    let (env, keyring) = setup();
    publish(&env);
    let app = find("app");
    env.server.fault(
        &format!("app_{}_{}.deb", app.version, app.arch),
        Fault::Corrupt,
    );
    let serve = Serve::start(&env);
    // The transfer breaks off before its declared length: a short read.
    let path = format!("/pool/main/a/app/app_{}_{}.deb", app.version, app.arch);
    let (length, got) = raw_get(&serve.addr, &path);
    let size = app.deb().len() as u64;
    assert_eq!(length, Some(size), "declared length");
    assert!(got < size, "a refused file was sent whole ({got} bytes)");
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &keyring,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    let out = apt.run(&["install", "--download-only", "-y", "app"]);
    assert_ne!(
        out.code,
        0,
        "apt took a tampered file:\n{}",
        out.transcript()
    );
    assert!(
        !apt.archives().contains_key("app_1.0-1_amd64.deb"),
        "{}",
        out.transcript()
    );
    assert!(!blob(&env, &app.sha256()).exists(), "tampered file stored");
    assert!(!pool_path(&env, &app).exists(), "tampered file linked");

    let audit = env.ok(&["--json", "audit"]);
    let records: serde_json::Value = serde_json::from_str(&audit.stdout).expect("audit JSON");
    let refused: Vec<&serde_json::Value> = records
        .as_array()
        .or_else(|| records["records"].as_array())
        .expect("audit records")
        .iter()
        .filter(|r| r["action"] == "ondemand-refuse")
        .collect();
    assert_eq!(refused.len(), 2, "{records}");
    assert!(
        refused[0]["subject"]
            .as_str()
            .is_some_and(|s| s.contains("app_1.0-1_amd64.deb")),
        "{records}"
    );
    let status = env.ok(&["--json", "status"]);
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).expect("status JSON");
    assert_eq!(doc["on_demand"][0]["verification_failures"], 2, "{doc}");

    // Upstream mends: the next request fetches and keeps the right file.
    env.server.clear_faults();
    apt.ok(&["install", "--download-only", "-y", "app"]);
    assert!(
        blob(&env, &app.sha256()).exists(),
        "not stored after the fix"
    );
}

#[test]
fn concurrent_requests_for_one_uncached_file_make_one_upstream_fetch() {
    let (env, _keyring) = setup();
    publish(&env);
    let app = find("app");
    let name = format!("app_{}_{}.deb", app.version, app.arch);
    // Slow headers: every request arrives while the one fetch is in flight.
    env.server
        .fault(&name, Fault::Slow(std::time::Duration::from_millis(800)));
    let serve = Serve::start(&env);
    let path = format!("/pool/main/a/app/{name}");
    assert_one_fetch_for_many(&env, &serve.addr, &path, &app);
}

#[test]
fn mirror_fill_makes_an_on_demand_mirror_local() {
    let (mut env, keyring) = setup();
    let out = env.ok(&["--json", "mirror", "fill", "m"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("fill JSON");
    assert_eq!(report["downloaded_files"], 4, "{report}");
    assert_eq!(report["already_local"], 0, "{report}");
    for p in packages() {
        assert!(blob(&env, &p.sha256()).exists(), "`{}` not stored", p.name);
    }
    // Nothing left: a second fill downloads nothing, as `--fetch-all` after an unchanged sync.
    let again = env.ok(&["--json", "mirror", "sync", "m", "--fetch-all"]);
    let doc: serde_json::Value = serde_json::from_str(&again.stdout).expect("sync JSON");
    assert_eq!(doc["filled"][0]["downloaded_files"], 0, "{doc}");
    assert_eq!(doc["filled"][0]["already_local"], 4, "{doc}");

    let report = publish(&env);
    assert!(report.get("pool_on_demand").is_none(), "{report}");
    stop_upstream(&mut env);
    let serve = Serve::start(&env);
    let apt = Apt::new(
        env.dir.path().join("apt"),
        &serve.url(),
        &keyring,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
    apt.ok(&["install", "--download-only", "-y", "app", "tool"]);
    assert_eq!(
        apt.archives(),
        debs(&["app", "libfoo", "base-files", "tool"])
    );
}

/// The on-demand pool rows: path below the endpoint, SHA256, filled.
fn pool_rows(env: &TestEnv) -> Vec<(String, String, bool)> {
    let db = rusqlite::Connection::open(env.root().join("debvault.db")).expect("open the database");
    let mut stmt = db
        .prepare("SELECT path, sha256, filled_at IS NOT NULL FROM ondemand_pool ORDER BY path")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// `app`'s pool path below the endpoint.
const APP_PATH: &str = "pool/main/a/app/app_1.0-1_amd64.deb";

#[test]
fn a_later_publish_of_other_content_at_an_unfilled_path_takes_the_qualified_path() {
    let (env, _keyring) = setup();
    publish(&env);
    let app = find("app");
    let row = |env: &TestEnv, path: &str| pool_rows(env).into_iter().find(|r| r.0 == path);
    assert_eq!(
        row(&env, APP_PATH),
        Some((APP_PATH.into(), app.sha256().to_string(), false))
    );
    // Another upstream built `app` 1.0-1 differently: other bytes for the
    // pool path the first publication lists but left unfilled. The path
    // is taken as if its file were there: the kept first tree still lists
    // the first content at it.
    let rebuilt = app.clone().salt("rebuilt");
    let pkgs: Vec<Pkg> = packages()
        .into_iter()
        .map(|p| if p.name == "app" { rebuilt.clone() } else { p })
        .collect();
    let second = env.dir.path().join("upstream2");
    Repo::new(pkgs).write(&second);
    let server = FixtureServer::start(second);
    let key = crate::support::fixture::public_key("upstream");
    let (url, key) = (server.url(), key.display().to_string());
    env.ok(&[
        "mirror",
        "create",
        "n",
        &url,
        "stable",
        "main",
        "--arch",
        "amd64",
        "--keyring",
        &key,
        "--on-demand",
    ]);
    env.ok(&["mirror", "sync", "n"]);
    env.ok(&["snapshot", "create", "b", "--from-mirror", "n"]);
    env.ok(&["snapshot", "publish", "b", "--distribution", "stable"]);
    let qualified = format!(
        "pool/main/a/app/sha256-{}/app_1.0-1_amd64.deb",
        &rebuilt.sha256().to_hex()[..16]
    );
    assert_eq!(
        row(&env, APP_PATH),
        Some((APP_PATH.into(), app.sha256().to_string(), false)),
        "the first content's row was taken over"
    );
    assert_eq!(
        row(&env, &qualified),
        Some((qualified.clone(), rebuilt.sha256().to_string(), false)),
        "{:?}",
        pool_rows(&env)
    );
    // Each path serves the content its tree lists, fetched and verified.
    let serve = Serve::start(&env);
    for (path, want) in [(APP_PATH.to_owned(), &app), (qualified.clone(), &rebuilt)] {
        let (status, body) = http_get(&serve.addr, &format!("/{path}"));
        assert_eq!(status, 200, "{path}");
        assert_eq!(Sha256::of(&body), want.sha256(), "wrong bytes at `{path}`");
        assert_eq!(
            row(&env, &path).map(|r| r.2),
            Some(true),
            "`{path}` not filled"
        );
    }
}

#[test]
fn a_later_publish_that_places_an_unfilled_path_forgets_its_row() {
    let (env, _keyring) = setup();
    publish(&env);
    assert_eq!(pool_rows(&env).len(), 4, "{:?}", pool_rows(&env));
    env.ok(&["mirror", "fill", "m"]);
    env.ok(&["snapshot", "create", "b", "--from-mirror", "m"]);
    let report = json(&env.ok(&[
        "--json",
        "snapshot",
        "publish",
        "b",
        "--distribution",
        "stable",
    ]));
    assert!(report.get("pool_on_demand").is_none(), "{report}");
    for p in packages() {
        assert!(pool_path(&env, &p).exists(), "`{}` not placed", p.name);
    }
    assert_eq!(pool_rows(&env), Vec::new(), "rows of placed paths stay");
}

#[test]
fn gc_forgets_the_on_demand_paths_of_a_dropped_publication() {
    let (env, _keyring) = setup();
    publish(&env);
    let gc = |env: &TestEnv| json(&env.ok(&["--json", "gc", "--grace", "0s"]));
    let kept = gc(&env);
    assert_eq!(kept["ondemand_paths"], 0, "{kept}");
    assert_eq!(pool_rows(&env).len(), 4, "rows of a live publication went");
    env.ok(&["publish", "drop", "stable"]);
    let v = gc(&env);
    assert_eq!(v["ondemand_paths"], 4, "{v}");
    assert_eq!(pool_rows(&env), Vec::new());
    // Nothing publishes `app` any more: `serve` answers 404, asks no upstream.
    let serve = Serve::start(&env);
    let (status, _) = http_get(&serve.addr, &format!("/{APP_PATH}"));
    assert_eq!(status, 404);
    assert_eq!(pool_requests(&env), Vec::<String>::new());
    assert!(
        !pool_path(&env, &find("app")).exists(),
        "fetched into a dropped pool"
    );
}

#[test]
fn publishing_an_on_demand_mirror_to_a_bucket_is_refused_until_filled() {
    let env = TestEnv::new_s3();
    let bucket = env.s3.as_ref().expect("an S3 world").bucket();
    env.publish_upstream(&Repo::new(packages()));
    env.create_mirror("m", &["--on-demand"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let refused = env.run(&["snapshot", "publish", "a", "--distribution", "stable"]);
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    for needle in [
        "cannot publish to `s3://",
        "4 package files",
        "`debvault mirror fill m`",
    ] {
        assert!(
            refused.stderr.contains(needle),
            "no {needle:?} in:\n{}",
            refused.transcript()
        );
    }
    assert_eq!(
        bucket.keys("public"),
        Vec::<String>::new(),
        "written before refusing"
    );

    env.ok(&["mirror", "fill", "m"]);
    let v = publish(&env);
    assert_eq!(v["outcome"], "published", "{v}");
    let dist = bucket.keys("public/dists/stable");
    assert!(dist.iter().any(|k| k == "InRelease"), "{dist:?}");
}
