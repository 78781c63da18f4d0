//! The test harness: a temp data root, the fixture server, and the real binary.

#![allow(dead_code)]

pub mod api;
pub mod appstream;
pub mod apt;
pub mod changes;
pub mod contents;
pub mod fixture;
pub mod installer;
pub mod pull;
pub mod repos;
pub mod server;
pub mod shapes;
pub mod sources;
pub mod translations;
pub mod udebs;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use fixture::{Pkg, Repo};
pub use server::{Fault, FixtureServer};

/// One test's world: a data root, an upstream directory served on loopback.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub server: FixtureServer,
    /// Set for a world whose blobs and publications live in the test bucket.
    pub s3: Option<S3Place>,
}

/// The S3 server of the test run (`tests/s3-server.sh`, started by `.ci/run`).
#[derive(Clone, Debug)]
pub struct S3Server {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
}

impl S3Server {
    /// The server from `DEBVAULT_TEST_S3_*`; a missing one fails the test
    /// (S3 suites never skip): start it as `.ci/run` does.
    pub fn from_env() -> S3Server {
        let var = |k: &str| {
            std::env::var(k).unwrap_or_else(|_| {
                panic!(
                    "{k} is not set: the S3 suites need the test S3 server; run \
                     `eval \"$(tests/s3-server.sh start \"$(mktemp -d)\")\"` first (`.ci/run` does)"
                )
            })
        };
        S3Server {
            endpoint: var("DEBVAULT_TEST_S3_ENDPOINT"),
            bucket: var("DEBVAULT_TEST_S3_BUCKET"),
            access_key: var("DEBVAULT_TEST_S3_ACCESS_KEY"),
            secret_key: var("DEBVAULT_TEST_S3_SECRET_KEY"),
        }
    }

    /// The `AWS_*` variables that point a client at this server.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }
}

/// A test's own place in the test bucket.
#[derive(Clone, Debug)]
pub struct S3Place {
    pub server: S3Server,
    /// Key prefix of this test: `run-<pid>-<n>`.
    pub prefix: String,
}

impl S3Place {
    /// `s3://bucket/<prefix>/<rel>`.
    pub fn url(&self, rel: &str) -> String {
        format!("s3://{}/{}/{rel}", self.server.bucket, self.prefix)
    }

    /// A client on this test's prefix, to look into the bucket (or tamper
    /// with it) behind debvault's back.
    pub fn bucket(&self) -> TestBucket {
        let url =
            debvault::store::S3Url::parse(&format!("s3://{}/{}", self.server.bucket, self.prefix))
                .expect("s3 url")
                .expect("valid s3 url");
        let vars: Vec<(&str, String)> = self.server.aws_env();
        TestBucket {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            bucket: debvault::store::Bucket::open_with(&url, &vars).expect("open bucket"),
        }
    }
}

/// Blocking access to a test's prefix in the bucket.
pub struct TestBucket {
    rt: tokio::runtime::Runtime,
    bucket: debvault::store::Bucket,
}

impl TestBucket {
    /// Keys below `rel`, relative to it, sorted.
    pub fn keys(&self, rel: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .rt
            .block_on(self.bucket.list(rel))
            .expect("list")
            .into_iter()
            .map(|l| l.key)
            .collect();
        keys.sort();
        keys
    }

    /// Keys below `rel` as [`debvault::store::Bucket::list_split`] lists
    /// them, in the order listed.
    pub fn keys_split(&self, rel: &str, splits: &[String], concurrency: usize) -> Vec<String> {
        self.rt
            .block_on(self.bucket.list_split(rel, splits, concurrency))
            .expect("list")
            .into_iter()
            .map(|l| l.key)
            .collect()
    }

    pub fn get(&self, rel: &str) -> Option<Vec<u8>> {
        self.rt
            .block_on(self.bucket.get(rel))
            .expect("get")
            .map(|b| b.to_vec())
    }

    pub fn delete(&self, rel: &str) {
        self.rt.block_on(self.bucket.delete(rel)).expect("delete");
    }

    pub fn put_file(&self, rel: &str, src: &Path) {
        self.rt
            .block_on(self.bucket.put_file(rel, src))
            .expect("put file");
    }

    pub fn put(&self, rel: &str, data: &[u8]) {
        self.rt
            .block_on(self.bucket.put(rel, bytes::Bytes::copy_from_slice(data)))
            .expect("put");
    }
}

/// What a command printed and returned.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Exit code + stdout + stderr as one text, for snapshots.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// stdout parsed as JSON; the transcript is the panic message if it is not.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.transcript()))
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("upstream")).expect("mkdir");
        let server = FixtureServer::start(dir.path().join("upstream"));
        TestEnv {
            dir,
            server,
            s3: None,
        }
    }

    /// A world whose blob store and publish endpoint are in the test
    /// bucket (`<root>/config.toml` says so), below a prefix of its own.
    pub fn new_s3() -> TestEnv {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let mut env = TestEnv::new();
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let place = S3Place {
            server: S3Server::from_env(),
            prefix: format!(
                "run-{}-{}-{n}",
                std::process::id(),
                chrono::Utc::now().timestamp_millis()
            ),
        };
        std::fs::create_dir_all(env.root()).expect("mkdir root");
        std::fs::write(
            env.root().join("config.toml"),
            format!(
                "[storage]\nblobs = \"{}\"\npublish = \"{}\"\n",
                place.url("blobs"),
                place.url("public")
            ),
        )
        .expect("write config");
        env.s3 = Some(place);
        env
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn upstream(&self) -> PathBuf {
        self.dir.path().join("upstream")
    }

    /// Writes `repo` as the served upstream.
    pub fn publish_upstream(&self, repo: &Repo) -> String {
        repo.write(&self.upstream())
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_debvault"));
        for (k, _) in std::env::vars() {
            if k.starts_with("DEBVAULT_") || k.starts_with("AWS_") || k == "XDG_DATA_HOME" {
                c.env_remove(k);
            }
        }
        if let Some(place) = &self.s3 {
            c.envs(place.server.aws_env());
        }
        c.env("NO_COLOR", "1")
            .env("DEBVAULT_ACTOR", "tester@ci")
            .arg("--root")
            .arg(self.root());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.cmd().args(args).output().expect("run debvault");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and asserts the exit code, returning the output.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(
            out.code,
            0,
            "debvault {args:?} failed:\n{}",
            out.transcript()
        );
        out
    }

    /// Creates mirror `name` of the served upstream, verified with the `upstream` test key.
    pub fn create_mirror(&self, name: &str, extra: &[&str]) {
        let key = fixture::public_key("upstream");
        let url = self.url();
        let mut args = vec![
            "mirror",
            "create",
            name,
            url.as_str(),
            "stable",
            "main",
            "--arch",
            "amd64",
            "--keyring",
        ];
        let key_s = key.display().to_string();
        args.push(&key_s);
        args.extend_from_slice(extra);
        self.ok(&args);
    }

    /// Replaces the stored object or file `rel` (below the blob store or
    /// publish endpoint: `blobs/…`, `public/…`) by `data`, behind
    /// debvault's back; a local file is replaced, not rewritten, so its
    /// hardlinks keep the old content.
    pub fn tamper(&self, rel: &str, data: &[u8]) {
        match &self.s3 {
            Some(place) => place.bucket().put(rel, data),
            None => {
                let path = self.root().join(rel);
                std::fs::remove_file(&path).expect("remove for tampering");
                std::fs::write(&path, data).expect("write tampered file");
            }
        }
    }

    /// Removes the stored object or file `rel` behind debvault's back.
    pub fn remove_stored(&self, rel: &str) {
        match &self.s3 {
            Some(place) => place.bucket().delete(rel),
            None => std::fs::remove_file(self.root().join(rel)).expect("remove"),
        }
    }

    /// Filters that make transcripts stable: temp dirs, ports, durations, dates, digests stay.
    pub fn filters(&self) -> Vec<(String, String)> {
        vec![
            (
                regex_escape(&self.dir.path().display().to_string()),
                "[TMP]".into(),
            ),
            (regex_escape(env!("CARGO_MANIFEST_DIR")), "[REPO]".into()),
            (r"127\.0\.0\.1:\d+".into(), "[SERVER]".into()),
            (r"\b\d{8}T\d{6}Z(-\d+)?".into(), "[TREE]".into()),
            (r"\b20\d{6}\b".into(), "[YYYYMMDD]".into()),
            (r"\d+\.\d+s\b".into(), "[SECS]".into()),
            (
                r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?( UTC|Z|\+00:00)?".into(),
                "[TIME]".into(),
            ),
            (r"\(\d+(\.\d+)? (B|KiB|MiB)\)".into(), "([SIZE])".into()),
            (
                r"\(\d+(\.\d+)? (B|KiB|MiB), \d+(\.\d+)? (B|KiB|MiB) from cache\)".into(),
                "([SIZE], [SIZE] from cache)".into(),
            ),
            (r"PID \d+".into(), "PID [PID]".into()),
            (r"\b\d{4}-\d{2}-\d{2}\b".into(), "[DATE]".into()),
            (r"\[DATE\] \d{2}:\d{2}\b".into(), "[DATE] [HH:MM]".into()),
        ]
    }

    /// Applies [`TestEnv::filters`] to a transcript.
    pub fn redact(&self, text: &str) -> String {
        let mut s = text.to_owned();
        for (pat, rep) in self.filters() {
            s = simple_regex_replace(&s, &pat, &rep);
        }
        s
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn simple_regex_replace(s: &str, pat: &str, rep: &str) -> String {
    regex::Regex::new(pat)
        .expect("valid test regex")
        .replace_all(s, rep)
        .into_owned()
}

/// Everything under `dir`, relative, sorted (to prove nothing changed).
pub fn tree(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(m) = e.metadata() {
                out.push((
                    p.strip_prefix(base).unwrap_or(&p).display().to_string(),
                    m.len(),
                ));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}
