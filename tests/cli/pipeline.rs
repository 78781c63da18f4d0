//! `debvault::fetch::Pipeline`: pipelined GETs of many small files, against a
//! scripted raw socket (to see the pipelining itself) and the misbehaving
//! fixture server (to see every failure end as the ordinary path ends it).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use crate::support::server::{Fault, FixtureServer};
use debvault::digest::Sha256;
use debvault::fetch::{Expected, FetchError, FetchOptions, Fetcher, Item};
use url::Url;

fn fetcher() -> Fetcher {
    Fetcher::new(FetchOptions {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        retries: 2,
        min_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..FetchOptions::default()
    })
    .expect("client builds")
}

fn body(i: usize) -> Vec<u8> {
    format!("file {i} ").repeat(40 + i).into_bytes()
}

fn expected(data: &[u8]) -> Expected {
    Expected {
        size: Some(data.len() as u64),
        sha256: Some(Sha256::of(data)),
        max_size: None,
    }
}

/// Reads from `stream` until `n` request heads have arrived; their targets.
fn read_requests(stream: &mut TcpStream, n: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while seen.windows(4).filter(|w| w == b"\r\n\r\n").count() < n {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => seen.extend_from_slice(&buf[..k]),
        }
    }
    String::from_utf8_lossy(&seen)
        .lines()
        .filter_map(|l| l.strip_prefix("GET "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect()
}

fn answer(data: &[u8], close: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{}\r\n",
        data.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes();
    out.extend_from_slice(data);
    out
}

/// The three requests arrive before any answer is sent (a client waiting for
/// each answer would stall here and fail); the server answers two and closes,
/// and the third is asked again on a new connection.
#[tokio::test]
async fn requests_are_pipelined_and_resent_after_a_close() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let files: Vec<Vec<u8>> = (0..3).map(body).collect();
    let served = files.clone();
    let server = std::thread::spawn(move || {
        let (mut first, _) = listener.accept().expect("first connection");
        first
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let on_first = read_requests(&mut first, 3);
        first.write_all(&answer(&served[0], false)).expect("write");
        first.write_all(&answer(&served[1], true)).expect("write");
        drop(first);
        let (mut second, _) = listener.accept().expect("second connection");
        second
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let on_second = read_requests(&mut second, 1);
        second.write_all(&answer(&served[2], false)).expect("write");
        (on_first, on_second)
    });
    let base = Url::parse(&format!("http://{addr}/debian/")).expect("url");
    let mut pipeline = fetcher().pipeline(&base).expect("plain http pipelines");
    let names = ["pool/a.deb", "pool/b_1:2.0+x~y.deb", "pool/c.deb"];
    let items: Vec<Item<'_>> = names
        .iter()
        .zip(&files)
        .map(|(rel, data)| Item {
            rel,
            expected: expected(data),
        })
        .collect();
    let results = pipeline.fetch(&items).await;
    let (on_first, on_second) = server.join().expect("server");
    assert_eq!(
        on_first,
        [
            "/debian/pool/a.deb",
            "/debian/pool/b_1:2.0+x~y.deb",
            "/debian/pool/c.deb"
        ]
    );
    assert_eq!(on_second, ["/debian/pool/c.deb"]);
    for (result, data) in results.into_iter().zip(&files) {
        let (got, downloaded) = result.expect("fetched");
        assert_eq!(&got, data);
        assert_eq!(downloaded.attempts, 1);
        assert_eq!(downloaded.sha256, Sha256::of(data));
    }
}

struct Upstream {
    _dir: tempfile::TempDir,
    server: FixtureServer,
    names: Vec<String>,
    files: Vec<Vec<u8>>,
}

fn upstream(n: usize) -> Upstream {
    let dir = tempfile::tempdir().expect("tempdir");
    let root: PathBuf = dir.path().join("root");
    let names: Vec<String> = (0..n).map(|i| format!("pool/main/p/p{i}.deb")).collect();
    let files: Vec<Vec<u8>> = (0..n).map(body).collect();
    for (name, data) in names.iter().zip(&files) {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, data).expect("write");
    }
    let server = FixtureServer::start(root);
    Upstream {
        _dir: dir,
        server,
        names,
        files,
    }
}

impl Upstream {
    async fn fetch(&self) -> Vec<debvault::fetch::Fetched> {
        self.pipeline().fetch(&self.items()).await
    }

    fn pipeline(&self) -> debvault::fetch::Pipeline {
        let base = Url::parse(&format!("{}/", self.server.url())).expect("url");
        fetcher().pipeline(&base).expect("pipeline")
    }

    /// Every file, for [`debvault::fetch::Pipeline::fetch`].
    fn items(&self) -> Vec<Item<'_>> {
        self.names
            .iter()
            .zip(&self.files)
            .map(|(rel, data)| Item {
                rel,
                expected: expected(data),
            })
            .collect()
    }

    fn requests_for(&self, i: usize) -> Vec<(u16, Option<String>)> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with(&format!("/p{i}.deb")))
            .map(|r| (r.status, r.range))
            .collect()
    }
}

/// Answers that go wrong once are retried the ordinary way, with the
/// pipelined try counted as the first attempt, and the files behind them in
/// the batch still arrive.
#[tokio::test]
async fn a_bad_answer_continues_the_ordinary_way() {
    let up = upstream(12);
    let half = up.files[8].len() as u64 / 2;
    up.server.fault("/p2.deb", Fault::StatusTimes(500, 1));
    up.server.fault("/p8.deb", Fault::TruncateTimes(half, 1));
    for (i, result) in up.fetch().await.into_iter().enumerate() {
        let (got, _) = result.expect("fetched");
        assert_eq!(got, up.files[i], "file {i}");
    }
    assert_eq!(up.requests_for(2), [(500, None), (200, None)]);
    // A truncated body resumes where the pipelined answer stopped.
    assert_eq!(
        up.requests_for(8),
        [(200, None), (206, Some(format!("bytes={half}-")))]
    );
}

/// Answers that keep going wrong end in the error (and after the requests)
/// the ordinary path gives; the results stop at that file.
#[tokio::test]
async fn a_lasting_bad_answer_fails_that_file_as_before() {
    type Check = fn(&FetchError) -> bool;
    let cases: [(Fault, Check, Vec<u16>); 4] = [
        (
            Fault::Corrupt,
            |e| matches!(e, FetchError::HashMismatch { .. }),
            // Fetched once more from scratch, then given up.
            vec![200, 200],
        ),
        (
            Fault::Status(404),
            |e| matches!(e, FetchError::Status { status, .. } if status.as_u16() == 404),
            // Not retried.
            vec![404],
        ),
        (
            Fault::Status(503),
            |e| matches!(e, FetchError::Status { status, .. } if status.as_u16() == 503),
            // The pipelined try and two retries.
            vec![503, 503, 503],
        ),
        (
            // Redirected to another file's bytes.
            Fault::Redirect("/pool/main/p/p0.deb".into()),
            |e| matches!(e, FetchError::SizeMismatch { .. }),
            vec![302, 302],
        ),
    ];
    for (fault, check, statuses) in cases {
        let up = upstream(8);
        up.server.fault("/p4.deb", fault.clone());
        let results = up.fetch().await;
        assert_eq!(results.len(), 5, "{fault:?}: stops at the failed file");
        for (i, result) in results[..4].iter().enumerate() {
            let (got, _) = result.as_ref().expect("fetched");
            assert_eq!(got, &up.files[i], "{fault:?}: file {i}");
        }
        let err = results[4].as_ref().expect_err("fails");
        assert!(check(err), "{fault:?}: {err:?}");
        assert!(err.to_string().contains("/pool/main/p/p4.deb"), "{err}");
        let got: Vec<u16> = up.requests_for(4).into_iter().map(|r| r.0).collect();
        assert_eq!(got, statuses, "{fault:?}");
    }
}

/// A server that closes every connection after three answers (a keep-alive
/// request limit) gets each file asked once, on fresh connections.
#[tokio::test]
async fn a_keep_alive_limit_costs_reconnects_only() {
    let up = upstream(20);
    up.server.keep_alive_limit(3);
    for (i, result) in up.fetch().await.into_iter().enumerate() {
        let (got, downloaded) = result.expect("fetched");
        assert_eq!(got, up.files[i], "file {i}");
        assert_eq!(downloaded.attempts, 1, "file {i}");
    }
    let requests = up.server.requests();
    assert_eq!(requests.len(), 20, "{requests:?}");
    let mut per_connection = std::collections::BTreeMap::<u64, usize>::new();
    for r in &requests {
        *per_connection.entry(r.connection).or_default() += 1;
    }
    assert!(
        per_connection.values().all(|&n| n <= 3),
        "{per_connection:?}"
    );
    assert_eq!(per_connection.len(), 7, "{per_connection:?}");
}

/// Nothing listening: the first file fails as the ordinary path fails, naming it.
#[tokio::test]
async fn a_refused_connection_fails_the_first_file_by_name() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let base = Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url");
    let mut pipeline = fetcher().pipeline(&base).expect("pipeline");
    let data = body(1);
    let items = [
        Item {
            rel: "pool/x.deb",
            expected: expected(&data),
        },
        Item {
            rel: "pool/y.deb",
            expected: expected(&data),
        },
    ];
    let results = pipeline.fetch(&items).await;
    assert_eq!(results.len(), 1, "stops at the first failure");
    let err = results[0].as_ref().expect_err("refused");
    assert!(matches!(err, FetchError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("/pool/x.deb"), "{err}");
}

/// A server whose answers have no length (HTTP/1.0, body until close) is
/// not pipelined to any further: the file it answered that way and every
/// later one are fetched the ordinary way, one connection each.
#[tokio::test]
async fn answers_without_a_length_end_pipelining() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let files: Vec<Vec<u8>> = (0..2).map(body).collect();
    let served = files.clone();
    let server = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for (wanted, file) in [(2, 0), (1, 0), (1, 1)] {
            let (mut conn, _) = listener.accept().expect("connection");
            conn.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            seen.push(read_requests(&mut conn, wanted));
            let mut answer = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
            answer.extend_from_slice(&served[file]);
            conn.write_all(&answer).expect("write");
        }
        seen
    });
    let base = Url::parse(&format!("http://{addr}/")).expect("url");
    let mut pipeline = fetcher().pipeline(&base).expect("pipeline");
    let items = [
        Item {
            rel: "a.deb",
            expected: expected(&files[0]),
        },
        Item {
            rel: "b.deb",
            expected: expected(&files[1]),
        },
    ];
    let results = pipeline.fetch(&items).await;
    for (result, data) in results.into_iter().zip(&files) {
        assert_eq!(&result.expect("fetched").0, data);
    }
    let seen = server.join().expect("server");
    assert_eq!(
        seen,
        [vec!["/a.deb", "/b.deb"], vec!["/a.deb"], vec!["/b.deb"]]
    );
}

/// A server that reads requests and never answers is timed out once per
/// try of the first file, as without pipelining: after the pipelined try
/// times out, that file goes the ordinary way (one more connection per
/// retry), its error ends the batch, and the later files are not tried.
#[tokio::test]
async fn a_silent_server_fails_the_first_file_without_trying_the_rest() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let server = {
        let (stop, seen) = (stop.clone(), seen.clone());
        std::thread::spawn(move || {
            let mut open = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        conn.set_nonblocking(false).expect("blocking");
                        conn.set_read_timeout(Some(Duration::from_millis(300)))
                            .expect("timeout");
                        let requests = read_requests(&mut conn, usize::MAX);
                        seen.lock().expect("lock").push(requests);
                        // Kept open, never answered.
                        open.push(conn);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        })
    };
    let base = Url::parse(&format!("http://{addr}/")).expect("url");
    let fetcher = Fetcher::new(FetchOptions {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(500),
        retries: 2,
        min_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..FetchOptions::default()
    })
    .expect("client");
    let mut pipeline = fetcher.pipeline(&base).expect("pipeline");
    let names: Vec<String> = (0..10).map(|i| format!("f{i}.deb")).collect();
    let data = body(0);
    let items: Vec<Item<'_>> = names
        .iter()
        .map(|rel| Item {
            rel,
            expected: expected(&data),
        })
        .collect();
    let results = pipeline.fetch(&items).await;
    stop.store(true, Ordering::Relaxed);
    server.join().expect("server");
    assert_eq!(results.len(), 1, "stops at the first failure");
    let err = results[0].as_ref().expect_err("silent server");
    assert!(err.is_transient(), "{err:?}");
    assert!(err.to_string().contains("/f0.deb"), "{err}");
    let seen = seen.lock().expect("lock").clone();
    let all: Vec<String> = names.iter().map(|n| format!("/{n}")).collect();
    assert_eq!(
        seen.len(),
        3,
        "one pipelined connection, two retries: {seen:?}"
    );
    assert_eq!(seen[0], all, "{seen:?}");
    assert!(seen[1..].iter().all(|s| s == &["/f0.deb"]), "{seen:?}");
}

impl Upstream {
    /// Fetches every file through one pipeline in batches of `depth`, as a
    /// sync worker does; the pipeline's pace and the time it took.
    async fn fetch_batched(&self, depth: usize) -> (debvault::fetch::Pace, Duration) {
        let mut pipeline = self.pipeline();
        let items = self.items();
        let started = std::time::Instant::now();
        for (batch, files) in items.chunks(depth).zip(self.files.chunks(depth)) {
            let results = pipeline.fetch(batch).await;
            assert_eq!(results.len(), batch.len());
            for (result, data) in results.into_iter().zip(files) {
                assert_eq!(&result.expect("fetched").0, data);
            }
        }
        (pipeline.pace(), started.elapsed())
    }

    /// Fetches every file with single requests (pipelining off); the time.
    async fn fetch_single(&self) -> Duration {
        let fetcher = fetcher();
        let started = std::time::Instant::now();
        for (rel, data) in self.names.iter().zip(&self.files) {
            let url = Url::parse(&format!("{}/{rel}", self.server.url())).expect("url");
            let (got, _) = fetcher
                .download_bytes(&url, &expected(data))
                .await
                .expect("fetched");
            assert_eq!(&got, data);
        }
        started.elapsed()
    }
}

/// Issue 16: a server that holds small pipelined answers the way stock
/// nginx does (Nagle's algorithm on, each answer written on its own) made
/// every batch wait for the client's delayed ACK, 40 ms a batch on
/// loopback: 300 files in batches of 10 took over a second against a tenth
/// of that with single requests. The client now acknowledges at once, so
/// pipelining is not slower than single requests, and no batch stalls.
#[tokio::test]
async fn a_server_holding_small_answers_is_not_slower_pipelined() {
    let up = upstream(300);
    up.server.hold_small_answers();
    let single = up.fetch_single().await;
    let (pace, pipelined) = up.fetch_batched(10).await;
    assert!(pace.batches >= 25, "{pace:?}");
    assert!(!pace.gave_up, "{pace:?}");
    // Stalls cost 40 ms each: 30 of them would be 1.2 s.
    assert!(
        pipelined <= single.mul_f64(1.1) + Duration::from_millis(50),
        "pipelined {pipelined:?} against single requests {single:?} ({pace:?})"
    );
}

/// A server whose pipelined answers come late whatever the client does
/// (here: each answer behind the first of a batch is held 60 ms) is
/// pipelined to for three batches only; every later file is a single
/// request, answered at once.
#[tokio::test]
async fn a_server_that_stalls_pipelined_answers_gets_single_requests() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let files: Vec<Vec<u8>> = (0..100).map(body).collect();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let stop = Arc::new(AtomicBool::new(false));
    // Reads that brought more than one request: pipelined batches.
    let batches = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let server = {
        let (stop, batches, answered) = (stop.clone(), batches.clone(), answered.clone());
        let files = files.clone();
        std::thread::spawn(move || {
            let mut connections = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let Ok((conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                let (batches, answered, files) = (batches.clone(), answered.clone(), files.clone());
                connections.push(std::thread::spawn(move || {
                    stalling_connection(conn, &files, &batches, &answered)
                }));
            }
        })
    };
    let base = Url::parse(&format!("http://{addr}/")).expect("url");
    let mut pipeline = fetcher().pipeline(&base).expect("pipeline");
    let names: Vec<String> = (0..files.len()).map(|i| format!("f{i}")).collect();
    let items: Vec<Item<'_>> = names
        .iter()
        .zip(&files)
        .map(|(rel, data)| Item {
            rel,
            expected: expected(data),
        })
        .collect();
    for (batch, data) in items.chunks(10).zip(files.chunks(10)) {
        for (result, data) in pipeline.fetch(batch).await.into_iter().zip(data) {
            assert_eq!(&result.expect("fetched").0, data);
        }
    }
    stop.store(true, Ordering::Relaxed);
    server.join().expect("server");
    let pace = pipeline.pace();
    assert!(pace.gave_up, "{pace:?}");
    assert_eq!((pace.batches, pace.stalled), (3, 3), "{pace:?}");
    assert_eq!(batches.load(Ordering::Relaxed), 3, "pipelined batches seen");
    assert_eq!(answered.load(Ordering::Relaxed), files.len());
}

/// Serves `f<i>` from `files` on `conn` until the client closes it:
/// the first request of each read at once, any further ones that came with
/// it 60 ms apart.
fn stalling_connection(
    mut conn: TcpStream,
    files: &[Vec<u8>],
    batches: &std::sync::atomic::AtomicUsize,
    answered: &std::sync::atomic::AtomicUsize,
) {
    use std::sync::atomic::Ordering;
    conn.set_nonblocking(false).expect("blocking");
    conn.set_nodelay(true).expect("nodelay");
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut pending = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut heads = Vec::new();
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = pending.drain(..end + 4).collect();
            heads.push(String::from_utf8_lossy(&head).into_owned());
        }
        if heads.len() > 1 {
            batches.fetch_add(1, Ordering::Relaxed);
        }
        for (k, head) in heads.iter().enumerate() {
            if k > 0 {
                std::thread::sleep(Duration::from_millis(60));
            }
            let target = head
                .strip_prefix("GET /f")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|i| i.parse::<usize>().ok());
            let Some(data) = target.and_then(|i| files.get(i)) else {
                return;
            };
            if conn.write_all(&answer(data, false)).is_err() {
                return;
            }
            answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}
