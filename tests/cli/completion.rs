//! Dynamic shell completion (issue 23): `COMPLETE=bash debvault -- <words>`
//! answers with the names the database holds, read-only, and with nothing
//! (never an error) when there is no database.

use crate::support::{Pkg, Repo, TestEnv, tree};

/// Value candidates bash gets for the last word of `words` (after
/// `debvault`), through the protocol the registration script speaks; the
/// flags clap offers beside them are left out. stderr must stay empty
/// whatever happens.
fn complete(env: &TestEnv, words: &[&str]) -> Vec<String> {
    let out = env
        .cmd()
        .env("COMPLETE", "bash")
        // The index counts `debvault --root DIR` as three words.
        .env("_CLAP_COMPLETE_INDEX", (words.len() + 2).to_string())
        .env("_CLAP_COMPLETE_COMP_TYPE", "9")
        .env("_CLAP_COMPLETE_SPACE", "false")
        .env("_CLAP_IFS", "\n")
        .arg("--")
        .arg("debvault")
        .arg("--root")
        .arg(env.root())
        .args(words)
        .output()
        .expect("run debvault");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "completing {words:?}: {:?}\n{stdout}{stderr}",
        out.status
    );
    stdout
        .lines()
        .filter(|c| !c.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn names_complete_from_the_database() {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(vec![Pkg::new("app", "1.0")]));
    env.create_mirror("alpha", &[]);
    env.create_mirror("beta", &[]);
    env.ok(&["mirror", "sync", "alpha"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "alpha"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "s1", "--distribution", "stable"]);
    env.ok(&[
        "snapshot",
        "publish",
        "s1",
        "--distribution",
        "testing",
        "--prefix",
        "extra",
    ]);

    let before = tree(&env.root());
    let mirrors = ["alpha", "beta"];
    for words in [
        &["mirror", "sync", ""][..],
        &["mirror", "sync", "alpha", ""],
        &["mirror", "show", ""],
        &["snapshot", "create", "s2", "--from-mirror", ""],
        &["freeze", ""],
        &["package", "search", "app", "--mirror", ""],
    ] {
        assert_eq!(complete(&env, words), mirrors, "{words:?}");
    }
    assert_eq!(complete(&env, &["mirror", "sync", "b"]), ["beta"]);
    for verb in [
        "publish", "show", "drop", "diff", "merge", "rename", "verify",
    ] {
        let mut words = vec!["snapshot", verb];
        if verb == "merge" {
            words.push("new");
        }
        words.push("");
        assert_eq!(complete(&env, &words), ["s1"], "{words:?}");
    }
    assert_eq!(
        complete(&env, &["package", "search", "app", "--snapshot", ""]),
        ["s1"]
    );
    for verb in ["show", "drop"] {
        assert_eq!(
            complete(&env, &["publish", verb, ""]),
            ["dists/stable", "extra/dists/testing"],
            "publish {verb}"
        );
    }
    assert_eq!(tree(&env.root()), before, "completing wrote to the root");
}

#[test]
fn no_database_means_no_candidates_and_nothing_created() {
    let env = TestEnv::new();
    assert_eq!(
        complete(&env, &["mirror", "sync", ""]),
        Vec::<String>::new()
    );
    assert_eq!(
        complete(&env, &["snapshot", "show", ""]),
        Vec::<String>::new()
    );
    assert!(!env.root().exists(), "completion created the data root");
}

#[test]
fn the_registration_script_calls_back_into_debvault() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .env("COMPLETE", "bash")
        .output()
        .expect("run debvault");
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script}");
    assert!(
        script.contains(
            "complete -o nospace -o bashdefault -o nosort -F _clap_complete_debvault debvault"
        ),
        "{script}"
    );
}
