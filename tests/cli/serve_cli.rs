//! `debvault serve` as a process: binds, serves, logs each request, stops on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, Command, Stdio};

use crate::support::TestEnv;

/// `debvault serve <args>` started, with its stderr after the banner and
/// the address the banner names.
pub(crate) fn spawn_serve(env: &TestEnv, args: &[&str]) -> (Child, BufReader<ChildStderr>, String) {
    let mut child = env
        .cmd()
        .arg("serve")
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("read banner");
    let Some(addr) = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
    else {
        let _ = child.kill();
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        panic!("no address in the banner: {first}{rest}");
    };
    let addr = addr.to_owned();
    (child, stderr, addr)
}

/// Stops `serve` with SIGTERM; its exit status and the rest of its stderr.
pub(crate) fn stop_serve(
    mut child: Child,
    mut stderr: BufReader<ChildStderr>,
) -> (std::process::ExitStatus, String) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    let mut log = String::new();
    stderr.read_to_string(&mut log).expect("read log");
    (exit, log)
}

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

/// Issue 24: "cannot listen" said neither why nor what to do; the OS cause
/// (here: the address is taken) is part of the message.
#[test]
fn issue_24_cannot_listen_names_the_os_cause() {
    let env = TestEnv::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("address").to_string();
    let dir = env.dir.path().display().to_string();
    let out = env.run(&["serve", "--dir", &dir, "--listen", &addr]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    let stderr = out.stderr.to_lowercase();
    assert!(
        stderr.contains(&format!("`{addr}`")) && stderr.contains("address already in use"),
        "{}",
        out.transcript()
    );
}

/// Issue 24: `[serve] idle-timeout` and `max-connections` are range-checked
/// at load (a usage error naming the key and where the value came from),
/// and `--idle-timeout`/`--max-connections` override them.
#[test]
fn issue_24_serve_limits_come_from_config_or_flags_and_are_checked() {
    let env = TestEnv::new();
    let dir = env.dir.path().display().to_string();
    let config = env.root().join("config.toml");
    std::fs::create_dir_all(env.root()).expect("mkdir root");
    std::fs::write(&config, "[serve]\nidle-timeout = 0\nmax-connections = 0\n").expect("write");
    let serve = |extra: &[&str]| {
        let mut args = vec!["serve", "--dir", &dir, "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        env.run(&args)
    };
    let out = serve(&[]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("`serve.idle-timeout`") && out.stderr.contains("config.toml"),
        "{}",
        out.transcript()
    );
    let out = serve(&["--idle-timeout", "5s"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("`serve.max-connections`"),
        "{}",
        out.transcript()
    );
    let out = serve(&["--idle-timeout", "0", "--max-connections", "3"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("`serve.idle-timeout`") && out.stderr.contains("--idle-timeout"),
        "{}",
        out.transcript()
    );
    let out = serve(&["--idle-timeout", "soon"]);
    assert_eq!(out.code, 2, "{}", out.transcript());

    std::fs::write(
        &config,
        "[serve]\nidle-timeout = 30\nmax-connections = 100\n",
    )
    .expect("write");
    let out = env.run(&["config", "show"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(
        out.stdout.contains("serve.idle-timeout") && out.stdout.contains("serve.max-connections"),
        "{}",
        out.transcript()
    );

    // Valid flags over a valid file: it serves, and says what it closed.
    let (child, stderr, addr) = spawn_serve(
        &env,
        &[
            "--dir",
            &dir,
            "--listen",
            "127.0.0.1:0",
            "--idle-timeout",
            "1m",
            "--max-connections",
            "1",
        ],
    );
    let mut conn = TcpStream::connect(&addr).expect("connect");
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut response = String::new();
    conn.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let (exit, log) = stop_serve(child, stderr);
    assert!(exit.success(), "serve exited with {exit}; log:\n{log}");
    assert!(log.contains("1 connection"), "summary in:\n{log}");
}
