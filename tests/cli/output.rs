//! The output contract (issue 17, `cli/printer.rs`): stdout carries the
//! result only, one JSON document under `--json`; `-q` silences
//! confirmations but not data or warnings; notes go to stderr and are
//! silenced by `-q` and `--json`.

use crate::support::{Output, Pkg, Repo, TestEnv, fixture, json};

/// `debvault [flags] mirror create NAME …` of the fixture upstream.
fn create(env: &TestEnv, flags: &[&str], name: &str) -> Output {
    let key = fixture::public_key("upstream").display().to_string();
    let url = env.url();
    let mut args: Vec<&str> = flags.to_vec();
    args.extend([
        "mirror",
        "create",
        name,
        &url,
        "stable",
        "main",
        "--arch",
        "amd64",
        "--keyring",
        &key,
    ]);
    env.ok(&args)
}

/// The one JSON document on stdout, and nothing on stderr.
fn only_json(out: &Output) -> serde_json::Value {
    assert_eq!(out.stderr, "", "{}", out.transcript());
    json(out)
}

#[test]
fn empty_results_note_on_stderr_only_for_people() {
    let env = TestEnv::new();
    let out = env.ok(&["mirror", "list"]);
    assert_eq!(out.stdout, "", "{}", out.transcript());
    assert_eq!(
        out.stderr,
        "no mirrors; create one with `debvault mirror create` or `debvault mirror import-apt-sources`\n"
    );
    let out = env.ok(&["snapshot", "list"]);
    assert_eq!(out.stdout, "", "{}", out.transcript());
    assert!(
        out.stderr.starts_with("no snapshots; take one with"),
        "{}",
        out.transcript()
    );
    for verb in [["mirror", "list"], ["snapshot", "list"]] {
        let out = env.ok(&["-q", verb[0], verb[1]]);
        assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
        let out = env.ok(&["--json", verb[0], verb[1]]);
        assert_eq!(only_json(&out), serde_json::json!([]));
    }
}

#[test]
fn quiet_silences_confirmations_and_keeps_data() {
    let env = TestEnv::new();
    // A confirmation: shown to people, gone under -q, a document under --json.
    let out = create(&env, &[], "loud");
    assert!(
        out.stdout.starts_with("created mirror `loud`: ")
            && out.stdout.ends_with("next: debvault mirror sync loud\n"),
        "{}",
        out.transcript()
    );
    assert_eq!(out.stderr, "");
    let out = create(&env, &["-q"], "quiet");
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    let out = create(&env, &["--json"], "doc");
    assert_eq!(only_json(&out)["name"], "doc");
    let out = create(&env, &["--json", "-q"], "both");
    assert_eq!(only_json(&out)["name"], "both");

    // Data: the same under -q as without it.
    let loud = env.ok(&["mirror", "list"]);
    let quiet = env.ok(&["-q", "mirror", "list"]);
    assert_eq!(loud.stdout, quiet.stdout);
    assert_eq!(quiet.stdout.lines().count(), 5, "{}", quiet.transcript());
    let names: Vec<String> = only_json(&env.ok(&["--json", "mirror", "list"]))
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(names, ["both", "doc", "loud", "quiet"]);
    let out = env.ok(&["-q", "mirror", "show", "quiet"]);
    assert!(
        out.stdout.starts_with("name:          quiet\n"),
        "{}",
        out.stdout
    );

    // Dropping confirms the same way.
    let out = env.ok(&["mirror", "drop", "loud"]);
    assert_eq!(
        out.stdout,
        "dropped mirror `loud`; `debvault gc` frees its blobs\n"
    );
    let out = env.ok(&["-q", "mirror", "drop", "quiet"]);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    let out = env.ok(&["--json", "mirror", "drop", "doc"]);
    assert_eq!(
        only_json(&out),
        serde_json::json!({"mirror": "doc", "dropped": true, "held_by_snapshots": []})
    );
    let out = env.ok(&["-q", "snapshot", "list"]);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
}

#[test]
fn warnings_survive_quiet_and_json() {
    let env = TestEnv::new();
    let warning = "warning: `--grace 0s` is shorter than the by-hash grace of published trees (24h): clients in the middle of `apt update` may see missing files\n";
    let out = env.ok(&["gc", "--grace", "0s"]);
    assert!(
        out.stdout.starts_with("gc: removed "),
        "{}",
        out.transcript()
    );
    assert_eq!(out.stderr, warning);
    // The tally confirms a real run: gone under -q; the warning stays.
    let out = env.ok(&["-q", "gc", "--grace", "0s"]);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", warning));
    // A dry run's report is data: kept under -q.
    let out = env.ok(&["-q", "gc", "--dry-run", "--grace", "0s"]);
    assert!(
        out.stdout.starts_with("gc (dry run): would remove "),
        "{}",
        out.transcript()
    );
    assert_eq!(out.stderr, warning);
    // Under --json: one document on stdout, the warning (and no note) on stderr.
    let out = env.ok(&["--json", "gc", "--grace", "0s"]);
    assert_eq!(out.stderr, warning);
    assert_eq!(json(&out)["dry_run"], false);
    // A long enough grace warns of nothing.
    let out = env.ok(&["gc"]);
    assert_eq!(out.stderr, "", "{}", out.transcript());
}

/// A reader that goes away (`debvault --json mirror list | head -1`) ends
/// the command quietly with success, in JSON as in text (JSON said
/// "error: Broken pipe" and exited 1).
#[test]
fn a_closed_pipe_ends_quietly() {
    let env = TestEnv::new();
    create(&env, &[], "m");
    for flags in [&["--json"][..], &[]] {
        let mut args = flags.to_vec();
        args.extend(["mirror", "show", "m"]);
        let mut child = env
            .cmd()
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Close the read end before the command writes anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

/// Cron mails any output: `-q mirror sync --all` prints nothing when the
/// syncs succeed, whether upstream changed or not.
#[test]
fn quiet_sync_all_prints_nothing_when_all_is_well() {
    let env = TestEnv::new();
    env.publish_upstream(&crate::support::Repo::new(vec![crate::support::Pkg::new(
        "app", "1.0",
    )]));
    create(&env, &[], "a");
    create(&env, &[], "b");
    for round in ["first", "unchanged"] {
        let out = env.ok(&["-q", "mirror", "sync", "--all"]);
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("", ""),
            "{round}: {}",
            out.transcript()
        );
    }
}

/// Every key of `v` that is not snake_case (contains `-`), as a path.
fn dashed_keys(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                let here = format!("{path}.{k}");
                if k.contains('-') {
                    out.push(here.clone());
                }
                dashed_keys(child, &here, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                dashed_keys(child, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Issue 23: `--json` keys are snake_case everywhere, the publication's
/// Release settings included (stored as JSON, so old rows load through
/// aliases). The mirror, snapshot and package names here contain `-`, so
/// a map keyed by such data would show up too: none does today (those
/// collections are arrays); one that comes would be excluded by its path.
#[test]
fn json_keys_are_snake_case_everywhere() {
    let env = TestEnv::new();
    let mut repo = Repo::new(vec![
        Pkg::new("app", "1.0").depends("libfoo"),
        Pkg::new("libfoo", "1.0"),
        Pkg::new("other-pkg", "1.0"),
    ]);
    env.publish_upstream(&repo);
    env.create_mirror("main-mirror", &["--filter", "app", "--with-deps"]);
    env.create_mirror("reviewed", &["--review"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let mut docs = Vec::new();
    let mut run = |args: &[&str]| {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        docs.push((args.join(" "), json(&env.ok(&with_json))));
    };
    for args in [
        &["mirror", "sync", "main-mirror", "--dry-run"][..],
        &["mirror", "sync", "main-mirror", "reviewed"],
        &["snapshot", "create", "s-1", "--from-mirror", "main-mirror"],
    ] {
        run(args);
    }
    repo.packages[1] = Pkg::new("libfoo", "1.1");
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    env.ok(&["mirror", "sync", "main-mirror", "reviewed"]);
    env.ok(&["snapshot", "create", "s-2", "--from-mirror", "main-mirror"]);
    env.ok(&["freeze", "main-mirror", "app", "--reason", "hold"]);
    for args in [
        &[
            "snapshot",
            "publish",
            "s-1",
            "--distribution",
            "stable",
            "--valid-for",
            "7d",
            "--not-automatic",
            "--but-automatic-upgrades",
            "--snapshots-url",
            "http://example.invalid/apt",
        ][..],
        &["mirror", "list"],
        &["mirror", "show", "main-mirror", "--with-packages"],
        &["snapshot", "list"],
        &["snapshot", "show", "s-1", "--with-packages"],
        &["snapshot", "diff", "s-1", "s-2"],
        &["publish", "list"],
        &["publish", "show", "stable"],
        &["status"],
        &["staged", "list"],
        &["audit"],
        &["config", "show"],
        &["gc", "--dry-run"],
        &["verify"],
        &["key", "list"],
    ] {
        run(args);
    }
    let (_, shown) = docs
        .iter()
        .find(|(cmd, _)| cmd == "publish show stable")
        .expect("publish show ran");
    assert_eq!(
        shown["options"]["valid_for_secs"], 604800,
        "the settings are in the document: {shown}"
    );
    let mut dashed = Vec::new();
    for (cmd, doc) in &docs {
        dashed_keys(doc, &format!("`{cmd}`: $"), &mut dashed);
    }
    assert_eq!(dashed, Vec::<String>::new());
}
