//! Contents indices and changelogs (issue 18), with the real clients:
//! `apt-file` (apt's `Contents-deb` acquire target) finds a file and
//! `apt-get changelog` prints a changelog, both from a publication served by
//! `debvault serve`; a hostile .deb fails the publish naming it and leaves
//! the previous tree served; `--no-contents` and `--no-changelogs` each
//! leave out theirs.

use std::io::Read as _;
use std::path::Path;

use crate::support::apt::{Apt, Serve, Sources};
use crate::support::fixture::gzip;
use crate::support::{Pkg, Repo, TestEnv};

const HELLO_LOG: &str = "hello (2.10-3) unstable; urgency=medium\n\n  * Fixture upload.\n\n -- Test <test@example.invalid>  Mon, 01 Jan 2024 00:00:00 +0000\n";
const LIBFOO_LOG: &str = "libfoo (1:1.3-1) unstable; urgency=low\n\n  * Fixture.\n\n -- Test <test@example.invalid>  Mon, 01 Jan 2024 00:00:00 +0000\n";

/// `pkg` carrying `files` (empty bodies) and, if given, a changelog.
fn with(mut pkg: Pkg, files: &[&str], changelog: Option<&str>) -> Pkg {
    for f in files {
        pkg.data.push(((*f).to_owned(), b"x".to_vec()));
    }
    if let Some(log) = changelog {
        let path = format!("./usr/share/doc/{}/changelog.Debian.gz", pkg.name);
        pkg.data.push((path, gzip(log.as_bytes())));
    }
    pkg
}

fn packages() -> Vec<Pkg> {
    let mut hello = with(
        Pkg::new("hello", "2.10-3"),
        &["./usr/bin/hello", "./usr/share/man/man1/hello.1.gz"],
        Some(HELLO_LOG),
    );
    hello.section = "devel".into();
    let mut libfoo = with(
        Pkg::new("libfoo1", "1:1.3-1"),
        &["./usr/lib/libfoo.so.1", "./usr/share/common/shared file"],
        Some(LIBFOO_LOG),
    );
    libfoo.source = Some("libfoo".into());
    libfoo.section = "libs".into();
    let common = with(
        Pkg::new("common", "1").arch("all"),
        &["./usr/share/common/shared file", "./etc/common.conf"],
        None,
    );
    vec![hello, libfoo, common]
}

/// A mirror `m` of `pkgs`, snapshot `a`, a signing key exported binary.
fn setup(pkgs: Vec<Pkg>) -> (TestEnv, std::path::PathBuf) {
    setup_in(TestEnv::new(), pkgs)
}

/// [`setup`] in a given world (one in S3, say).
fn setup_in(env: TestEnv, pkgs: Vec<Pkg>) -> (TestEnv, std::path::PathBuf) {
    env.publish_upstream(&Repo::new(pkgs));
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let keyring = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", &keyring.display().to_string()]);
    (env, keyring)
}

fn gunzip(path: &Path) -> String {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&data[..])
        .read_to_string(&mut text)
        .expect("gunzip");
    text
}

fn line(path: &str, locations: &str) -> String {
    format!("{path:<55} {locations}\n")
}

#[test]
fn apt_file_and_apt_changelog_from_a_served_publication() {
    let (env, keyring) = setup(packages());
    let serve = Serve::start(&env);
    env.ok(&[
        "snapshot",
        "publish",
        "a",
        "--distribution",
        "stable",
        "--base-url",
        &serve.url(),
    ]);
    let dist = env.root().join("public/dists/stable");
    let expected = [
        line("etc/common.conf", "misc/common"),
        line("usr/bin/hello", "devel/hello"),
        line("usr/lib/libfoo.so.1", "libs/libfoo1"),
        line("usr/share/common/shared file", "misc/common,libs/libfoo1"),
        line("usr/share/doc/common/README", "misc/common"),
        line("usr/share/doc/hello/README", "devel/hello"),
        line("usr/share/doc/hello/changelog.Debian.gz", "devel/hello"),
        line("usr/share/doc/libfoo1/README", "libs/libfoo1"),
        line("usr/share/doc/libfoo1/changelog.Debian.gz", "libs/libfoo1"),
        line("usr/share/man/man1/hello.1.gz", "devel/hello"),
    ]
    .concat();
    assert_eq!(gunzip(&dist.join("main/Contents-amd64.gz")), expected);
    let release = std::fs::read_to_string(dist.join("Release")).expect("Release");
    assert!(release.contains(" main/Contents-amd64.gz\n"), "{release}");
    assert!(
        release.contains(&format!(
            "Changelogs: {}pool/@CHANGEPATH@_changelog\n",
            serve.url()
        )),
        "{release}"
    );
    let log = env
        .root()
        .join("public/pool/main/libf/libfoo/libfoo_1.3-1_changelog");
    assert_eq!(std::fs::read_to_string(log).expect("changelog"), LIBFOO_LOG);

    let apt_dir = env.dir.path().join("apt");
    let apt = Apt::new(apt_dir.clone(), &serve.url(), &keyring, Sources::OneLine);
    // apt-file's acquire target, in the private configuration (APT_CONFIG).
    let conf = apt_dir.join("apt.conf");
    let mut text = std::fs::read_to_string(&conf).expect("read apt.conf");
    text.push_str(
        r#"Acquire::IndexTargets::deb::Contents-deb {
    MetaKey "$(COMPONENT)/Contents-$(ARCHITECTURE)";
    ShortDescription "Contents-$(ARCHITECTURE)";
    Description "$(RELEASE)/$(COMPONENT) $(ARCHITECTURE) Contents (deb)";
    KeepCompressed "true";
};
"#,
    );
    std::fs::write(&conf, text).expect("write the Contents target");
    apt.ok(&["update"]);
    let found = apt.tool("apt-file", &["search", "usr/bin/hello"]);
    assert_eq!(found.code, 0, "{}", found.transcript());
    assert_eq!(found.stdout, "hello: /usr/bin/hello\n");
    let found = apt.tool("apt-file", &["search", "shared file"]);
    assert_eq!(
        found.stdout,
        "common: /usr/share/common/shared file\nlibfoo1: /usr/share/common/shared file\n",
        "{}",
        found.transcript()
    );
    // `-qq`: only the changelog on stdout, no `Get:` progress.
    let out = apt.ok(&["-qq", "changelog", "hello"]);
    assert_eq!(out.stdout, HELLO_LOG, "{}", out.transcript());
    let out = apt.ok(&["-qq", "changelog", "libfoo1"]);
    assert_eq!(out.stdout, LIBFOO_LOG, "{}", out.transcript());
}

/// Changelogs live beside the pool files of their source: `gc` removes one
/// once no kept tree lists its source version, as it does the .debs.
#[test]
fn gc_removes_the_changelogs_no_kept_tree_lists() {
    let (env, _) = setup(packages());
    env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
    let pool = env.root().join("public/pool/main");
    let old = pool.join("h/hello/hello_2.10-3_changelog");
    let libfoo = pool.join("libf/libfoo/libfoo_1.3-1_changelog");
    assert!(old.exists() && libfoo.exists());

    const NEW_LOG: &str = "hello (2.10-4) unstable; urgency=high\n\n  * Fix.\n\n -- Test <test@example.invalid>  Tue, 02 Jan 2024 00:00:00 +0000\n";
    let mut pkgs = packages();
    pkgs[0] = with(
        Pkg::new("hello", "2.10-4"),
        &["./usr/bin/hello"],
        Some(NEW_LOG),
    );
    let mut repo = Repo::new(pkgs);
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "b", "--from-mirror", "m"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.ok(&["snapshot", "publish", "b", "--distribution", "stable"]);
    let new = pool.join("h/hello/hello_2.10-4_changelog");
    assert_eq!(
        std::fs::read_to_string(&new).expect("new changelog"),
        NEW_LOG
    );

    std::fs::write(env.root().join("config.toml"), "[gc]\nretention-days = 0\n").expect("config");
    env.ok(&["gc", "--grace", "0s"]);
    assert!(!old.exists(), "no kept tree lists hello 2.10-3");
    assert!(new.exists() && libfoo.exists(), "the kept tree lists these");
}

/// Changelogs are written straight to their paths: a publish killed while
/// writing them leaves its mark, and the next publish of the prefix writes
/// every changelog again rather than keep one cut short.
#[test]
fn a_changelog_cut_short_by_a_killed_publish_is_written_again() {
    let (env, _) = setup(packages());
    env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
    let public = env.root().join("public");
    let mark = public.join(".debvault/changelogs-writing");
    assert!(!mark.exists(), "a finished publish clears its mark");
    let hello = public.join("pool/main/h/hello/hello_2.10-3_changelog");
    let libfoo = public.join("pool/main/libf/libfoo/libfoo_1.3-1_changelog");

    // What a run killed mid-write leaves: its mark, a file cut short.
    std::fs::write(&mark, "").expect("mark");
    std::fs::write(&hello, &HELLO_LOG[..10]).expect("cut short");
    env.ok(&["snapshot", "publish", "a", "--distribution", "testing"]);
    assert_eq!(std::fs::read_to_string(&hello).expect("hello"), HELLO_LOG);
    assert_eq!(
        std::fs::read_to_string(&libfoo).expect("libfoo"),
        LIBFOO_LOG
    );
    assert!(!mark.exists());
    // Rewritten by a rename (a served tree lists these): nothing left aside.
    let dir = hello.parent().expect("dir");
    let aside: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".debvault-tmp-")
        })
        .collect();
    assert!(aside.is_empty(), "{aside:?}");

    // Without the mark a file there is complete, and kept as it is.
    std::fs::write(&hello, "kept").expect("write");
    env.ok(&["snapshot", "publish", "a", "--distribution", "unstable"]);
    assert_eq!(std::fs::read_to_string(&hello).expect("hello"), "kept");
}

#[test]
fn a_hostile_deb_fails_the_publish_and_the_previous_tree_stays() {
    let (env, _) = setup(packages());
    env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
    let inrelease = env.root().join("public/dists/stable/InRelease");
    let before = std::fs::read(&inrelease).expect("InRelease");

    let mut pkgs = packages();
    pkgs.push(with(
        Pkg::new("evil", "1.0"),
        &["./usr/../../etc/passwd"],
        None,
    ));
    let mut repo = Repo::new(pkgs);
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    // The sync's reading leaves out what it cannot read (the .deb matches
    // its signed index); the publish fails on it.
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "b", "--from-mirror", "m"]);
    let out = env.run(&["snapshot", "publish", "b", "--distribution", "stable"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("cannot read the .deb of `evil_1.0_amd64`")
            && out.stderr.contains("`./usr/../../etc/passwd`")
            && out.stderr.contains("unsafe path"),
        "{}",
        out.transcript()
    );
    assert_eq!(std::fs::read(&inrelease).expect("InRelease"), before);
    assert!(!env.root().join("etc/passwd").exists());
}

#[test]
fn no_contents_and_no_changelogs_are_separate_settings_that_stick() {
    let (env, _) = setup(packages());
    let changelog = env
        .root()
        .join("public/pool/main/h/hello/hello_2.10-3_changelog");
    let dist = env.root().join("public/dists/stable");
    let publish = |extra: &[&str]| {
        let base = ["snapshot", "publish", "a", "--distribution", "stable"];
        env.ok(&[&base[..], extra].concat());
    };
    // Without Contents: no index, the changelogs and their field stay.
    publish(&["--no-contents", "--base-url", "http://mirror.invalid/"]);
    let release = std::fs::read_to_string(dist.join("Release")).expect("Release");
    assert!(!release.contains("Contents"), "{release}");
    assert!(release.contains("Changelogs: http://mirror.invalid/pool/@CHANGEPATH@_changelog"));
    assert!(!dist.join("main/Contents-amd64.gz").exists());
    assert!(changelog.exists());
    // The setting sticks: a re-publish without the flag changes nothing.
    publish(&[]);
    assert!(!dist.join("main/Contents-amd64.gz").exists());
    // Without changelogs: no field; the Contents come back once unset.
    publish(&["--set", "--no-changelogs", "--unset", "no-contents"]);
    let release = std::fs::read_to_string(dist.join("Release")).expect("Release");
    assert!(!release.contains("Changelogs:"), "{release}");
    assert!(gunzip(&dist.join("main/Contents-amd64.gz")).contains("usr/bin/hello"));
    let show = env.ok(&["publish", "show", "stable"]).stdout;
    assert!(
        show.contains("no-changelogs") && show.contains("yes"),
        "{show}"
    );

    // A prefix published with neither writes no changelog file at all.
    let (env, _) = setup(packages());
    env.ok(&[
        "snapshot",
        "publish",
        "a",
        "--distribution",
        "stable",
        "--no-contents",
        "--no-changelogs",
    ]);
    let pool = env.root().join("public/pool/main/h/hello");
    let names: Vec<String> = std::fs::read_dir(&pool)
        .expect("pool")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".deb")), "{names:?}");
    assert!(
        !env.root()
            .join("public/dists/stable/main/Contents-amd64.gz")
            .exists()
    );
}

#[test]
fn seeding_from_upstream_contents_gives_what_reading_the_debs_gives() {
    let pkgs = packages();
    let upstream = crate::support::contents::contents(&pkgs, "amd64");
    for seeded in [true, false] {
        let env = TestEnv::new();
        let mut repo = Repo::new(pkgs.clone());
        if seeded {
            repo.dists_files
                .push(crate::support::contents::contents_gz(&pkgs, "amd64"));
        }
        env.publish_upstream(&repo);
        env.create_mirror("m", &[]);
        let out = env.ok(&["-v", "mirror", "sync", "m"]);
        assert_eq!(
            out.stderr
                .contains("file lists of 3 packages seeded from upstream Contents"),
            seeded,
            "{}",
            out.transcript()
        );
        // The sync read the rest from the .debs as they arrived (the
        // changelogs alone where upstream has Contents): a publish finds
        // every file list and changelog recorded.
        assert!(
            out.stderr.contains("3 .debs read while downloading"),
            "{}",
            out.transcript()
        );
        let origins = recorded_scans(&env);
        let origin = if seeded { "contents" } else { "deb" };
        assert_eq!(origins, [(origin.to_owned(), 3), ("changelogs".into(), 2)]);
        env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
        env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
        env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
        let ours = gunzip(
            &env.root()
                .join("public/dists/stable/main/Contents-amd64.gz"),
        );
        assert_eq!(ours, upstream, "seeded: {seeded}");
    }
}

/// The file lists recorded, by origin, and the changelogs with a text.
fn recorded_scans(env: &TestEnv) -> Vec<(String, i64)> {
    let db = rusqlite::Connection::open(env.root().join("debvault.db")).expect("open the database");
    let mut stmt = db
        .prepare(
            "SELECT origin, count(*) FROM deb_contents GROUP BY origin \
             UNION ALL SELECT 'changelogs', count(*) FROM deb_changelogs WHERE text IS NOT NULL",
        )
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn contents_and_changelogs_in_a_bucket() {
    let (env, _) = setup_in(TestEnv::new_s3(), packages());
    env.ok(&[
        "snapshot",
        "publish",
        "a",
        "--distribution",
        "stable",
        "--base-url",
        "http://mirror.invalid/",
    ]);
    let bucket = env.s3.as_ref().expect("an S3 world").bucket();
    let gz = bucket
        .get("public/dists/stable/main/Contents-amd64.gz")
        .expect("Contents in the bucket");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .expect("gunzip");
    assert!(
        text.starts_with(&line("etc/common.conf", "misc/common")),
        "{text}"
    );
    let log = bucket
        .get("public/pool/main/h/hello/hello_2.10-3_changelog")
        .expect("changelog in the bucket");
    assert_eq!(log, HELLO_LOG.as_bytes());
    let release = bucket.get("public/dists/stable/Release").expect("Release");
    assert!(
        String::from_utf8_lossy(&release)
            .contains("Changelogs: http://mirror.invalid/pool/@CHANGEPATH@_changelog\n")
    );

    // A new hello replaces the old: gc removes the changelog no current
    // publication lists, and keeps the others.
    let mut pkgs = packages();
    pkgs[0] = with(
        Pkg::new("hello", "2.10-4"),
        &["./usr/bin/hello"],
        Some(HELLO_LOG),
    );
    let mut repo = Repo::new(pkgs);
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "b", "--from-mirror", "m"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.ok(&["snapshot", "publish", "b", "--distribution", "stable"]);
    env.ok(&["gc", "--grace", "0s"]);
    assert!(
        bucket
            .get("public/pool/main/h/hello/hello_2.10-3_changelog")
            .is_none()
    );
    for kept in ["h/hello/hello_2.10-4", "libf/libfoo/libfoo_1.3-1"] {
        let key = format!("public/pool/main/{kept}_changelog");
        assert!(bucket.get(&key).is_some(), "{key}");
    }
}
