//! `mirror create | list | show | edit | drop | import-apt-sources`.

use crate::support::{Pkg, Repo, TestEnv, fixture};

#[test]
fn create_list_show_transcripts() {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(vec![Pkg::new("hello", "1.0-1")]));
    let key = fixture::public_key("upstream").display().to_string();
    let url = env.url();
    let out = env.run(&[
        "mirror",
        "create",
        "fixture",
        &url,
        "stable",
        "main",
        "--arch",
        "amd64",
        "--keyring",
        &key,
        "--filter",
        "hello | curl (>= 7.88)",
        "--with-deps",
    ]);
    insta::assert_snapshot!("create", env.redact(&out.transcript()));
    let out = env.run(&["mirror", "list"]);
    insta::assert_snapshot!("list_before_sync", env.redact(&out.transcript()));
    env.ok(&["mirror", "sync", "fixture"]);
    let out = env.run(&["mirror", "list"]);
    insta::assert_snapshot!("list_after_sync", env.redact(&out.transcript()));
    let out = env.run(&["mirror", "show", "fixture"]);
    insta::assert_snapshot!("show", env.redact(&out.transcript()));
    let out = env.run(&["mirror", "list", "--json"]);
    assert_eq!(out.code, 0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v[0]["name"], "fixture");
    assert_eq!(v[0]["packages"], 1);
    assert_eq!(v[0]["filter"], "hello | curl (>= 7.88)");
    let out = env.run(&["mirror", "show", "fixture", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["mirror"]["suite"], "stable");
    assert_eq!(v["packages"], 1);
}

#[test]
fn create_refuses_bad_input() {
    let env = TestEnv::new();
    let key = fixture::public_key("upstream").display().to_string();
    let url = env.url();
    let out = env.run(&["mirror", "create", "x", &url, "stable"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(out.stderr.contains("has no keyring"), "{}", out.stderr);
    let out = env.run(&[
        "mirror",
        "create",
        "../x",
        &url,
        "stable",
        "--keyring",
        &key,
    ]);
    assert!(
        out.stderr.contains("invalid mirror name `../x`"),
        "{}",
        out.stderr
    );
    let out = env.run(&[
        "mirror",
        "create",
        "x",
        "ftp://h/x",
        "stable",
        "--keyring",
        &key,
    ]);
    assert!(
        out.stderr.contains("invalid URL `ftp://h/x`"),
        "{}",
        out.stderr
    );
    let out = env.run(&[
        "mirror",
        "create",
        "x",
        &url,
        "stable",
        "--keyring",
        &key,
        "--filter",
        "curl (>=",
    ]);
    assert!(out.stderr.contains("invalid filter"), "{}", out.stderr);
    let out = env.run(&[
        "mirror",
        "create",
        "x",
        &url,
        "stable",
        "--keyring",
        "/nonexistent/k.gpg",
    ]);
    assert!(out.stderr.contains("/nonexistent/k.gpg"), "{}", out.stderr);
    env.ok(&["mirror", "create", "x", &url, "stable", "--keyring", &key]);
    let out = env.run(&["mirror", "create", "x", &url, "stable", "--keyring", &key]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.contains("mirror `x` already exists"),
        "{}",
        out.stderr
    );
    let out = env.run(&["mirror", "sync"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    let out = env.run(&["mirror", "bogus"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
}

#[test]
fn edit_and_drop() {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(vec![Pkg::new("aa", "1"), Pkg::new("bb", "1")]));
    env.create_mirror("m", &["--filter", "aa"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["mirror", "edit", "m", "--no-filter"]);
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(
        out.stdout.contains("synced 2 packages: 1 new"),
        "{}",
        out.stdout
    );
    let out = env.run(&["mirror", "edit", "m", "--filter", "("]);
    assert_ne!(out.code, 0);
    env.ok(&["mirror", "drop", "m"]);
    let out = env.run(&["mirror", "show", "m"]);
    assert!(
        out.stderr.contains("mirror `m` does not exist"),
        "{}",
        out.stderr
    );

    // Each change from the CLI is in the audit trail, the refused edit not.
    let audit: serde_json::Value =
        serde_json::from_str(&env.ok(&["--json", "audit"]).stdout).expect("json");
    let events: Vec<String> = audit
        .as_array()
        .expect("array")
        .iter()
        .map(|r| format!("{} {} {}", r["action"], r["subject"], r["detail"]))
        .collect();
    assert_eq!(
        events,
        [
            format!(
                r#""mirror-create" "mirror `m`" {{"suite":"stable","url":"{}"}}"#,
                env.url()
            ),
            r#""mirror-edit" "mirror `m`" {"changes":["filter: \"aa\" → null"]}"#.to_owned(),
            r#""mirror-drop" "mirror `m`" {}"#.to_owned(),
        ],
        "{audit}"
    );
}

#[test]
fn import_apt_sources_creates_one_mirror_per_suite() {
    let env = TestEnv::new();
    let mut repo = Repo::new(vec![Pkg::new("hello", "1.0")]);
    repo.sources = vec![crate::support::sources::SrcPkg::new(
        "hello",
        "1.0",
        &["hello"],
    )];
    env.publish_upstream(&repo);
    let key = fixture::public_key("upstream").display().to_string();
    let sources = env.dir.path().join("test.sources");
    std::fs::write(
        &sources,
        format!(
            "Types: deb deb-src\nURIs: {url}/\nSuites: stable\nComponents: main\nArchitectures: amd64\nSigned-By: {key}\n\n\
             Types: deb\nURIs: {url}/other\nSuites: off\nComponents: main\nEnabled: no\n",
            url = env.url()
        ),
    )
    .expect("write");
    let list = env.dir.path().join("test.list");
    std::fs::write(
        &list,
        format!(
            "deb [arch=amd64 signed-by={key}] {}/ stable-updates main\n",
            env.url()
        ),
    )
    .expect("write");
    let s = sources.display().to_string();
    let l = list.display().to_string();
    let out = env.run(&[
        "mirror",
        "import-apt-sources",
        &s,
        &l,
        "--filter",
        "hello",
        "--with-deps",
        "--dry-run",
    ]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    assert!(out.stdout.contains("would create"), "{}", out.stdout);
    assert!(env.ok(&["mirror", "list"]).stderr.contains("no mirrors"));
    let out = env.ok(&[
        "mirror",
        "import-apt-sources",
        &s,
        &l,
        "--filter",
        "hello",
        "--with-deps",
    ]);
    assert!(out.stdout.contains("127.0.0.1"), "{}", out.stdout);
    let list_out = env.ok(&["mirror", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&list_out.stdout).expect("json");
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(v[0]["with_deps"].as_bool().unwrap_or(false));
    let stable = names
        .iter()
        .find(|n| n.ends_with("-stable"))
        .expect("stable mirror");
    // `Types: deb deb-src`: the source packages come too.
    let synced = v
        .as_array()
        .expect("array")
        .iter()
        .map(|m| (m["name"].as_str().unwrap_or(""), m["with_sources"] == true))
        .collect::<Vec<_>>();
    assert!(synced.contains(&(*stable, true)), "{synced:?}");
    assert_eq!(synced.iter().filter(|(_, s)| *s).count(), 1, "{synced:?}");
    let out = env.ok(&["mirror", "sync", stable]);
    assert!(out.stdout.contains("2 new"), "{}", out.stdout);
    assert!(
        out.stdout.contains("source packages: 1 new"),
        "{}",
        out.stdout
    );
    // A second import skips what exists.
    let out = env.ok(&["mirror", "import-apt-sources", &s, &l]);
    assert!(out.stdout.contains("skip"), "{}", out.stdout);
}

/// A config file that does not parse, names an unknown key or holds a value
/// out of range is a configuration error (exit 2) naming the file and what
/// is wrong, whatever the command; nothing is created.
#[test]
fn a_malformed_config_is_a_usage_error() {
    let env = TestEnv::new();
    let config = env.root().join("config.toml");
    std::fs::create_dir_all(env.root()).expect("root");
    for (text, says) in [
        ("[storage\nblobs = \"x\"\n", "unclosed table"),
        ("[storage]\nblobz = \"x\"\n", "unknown field `blobz`"),
        ("[sync]\npipeline-depth = 0\n", "sync.pipeline-depth"),
        (
            "[sync]\nretries = 4294967295\n",
            "`sync.retries` must be between 0 and 100",
        ),
        (
            "[sync]\nread-timeout = 18446744073709551615\n",
            "`sync.read-timeout` must be",
        ),
        (
            "[gc]\nretention-days = 18446744073709551615\n",
            "`gc.retention-days`",
        ),
        // Storage locations that would resolve against the current directory.
        (
            "[storage]\nblobs = \"\"\n",
            "`storage.blobs` = `` is not a storage location: it is empty",
        ),
        (
            "[storage]\nblobs = \"s3:/b/x\"\n",
            "only a directory or `s3://BUCKET[/PREFIX]`",
        ),
        ("[storage]\npublish = \"pub\"\n", "must be an absolute path"),
        (
            "[storage]\nblobs = \"s3://B_/x\"\n",
            "expected `s3://BUCKET[/PREFIX]`",
        ),
    ] {
        std::fs::write(&config, text).expect("write config");
        let cwd = env.root().with_file_name("cwd");
        std::fs::create_dir_all(&cwd).expect("cwd");
        for args in [
            &["mirror", "list"][..],
            &["snapshot", "list"],
            &["gc"],
            &["verify"],
            &["config", "show"],
        ] {
            let out = env
                .cmd()
                .current_dir(&cwd)
                .args(args)
                .output()
                .expect("run");
            let (code, stderr) = (out.status.code(), String::from_utf8_lossy(&out.stderr));
            assert_eq!(code, Some(2), "{args:?} with {text:?}: {stderr}");
            assert!(stderr.contains(says), "{args:?} with {text:?}: {stderr}");
        }
        let left: Vec<_> = std::fs::read_dir(&cwd).expect("cwd").collect();
        assert!(left.is_empty(), "{text:?} wrote into the current directory");
    }
    assert!(!env.root().join("debvault.db").exists(), "nothing created");
}

/// A bad definition is a usage error (exit 2) saying what is wrong with
/// it; a component or architecture given twice is kept once; an edit that
/// changes nothing says so and records nothing.
#[test]
fn definitions_are_checked_normalised_and_no_op_edits_say_so() {
    let env = TestEnv::new();
    let create = |extra: &[&str]| {
        let mut args = vec!["mirror", "create"];
        args.extend_from_slice(extra);
        args.push("--allow-insecure");
        env.run(&args)
    };
    for (args, says) in [
        (
            &["m", "http://127.0.0.1:99999/x", "s"][..],
            "invalid URL `http://127.0.0.1:99999/x`: invalid port number",
        ),
        (
            &["m", "ftp://127.0.0.1/x", "s"],
            "expected http:// or https://",
        ),
        (
            &["bad name", "http://127.0.0.1/x", "s"],
            "invalid mirror name",
        ),
        (&["m", "http://127.0.0.1/x", ""], "invalid suite"),
        (
            &["m", "http://127.0.0.1/x", "s", "a/../b"],
            "invalid component",
        ),
        (
            &["m", "http://127.0.0.1/x", "s", "--filter", "a (>>"],
            "invalid filter",
        ),
    ] {
        let out = create(args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.transcript());
        assert!(out.stderr.contains(says), "{args:?}: {}", out.transcript());
    }
    let out = create(&[
        "m",
        "http://127.0.0.1/x",
        "s",
        "main",
        "main",
        "--arch",
        "amd64,amd64",
    ]);
    assert!(
        out.stdout.contains("s [main; amd64]"),
        "{}",
        out.transcript()
    );
    let v = crate::support::json(&env.ok(&["--json", "mirror", "show", "m"]));
    assert_eq!(
        v["mirror"]["components"],
        serde_json::json!(["main"]),
        "{v}"
    );
    assert_eq!(
        v["mirror"]["architectures"],
        serde_json::json!(["amd64"]),
        "{v}"
    );

    let out = env.ok(&["mirror", "edit", "m"]);
    assert_eq!(
        out.stdout,
        "mirror `m` unchanged: no flag given changes its definition\n"
    );
    let out = env.run(&["mirror", "edit", "m", "--filter", "x (>>"]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    let out = env.ok(&["mirror", "edit", "m", "--arch", "arm64,arm64"]);
    assert!(
        out.stdout
            .contains(r#"architectures: ["amd64"] → ["arm64"]"#),
        "{}",
        out.transcript()
    );
    let audit = crate::support::json(&env.ok(&["--json", "audit"]));
    let edits = audit
        .as_array()
        .map(|a| a.iter().filter(|r| r["action"] == "mirror-edit").count());
    assert_eq!(edits, Some(1), "{audit}");
}
