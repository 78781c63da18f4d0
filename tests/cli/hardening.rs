//! Issue 24: secrets stay hidden, file modes do not follow the umask, and
//! files read from outside are capped.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Pkg, Repo, TestEnv, fixture};

/// A config, keyring, key or scope file that never ends (or is merely too
/// big) is a usage error naming the file and the cap, read no further than
/// the cap.
#[test]
fn endless_files_from_outside_are_capped() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .env("DEBVAULT_CONFIG", "/dev/zero")
        .args(["mirror", "list"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`/dev/zero`") && stderr.contains("larger than the 1 MiB limit"),
        "{stderr}"
    );
    // An input over its cap is not a full disk: no such hint.
    assert!(!stderr.contains("want of space"), "{stderr}");
    let url = env.url();
    let cases: [&[&str]; 4] = [
        &[
            "mirror",
            "create",
            "m",
            &url,
            "stable",
            "--keyring",
            "/dev/zero",
        ],
        &["key", "import", "/dev/zero"],
        &["apply", "/dev/zero"],
        &["mirror", "import-apt-sources", "/dev/zero"],
    ];
    for args in cases {
        let out = env.run(args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.transcript());
        assert!(
            out.stderr.contains("/dev/zero") && out.stderr.contains("larger than the 16 MiB limit"),
            "{args:?}: {}",
            out.transcript()
        );
        assert!(
            !out.stderr.contains("want of space"),
            "{}",
            out.transcript()
        );
    }
}

/// `env`'s command for `args`, run under `umask`; its output, asserted
/// successful.
fn run_with_umask(env: &TestEnv, umask: &str, args: &[&str]) -> String {
    let inner = env.cmd();
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("umask {umask}; exec \"$@\""))
        .arg("sh")
        .arg(inner.get_program())
        .args(inner.get_args())
        .args(args);
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let out = c.output().expect("run debvault");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "umask {umask} {args:?}: {text}");
    text
}

/// Every file and directory below `dir` (symlinks not followed), with its mode.
fn modes(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.file_type().is_symlink() {
                continue;
            }
            if meta.is_dir() {
                todo.push(path.clone());
            }
            out.push((path, meta.permissions().mode() & 0o7777));
        }
    }
    out
}

/// Under `umask 000` nothing is world-writable, under `umask 077` the
/// publication stays world-readable; the database and keys are the
/// owner's alone either way.
#[test]
fn modes_do_not_follow_the_umask() {
    for umask in ["000", "077"] {
        let env = TestEnv::new();
        env.publish_upstream(&Repo::new(vec![Pkg::new("app", "1.0")]));
        let key = fixture::public_key("upstream");
        let url = env.url();
        let key = key.to_str().expect("utf-8");
        let create = ["mirror", "create", "m", &url, "stable", "main"];
        run_with_umask(
            &env,
            umask,
            &[&create[..], &["--arch", "amd64", "--keyring", key]].concat(),
        );
        for args in [
            &["mirror", "sync", "m"][..],
            &["snapshot", "create", "s", "--from-mirror", "m"],
            &["key", "generate", "--email", "ops@example.invalid"],
            &["snapshot", "publish", "s", "--distribution", "stable"],
        ] {
            run_with_umask(&env, umask, args);
        }
        let root = env.root();
        let all = modes(&root);
        assert!(all.len() > 20, "{all:?}");
        for (path, mode) in &all {
            let rel = path.strip_prefix(&root).expect("below root");
            let name = rel.to_string_lossy();
            assert_eq!(
                mode & 0o002,
                0,
                "umask {umask}: `{name}` is world-writable ({mode:o})"
            );
            let private = name.starts_with("debvault.db") || name.starts_with("keys");
            if private {
                assert_eq!(mode & 0o077, 0, "umask {umask}: `{name}` ({mode:o})");
            } else if name.starts_with("public") || name.starts_with("blobs/sha256") {
                let want = if path.is_dir() { 0o755 } else { 0o644 };
                assert_eq!(*mode, want, "umask {umask}: `{name}`");
            }
        }
        assert!(root.join("public/dists/stable/InRelease").exists());
    }
}

/// A password in a mirror URL shows as `alice:***@` in list, show, their
/// JSON, `-v` sync logs, errors, the audit trail and an apt sources
/// import; the database holding it is 0600.
#[test]
fn passwords_in_mirror_urls_are_masked_everywhere() {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(vec![Pkg::new("app", "1.0")]));
    let url = env.url().replace("http://", "http://alice:S3cretPW@");
    let key = fixture::public_key("upstream");
    let key = key.to_str().expect("utf-8");
    let mut seen = String::new();
    let mut run = |args: &[&str]| {
        let out = env.run(args);
        seen.push_str(&out.transcript());
        out
    };
    let create = [
        "mirror", "create", "m", &url, "stable", "main", "--arch", "amd64",
    ];
    assert_eq!(run(&[&create[..], &["--keyring", key]].concat()).code, 0);
    assert_eq!(run(&["-v", "mirror", "sync", "m"]).code, 0);
    // A failing sync: the error and the recorded last error.
    env.server
        .fault("InRelease", crate::support::Fault::Status(500));
    env.server
        .fault("Release", crate::support::Fault::Status(500));
    let bad = ["--keyring", key, "--json"];
    assert_eq!(
        run(&[
            "mirror",
            "create",
            "n",
            &url,
            "oldstable",
            "main",
            "--arch",
            "amd64",
            bad[0],
            bad[1]
        ])
        .code,
        0
    );
    assert_ne!(run(&["-v", "mirror", "sync", "n"]).code, 0);
    env.server.clear_faults();
    for args in [
        &["mirror", "list"][..],
        &["mirror", "list", "--json"],
        &["mirror", "show", "m"],
        &["mirror", "show", "n", "--json"],
        &["status"],
        &["audit"],
        &["audit", "--json"],
    ] {
        run(args);
    }
    let sources = env.dir.path().join("sources.list");
    std::fs::write(&sources, format!("deb {url} bookworm main\n")).expect("write");
    let sources = sources.to_str().expect("utf-8");
    run(&["mirror", "import-apt-sources", "--dry-run", sources]);
    run(&["mirror", "import-apt-sources", "--json", sources]);
    assert!(!seen.contains("S3cretPW"), "{seen}");
    assert!(seen.contains("alice:***@127.0.0.1"), "{seen}");
    assert!(
        env.server.requests().iter().all(|r| r.authorized),
        "the password is still sent"
    );
    let mode = std::fs::metadata(env.root().join("debvault.db"))
        .expect("database")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Credentials from an apt-style auth file go to the matching scheme, host,
/// port and path only, as basic auth, and are never shown; an auth file
/// others may read is warned about; a database others could read is made
/// 0600 on open, with a warning once.
#[test]
fn an_auth_file_supplies_credentials_to_its_machine_only() {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(vec![Pkg::new("app", "1.0")]));
    let auth = env.dir.path().join("auth.conf");
    let machine = env.url().replace("http://", "");
    std::fs::write(
        &auth,
        format!(
            "machine {machine}/elsewhere login bob password NotThis\n\
             machine http://{machine} login alice password S3cretPW\n"
        ),
    )
    .expect("write");
    std::fs::set_permissions(&auth, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    env.create_mirror("m", &[]);
    let db = env.root().join("debvault.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = env
        .cmd()
        .env("DEBVAULT_AUTH_FILE", &auth)
        .args(["-v", "mirror", "sync", "m"])
        .output()
        .expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("is readable by others (mode 644)"), "{text}");
    assert!(
        text.contains("debvault.db` was readable by others (mode 644); made it 0600"),
        "{text}"
    );
    assert!(
        !text.contains("S3cretPW") && !text.contains("NotThis"),
        "{text}"
    );
    let requests = env.server.requests();
    assert!(
        !requests.is_empty() && requests.iter().all(|r| r.authorized),
        "{requests:?}"
    );
    let again = env.ok(&["mirror", "list"]);
    assert!(
        !again.stderr.contains("made it 0600"),
        "once: {}",
        again.stderr
    );

    // Another host (the same server by another name) gets nothing.
    env.server.clear_requests();
    let other = env.url().replace("127.0.0.1", "localhost");
    let key = fixture::public_key("upstream");
    env.ok(&[
        "mirror",
        "create",
        "o",
        &other,
        "stable",
        "main",
        "--arch",
        "amd64",
        "--keyring",
        key.to_str().expect("utf-8"),
    ]);
    let out = env
        .cmd()
        .env("DEBVAULT_AUTH_FILE", &auth)
        .args(["mirror", "sync", "o"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let requests = env.server.requests();
    assert!(
        !requests.is_empty() && requests.iter().all(|r| !r.authorized),
        "{requests:?}"
    );
}
