//! `kill -9` at seeded moments of `mirror sync` and `snapshot publish`:
//! afterwards the database passes SQLite's integrity check, `verify` finds
//! every referenced blob and the publication whole, re-running the command
//! completes, and the real `apt-get update` still takes the publication.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::apt::{Apt, Serve, Sources};
use crate::support::{Fault, Output, Pkg, Repo, TestEnv, json};

/// Kill points per command.
const ROUNDS: u32 = 20;

/// A small seeded generator (xorshift64*): the same kill moments every run.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// Starts `args` and SIGKILLs it after `delay` unless it ended first;
/// returns whether it was killed.
fn kill_after(env: &TestEnv, args: &[&str], delay: Duration) -> bool {
    let mut child: Child = env
        .cmd()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let killed = child.try_wait().unwrap().is_none();
    if killed {
        child.kill().unwrap();
    }
    child.wait().unwrap();
    killed
}

/// The database is whole; `verify` passes, or (after a kill between a
/// publication's switch and its record) its only complaint is that the
/// served Release is newer than the recorded one.
fn assert_whole(env: &TestEnv, what: &str) -> bool {
    debvault::db::check_file(&env.root().join("debvault.db"))
        .unwrap_or_else(|e| panic!("{what}: integrity check: {e}"));
    let out = env.run(&["--json", "verify"]);
    let v = json(&out);
    let problems = v["problems"].as_array().unwrap();
    let only_unrecorded = problems.iter().all(|p| {
        p["kind"] == "publication"
            && p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("is not the one recorded"))
    });
    assert!(
        out.code == 0 || (out.code == 3 && only_unrecorded),
        "{what}: {}",
        out.transcript()
    );
    out.code == 0
}

/// A signing key, and its public half exported for apt.
fn keyed(env: &TestEnv) -> std::path::PathBuf {
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let keyring = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &keyring.display().to_string()]);
    keyring
}

fn apt_update(env: &TestEnv, keyring: &std::path::Path, dir: &str) {
    let serve = Serve::start(env);
    let apt = Apt::new(
        env.dir.path().join(dir),
        &serve.url(),
        keyring,
        Sources::OneLine,
    );
    apt.ok(&["update"]);
}

fn round_packages(n: usize, round: u32) -> Vec<Pkg> {
    (0..n)
        .map(|i| Pkg::new(&format!("p{i:04}"), &format!("1.{round}")))
        .collect()
}

#[test]
fn killed_syncs_lose_nothing() {
    let env = TestEnv::new();
    let mut repo = Repo::new(round_packages(120, 0));
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    let keyring = keyed(&env);
    env.ok(&["snapshot", "create", "good", "--from-mirror", "m"]);
    env.ok(&["snapshot", "publish", "good", "--distribution", "stable"]);

    // Every round, upstream has new versions of all 120 packages, each
    // `.deb` answered slowly, so a sync runs for a while.
    env.server
        .fault(".deb", Fault::Slow(Duration::from_millis(40)));
    let mut rng = Seeded(0x9e37_79b9_7f4a_7c15);
    let mut killed = 0;
    for round in 1..=ROUNDS {
        repo.packages = round_packages(120, round);
        repo.date = chrono::Utc::now() + chrono::Duration::seconds(2 * i64::from(round));
        env.publish_upstream(&repo);
        let delay = Duration::from_millis(30 + rng.below(500));
        killed += u32::from(kill_after(&env, &["mirror", "sync", "m"], delay));
        assert!(assert_whole(
            &env,
            &format!("sync round {round}, killed after {delay:?}")
        ));
    }
    assert!(
        killed >= ROUNDS / 2,
        "only {killed} of {ROUNDS} syncs were still running at their kill point"
    );

    // Re-running completes, and the publication made before it all still
    // serves apt.
    env.server.clear_faults();
    env.ok(&["mirror", "sync", "m"]);
    let v = json(&env.ok(&["--json", "mirror", "show", "m"]));
    assert_eq!(v["packages"], 120, "{v}");
    assert!(assert_whole(&env, "after the re-run"));
    apt_update(&env, &keyring, "apt");
}

#[test]
fn killed_publishes_lose_nothing() {
    let env = TestEnv::new();
    let mut repo = Repo::new(round_packages(600, 0));
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    repo.packages = round_packages(600, 1);
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "b", "--from-mirror", "m"]);
    let keyring = keyed(&env);
    env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
    env.ok(&["snapshot", "publish", "b", "--distribution", "stable"]);
    // What a round's switch costs once both snapshots' indices are cached.
    let started = Instant::now();
    env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
    let took = started.elapsed().as_millis() as u64;

    // Switch `stable` between a and b, killed at seeded moments within
    // about one publish's time.
    let mut rng = Seeded(0xd1b5_4a32_d192_ed03);
    let (mut killed, mut unrecorded) = (0, 0);
    for round in 1..=ROUNDS {
        let snapshot = if round % 2 == 1 { "b" } else { "a" };
        let args = ["snapshot", "publish", snapshot, "--distribution", "stable"];
        let delay = Duration::from_millis(5 + rng.below(took));
        killed += u32::from(kill_after(&env, &args, delay));
        let what = format!("publish round {round}, killed after {delay:?}");
        unrecorded += u32::from(!assert_whole(&env, &what));
        // Re-running completes, and then everything verifies.
        env.ok(&args);
        assert!(assert_whole(&env, &format!("{what}, re-run")));
        let v = json(&env.ok(&["--json", "publish", "show", "stable"]));
        assert_eq!(v["snapshot"], snapshot, "{what}: {v}");
    }
    assert!(
        killed >= ROUNDS / 2,
        "only {killed} of {ROUNDS} publishes were still running at their kill point"
    );
    eprintln!(
        "{killed} of {ROUNDS} publishes killed mid-run; {unrecorded} between switch and record"
    );
    apt_update(&env, &keyring, "apt");
}

/// Runs debvault `args` with files limited to `bytes` (RLIMIT_FSIZE, with
/// SIGXFSZ ignored so a write past it fails with EFBIG, as on a full disk).
fn run_limited(env: &TestEnv, bytes: u64, args: &[&str]) -> Output {
    let cmd = env.cmd();
    let mut sh = std::process::Command::new("bash");
    sh.arg("-c")
        .arg(r#"trap '' XFSZ; exec prlimit --fsize="$0" -- "$@""#)
        .arg(bytes.to_string())
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .args(args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    let out = sh.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes that fail for want of space (file-size limit): sync and publish
/// stop with an error naming the file, the previous state stays whole and
/// served, and both succeed once there is room.
#[test]
fn no_space_stops_sync_and_publish_cleanly() {
    let env = TestEnv::new();
    let mut repo = Repo::new(round_packages(400, 0));
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    let keyring = keyed(&env);
    env.ok(&["snapshot", "create", "s0", "--from-mirror", "m"]);
    env.ok(&["snapshot", "publish", "s0", "--distribution", "stable"]);
    let before = json(&env.ok(&["--json", "mirror", "show", "m"]));

    // The new index (over 100 KB uncompressed) cannot be written.
    repo.packages = round_packages(400, 1);
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    let out = run_limited(&env, 64 * 1024, &["mirror", "sync", "m"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("hint: a write failed for want of space"),
        "{}",
        out.transcript()
    );
    let after = json(&env.ok(&["--json", "mirror", "show", "m"]));
    assert_eq!(after["revision"], before["revision"], "{after}");
    assert!(assert_whole(&env, "after the failed sync"));
    env.ok(&["mirror", "sync", "m"]);

    // A publish whose Packages cannot be written leaves `stable` as it was
    // (without Contents and changelogs, whose file lists and texts would
    // hit the limit first, in the database).
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    let out = run_limited(
        &env,
        64 * 1024,
        &[
            "snapshot",
            "publish",
            "s1",
            "--distribution",
            "stable",
            "--set",
            "--no-contents",
            "--no-changelogs",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.transcript());
    assert!(
        out.stderr.contains("File too large")
            && out
                .stderr
                .contains("hint: a write failed for want of space"),
        "{}",
        out.transcript()
    );
    let v = json(&env.ok(&["--json", "publish", "show", "stable"]));
    assert_eq!(v["snapshot"], "s0", "{v}");
    assert!(assert_whole(&env, "after the failed publish"));
    apt_update(&env, &keyring, "apt-before");
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    assert!(assert_whole(&env, "after the publish with room"));
    apt_update(&env, &keyring, "apt-after");
}
