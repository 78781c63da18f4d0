//! `mirror sync` against a misbehaving upstream: each case checks the exit code,
//! a message naming what and where, and that the previous revision and blobs
//! are intact.

use crate::support::{Fault, Pkg, Repo, TestEnv, tree};

struct Synced {
    env: TestEnv,
    repo: Repo,
    blobs: Vec<(String, u64)>,
    show: String,
}

/// A mirror synced once from a good upstream; then the upstream moves on to `next`.
fn synced(extra: &[&str]) -> Synced {
    let env = TestEnv::new();
    let repo = Repo::new(vec![
        Pkg::new("app", "1.0").depends("lib"),
        Pkg::new("lib", "1.0"),
    ]);
    env.publish_upstream(&repo);
    env.create_mirror("m", extra);
    env.ok(&["mirror", "sync", "m"]);
    let blobs = tree(&env.root().join("blobs/sha256"));
    let show = packages_json(&env);
    Synced {
        env,
        repo,
        blobs,
        show,
    }
}

fn packages_json(env: &TestEnv) -> String {
    let out = env.ok(&["mirror", "show", "m", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    format!(
        "{} {} {}",
        v["packages"], v["revisions"], v["mirror"]["state"]["revision"]
    )
}

impl Synced {
    /// A newer upstream state with one more package.
    fn advance(&mut self) {
        self.repo.packages.push(Pkg::new("extra", "2.0"));
        self.repo.date = chrono::Utc::now();
        self.env.publish_upstream(&self.repo);
    }

    fn assert_intact(&self) {
        assert_eq!(
            tree(&self.env.root().join("blobs/sha256")),
            self.blobs,
            "blobs changed"
        );
        assert_eq!(packages_json(&self.env), self.show, "revision changed");
    }

    fn sync_fails(&self, code: i32, needles: &[&str]) -> String {
        let out = self.env.run(&["mirror", "sync", "m"]);
        assert_eq!(out.code, code, "{}", out.transcript());
        for n in needles {
            assert!(out.stderr.contains(n), "missing `{n}` in:\n{}", out.stderr);
        }
        self.assert_intact();
        out.stderr
    }
}

fn fast_config(env: &TestEnv) {
    std::fs::create_dir_all(env.root()).expect("mkdir");
    std::fs::write(
        env.root().join("config.toml"),
        "[sync]\nretries = 2\nread-timeout = 1\nconnect-timeout = 2\n",
    )
    .expect("config");
}

#[test]
fn http_404_on_index() {
    let mut s = synced(&[]);
    s.advance();
    s.env.server.fault("Packages.xz", Fault::Status(404));
    s.env
        .server
        .fault(&sha_of(&s, "Packages.xz"), Fault::Status(404));
    s.sync_fails(1, &["mirror `m`", "Packages.xz", "404"]);
}

fn sha_of(s: &Synced, index: &str) -> String {
    let data = std::fs::read(
        s.env
            .upstream()
            .join("dists/stable/main/binary-amd64")
            .join(index),
    )
    .expect("index");
    debvault::digest::Sha256::of(&data).to_string()
}

#[test]
fn http_500_persistent_fails_after_retries() {
    let mut s = synced(&[]);
    fast_config(&s.env);
    s.advance();
    s.env
        .server
        .fault("extra_2.0_amd64.deb", Fault::Status(500));
    s.sync_fails(1, &["extra_2.0_amd64.deb", "500"]);
    let tries = s
        .env
        .server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("extra_2.0_amd64.deb"))
        .count();
    assert_eq!(tries, 3, "one attempt plus two retries");
}

#[test]
fn http_500_transient_is_retried() {
    let mut s = synced(&[]);
    s.advance();
    s.env
        .server
        .fault("extra_2.0_amd64.deb", Fault::StatusTimes(500, 2));
    let out = s.env.ok(&["mirror", "sync", "m"]);
    assert!(out.stdout.contains("1 new"), "{}", out.stdout);
}

#[test]
fn slow_upstream_within_timeout_succeeds() {
    let mut s = synced(&[]);
    s.advance();
    s.env.server.fault(
        "extra_2.0_amd64.deb",
        Fault::Slow(std::time::Duration::from_millis(300)),
    );
    s.env.ok(&["mirror", "sync", "m"]);
}

#[test]
fn stalled_upstream_times_out() {
    let mut s = synced(&[]);
    fast_config(&s.env);
    s.advance();
    s.env.server.fault(
        "extra_2.0_amd64.deb",
        Fault::Stall(std::time::Duration::from_secs(5)),
    );
    s.sync_fails(1, &["extra_2.0_amd64.deb"]);
}

#[test]
fn truncated_download_resumes() {
    let mut s = synced(&[]);
    s.advance();
    s.env
        .server
        .fault("extra_2.0_amd64.deb", Fault::TruncateTimes(100, 1));
    s.env.ok(&["mirror", "sync", "m"]);
    let reqs = s.env.server.requests();
    assert!(
        reqs.iter()
            .any(|r| r.path.ends_with("extra_2.0_amd64.deb") && r.range.is_some()),
        "{reqs:?}"
    );
}

#[test]
fn truncated_download_persistent_fails() {
    let mut s = synced(&[]);
    fast_config(&s.env);
    s.advance();
    s.env
        .server
        .fault("extra_2.0_amd64.deb", Fault::Truncate(100));
    s.sync_fails(1, &["extra_2.0_amd64.deb", "truncated"]);
}

#[test]
fn wrong_hash_fails_naming_expected_and_actual() {
    let mut s = synced(&[]);
    s.advance();
    s.env.server.fault("extra_2.0_amd64.deb", Fault::Corrupt);
    let err = s.sync_fails(
        3,
        &["extra_2.0_amd64.deb", "SHA256 mismatch", "expected", "got"],
    );
    assert!(!err.contains("panicked"), "{err}");
    let staging: Vec<_> = tree(&s.env.root().join("blobs"))
        .into_iter()
        .filter(|(p, _)| p.ends_with(".part"))
        .collect();
    assert!(staging.is_empty(), "staging left behind: {staging:?}");
}

#[test]
fn wrong_hash_on_index_fails() {
    let mut s = synced(&[]);
    s.advance();
    s.env.server.fault("Packages.xz", Fault::Corrupt);
    s.env
        .server
        .fault(&sha_of(&s, "Packages.xz"), Fault::Corrupt);
    s.sync_fails(3, &["Packages.xz", "SHA256 mismatch"]);
}

#[test]
fn tampered_inrelease_is_refused() {
    let mut s = synced(&[]);
    s.advance();
    let path = s.env.upstream().join("dists/stable/InRelease");
    let text = std::fs::read_to_string(&path).expect("InRelease");
    std::fs::write(
        &path,
        text.replacen("Origin: Fixture", "Origin: Fixturf", 1),
    )
    .expect("tamper");
    s.sync_fails(3, &["signature", "InRelease"]);
}

#[test]
fn wrong_key_is_refused() {
    let mut s = synced(&[]);
    s.repo.keys = vec!["wrong".into()];
    s.advance();
    s.sync_fails(3, &["signature", "InRelease"]);
}

#[test]
fn unsigned_release_is_refused() {
    let mut s = synced(&[]);
    s.repo.inrelease = false;
    s.repo.release_gpg = false;
    s.advance();
    s.sync_fails(3, &["not signed", "Release"]);
}

#[test]
fn expired_valid_until_is_refused() {
    let mut s = synced(&[]);
    s.repo.valid_until = Some(chrono::Utc::now() - chrono::Duration::hours(1));
    s.advance();
    s.sync_fails(3, &["expired", "Valid-Until", "InRelease"]);
}

#[test]
fn older_date_is_a_rollback() {
    let mut s = synced(&[]);
    s.advance();
    s.repo.date = chrono::Utc::now() - chrono::Duration::days(30);
    s.env.publish_upstream(&s.repo);
    s.sync_fails(3, &["rollback", "older than the last accepted"]);
}

#[test]
fn hostile_filenames_are_refused() {
    for bad in [
        "../../etc/passwd",
        "/etc/passwd",
        "pool/main/a/a\u{1}b.deb",
        "pool/main/n/nul\0.deb",
        "pool//x.deb",
    ] {
        let mut s = synced(&[]);
        s.repo.packages.push(Pkg::new("evil", "1").filename(bad));
        s.advance();
        s.sync_fails(1, &["index `main/binary-amd64/Packages.xz`", "Filename"]);
    }
}

#[test]
fn missing_architecture_index_is_named() {
    let s = synced(&[]);
    s.env.ok(&["mirror", "edit", "m", "--arch", "arm64"]);
    let out = s.env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stderr.contains("main/binary-arm64/Packages"),
        "{}",
        out.stderr
    );
}

/// Pool files go pipelined (plain `http`): a server that closes every
/// connection after four answers still gets each file asked once, and
/// `pipeline-depth = 1` (no pipelining) syncs the same; 0 is refused.
#[test]
fn pipelined_sync_survives_a_keep_alive_limit() {
    let packages = || (0..30).map(|i| Pkg::new(&format!("p{i}"), "1.0")).collect();
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(packages()));
    env.create_mirror("m", &[]);
    env.server.keep_alive_limit(4);
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(out.stdout.contains("30 new"), "{}", out.stdout);
    let debs: Vec<_> = env
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(".deb"))
        .collect();
    assert_eq!(debs.len(), 30, "each file asked once: {debs:?}");
    assert!(debs.iter().all(|r| r.status == 200), "{debs:?}");
    assert_eq!(tree(&env.root().join("blobs/sha256")).len(), 30);
    env.ok(&["verify"]);

    let plain = TestEnv::new();
    plain.publish_upstream(&Repo::new(packages()));
    plain.create_mirror("m", &[]);
    let config = plain.root().join("config.toml");
    std::fs::write(&config, "[sync]\npipeline-depth = 0\n").expect("config");
    let out = plain.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("sync.pipeline-depth"),
        "{}",
        out.transcript()
    );
    std::fs::write(&config, "[sync]\npipeline-depth = 1\n").expect("config");
    let out = plain.ok(&["mirror", "sync", "m"]);
    assert!(out.stdout.contains("30 new"), "{}", out.stdout);
    assert_eq!(tree(&plain.root().join("blobs/sha256")).len(), 30);
}
