//! `debvault serve` as a process: binds, serves, logs each request, stops on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::support::TestEnv;

#[test]
fn serves_the_publish_root_and_stops_on_sigterm() {
    let env = TestEnv::new();
    let public = env.root().join("public");
    std::fs::create_dir_all(public.join("dists/stable")).expect("mkdir");
    std::fs::write(public.join("dists/stable/InRelease"), b"hello apt\n").expect("write");
    let mut child = env
        .cmd()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("read banner");
    assert!(
        first.starts_with("serving `") && first.contains("/public`"),
        "{first}"
    );
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("address in banner")
        .to_owned();

    let mut conn = TcpStream::connect(&addr).expect("connect");
    conn.write_all(b"GET /dists/stable/InRelease HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut response = String::new();
    conn.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("hello apt\n"), "{response}");

    let mut conn = TcpStream::connect(&addr).expect("connect");
    conn.write_all(b"GET /../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut response = String::new();
    conn.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    let mut log = String::new();
    stderr.read_to_string(&mut log).expect("read log");
    assert!(exit.success(), "serve exited with {exit}; log:\n{log}");
    assert!(
        log.contains("/dists/stable/InRelease") && log.contains("200"),
        "access log:\n{log}"
    );
}

/// Durations and directories from the command line are checked before
/// anything runs: a duration past 100 years (which panicked in date
/// arithmetic) and a `serve --dir` that does not exist (which was created)
/// are usage errors, exit 2, naming the flag or the path.
#[test]
fn out_of_range_durations_and_missing_dirs_are_usage_errors() {
    let env = TestEnv::new();
    for (args, names) in [
        (
            &["snapshot", "publish", "s", "--valid-for", "100000000d"][..],
            "--valid-for",
        ),
        (&["audit", "--since", "100000000d"], "--since"),
        (&["staged", "report", "--since", "100000000d"], "--since"),
        (
            &["status", "--check", "--max-age", "106751991168d"],
            "--max-age",
        ),
        (&["gc", "--grace", "100000000d"], "--grace"),
    ] {
        let out = env.run(args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.transcript());
        assert!(out.stderr.contains(names), "{args:?}: {}", out.transcript());
        assert!(!out.stderr.contains("panicked"), "{}", out.transcript());
    }
    let missing = env.dir.path().join("no-such-dir");
    let out = env.run(&[
        "serve",
        "--dir",
        &missing.display().to_string(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("no-such-dir"), "{}", out.transcript());
    assert!(!missing.exists(), "not created");
}
