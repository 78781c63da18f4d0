//! `debvault::serve` over loopback: headers, ranges, validators, path
//! safety, 1,000 concurrent connections and graceful shutdown.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use debvault::serve::{ServeError, ServeOptions, ServeStats, Server};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

const SUITE: &str = "stable-20260101T000000Z";
const IN_RELEASE: &str = "Origin: debvault\nSuite: stable\n";
const DEB: &str = "pool/main/c/curl/curl_7.88_amd64.deb";
const DEB_LEN: usize = 300 * 1024 + 17;
const BIG: &str = "pool/main/b/big/big_1.0_amd64.deb";
const BIG_LEN: usize = 24 * 1024 * 1024;
const BY_HASH: &str = "dists/stable/main/binary-amd64/by-hash/SHA256/0123abcd";
const WEIRD: &str = "a <b> & \"c\".txt";

use crate::support::fixture::noise as content;

/// Writes a fixture file dated a minute ago: `serve` gives files written in
/// the current second no `Last-Modified` (see [`fresh_files_have_no_date`]).
fn write(root: &Path, rel: &str, data: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, data).expect("write fixture");
    let past = std::time::SystemTime::now() - Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(past))
        .expect("date fixture");
}

/// `BIG_LEN` bytes, cheap to make: 1 MiB blocks, each marked with its index.
fn big() -> Vec<u8> {
    let block = content(1024 * 1024, 2);
    let mut data = Vec::with_capacity(BIG_LEN);
    while data.len() < BIG_LEN {
        let at = data.len();
        data.extend_from_slice(&block);
        data[at] = (at >> 20) as u8;
    }
    data.truncate(BIG_LEN);
    data
}

/// A published tree: `dists/stable` -> a dated publication, `pool/`, a
/// by-hash file, and two symlinks that lead out of the root.
fn tree() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("public");
    let dists = format!("dists/{SUITE}");
    write(&root, &format!("{dists}/InRelease"), IN_RELEASE.as_bytes());
    write(&root, &format!("{dists}/Release"), b"Suite: stable\n");
    write(&root, &format!("{dists}/Release.gpg"), b"sig");
    write(
        &root,
        &format!("{dists}/main/binary-amd64/Packages.xz"),
        &content(1000, 3),
    );
    write(
        &root,
        &format!("{dists}/main/binary-amd64/by-hash/SHA256/0123abcd"),
        b"hashed",
    );
    write(&root, DEB, &content(DEB_LEN, 1));
    write(&root, &format!("pool/{WEIRD}"), b"weird");
    std::os::unix::fs::symlink(SUITE, root.join("dists/stable")).expect("symlink inside");
    std::os::unix::fs::symlink("/etc", root.join("dists/escape")).expect("symlink to /etc");
    std::os::unix::fs::symlink("/etc/passwd", root.join("pool/passwd")).expect("symlink file");
    (dir, root)
}

/// The server on its own thread and runtime; shuts down when dropped.
struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<ServeStats, ServeError>>>,
}

fn options(root: &Path) -> ServeOptions {
    ServeOptions::new(
        "127.0.0.1:0".parse().expect("loopback address"),
        root.to_path_buf(),
    )
}

impl Running {
    fn start(root: &Path) -> Running {
        Running::with(options(root))
    }

    fn with(opts: ServeOptions) -> Running {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let server = Server::bind(opts).await?;
                addr_tx.send(server.local_addr()).expect("report address");
                server
                    .run_until(async {
                        let _ = stopped.await;
                    })
                    .await
            })
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server binds");
        Running {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    fn trigger_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    fn join(&mut self) -> Result<ServeStats, ServeError> {
        self.trigger_shutdown();
        match self.thread.take() {
            Some(thread) => thread.join().expect("server thread"),
            None => Ok(ServeStats::default()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} header in {response:?}"))
        .to_str()
        .expect("ASCII header")
        .to_owned()
}

/// A raw HTTP/1.1 response: status, lower-cased headers, body.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response head from `reader`.
async fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).await.expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("header colon");
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    (status, headers)
}

/// Reads one response (body by `Content-Length`) from a kept-alive connection.
async fn read_response(reader: &mut BufReader<TcpStream>, head_request: bool) -> Raw {
    let (status, headers) = read_head(reader).await;
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse::<usize>().expect("numeric length"));
    let mut body = vec![0; if head_request { 0 } else { len }];
    reader.read_exact(&mut body).await.expect("body");
    Raw {
        status,
        headers,
        body,
    }
}

/// Sends `GET <target>` verbatim (no client-side normalisation) on a fresh
/// connection and reads the response.
async fn raw_get(addr: SocketAddr, target: &str) -> Raw {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    let mut reader = BufReader::new(stream);
    read_response(&mut reader, false).await
}

#[tokio::test]
async fn get_and_head_with_headers() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let client = client();

    let got = client
        .get(server.url("dists/stable/InRelease"))
        .send()
        .await
        .expect("GET");
    assert_eq!(got.status(), 200);
    assert_eq!(header(&got, "content-type"), "text/plain; charset=utf-8");
    assert_eq!(header(&got, "cache-control"), "no-cache");
    assert_eq!(header(&got, "accept-ranges"), "bytes");
    assert_eq!(header(&got, "content-length"), IN_RELEASE.len().to_string());
    let etag = header(&got, "etag");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let modified = header(&got, "last-modified");
    assert!(modified.ends_with(" GMT"), "{modified}");
    assert_eq!(got.text().await.expect("body"), IN_RELEASE);

    let head = client
        .head(server.url("dists/stable/InRelease"))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status(), 200);
    assert_eq!(
        header(&head, "content-length"),
        IN_RELEASE.len().to_string()
    );
    assert_eq!(header(&head, "etag"), etag);
    assert_eq!(header(&head, "last-modified"), modified);
    assert!(head.bytes().await.expect("HEAD body").is_empty());

    let deb = client.get(server.url(DEB)).send().await.expect("GET deb");
    assert_eq!(deb.status(), 200);
    assert_eq!(
        header(&deb, "content-type"),
        "application/vnd.debian.binary-package"
    );
    assert_eq!(
        header(&deb, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(deb.bytes().await.expect("deb body"), content(DEB_LEN, 1));

    for (path, content_type, cache) in [
        (
            BY_HASH,
            "application/octet-stream",
            "public, max-age=31536000, immutable",
        ),
        (
            "dists/stable/main/binary-amd64/Packages.xz",
            "application/x-xz",
            "no-cache",
        ),
        (
            "dists/stable/Release.gpg",
            "application/pgp-signature",
            "no-cache",
        ),
        (
            "dists/stable/Release",
            "text/plain; charset=utf-8",
            "no-cache",
        ),
    ] {
        let got = client.get(server.url(path)).send().await.expect("GET");
        assert_eq!(got.status(), 200, "{path}");
        assert_eq!(header(&got, "content-type"), content_type, "{path}");
        assert_eq!(header(&got, "cache-control"), cache, "{path}");
    }

    for missing in [
        "dists/stable/nope",
        "pool/main/c/curl/curl_7.88_amd64.deb/x",
    ] {
        let got = client.get(server.url(missing)).send().await.expect("GET");
        assert_eq!(got.status(), 404, "{missing}");
    }
}

#[tokio::test]
async fn directory_listings_escape_names_and_hide_outside_links() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let client = client();

    let top = client.get(server.url("/")).send().await.expect("GET /");
    assert_eq!(top.status(), 200);
    assert_eq!(header(&top, "content-type"), "text/html; charset=utf-8");
    let html = top.text().await.expect("listing");
    assert!(html.contains("href=\"/dists/\""), "{html}");
    assert!(html.contains("href=\"/pool/\""), "{html}");

    let dists = client
        .get(server.url("dists/"))
        .send()
        .await
        .expect("GET dists");
    let html = dists.text().await.expect("listing");
    assert!(html.contains("href=\"/dists/stable/\""), "{html}");
    assert!(
        html.contains(&format!("href=\"/dists/{SUITE}/\"")),
        "{html}"
    );
    assert!(!html.contains("escape"), "outside link listed: {html}");

    let pool = client
        .get(server.url("pool"))
        .send()
        .await
        .expect("GET pool");
    let html = pool.text().await.expect("listing");
    assert!(
        html.contains("a &lt;b&gt; &amp; &quot;c&quot;.txt"),
        "{html}"
    );
    assert!(!html.contains("<b>"), "{html}");
    assert!(!html.contains("passwd"), "{html}");
    let href = "/pool/a%20%3Cb%3E%20%26%20%22c%22.txt";
    assert!(html.contains(href), "{html}");
    let weird = client
        .get(server.url(href))
        .send()
        .await
        .expect("GET weird");
    assert_eq!(weird.text().await.expect("body"), "weird");

    // A listing through the publication symlink.
    let stable = client
        .get(server.url("dists/stable/"))
        .send()
        .await
        .expect("GET stable");
    let html = stable.text().await.expect("listing");
    assert!(html.contains("href=\"/dists/stable/InRelease\""), "{html}");
}

#[tokio::test]
async fn ranges() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let client = client();
    let data = content(DEB_LEN, 1);
    let len = DEB_LEN;

    let cases: [(&str, usize, usize); 5] = [
        ("bytes=100-", 100, len - 1),
        ("bytes=100-199", 100, 199),
        ("bytes=-5", len - 5, len - 1),
        ("bytes=0-0", 0, 0),
        ("bytes=10-99999999", 10, len - 1),
    ];
    for (range, first, last) in cases {
        let got = client
            .get(server.url(DEB))
            .header("range", range)
            .send()
            .await
            .expect("GET range");
        assert_eq!(got.status(), 206, "{range}");
        assert_eq!(
            header(&got, "content-range"),
            format!("bytes {first}-{last}/{len}"),
            "{range}"
        );
        assert_eq!(
            header(&got, "content-length"),
            (last - first + 1).to_string()
        );
        assert_eq!(
            got.bytes().await.expect("body"),
            data[first..=last],
            "{range}"
        );
    }

    let multi = client
        .get(server.url(DEB))
        .header("range", "bytes=0-1,5-9")
        .send()
        .await
        .expect("GET multi");
    assert_eq!(multi.status(), 200);
    assert_eq!(multi.bytes().await.expect("body").len(), len);

    for unsatisfiable in [format!("bytes={len}-"), "bytes=-0".to_owned()] {
        let got = client
            .get(server.url(DEB))
            .header("range", &unsatisfiable)
            .send()
            .await
            .expect("GET 416");
        assert_eq!(got.status(), 416, "{unsatisfiable}");
        assert_eq!(header(&got, "content-range"), format!("bytes */{len}"));
    }

    let full = client.head(server.url(DEB)).send().await.expect("HEAD");
    let etag = header(&full, "etag");
    let modified = header(&full, "last-modified");
    for (if_range, status) in [
        (etag.as_str(), 206),
        (modified.as_str(), 206),
        ("\"stale\"", 200),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 200),
    ] {
        let got = client
            .get(server.url(DEB))
            .header("range", "bytes=10-19")
            .header("if-range", if_range)
            .send()
            .await
            .expect("GET if-range");
        assert_eq!(got.status(), status, "If-Range {if_range}");
        let expected = if status == 206 { 10 } else { len };
        assert_eq!(got.bytes().await.expect("body").len(), expected);
    }
}

/// A file replaced within the second a client fetched it must not be
/// answered "not modified" to that client's `If-Modified-Since` (apt
/// revalidates `InRelease` that way): such a file carries no date yet.
#[tokio::test]
async fn fresh_files_have_no_date() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let client = client();
    let path = root.join("dists/stable/InRelease");
    std::fs::write(&path, b"new").expect("rewrite");
    // Dated a minute ahead: "written in the current second" however slowly
    // the request below is answered.
    let ahead = std::time::SystemTime::now() + Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(ahead))
        .expect("date the file");
    let got = client
        .get(server.url("dists/stable/InRelease"))
        .send()
        .await
        .expect("GET");
    assert_eq!(got.status(), 200);
    assert!(got.headers().get("last-modified").is_none(), "{got:?}");
    assert!(got.headers().get("etag").is_some(), "{got:?}");
}

#[tokio::test]
async fn conditional_requests() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let client = client();
    let url = server.url("dists/stable/InRelease");

    let first = client.get(&url).send().await.expect("GET");
    let etag = header(&first, "etag");
    let modified = header(&first, "last-modified");

    let cases: [(&str, String, u16); 8] = [
        ("if-none-match", etag.clone(), 304),
        ("if-none-match", "*".to_owned(), 304),
        ("if-none-match", format!("\"other\", {etag}"), 304),
        ("if-none-match", format!("W/{etag}"), 304),
        ("if-none-match", "\"other\"".to_owned(), 200),
        ("if-modified-since", modified.clone(), 304),
        (
            "if-modified-since",
            "Sun, 06 Nov 1994 08:49:37 GMT".to_owned(),
            200,
        ),
        ("if-modified-since", "not a date".to_owned(), 200),
    ];
    for (name, value, status) in cases {
        let got = client
            .get(&url)
            .header(name, &value)
            .send()
            .await
            .expect("conditional GET");
        assert_eq!(got.status(), status, "{name}: {value}");
        if status == 304 {
            assert_eq!(header(&got, "etag"), etag);
            assert_eq!(header(&got, "cache-control"), "no-cache");
            assert!(got.bytes().await.expect("304 body").is_empty());
        }
    }

    // If-None-Match takes precedence over If-Modified-Since.
    let got = client
        .get(&url)
        .header("if-none-match", "\"other\"")
        .header("if-modified-since", &modified)
        .send()
        .await
        .expect("GET");
    assert_eq!(got.status(), 200);

    // HEAD revalidates too.
    let got = client
        .head(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(got.status(), 304);
}

#[tokio::test]
async fn follows_a_switched_publication() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let client = client();
    let url = server.url("dists/stable/InRelease");
    let before = client.get(&url).send().await.expect("GET");
    let etag = header(&before, "etag");

    write(&root, "dists/stable-next/InRelease", b"Suite: next\n");
    std::os::unix::fs::symlink("stable-next", root.join("dists/stable.new")).expect("symlink");
    std::fs::rename(root.join("dists/stable.new"), root.join("dists/stable")).expect("switch");

    let after = client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(after.status(), 200, "old validator must not match");
    assert_eq!(after.text().await.expect("body"), "Suite: next\n");
}

#[tokio::test]
async fn rejects_traversal_and_outside_symlinks() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let passwd = std::fs::read("/etc/passwd").unwrap_or_else(|_| b"root:".to_vec());
    let marker = &passwd[..passwd.len().min(5)];

    for target in [
        "/../etc/passwd",
        "/%2e%2e/etc/passwd",
        "/dists/%2E%2E/%2E%2E/etc/passwd",
        "/pool/..%2f..%2fetc/passwd",
        "/pool/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/pool/..\\..\\etc\\passwd",
        "/pool/%5c..%5cpasswd",
        "/dists/stable/InRelease%00.deb",
        "/dists/escape/passwd",
        "/dists/escape/",
        "/pool/passwd",
        "//etc/passwd",
    ] {
        let got = raw_get(server.addr, target).await;
        assert!(
            got.status == 400 || got.status == 404,
            "{target}: status {}",
            got.status
        );
        assert!(
            !got.body.windows(marker.len()).any(|w| w == marker),
            "{target}: leaked file contents"
        );
    }
    // Absolute-form targets are confined the same way.
    let absolute = format!("http://{}/../etc/passwd", server.addr);
    assert_eq!(raw_get(server.addr, &absolute).await.status, 400);
}

#[tokio::test]
async fn allows_only_get_and_head() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let client = client();
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::OPTIONS,
    ] {
        let got = client
            .request(method.clone(), server.url("dists/stable/InRelease"))
            .body("x")
            .send()
            .await
            .expect("request");
        assert_eq!(got.status(), 405, "{method}");
        assert_eq!(header(&got, "allow"), "GET, HEAD");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_1000_concurrent_keep_alive_connections() {
    const CONNECTIONS: usize = 1000;
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let addr = server.addr;
    let started = Instant::now();
    let all_connected = std::sync::Arc::new(tokio::sync::Barrier::new(CONNECTIONS));
    let all_answered = std::sync::Arc::new(tokio::sync::Barrier::new(CONNECTIONS));

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..CONNECTIONS {
        let all_connected = std::sync::Arc::clone(&all_connected);
        let all_answered = std::sync::Arc::clone(&all_answered);
        tasks.spawn(async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let mut reader = BufReader::new(stream);
            // Every connection is open before any request is sent.
            all_connected.wait().await;
            let path = if i % 2 == 0 {
                "/dists/stable/InRelease"
            } else {
                "/dists/stable/Release"
            };
            let mut statuses = Vec::new();
            // Two requests on the same connection: keep-alive.
            for _ in 0..2 {
                let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
                reader
                    .get_mut()
                    .write_all(request.as_bytes())
                    .await
                    .expect("send");
                let got = read_response(&mut reader, false).await;
                assert!(got.header("content-length").is_some());
                statuses.push(got.status);
            }
            // ... and all still open while every other one is answered.
            all_answered.wait().await;
            statuses
        });
    }
    let outcome = tokio::time::timeout(Duration::from_secs(30), async {
        let mut ok = 0;
        while let Some(statuses) = tasks.join_next().await {
            let statuses = statuses.expect("client task");
            assert_eq!(statuses, [200, 200]);
            ok += 1;
        }
        ok
    })
    .await
    .expect("1,000 clients finish in time");
    assert_eq!(outcome, CONNECTIONS);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_and_refuses_new_ones() {
    let (_dir, root) = tree();
    let data = big();
    write(&root, BIG, &data);
    let mut server = Running::start(&root);
    let addr = server.addr;

    // A large download, started but barely read.
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET /{BIG} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader).await;
    assert_eq!(status, 200);
    assert!(headers.contains(&("content-length".to_owned(), BIG_LEN.to_string())));
    let mut body = vec![0; 4096];
    reader.read_exact(&mut body).await.expect("first bytes");

    // An idle kept-alive connection is closed by the shutdown.
    let mut idle = TcpStream::connect(addr).await.expect("connect idle");
    idle.write_all(
        format!("GET /dists/stable/Release HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
    )
    .await
    .expect("send");
    let mut idle = BufReader::new(idle);
    assert_eq!(read_response(&mut idle, false).await.status, 200);

    server.trigger_shutdown();

    // New connections are refused soon after.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpStream::connect(addr).await {
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => break,
            // Accepted by the backlog, or reset as the listener closed.
            _ => {
                assert!(Instant::now() < deadline, "still accepting after shutdown");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    // The in-flight download still completes, intact.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut rest))
        .await
        .expect("download finishes")
        .expect("read rest");
    body.extend_from_slice(&rest);
    assert_eq!(body.len(), BIG_LEN);
    assert!(body == data, "body differs");

    let mut leftover = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut leftover))
        .await
        .expect("idle connection closed");
    assert!(closed.is_ok() && leftover.is_empty());

    let result = tokio::task::spawn_blocking(move || server.join())
        .await
        .expect("join");
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn bind_errors_name_the_path_or_address() {
    let (dir, root) = tree();
    let loopback: SocketAddr = "127.0.0.1:0".parse().expect("address");

    let missing = dir.path().join("missing");
    let err = Server::bind(ServeOptions::new(loopback, &missing))
        .await
        .expect_err("missing root");
    assert!(matches!(err, ServeError::Root { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("`{}`", missing.display())),
        "{err}"
    );

    let file = root.join(DEB);
    let err = Server::bind(ServeOptions::new(loopback, &file))
        .await
        .expect_err("file root");
    assert!(
        matches!(err, ServeError::RootNotDirectory { .. }),
        "{err:?}"
    );

    let taken = Server::bind(ServeOptions::new(loopback, &root))
        .await
        .expect("bind");
    let addr = taken.local_addr();
    let err = Server::bind(ServeOptions::new(addr, &root))
        .await
        .expect_err("address in use");
    assert!(matches!(err, ServeError::Bind { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("`{addr}`")), "{err}");

    let err = Server::bind(ServeOptions {
        max_connections: 0,
        ..ServeOptions::new(loopback, &root)
    })
    .await
    .expect_err("zero connections");
    assert!(matches!(err, ServeError::NoConnections { .. }), "{err:?}");
}

/// Sends `request` verbatim on a fresh connection and reads the response.
async fn raw_request(addr: SocketAddr, request: &str) -> Raw {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    let mut reader = BufReader::new(stream);
    read_response(&mut reader, false).await
}

/// Issue 24: `If-Match` and `If-Unmodified-Since` were ignored, so a
/// client resuming or replacing on a precondition got the file anyway.
#[tokio::test]
async fn issue_24_failed_preconditions_give_412() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let client = client();
    let url = server.url(DEB);
    let first = client.head(&url).send().await.expect("HEAD");
    let etag = header(&first, "etag");
    let modified = header(&first, "last-modified");

    let cases: [(&str, String, u16); 9] = [
        ("if-match", etag.clone(), 200),
        ("if-match", "*".to_owned(), 200),
        ("if-match", format!("\"other\", {etag}"), 200),
        ("if-match", "\"other\"".to_owned(), 412),
        // Weak tags never match strongly.
        ("if-match", format!("W/{etag}"), 412),
        ("if-unmodified-since", modified.clone(), 200),
        (
            "if-unmodified-since",
            "Sun, 06 Nov 1994 08:49:37 GMT".to_owned(),
            412,
        ),
        (
            "if-unmodified-since",
            "Sun Nov  6 08:49:37 1994".to_owned(),
            412,
        ),
        ("if-unmodified-since", "not a date".to_owned(), 200),
    ];
    for (name, value, status) in cases {
        for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
            let got = client
                .request(method.clone(), &url)
                .header(name, &value)
                .send()
                .await
                .expect("conditional request");
            assert_eq!(got.status(), status, "{method} {name}: {value}");
        }
    }
    // If-Match wins over If-Unmodified-Since, and 412 comes before ranges.
    let got = client
        .get(&url)
        .header("if-match", &etag)
        .header("if-unmodified-since", "Sun, 06 Nov 1994 08:49:37 GMT")
        .send()
        .await
        .expect("GET");
    assert_eq!(got.status(), 200);
    let got = client
        .get(&url)
        .header("if-match", "\"other\"")
        .header("range", "bytes=0-9")
        .send()
        .await
        .expect("GET");
    assert_eq!(got.status(), 412);
}

/// Issue 24: `If-Modified-Since` in the obsolete asctime and RFC 850 forms
/// (which recipients must accept) revalidates like an IMF-fixdate.
#[tokio::test]
async fn issue_24_if_modified_since_takes_asctime_and_rfc_850_dates() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let client = client();
    let url = server.url("dists/stable/InRelease");
    let first = client.head(&url).send().await.expect("HEAD");
    let modified = header(&first, "last-modified");
    let date = chrono::NaiveDateTime::parse_from_str(&modified, "%a, %d %b %Y %H:%M:%S GMT")
        .expect("IMF-fixdate");
    let old = chrono::NaiveDateTime::parse_from_str("1994-11-06 08:49:37", "%Y-%m-%d %H:%M:%S")
        .expect("date");
    for (form, format) in [
        ("asctime", "%a %b %e %H:%M:%S %Y"),
        ("RFC 850", "%A, %d-%b-%y %H:%M:%S GMT"),
    ] {
        for (when, status) in [(date, 304), (old, 200)] {
            let value = when.format(format).to_string();
            let got = client
                .get(&url)
                .header("if-modified-since", &value)
                .send()
                .await
                .expect("GET");
            assert_eq!(got.status(), status, "{form}: {value}");
        }
    }
}

/// Issue 24: an HTTP/1.1 request must carry exactly one `Host` (RFC 9112
/// §3.2); HTTP/1.0 ones need none.
#[tokio::test]
async fn issue_24_http_1_1_requests_need_exactly_one_host() {
    let (_dir, root) = tree();
    let server = Running::start(&root);
    let addr = server.addr;
    let path = "/dists/stable/InRelease";
    for (request, status) in [
        (
            format!("GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n"),
            400,
        ),
        (
            format!("GET {path} HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"),
            400,
        ),
        (
            format!("GET http://{addr}{path} HTTP/1.1\r\nConnection: close\r\n\r\n"),
            400,
        ),
        (
            format!("GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
            200,
        ),
        (format!("GET {path} HTTP/1.0\r\n\r\n"), 200),
    ] {
        let got = raw_request(addr, &request).await;
        assert_eq!(got.status, status, "{request:?}");
    }
}

/// Issue 24: a symlink loop answered 500 (and logged a warning per
/// request); it is a path that leads nowhere, 404.
#[tokio::test]
async fn issue_24_a_symlink_loop_is_not_found() {
    let (_dir, root) = tree();
    std::os::unix::fs::symlink("loop-b", root.join("pool/loop-a")).expect("symlink a");
    std::os::unix::fs::symlink("loop-a", root.join("pool/loop-b")).expect("symlink b");
    std::os::unix::fs::symlink("self", root.join("pool/self")).expect("symlink self");
    let server = Running::start(&root);
    for target in [
        "/pool/loop-a",
        "/pool/self",
        "/pool/self/x",
        "/pool/loop-b/",
    ] {
        let got = raw_get(server.addr, target).await;
        assert_eq!(got.status, 404, "{target}");
    }
    let listing = raw_get(server.addr, "/pool/").await;
    assert_eq!(listing.status, 200);
}

/// Issue 24: a client that stops reading a large download held its
/// connection (buffers and a descriptor) forever. One that accepts no
/// byte for the idle timeout is closed, and counted.
#[tokio::test]
async fn issue_24_a_reader_that_stops_is_closed_after_the_idle_timeout() {
    let (_dir, root) = tree();
    write(&root, BIG, &big());
    let mut server = Running::with(ServeOptions {
        idle_timeout: Duration::from_secs(1),
        ..options(&root)
    });
    let addr = server.addr;

    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("small receive buffer");
    let mut stalled = socket.connect(addr).await.expect("connect");
    let request = format!("GET /{BIG} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stalled
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    // Not reading: the server's buffers fill, then its writes stall.
    tokio::time::sleep(Duration::from_secs(4)).await;

    // A reader that keeps reading is not cut off, however long it takes.
    let got = raw_get(addr, "/dists/stable/InRelease").await;
    assert_eq!(got.status, 200);

    let mut received = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(20), stalled.read_to_end(&mut received))
        .await
        .expect("the stalled connection ends");
    // Closed (maybe reset, with data unsent) before the body was complete.
    assert!(
        received.len() < BIG_LEN,
        "{} bytes of {BIG_LEN}: {end:?}",
        received.len()
    );
    let stats = tokio::task::spawn_blocking(move || server.join())
        .await
        .expect("join")
        .expect("served");
    assert_eq!(stats.idle_closed, 1, "{stats:?}");
}

/// Issue 24: at most `max_connections` are served at once; further ones
/// wait (in the listen backlog) until one closes, and reaching the limit
/// is counted.
#[tokio::test]
async fn issue_24_connections_beyond_the_limit_wait_for_a_free_one() {
    let (_dir, root) = tree();
    let mut server = Running::with(ServeOptions {
        max_connections: 2,
        ..options(&root)
    });
    let addr = server.addr;
    let request = format!("GET /dists/stable/Release HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut open = Vec::new();
    for _ in 0..2 {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut reader = BufReader::new(stream);
        reader
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("send");
        assert_eq!(read_response(&mut reader, false).await.status, 200);
        open.push(reader);
    }
    // A third waits while both are kept alive...
    let mut third = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
    third
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .expect("send");
    let mut byte = [0; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut byte)).await;
    assert!(early.is_err(), "answered beyond the limit: {early:?}");
    // ... and is answered once one of them leaves.
    drop(open.pop());
    let got = tokio::time::timeout(Duration::from_secs(10), read_response(&mut third, false))
        .await
        .expect("answered once a connection is free");
    assert_eq!(got.status, 200);
    drop(open);
    drop(third);
    let stats = tokio::task::spawn_blocking(move || server.join())
        .await
        .expect("join")
        .expect("served");
    assert_eq!(stats.connections, 3, "{stats:?}");
    assert!(stats.limit_reached >= 1, "{stats:?}");
}

/// Cached files go out with `sendfile` in place of placeholder frames
/// (`src/serve/sendfile.rs`): requests pipelined on one connection, read
/// only once all were sent (so the socket fills and sends stop midway),
/// get each body's own bytes, ranges and `HEAD` included.
#[tokio::test]
async fn pipelined_file_bodies_keep_their_bytes() {
    let (_dir, root) = tree();
    let data = big();
    write(&root, BIG, &data);
    let deb = content(DEB_LEN, 1);
    let server = Running::start(&root);
    let addr = server.addr;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let get = |target: &str, extra: &str| {
        format!("GET /{target} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n")
    };
    let requests = [
        get(BIG, ""),
        get(DEB, ""),
        get(BIG, "Range: bytes=3000000-5100000\r\n"),
        format!("HEAD /{BIG} HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        get(DEB, "Range: bytes=-1000\r\n"),
        get(BIG, ""),
    ];
    stream
        .write_all(requests.concat().as_bytes())
        .await
        .expect("send requests");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut reader = BufReader::new(stream);
    let expected: [(u16, &[u8], bool); 6] = [
        (200, &data, false),
        (200, &deb, false),
        (206, &data[3_000_000..=5_100_000], false),
        (200, &[], true),
        (206, &deb[DEB_LEN - 1000..], false),
        (200, &data, false),
    ];
    for (i, (status, body, head)) in expected.into_iter().enumerate() {
        let got = read_response(&mut reader, head).await;
        assert_eq!(got.status, status, "response {i}");
        assert!(
            got.body == body,
            "response {i}: other bytes than the file's"
        );
    }
}
