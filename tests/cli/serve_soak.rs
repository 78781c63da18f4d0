//! `debvault serve` under abuse (issue 24): readers that stop reading a
//! large download and slowloris connections, while normal requests go on.
//! The abusers are closed by the idle timeout and the request-head timeout,
//! and the process's memory and descriptors come back to where they were.
//!
//! Bounds are generous (a loaded 2-core machine runs this): nothing here
//! asserts how fast anything is, only that it ends within a long deadline.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::serve_cli::spawn_serve;
use crate::support::TestEnv;

const STALLED: usize = 200;
const SLOWLORIS: usize = 300;
const REQUESTS: usize = 1000;
const CLIENT_THREADS: usize = 8;
/// Large enough that the kernel's socket buffers fill long before the end.
const BIG_LEN: u64 = 64 << 20;
const BIG: &str = "pool/main/b/big/big_1.0_amd64.deb";
const IN_RELEASE: &[u8] = b"Origin: debvault\nSuite: stable\n";
/// How long the abusers may take to be closed and the resources to come
/// back, however loaded the machine.
const DEADLINE: Duration = Duration::from_secs(40);
/// How far above its start the RSS may stay: the allocator keeps some
/// (up to ~28 MiB seen with two soaks at once on 2 cores); before the
/// fix, 200 stalled readers kept ~100 MiB.
const RSS_SLACK_KIB: u64 = 48 * 1024;

/// `VmRSS` (KiB) and the number of open descriptors of process `pid`.
fn usage(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let rss = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("proc fd")
        .count();
    (rss, fds)
}

fn tree(root: &Path) {
    std::fs::create_dir_all(root.join("dists/stable")).expect("mkdir");
    std::fs::write(root.join("dists/stable/InRelease"), IN_RELEASE).expect("write");
    let big = root.join(BIG);
    std::fs::create_dir_all(big.parent().expect("parent")).expect("mkdir");
    // Sparse: instant to make, read as zeros.
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(BIG_LEN))
        .expect("big file");
}

/// A connection with a tiny receive buffer (set before connecting, so the
/// window it advertises stays small) that asks for the big file and never
/// reads.
fn stalled_reader(addr: SocketAddr) -> TcpStream {
    use rustix::net::{AddressFamily, SocketType, connect, socket, sockopt};
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None).expect("socket");
    sockopt::set_socket_recv_buffer_size(&fd, 4096).expect("SO_RCVBUF");
    connect(&fd, &addr).expect("connect");
    let mut stream = TcpStream::from(fd);
    let request = format!("GET /{BIG} HTTP/1.1\r\nHost: soak\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send request");
    stream
}

/// A slowloris connection: nothing, half a request line, or headers that
/// never end (more of them trickle in later).
fn slowloris(addr: SocketAddr, i: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let start: &[u8] = match i % 3 {
        0 => b"",
        1 => b"GET /dists/sta",
        _ => b"GET /dists/stable/InRelease HTTP/1.1\r\nHost: soak\r\nX-a: ",
    };
    stream.write_all(start).expect("send");
    stream
}

/// One normal request on its own connection; its status and body length.
fn normal(addr: SocketAddr, i: usize) -> (u16, usize) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let request = if i.is_multiple_of(4) {
        format!(
            "GET /{BIG} HTTP/1.1\r\nHost: soak\r\nRange: bytes=0-1023\r\nConnection: close\r\n\r\n"
        )
    } else {
        "GET /dists/stable/InRelease HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n".to_owned()
    };
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read response");
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or(0, |(_, body)| body.len());
    (status, body)
}

/// Whether the server closed `stream` (end of stream or a reset, after
/// at most what was in flight); if not, what happened instead.
fn closed_by_server(stream: &mut TcpStream) -> Result<(), String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut buf = [0; 64 * 1024];
    let mut total = 0_u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                total += n as u64;
                if total >= BIG_LEN {
                    return Err(format!("all {total} bytes sent"));
                }
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => {
                return match err.kind() {
                    ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe => Ok(()),
                    _ => Err(format!("{err} after {total} bytes")),
                };
            }
        }
    }
}

#[test]
fn issue_24_serve_soak_stalled_readers_and_slowloris_are_closed_and_resources_return() {
    let env = TestEnv::new();
    let root = env.dir.path().join("public");
    tree(&root);
    let dir = root.display().to_string();
    let (child, stderr, addr) = spawn_serve(
        &env,
        &[
            "--dir",
            &dir,
            "--listen",
            "127.0.0.1:0",
            "--idle-timeout",
            "2s",
        ],
    );
    let pid = child.id();
    let mut reaper = Reaper(Some(pid));
    let addr: SocketAddr = addr.parse().expect("address");
    // The access log is drained as it comes: a full pipe would stall serve.
    let log = std::thread::spawn(move || {
        let mut stderr = stderr;
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        log
    });

    // Warm up (worker threads, allocator arenas), then take the baseline.
    for i in 0..40 {
        assert_eq!(
            normal(addr, i).0,
            if i.is_multiple_of(4) { 206 } else { 200 }
        );
    }
    let (rss_start, fds_start) = usage(pid);

    let mut stalled: Vec<TcpStream> = (0..STALLED).map(|_| stalled_reader(addr)).collect();
    let mut slow: Vec<TcpStream> = (0..SLOWLORIS).map(|i| slowloris(addr, i)).collect();

    // Normal traffic meanwhile, from a few client threads.
    let clients: Vec<_> = (0..CLIENT_THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                (t..REQUESTS)
                    .step_by(CLIENT_THREADS)
                    .map(|i| (i, normal(addr, i)))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    // Headers that trickle in, a byte at a time, while the clients run.
    for stream in slow.iter_mut().skip(2).step_by(3) {
        let _ = stream.write_all(b"x");
    }
    let mut answered = 0;
    for client in clients {
        for (i, (status, body)) in client.join().expect("client thread") {
            let want = if i.is_multiple_of(4) {
                (206, 1024)
            } else {
                (200, IN_RELEASE.len())
            };
            assert_eq!((status, body), want, "request {i}");
            answered += 1;
        }
    }
    assert_eq!(answered, REQUESTS);
    let (rss_loaded, fds_loaded) = usage(pid);

    // The abusers are closed, and the descriptors and memory come back.
    let deadline = Instant::now() + DEADLINE;
    let (rss_end, fds_end) = loop {
        let (rss, fds) = usage(pid);
        // Waits for all to close, though the bound asserted is looser: a
        // stalled reader still open holds two (its socket and its file),
        // and reading it below would make it progress, never idle.
        let back = fds <= fds_start && rss <= rss_start + RSS_SLACK_KIB;
        if back || Instant::now() > deadline {
            break (rss, fds);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        fds_end <= fds_start + 20,
        "fds: {fds_start} at start, {fds_loaded} loaded, {fds_end} after {DEADLINE:?}"
    );
    for (i, stream) in stalled.iter_mut().enumerate() {
        let closed = closed_by_server(stream);
        assert!(closed.is_ok(), "stalled reader {i} still open: {closed:?}");
    }
    for (i, stream) in slow.iter_mut().enumerate() {
        let closed = closed_by_server(stream);
        assert!(closed.is_ok(), "slowloris {i} still open: {closed:?}");
    }
    assert!(
        rss_end <= rss_start + RSS_SLACK_KIB,
        "RSS: {rss_start} KiB at start, {rss_loaded} KiB loaded, {rss_end} KiB after"
    );

    eprintln!(
        "soak: RSS {rss_start} -> {rss_loaded} -> {rss_end} KiB, fds {fds_start} -> {fds_loaded} -> {fds_end}"
    );
    // Still serving, and the summary counts what was closed.
    assert_eq!(normal(addr, 1).0, 200);
    drop(stalled);
    drop(slow);
    reaper.0 = None;
    let (exit, log) = stop(child, log);
    assert!(exit.success(), "serve exited with {exit}; log:\n{log}");
    let idle: usize = regex::Regex::new(r"(\d+) closed idle")
        .expect("regex")
        .captures(&log)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or_else(|| panic!("no summary in:\n{log}"));
    assert!(idle >= STALLED, "{idle} closed idle:\n{log}");
}

/// Kills `serve` if the test fails before stopping it.
struct Reaper(Option<u32>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// SIGTERM, then the exit status and the whole log.
fn stop(
    mut child: std::process::Child,
    log: std::thread::JoinHandle<String>,
) -> (std::process::ExitStatus, String) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    (exit, log.join().expect("log thread"))
}
