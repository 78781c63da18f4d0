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
//! - a foreign host and `CONNECT` are refused (403);
//! - concurrent requests for one uncached pool file: one upstream request;
//! - a half-written section and a clashing name are config errors.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use crate::support::apt::{Apt, Serve, Sources};
use crate::support::fixture::public_key;
use crate::support::pull::{
    assert_one_fetch_for_many, blob, debs, find, packages, pool_requests, stop_upstream,
};
use crate::support::server::Fault;
use crate::support::{Repo, TestEnv};

/// An upstream of [`packages`] and a config with `[proxy.deb]` for it.
fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(packages()));
    write_config(&env, &env.url());
    env
}

fn write_config(env: &TestEnv, upstream: &str) {
    std::fs::create_dir_all(env.root()).expect("mkdir root");
    std::fs::write(
        env.root().join("config.toml"),
        format!(
            "[proxy.deb]\nupstream = \"{upstream}\"\nkeyring = \"{}\"\nconnect-timeout = 2\nread-timeout = 5\n",
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
