//! `debvault::fetch` against the misbehaving fixture server.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::server::{Fault, FixtureServer};
use debvault::digest::Sha256;
use debvault::fetch::{
    Compression, Expected, FetchError, FetchOptions, Fetcher, Small, Validators, open_decompressed,
};
use url::Url;

const FILE: &str = "pool/main/c/curl/curl_7.88.deb";

fn options() -> FetchOptions {
    FetchOptions {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        retries: 4,
        min_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        ..FetchOptions::default()
    }
}

fn fetcher(opts: FetchOptions) -> Fetcher {
    Fetcher::new(opts).expect("client builds")
}

/// Deterministic, incompressible-looking bytes.
fn content(len: usize) -> Vec<u8> {
    crate::support::fixture::noise(len, 0x1234_5678)
}

struct Fixture {
    dir: tempfile::TempDir,
    server: FixtureServer,
    data: Vec<u8>,
}

impl Fixture {
    fn new(len: usize) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = content(len);
        let root = dir.path().join("root");
        let file = root.join(FILE);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, &data).expect("write fixture");
        let server = FixtureServer::start(root);
        Fixture { dir, server, data }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}/{path}", self.server.url())).expect("url")
    }

    fn dest(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn expected(&self) -> Expected {
        Expected {
            size: Some(self.data.len() as u64),
            sha256: Some(Sha256::of(&self.data)),
            max_size: None,
        }
    }

    fn ranges(&self) -> Vec<Option<String>> {
        self.server
            .requests()
            .into_iter()
            .map(|r| r.range)
            .collect()
    }
}

#[tokio::test]
async fn download_verifies_hash() {
    let fx = Fixture::new(100_000);
    let got = fetcher(options())
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect("download");
    assert_eq!(got.sha256, Sha256::of(&fx.data));
    assert_eq!((got.size, got.attempts), (100_000, 1));
    assert_eq!(std::fs::read(fx.dest()).expect("read"), fx.data);
    assert_eq!(fx.server.requests().len(), 1);
}

#[tokio::test]
async fn download_with_unknown_expectations_records() {
    let fx = Fixture::new(1234);
    let got = fetcher(options())
        .download(&fx.url(FILE), &Expected::default(), &fx.dest())
        .await
        .expect("download");
    assert_eq!((got.sha256, got.size), (Sha256::of(&fx.data), 1234));
}

#[tokio::test]
async fn not_found_fails_at_once() {
    let fx = Fixture::new(10);
    let err = fetcher(options())
        .download(&fx.url("missing.deb"), &fx.expected(), &fx.dest())
        .await
        .expect_err("404");
    let msg = err.to_string();
    assert!(msg.contains(&fx.url("missing.deb").to_string()), "{msg}");
    assert!(msg.ends_with("HTTP 404 Not Found"), "{msg}");
    assert_eq!(fx.server.requests().len(), 1);
}

#[tokio::test]
async fn credentials_are_redacted() {
    let fx = Fixture::new(10);
    let mut url = fx.url("missing.deb");
    url.set_username("alice").expect("user");
    url.set_password(Some("hunter2")).expect("password");
    let err = fetcher(options())
        .download(&url, &fx.expected(), &fx.dest())
        .await
        .expect_err("404");
    let mut text = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        text.push_str(&s.to_string());
        source = s.source();
    }
    assert!(
        !text.contains("hunter2") && text.contains("alice:***@"),
        "{text}"
    );
}

/// A connection reset (TCP RST) is retried like a 5xx, and persistent
/// resets end in an error naming the URL after the bounded retries.
#[tokio::test]
async fn connection_resets_are_retried_then_fail() {
    let fx = Fixture::new(5000);
    fx.server.reset_connections(2);
    let got = fetcher(options())
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect("download after two resets");
    assert_eq!(got.attempts, 3);

    fx.server.reset_connections(100);
    let err = fetcher(options())
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect_err("persistent resets");
    assert!(
        err.to_string().starts_with(&format!("`{}`", fx.url(FILE))),
        "{err}"
    );
}

#[tokio::test]
async fn server_errors_then_success() {
    let fx = Fixture::new(5000);
    fx.server.fault(FILE, Fault::StatusTimes(500, 2));
    let got = fetcher(options())
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect("download");
    assert_eq!(got.attempts, 3);
    let statuses: Vec<u16> = fx.server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
}

#[tokio::test]
async fn persistent_server_error_gives_up() {
    let fx = Fixture::new(5000);
    fx.server.fault("", Fault::Status(503));
    let opts = FetchOptions {
        retries: 2,
        ..options()
    };
    let err = fetcher(opts)
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect_err("503");
    assert!(
        err.to_string().ends_with("HTTP 503 Service Unavailable"),
        "{err}"
    );
    assert_eq!(fx.server.requests().len(), 3);
}

#[tokio::test]
async fn truncated_body_resumes_with_range() {
    let fx = Fixture::new(5000);
    fx.server.fault(FILE, Fault::TruncateTimes(1000, 2));
    let got = fetcher(options())
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect("download");
    assert_eq!(got.attempts, 3);
    assert_eq!(std::fs::read(fx.dest()).expect("read"), fx.data);
    // The second response dies at the same file offset: no progress.
    assert_eq!(
        fx.ranges(),
        [None, Some("bytes=1000-".into()), Some("bytes=1000-".into())]
    );
    let statuses: Vec<u16> = fx.server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 206, 206]);
}

#[tokio::test]
async fn ignored_range_restarts_cleanly() {
    let fx = Fixture::new(5000);
    fx.server.fault(FILE, Fault::TruncateTimes(1000, 1));
    fx.server.fault(FILE, Fault::IgnoreRange);
    let got = fetcher(options())
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect("download");
    assert_eq!((got.attempts, got.size), (2, 5000));
    assert_eq!(std::fs::read(fx.dest()).expect("read"), fx.data);
    let second = &fx.server.requests()[1];
    assert_eq!(
        (second.status, second.range.as_deref()),
        (200, Some("bytes=1000-"))
    );
}

#[tokio::test]
async fn persistent_corruption_is_a_hash_mismatch() {
    let fx = Fixture::new(5000);
    fx.server.fault(FILE, Fault::Corrupt);
    let err = fetcher(options())
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect_err("corrupt");
    let FetchError::HashMismatch {
        expected, actual, ..
    } = &err
    else {
        panic!("not a hash mismatch: {err}");
    };
    let msg = err.to_string();
    assert_eq!(*expected, Sha256::of(&fx.data));
    assert!(msg.contains(&fx.url(FILE).to_string()), "{msg}");
    assert!(
        msg.contains(&format!("expected `{expected}`, got `{actual}`")),
        "{msg}"
    );
    assert_eq!(fx.server.requests().len(), 2, "one refetch from scratch");
}

#[tokio::test]
async fn persistent_truncation_names_the_bytes() {
    let fx = Fixture::new(10_000);
    fx.server.fault(FILE, Fault::Truncate(1000));
    let opts = FetchOptions {
        retries: 2,
        ..options()
    };
    let err = fetcher(opts)
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect_err("truncated");
    assert!(matches!(err, FetchError::Truncated { .. }), "{err:?}");
    assert!(
        err.to_string()
            .ends_with("body ended after 1000 of 10000 bytes (truncated)"),
        "{err}"
    );
    assert_eq!(fx.server.requests().len(), 3);
}

#[tokio::test]
async fn stall_hits_read_timeout_and_resumes() {
    let fx = Fixture::new(4000);
    fx.server.fault(FILE, Fault::Stall(Duration::from_secs(5)));
    let opts = FetchOptions {
        read_timeout: Duration::from_millis(300),
        retries: 1,
        ..options()
    };
    let started = Instant::now();
    let err = fetcher(opts)
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect_err("stalled");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        matches!(err, FetchError::Stalled { got: 3000, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("no data for 300ms after 3000 bytes (stalled)"),
        "{err}"
    );
    assert_eq!(fx.ranges(), [None, Some("bytes=2000-".into())]);
}

#[tokio::test]
async fn slow_headers_time_out() {
    let fx = Fixture::new(100);
    fx.server.fault(FILE, Fault::Slow(Duration::from_secs(2)));
    let opts = FetchOptions {
        read_timeout: Duration::from_millis(200),
        retries: 0,
        ..options()
    };
    let err = fetcher(opts)
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect_err("timeout");
    assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
    assert_eq!(fx.server.requests().len(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let fx = Fixture::new(100);
    fx.server.fault(FILE, Fault::RetryAfter(1, 1));
    let opts = FetchOptions {
        max_backoff: Duration::from_secs(5),
        ..options()
    };
    let started = Instant::now();
    let got = fetcher(opts)
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect("download");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(got.attempts, 2);
}

#[tokio::test]
async fn retry_after_is_capped_by_max_backoff() {
    let fx = Fixture::new(100);
    fx.server.fault(FILE, Fault::RetryAfter(3600, 1));
    let started = Instant::now();
    fetcher(options())
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect("download");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn announced_size_mismatch_fails_at_once() {
    let fx = Fixture::new(100);
    fx.server.fault(FILE, Fault::Replace(content(200)));
    let err = fetcher(options())
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect_err("size");
    assert!(
        err.to_string()
            .ends_with("server announces 200 bytes, expected 100"),
        "{err}"
    );
    assert_eq!(fx.server.requests().len(), 1);
}

/// A file of unknown size (an installer image: `SHA256SUMS` gives none)
/// is cut off at its bound, whether the server announces more or streams
/// without end, and nothing stays behind.
#[tokio::test]
async fn a_file_of_unknown_size_stops_at_its_bound() {
    let fx = Fixture::new(5000);
    let bounded = Expected {
        size: None,
        sha256: Some(Sha256::of(&fx.data)),
        max_size: Some(1000),
    };
    let dest = fx.dest();
    let err = fetcher(options())
        .download(&fx.url(FILE), &bounded, &dest)
        .await
        .expect_err("announced past the bound");
    assert!(
        err.to_string()
            .ends_with("body is longer than the expected 1000 bytes"),
        "{err}"
    );
    assert!(!dest.exists() || std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0) <= 1000);
    assert_eq!(fx.server.requests().len(), 1, "not retried");

    let roomy = Expected {
        max_size: Some(5000),
        ..bounded
    };
    let got = fetcher(options())
        .download(&fx.url(FILE), &roomy, &fx.dir.path().join("ok"))
        .await
        .expect("within the bound");
    assert_eq!(got.size, 5000);
}

/// A chunked body without end must not be read past the expected size.
#[tokio::test]
async fn endless_body_stops_after_expected_size() {
    use tokio::io::AsyncWriteExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut head = [0u8; 1024];
        let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut head).await;
        let header = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        socket.write_all(header.as_bytes()).await.expect("head");
        let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
        // Bounded: 64 MiB at most, far less once the client hangs up.
        for _ in 0..1024 {
            if socket.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let url = Url::parse(&format!("http://{addr}/endless")).expect("url");
    let expected = Expected {
        size: Some(1000),
        sha256: None,
        max_size: None,
    };
    let err = fetcher(options())
        .download(&url, &expected, &dir.path().join("out"))
        .await
        .expect_err("too long");
    assert!(
        err.to_string()
            .ends_with("body is longer than the expected 1000 bytes"),
        "{err}"
    );
    server.abort();
}

#[tokio::test]
async fn redirects_are_followed_and_loops_caught() {
    let fx = Fixture::new(100);
    fx.server
        .fault("/old.deb", Fault::Redirect(format!("/{FILE}")));
    let got = fetcher(options())
        .download(&fx.url("old.deb"), &fx.expected(), &fx.dest())
        .await
        .expect("redirected download");
    assert_eq!(got.size, 100);

    fx.server.fault("/loop", Fault::Redirect("/loop".into()));
    let err = fetcher(options())
        .download(&fx.url("loop"), &fx.expected(), &fx.dest())
        .await
        .expect_err("loop");
    assert!(err.to_string().contains("redirect loop"), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("`{}`", fx.url("loop"))),
        "{err}"
    );

    for i in 0..8 {
        fx.server.fault(
            &format!("/hop{i}"),
            Fault::Redirect(format!("/hop{}", i + 1)),
        );
    }
    let err = fetcher(options())
        .download(&fx.url("hop0"), &fx.expected(), &fx.dest())
        .await
        .expect_err("too many");
    assert!(
        err.to_string()
            .ends_with("too many redirects (more than 5)"),
        "{err}"
    );
}

/// The policy for a redirect to another host (a CDN, a mirror network):
/// followed, since integrity rests on signatures and hashes, not on the
/// transport; credentials of the original URL do not go with it.
#[tokio::test]
async fn redirect_to_another_host_drops_credentials() {
    let fx = Fixture::new(100);
    let other = Fixture::new(100);
    let elsewhere = format!("{}/{FILE}", other.server.url());
    fx.server.fault("/moved.deb", Fault::Redirect(elsewhere));
    let mut url = fx.url("moved.deb");
    url.set_username("alice").expect("user");
    url.set_password(Some("hunter2")).expect("password");
    let got = fetcher(options())
        .download(&url, &other.expected(), &fx.dest())
        .await
        .expect("redirected download");
    assert_eq!(got.size, 100);
    let first: Vec<bool> = fx.server.requests().iter().map(|r| r.authorized).collect();
    let second: Vec<bool> = other
        .server
        .requests()
        .iter()
        .map(|r| r.authorized)
        .collect();
    assert_eq!(first, [true], "the original host gets the credentials");
    assert_eq!(second, [false], "the other host does not");
}

#[tokio::test]
async fn unsupported_scheme() {
    let err = fetcher(options())
        .download(
            &Url::parse("ftp://deb.example.org/x").expect("url"),
            &Expected::default(),
            Path::new("/nonexistent/out"),
        )
        .await
        .expect_err("ftp");
    assert!(matches!(err, FetchError::UnsupportedScheme { .. }));
}

#[tokio::test]
async fn get_small_conditional() {
    let fx = Fixture::new(300);
    let f = fetcher(options());
    let url = fx.url(FILE);
    let Small::Fetched { body, validators } = f.get_small(&url, None, 1000).await.expect("get")
    else {
        panic!("expected a body");
    };
    assert_eq!(&body[..], &fx.data[..]);
    assert!(validators.etag.is_some() && validators.last_modified.is_some());

    fx.server.clear_requests();
    let again = f
        .get_small(&url, Some(&validators), 1000)
        .await
        .expect("get");
    assert_eq!(again, Small::NotModified);
    let requests = fx.server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, 304);

    let by_date = Validators {
        etag: None,
        ..validators
    };
    let again = f.get_small(&url, Some(&by_date), 1000).await.expect("get");
    assert_eq!(again, Small::NotModified);

    let stale = Validators {
        etag: Some("\"other\"".into()),
        last_modified: None,
    };
    let again = f.get_small(&url, Some(&stale), 1000).await.expect("get");
    assert!(matches!(again, Small::Fetched { .. }));
}

#[tokio::test]
async fn get_small_not_found_and_retries() {
    let fx = Fixture::new(300);
    let f = fetcher(options());
    let got = f.get_small(&fx.url("dists/x/InRelease"), None, 1000).await;
    assert_eq!(got.expect("404 is a value"), Small::NotFound);
    assert_eq!(fx.server.requests().len(), 1);

    fx.server.fault(FILE, Fault::StatusTimes(502, 1));
    fx.server.fault(FILE, Fault::TruncateTimes(10, 1));
    let got = f.get_small(&fx.url(FILE), None, 1000).await.expect("get");
    assert!(matches!(got, Small::Fetched { body, .. } if body.len() == 300));
}

#[tokio::test]
async fn get_small_caps_the_body() {
    let fx = Fixture::new(5000);
    let err = fetcher(options())
        .get_small(&fx.url(FILE), None, 4999)
        .await
        .expect_err("too large");
    assert!(
        err.to_string()
            .ends_with("body exceeds the limit of 4999 bytes"),
        "{err}"
    );
}

#[test]
fn fixture_server_rejects_dot_dot() {
    let fx = Fixture::new(10);
    let addr = fx.server.url().trim_start_matches("http://").to_owned();
    let mut socket = std::net::TcpStream::connect(addr).expect("connect");
    socket
        .write_all(b"GET /pool/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

fn write_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).expect("write");
    path
}

fn read_all(path: &Path, c: Compression, max: u64) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    open_decompressed(path, c, max)
        .expect("open")
        .read_to_end(&mut out)?;
    Ok(out)
}

#[test]
fn gzip_and_xz_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (
        b"Package: curl\n\n".repeat(1000),
        b"Package: zsh\n".to_vec(),
    );
    let whole = [a.clone(), b.clone()].concat();

    // Two gzip members back to back.
    let mut gz = Vec::new();
    for part in [&a, &b] {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(part).expect("gz");
        gz.extend(enc.finish().expect("gz"));
    }
    let path = write_file(dir.path(), "Packages.gz", &gz);
    let c = Compression::from_extension(&path).expect("supported");
    assert_eq!(c, Compression::Gzip);
    assert_eq!(
        read_all(&path, c, whole.len() as u64).expect("gunzip"),
        whole
    );

    // Two xz streams back to back.
    let mut xz = Vec::new();
    for part in [&a, &b] {
        let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 1);
        enc.write_all(part).expect("xz");
        xz.extend(enc.finish().expect("xz"));
    }
    let path = write_file(dir.path(), "Packages.xz", &xz);
    let c = Compression::from_extension(&path).expect("supported");
    assert_eq!(c, Compression::Xz);
    assert_eq!(read_all(&path, c, 1 << 20).expect("unxz"), whole);

    let path = write_file(dir.path(), "Packages", &whole);
    assert_eq!(Compression::from_extension(&path), Some(Compression::None));
    assert_eq!(
        read_all(&path, Compression::None, 1 << 20).expect("plain"),
        whole
    );
    assert!(read_all(&path, Compression::None, 10).is_err());

    assert_eq!(Compression::from_extension(Path::new("Packages.bz2")), None);
    assert_eq!(Compression::Xz.extension(), ".xz");
}

#[test]
fn gzip_bomb_is_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..50 {
        enc.write_all(&zeros).expect("gz");
    }
    let bomb = enc.finish().expect("gz");
    assert!(bomb.len() < 100_000);
    let path = write_file(dir.path(), "Packages.gz", &bomb);
    let err = read_all(&path, Compression::Gzip, 1 << 20).expect_err("bomb");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        err.to_string()
            .contains("decompressed size exceeds 1048576 bytes"),
        "{err}"
    );
}

#[test]
fn xz_bomb_is_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bomb = crate::support::fixture::xz(&vec![0u8; 50 << 20]);
    assert!(bomb.len() < 100_000, "{}", bomb.len());
    let path = write_file(dir.path(), "Packages.xz", &bomb);
    let err = read_all(&path, Compression::Xz, 1 << 20).expect_err("bomb");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        err.to_string()
            .contains("decompressed size exceeds 1048576 bytes"),
        "{err}"
    );
}

#[test]
fn corrupt_xz_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_file(dir.path(), "Packages.xz", b"\xfd7zXZ\0garbage");
    assert!(read_all(&path, Compression::Xz, 1 << 20).is_err());
}

#[tokio::test]
async fn large_file_streams_to_disk_and_resumes() {
    // Over the in-memory threshold: written through the file sink.
    let fx = Fixture::new(3 << 20);
    fx.server.fault(FILE, Fault::TruncateTimes(1 << 20, 1));
    let got = fetcher(options())
        .download(&fx.url(FILE), &fx.expected(), &fx.dest())
        .await
        .expect("download");
    assert_eq!((got.size, got.attempts), (3 << 20, 2));
    assert_eq!(std::fs::read(fx.dest()).expect("read"), fx.data);
    assert_eq!(fx.ranges(), [None, Some(format!("bytes={}-", 1 << 20))]);
}

#[tokio::test]
async fn download_bytes_keeps_verified_body_in_memory() {
    let fx = Fixture::new(20_000);
    let (data, got) = fetcher(options())
        .download_bytes(&fx.url(FILE), &fx.expected())
        .await
        .expect("download");
    assert_eq!(data, fx.data);
    assert_eq!(got.sha256, Sha256::of(&fx.data));
    assert!(!fx.dest().exists());
    fx.server.fault(FILE, Fault::Corrupt);
    let err = fetcher(options())
        .download_bytes(&fx.url(FILE), &fx.expected())
        .await
        .expect_err("corrupt body must fail");
    assert!(matches!(err, FetchError::HashMismatch { .. }), "{err}");
}
