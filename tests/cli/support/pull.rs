//! What the pull-through tests (on-demand mirrors, the caching proxy)
//! share: the fixture packages, upstream request counts, the blob store,
//! stopping the upstream, concurrent clients.

use std::collections::BTreeMap;
use std::path::PathBuf;

use debvault::digest::Sha256;

use super::apt::http_get;
use super::{FixtureServer, Pkg, TestEnv};

/// `app` depends on `libfoo` and `base-files`; `tool` stands alone.
pub fn packages() -> Vec<Pkg> {
    vec![
        Pkg::new("app", "1.0-1").depends("libfoo (>= 1.2), base-files"),
        Pkg::new("libfoo", "1.3-1"),
        Pkg::new("base-files", "12").arch("all"),
        Pkg::new("tool", "0.9"),
    ]
}

/// The `.deb` names apt saves `names` under, with their SHA256.
pub fn debs(names: &[&str]) -> BTreeMap<String, Sha256> {
    packages()
        .into_iter()
        .filter(|p| names.contains(&p.name.as_str()))
        .map(|p| {
            (
                format!("{}_{}_{}.deb", p.name, p.version, p.arch),
                p.sha256(),
            )
        })
        .collect()
}

pub fn find(name: &str) -> Pkg {
    packages()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no fixture package `{name}`"))
}

/// Requests the upstream server saw below `pool/`.
pub fn pool_requests(env: &TestEnv) -> Vec<String> {
    env.server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/pool/"))
        .map(|r| r.path)
        .collect()
}

/// Where the local blob store keeps `sha256`.
pub fn blob(env: &TestEnv, sha256: &Sha256) -> PathBuf {
    let hex = sha256.to_hex();
    env.root().join("blobs/sha256").join(&hex[..2]).join(&hex)
}

/// Stops the upstream server: its port refuses connections from now on.
pub fn stop_upstream(env: &mut TestEnv) {
    let empty = env.dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    drop(std::mem::replace(
        &mut env.server,
        FixtureServer::start(empty),
    ));
}

/// `n` clients GET `path` at once: each one's status and body.
pub fn concurrent_gets(addr: &str, path: &str, n: usize) -> Vec<(u16, Vec<u8>)> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n).map(|_| s.spawn(|| http_get(addr, path))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    })
}

/// 12 clients GET `path`, the pool file of `p`, at once: each gets its
/// bytes, and the upstream saw one request for it.
pub fn assert_one_fetch_for_many(env: &TestEnv, addr: &str, path: &str, p: &Pkg) {
    let name = format!("{}_{}_{}.deb", p.name, p.version, p.arch);
    for (status, body) in concurrent_gets(addr, path, 12) {
        assert_eq!(status, 200);
        assert_eq!(Sha256::of(&body), p.sha256(), "wrong bytes relayed");
    }
    let upstream: Vec<_> = pool_requests(env)
        .into_iter()
        .filter(|r| r.ends_with(&name))
        .collect();
    assert_eq!(upstream.len(), 1, "{upstream:?}");
}
