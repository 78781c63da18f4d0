//! The verifying caching proxy (issue 20): `[proxy.NAME]` sections make
//! `serve` answer `/NAME/…` and apt's absolute-URI proxy requests from a
//! fixture upstream on loopback, through a cache that verifies what it keeps.
//!
//! Covered, with the real `apt-get`:
//! - update and install through `/NAME/`, and through
//!   `Acquire::http::Proxy`; the second client is answered from the cache;
//! - the upstream stopped: update (a stale `InRelease`, with a `Warning`)
//!   and install still succeed from the cache;
//! - a tampered upstream pool file and an index that does not match the
//!   verified Release are refused (a short read), not cached, counted and
//!   audited;
//! - the upstream answering 5xx, or silent past the read timeout: update
//!   and install still succeed from the cache, logged and counted;
//! - an upstream with only `Release` + `Release.gpg` is verified through
//!   the detached signature (and served stale once gone); one signed by
//!   another key is refused, and nothing is cached;
//! - a `dists/` file the verified Release does not list: 404, upstream
//!   not asked;
//! - past `cache-limit` the least recently used proxy-only pool files go,
//!   never a mirror's blob; an evicted file is fetched and verified again;
//!   a cache past a limit lowered between runs is trimmed when serve starts;
//! - a foreign host and `CONNECT` are refused (403);
//! - concurrent requests for one uncached pool file: one upstream request;
//! - a half-written section and a clashing name are config errors.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use debvault::digest::Sha256;

use crate::support::apt::{Apt, Serve, Sources, http_get};
use crate::support::fixture::{noise, public_key};
use crate::support::pull::{
    assert_one_fetch_for_many, blob, debs, find, packages, pool_requests, stop_upstream,
};
use crate::support::server::Fault;
use crate::support::{Pkg, Repo, TestEnv};

/// An upstream of [`packages`] and a config with `[proxy.deb]` for it.
fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(packages()));
    write_config(&env, &env.url());
    env
}

fn write_config(env: &TestEnv, upstream: &str) {
    write_config_with(env, upstream, "read-timeout = 5\n");
}

/// `[proxy.deb]` for `upstream` with `extra` lines (a `read-timeout`
/// among them).
fn write_config_with(env: &TestEnv, upstream: &str, extra: &str) {
    std::fs::create_dir_all(env.root()).expect("mkdir root");
    std::fs::write(
        env.root().join("config.toml"),
        format!(
            "[proxy.deb]\nupstream = \"{upstream}\"\nkeyring = \"{}\"\nconnect-timeout = 2\n{extra}",
            public_key("upstream").display()
        ),
    )
    .expect("write config");
}

/// A private apt whose sources name `url` (`stable main`), trusting the
/// upstream's key.
fn apt(env: &TestEnv, name: &str, url: &str) -> Apt {
    Apt::new(
        env.dir.path().join(name),
        url,
        &public_key("upstream"),
        Sources::OneLine,
    )
}

/// A raw request read to the end: the status, the head (lowercase), the
/// declared `Content-Length` and the body bytes that arrived.
fn raw(addr: &str, request: &str) -> (u16, String, Option<u64>, u64) {
    let mut conn = std::net::TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    conn.write_all(request.as_bytes()).expect("send");
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got);
    // A transfer refused before its first byte may end before the head.
    let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
        return (0, String::new(), None, 0);
    };
    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok());
    (status, head, length, (got.len() - end - 4) as u64)
}

fn get(addr: &str, target: &str) -> (u16, String, Option<u64>, u64) {
    raw(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// The proxy's counters in `status --json`, once `pred` holds for them
/// (they are written about once a second).
fn counts(env: &TestEnv, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..100 {
        let out = env.ok(&["--json", "status"]);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("status JSON");
        last = doc["proxies"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["proxy"] == "deb").cloned())
            .unwrap_or(serde_json::Value::Null);
        if pred(&last) {
            return last;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("proxy counters never matched: {last}");
}

#[test]
fn apt_installs_through_the_proxy_path_then_from_the_cache() {
    let env = setup();
    let serve = Serve::start(&env);
    let url = format!("{}deb/", serve.url());
    let first = apt(&env, "apt1", &url);
    first.ok(&["update"]);
    first.ok(&["install", "--download-only", "-y", "app"]);
    let expected = debs(&["app", "libfoo", "base-files"]);
    assert_eq!(first.archives(), expected);
    assert_eq!(pool_requests(&env).len(), 3, "{:?}", pool_requests(&env));
    for name in ["app", "libfoo", "base-files"] {
        assert!(
            blob(&env, &find(name).sha256()).exists(),
            "`{name}` not kept"
        );
    }

    let second = apt(&env, "apt2", &url);
    second.ok(&["update"]);
    second.ok(&["install", "--download-only", "-y", "app"]);
    assert_eq!(second.archives(), expected);
    assert_eq!(pool_requests(&env).len(), 3, "pool files fetched again");
    let c = counts(&env, |c| c["hits"].as_u64() >= Some(3));
    assert!(c["misses"].as_u64() >= Some(3), "{c}");
    assert!(c["bytes_from_cache"].as_u64() > Some(0), "{c}");
    assert!(c["bytes_from_upstream"].as_u64() > Some(0), "{c}");
    assert_eq!(c["verification_failures"], 0, "{c}");
}

#[test]
fn apt_installs_through_acquire_http_proxy_and_with_the_upstream_gone() {
    let mut env = setup();
    let serve = Serve::start(&env);
    let proxy = format!("Acquire::http::Proxy={}", serve.url());
    let upstream = format!("{}/", env.url());
    let first = apt(&env, "apt1", &upstream);
    first.ok(&["-o", &proxy, "update"]);
    first.ok(&["-o", &proxy, "install", "--download-only", "-y", "app"]);
    let expected = debs(&["app", "libfoo", "base-files"]);
    assert_eq!(first.archives(), expected);
    let seen = env.server.requests().len();
    assert!(seen > 0, "apt bypassed the proxy");

    // The upstream's port refuses connections from now on.
    let addr = env.url().trim_start_matches("http://").to_owned();
    stop_upstream(&mut env);
    let (status, head, _, _) = raw(
        &serve.addr,
        &format!(
            "GET http://{addr}/dists/stable/InRelease HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("warning: 110"),
        "no staleness warning: {head}"
    );
    let second = apt(&env, "apt2", &upstream);
    second.ok(&["-o", &proxy, "update"]);
    second.ok(&["-o", &proxy, "install", "--download-only", "-y", "app"]);
    assert_eq!(second.archives(), expected, "installed from the cache");
    counts(&env, |c| {
        c["upstream_errors"].as_u64() >= Some(2) && c["hits"].as_u64() >= Some(3)
    });
}

#[test]
fn a_tampered_upstream_pool_file_is_refused_and_not_cached() {
    let env = setup();
    let app = find("app");
    let name = format!("app_{}_{}.deb", app.version, app.arch);
    env.server.fault(&name, Fault::Corrupt);
    let serve = Serve::start(&env);
    let url = format!("{}deb/", serve.url());
    let client = apt(&env, "apt", &url);
    client.ok(&["update"]);
    let out = client.run(&["install", "--download-only", "-y", "app"]);
    assert_ne!(
        out.code,
        0,
        "apt took a tampered file:\n{}",
        out.transcript()
    );
    assert!(
        !client.archives().contains_key(&name),
        "{}",
        out.transcript()
    );
    assert!(!blob(&env, &app.sha256()).exists(), "tampered file kept");

    // Once more, raw: the transfer breaks off before its declared length.
    let (status, _, length, got) = get(&serve.addr, &format!("/deb/{}", app.pool_path()));
    assert_eq!(status, 200);
    assert_eq!(length, Some(app.deb().len() as u64), "declared length");
    assert!(
        got < app.deb().len() as u64,
        "a refused file was sent whole"
    );
    assert!(!blob(&env, &app.sha256()).exists(), "tampered file kept");

    let c = counts(&env, |c| c["verification_failures"].as_u64() >= Some(2));
    assert_eq!(c["proxy"], "deb");
    let audit = env.ok(&["--json", "audit"]);
    assert!(
        audit.stdout.contains("proxy-refuse") && audit.stdout.contains(&name),
        "{}",
        audit.stdout
    );
}

#[test]
fn an_index_not_matching_the_release_is_refused() {
    let env = setup();
    env.server.fault(
        "binary-amd64/Packages",
        Fault::Replace(b"Package: evil\n".to_vec()),
    );
    let serve = Serve::start(&env);
    let (status, _, _, _) = get(&serve.addr, "/deb/dists/stable/InRelease");
    assert_eq!(status, 200);
    let text = Repo::new(packages()).write(&env.dir.path().join("copy"));
    let size: u64 = text
        .lines()
        .find(|l| {
            l.ends_with(" main/binary-amd64/Packages")
                && l.split_whitespace().next().is_some_and(|h| h.len() == 64)
        })
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("Packages in the Release");
    let (status, _, length, got) = get(&serve.addr, "/deb/dists/stable/main/binary-amd64/Packages");
    // Refused: cut off before its head, or short of the promised length.
    assert!(status == 0 || status == 200, "status {status}");
    if status == 200 {
        assert_eq!(length, Some(size), "the length the Release gives");
    }
    assert!(got < size, "a refused index was sent whole");
    // Not listed in the verified Release: not fetched at all.
    let (status, _, _, _) = get(
        &serve.addr,
        "/deb/dists/stable/main/binary-amd64/Packages.bz2",
    );
    assert_eq!(status, 404);
    counts(&env, |c| c["verification_failures"].as_u64() >= Some(1));
}

#[test]
fn foreign_hosts_and_connect_are_refused() {
    let env = setup();
    let serve = Serve::start(&env);
    let foreign = "GET http://deb.example.invalid/debian/dists/stable/InRelease HTTP/1.1\r\n\
                   Host: deb.example.invalid\r\nConnection: close\r\n\r\n";
    assert_eq!(raw(&serve.addr, foreign).0, 403);
    // The upstream's host, another port.
    let port = "GET http://127.0.0.1:1/dists/stable/InRelease HTTP/1.1\r\n\
                Host: 127.0.0.1:1\r\nConnection: close\r\n\r\n";
    assert_eq!(
        raw(&serve.addr, port).0,
        403,
        "another port of the upstream host"
    );
    let connect =
        "CONNECT deb.example.invalid:443 HTTP/1.1\r\nHost: deb.example.invalid:443\r\n\r\n";
    assert_eq!(raw(&serve.addr, connect).0, 403);
    assert!(
        env.server.requests().is_empty(),
        "{:?}",
        env.server.requests()
    );
}

#[test]
fn concurrent_requests_for_one_uncached_pool_file_make_one_upstream_fetch() {
    let env = setup();
    let app = find("app");
    let name = format!("app_{}_{}.deb", app.version, app.arch);
    env.server
        .fault(&name, Fault::Slow(Duration::from_millis(800)));
    let serve = Serve::start(&env);
    for index in [
        "dists/stable/InRelease",
        "dists/stable/main/binary-amd64/Packages",
    ] {
        assert_eq!(get(&serve.addr, &format!("/deb/{index}")).0, 200, "{index}");
    }
    let path = format!("/deb/{}", app.pool_path());
    assert_one_fetch_for_many(&env, &serve.addr, &path, &app);
}

#[test]
fn half_written_and_clashing_sections_are_config_errors() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.root()).expect("mkdir root");
    let config = env.root().join("config.toml");
    std::fs::write(&config, "[proxy.deb]\nkeyring = \"k.gpg\"\n").expect("write");
    let out = env.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("`proxy.deb.upstream` is missing"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("config.toml"), "{}", out.stderr);

    std::fs::write(
        &config,
        "[proxy.snapshots]\nupstream = \"http://deb.example.invalid/\"\nkeyring = \"k.gpg\"\n",
    )
    .expect("write");
    let out = env.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("`proxy.snapshots`"), "{}", out.stderr);

    write_config(&env, "http://deb.example.invalid/debian");
    std::fs::create_dir_all(env.root().join("public/deb")).expect("mkdir prefix");
    let out = env.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("clashes with the publication prefix `deb`"),
        "{}",
        out.stderr
    );
}

/// The proxy's cached paths (`pool` files only when `pool`), from the
/// database.
fn cached_rows(env: &TestEnv, pool: bool) -> Vec<String> {
    let db = rusqlite::Connection::open(env.root().join("debvault.db")).expect("open the database");
    let mut stmt = db
        .prepare("SELECT path FROM proxy_cached WHERE pool = ?1 OR ?1 = 0 ORDER BY path")
        .expect("prepare");
    stmt.query_map([pool], |r| r.get(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// Waits until `pred` holds (the proxy evicts and records about once a
/// second), failing with `what`.
fn eventually(what: &str, pred: impl Fn() -> bool) {
    for _ in 0..100 {
        if pred() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("never: {what}");
}

/// Use times are kept in seconds: a pause that puts the next use in a
/// later second, so the least recently used is unambiguous.
fn next_second() {
    std::thread::sleep(Duration::from_millis(1100));
}

/// A package with an incompressible payload of about 40 kB.
fn big(name: &str, seed: u32) -> Pkg {
    let mut p = Pkg::new(name, "1");
    p.data
        .push((format!("./usr/share/{name}/payload"), noise(40_000, seed)));
    p
}

#[test]
fn past_the_cache_limit_the_least_recently_used_proxy_only_files_go() {
    let env = TestEnv::new();
    let pkgs = vec![big("held", 1), big("pa", 2), big("pb", 3), big("pc", 4)];
    let pkg = |name: &str| pkgs.iter().find(|p| p.name == name).expect("pkg").clone();
    let size = |name: &str| pkg(name).deb().len() as u64;
    env.publish_upstream(&Repo::new(pkgs.clone()));
    // A mirror holds `held` too: its blob is never the proxy's to drop.
    env.create_mirror("m", &["--filter", "held"]);
    env.ok(&["mirror", "sync", "m"]);
    assert!(blob(&env, &pkg("held").sha256()).exists());
    // Room for two files (any two), not three.
    let limit = size("pa") + size("pc") + 10_000;
    write_config_with(
        &env,
        &env.url(),
        &format!("read-timeout = 5\ncache-limit = \"{limit}\"\n"),
    );
    let serve = Serve::start(&env);
    for index in [
        "dists/stable/InRelease",
        "dists/stable/main/binary-amd64/Packages",
    ] {
        assert_eq!(get(&serve.addr, &format!("/deb/{index}")).0, 200, "{index}");
    }
    let fetch = |name: &str| {
        let p = pkg(name);
        let (status, body) = http_get(&serve.addr, &format!("/deb/{}", p.pool_path()));
        assert_eq!(status, 200, "{name}");
        assert_eq!(Sha256::of(&body), p.sha256(), "wrong bytes for `{name}`");
    };
    let pool_row = |name: &str| pkg(name).pool_path();

    fetch("held");
    next_second();
    fetch("pa");
    next_second();
    fetch("pb");
    // Three past the limit: the oldest, `held`, leaves the proxy's cache,
    // but the mirror's blob stays.
    eventually("`held` evicted", || {
        !cached_rows(&env, true).contains(&pool_row("held"))
    });
    assert!(
        blob(&env, &pkg("held").sha256()).exists(),
        "a mirror's blob was evicted"
    );
    next_second();
    fetch("pa"); // a hit: `pa` is now used more recently than `pb`
    fetch("pc");
    eventually("`pb` evicted", || !blob(&env, &pkg("pb").sha256()).exists());
    assert_eq!(
        cached_rows(&env, true),
        vec![pool_row("pa"), pool_row("pc")],
        "the least recently used is not the one that went"
    );
    for name in ["held", "pa", "pc"] {
        assert!(blob(&env, &pkg(name).sha256()).exists(), "`{name}` went");
    }
    let b_requests = |env: &TestEnv| {
        let name = format!("/{}", pkg("pb").pool_path());
        pool_requests(env)
            .iter()
            .filter(|r| r.ends_with(&name))
            .count()
    };
    assert_eq!(b_requests(&env), 1);

    // Asked again, `pb` is fetched again and verified again: a tampered
    // copy is refused and not kept, the genuine one is kept.
    env.server.fault("pb_1_amd64.deb", Fault::Corrupt);
    let (status, _, length, got) = get(&serve.addr, &format!("/deb/{}", pkg("pb").pool_path()));
    assert!(status == 0 || status == 200, "status {status}");
    assert!(
        length.is_none_or(|n| got < n),
        "a tampered file was sent whole"
    );
    assert!(
        !blob(&env, &pkg("pb").sha256()).exists(),
        "tampered file kept"
    );
    env.server.clear_faults();
    fetch("pb");
    assert_eq!(b_requests(&env), 3, "not fetched again after eviction");
    eventually("`pb` kept again", || {
        blob(&env, &pkg("pb").sha256()).exists()
    });
    counts(&env, |c| c["verification_failures"].as_u64() >= Some(1));
}

/// Installs through the proxy, then makes the upstream `fail`: a second
/// client's update and install succeed from the cache, the stale
/// `InRelease` carries a `Warning`, the error is counted and logged.
fn serves_from_cache_when_upstream_fails(fail: Fault) {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(packages()));
    // Short, so a silent upstream counts as failed quickly.
    write_config_with(&env, &env.url(), "read-timeout = 1\n");
    let serve = Serve::start(&env);
    let url = format!("{}deb/", serve.url());
    let first = apt(&env, "apt1", &url);
    first.ok(&["update"]);
    first.ok(&["install", "--download-only", "-y", "app"]);
    let expected = debs(&["app", "libfoo", "base-files"]);
    assert_eq!(first.archives(), expected);

    env.server.fault("", fail);
    let (status, head, _, _) = get(&serve.addr, "/deb/dists/stable/InRelease");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("warning: 110"),
        "no staleness warning: {head}"
    );
    let second = apt(&env, "apt2", &url);
    second.ok(&["update"]);
    second.ok(&["install", "--download-only", "-y", "app"]);
    assert_eq!(second.archives(), expected, "installed from the cache");
    counts(&env, |c| {
        c["upstream_errors"].as_u64() >= Some(2) && c["verification_failures"] == 0
    });
    let log = serve.stop();
    assert!(log.contains("proxy: upstream failed"), "{log}");
    assert!(log.contains("serving the cached copy"), "{log}");
}

#[test]
fn an_upstream_answering_503_is_served_from_the_cache() {
    serves_from_cache_when_upstream_fails(Fault::Status(503));
}

#[test]
fn an_upstream_that_never_answers_is_served_from_the_cache() {
    // Accepts, reads the request, then stays silent past the read timeout.
    serves_from_cache_when_upstream_fails(Fault::Slow(Duration::from_secs(60)));
}

#[test]
fn an_upstream_without_in_release_is_verified_through_release_gpg() {
    let mut env = TestEnv::new();
    let mut repo = Repo::new(packages());
    repo.inrelease = false;
    env.publish_upstream(&repo);
    write_config(&env, &env.url());
    let serve = Serve::start(&env);
    let client = apt(&env, "apt", &format!("{}deb/", serve.url()));
    client.ok(&["update"]);
    client.ok(&["install", "--download-only", "-y", "app"]);
    assert_eq!(client.archives(), debs(&["app", "libfoo", "base-files"]));
    let cached = cached_rows(&env, false);
    for doc in ["dists/stable/Release", "dists/stable/Release.gpg"] {
        assert!(cached.contains(&doc.to_owned()), "{doc}: {cached:?}");
    }
    counts(&env, |c| {
        c["verification_failures"] == 0 && c["hits"].as_u64() >= Some(1)
    });

    // Upstream gone: the pair is served stale, and apt still verifies it.
    stop_upstream(&mut env);
    for doc in ["Release", "Release.gpg"] {
        let (status, head, _, _) = get(&serve.addr, &format!("/deb/dists/stable/{doc}"));
        assert_eq!(status, 200, "{doc}: {head}");
        assert!(head.contains("warning: 110"), "{doc}: {head}");
    }
    let again = apt(&env, "apt2", &format!("{}deb/", serve.url()));
    again.ok(&["update"]);
    again.ok(&["install", "--download-only", "-y", "app"]);
    assert_eq!(again.archives(), debs(&["app", "libfoo", "base-files"]));
}

#[test]
fn a_release_gpg_by_another_key_is_refused_and_nothing_is_cached() {
    let env = TestEnv::new();
    let mut repo = Repo::new(packages());
    repo.inrelease = false;
    repo.keys = vec!["wrong".into()];
    env.publish_upstream(&repo);
    write_config(&env, &env.url());
    let serve = Serve::start(&env);
    let client = apt(&env, "apt", &format!("{}deb/", serve.url()));
    let out = client.run(&["update"]);
    assert_ne!(out.code, 0, "apt took it:\n{}", out.transcript());
    for doc in ["Release", "Release.gpg"] {
        let (status, _, _, _) = get(&serve.addr, &format!("/deb/dists/stable/{doc}"));
        assert_eq!(status, 502, "{doc}");
    }
    // Nothing verified, so nothing below it is fetched either.
    let (status, _, _, _) = get(&serve.addr, "/deb/dists/stable/main/binary-amd64/Packages");
    assert_eq!(status, 404);
    assert_eq!(cached_rows(&env, false), Vec::<String>::new());
    let out = client.run(&["install", "--download-only", "-y", "app"]);
    assert_ne!(out.code, 0, "{}", out.transcript());
    counts(&env, |c| c["verification_failures"].as_u64() >= Some(2));
    let audit = env.ok(&["--json", "audit"]);
    assert!(
        audit.stdout.contains("proxy-refuse") && audit.stdout.contains("Release"),
        "{}",
        audit.stdout
    );
}

#[test]
fn a_dists_file_the_verified_release_does_not_list_is_refused_unasked() {
    let env = setup();
    // Upstream serves it, but the signed Release does not name it.
    let extra = env
        .upstream()
        .join("dists/stable/main/binary-amd64/Packages.bz2");
    std::fs::write(&extra, b"Package: evil\n").expect("write");
    let serve = Serve::start(&env);
    let target = "/deb/dists/stable/main/binary-amd64/Packages.bz2";
    // Before any Release is verified, and after.
    assert_eq!(get(&serve.addr, target).0, 404);
    assert_eq!(get(&serve.addr, "/deb/dists/stable/InRelease").0, 200);
    assert_eq!(get(&serve.addr, target).0, 404);
    let asked: Vec<_> = env
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("Packages.bz2"))
        .collect();
    assert!(asked.is_empty(), "upstream was asked: {asked:?}");
    assert!(
        !cached_rows(&env, false)
            .iter()
            .any(|p| p.ends_with("Packages.bz2")),
        "cached"
    );
}

#[test]
fn a_cache_past_a_lowered_limit_is_trimmed_when_serving_starts() {
    let env = TestEnv::new();
    let pkgs = vec![big("pa", 2), big("pb", 3), big("pc", 4)];
    let pkg = |name: &str| pkgs.iter().find(|p| p.name == name).expect("pkg").clone();
    env.publish_upstream(&Repo::new(pkgs.clone()));
    write_config(&env, &env.url());
    let serve = Serve::start(&env);
    for index in [
        "dists/stable/InRelease",
        "dists/stable/main/binary-amd64/Packages",
    ] {
        assert_eq!(get(&serve.addr, &format!("/deb/{index}")).0, 200, "{index}");
    }
    for name in ["pa", "pb", "pc"] {
        let (status, body) = http_get(&serve.addr, &format!("/deb/{}", pkg(name).pool_path()));
        assert_eq!(status, 200, "{name}");
        assert_eq!(
            Sha256::of(&body),
            pkg(name).sha256(),
            "wrong bytes for `{name}`"
        );
        next_second();
    }
    let all: Vec<String> = ["pa", "pb", "pc"].map(|n| pkg(n).pool_path()).into();
    eventually("all three cached", || cached_rows(&env, true) == all);
    serve.stop();

    // The limit lowered to room for one file; no request is needed.
    let limit = pkg("pc").deb().len() as u64 + 10_000;
    write_config_with(
        &env,
        &env.url(),
        &format!("read-timeout = 5\ncache-limit = \"{limit}\"\n"),
    );
    let _serve = Serve::start(&env);
    eventually("the cache trimmed to its new limit", || {
        cached_rows(&env, true) == vec![pkg("pc").pool_path()]
    });
    for (name, kept) in [("pa", false), ("pb", false), ("pc", true)] {
        assert_eq!(blob(&env, &pkg(name).sha256()).exists(), kept, "`{name}`");
    }
}
