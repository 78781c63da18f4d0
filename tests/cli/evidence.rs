//! Evidence for review (issue 22): the changelog between two versions with
//! its CVE IDs in `staged list|report` and `snapshot diff`, SBOMs of
//! snapshots, offline advisories.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use crate::support::fixture::gzip;
use crate::support::{Pkg, Repo, TestEnv, json};

const HELLO_OLD: &str = "\
hello (2.10-1) unstable; urgency=low

  * Initial upload.

 -- Test <test@example.invalid>  Mon, 01 Jan 2024 00:00:00 +0000
";

fn hello_new_log() -> String {
    format!(
        "\
hello (2.10-3) unstable; urgency=high

  * Fix a heap overflow in the greeting (CVE-2024-11111).

 -- Test <test@example.invalid>  Mon, 01 Apr 2024 00:00:00 +0000

hello (2.10-2) unstable; urgency=medium

  * Fix a format string bug (CVE-2024-2222).

 -- Test <test@example.invalid>  Mon, 01 Mar 2024 00:00:00 +0000

{HELLO_OLD}"
    )
}

/// `pkg` carrying `log` as its changelog.Debian.gz.
fn with_log(mut pkg: Pkg, log: &str) -> Pkg {
    let path = format!("./usr/share/doc/{}/changelog.Debian.gz", pkg.name);
    pkg.data.push((path, gzip(log.as_bytes())));
    pkg
}

/// The codename OSV's `Debian:12` ecosystem names.
const CODENAME: &str = "bookworm";

fn repo_old() -> Repo {
    let mut r = Repo::new(vec![
        with_log(Pkg::new("hello", "2.10-1"), HELLO_OLD),
        Pkg::new("tool", "0.9"),
    ]);
    r.codename = CODENAME.into();
    r
}

/// hello upgraded over two uploads naming two CVEs, newpkg new, tool the same.
fn repo_new() -> Repo {
    let mut r = Repo::new(vec![
        with_log(Pkg::new("hello", "2.10-3"), &hello_new_log()),
        Pkg::new("tool", "0.9"),
        Pkg::new("newpkg", "2.0"),
    ]);
    r.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    r.codename = CODENAME.into();
    r
}

/// Mirror `m` in review mode with the old repository promoted and
/// snapshotted as `a`, the new one synced and staged.
fn staged_env() -> TestEnv {
    let env = TestEnv::new();
    env.publish_upstream(&repo_old());
    env.create_mirror("m", &["--review"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["promote", "m", "--all", "--reason", "initial import"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.publish_upstream(&repo_new());
    env.ok(&["mirror", "sync", "m"]);
    env
}

#[test]
fn changelog_between_versions_names_both_cves() {
    let env = staged_env();
    let out = env.ok(&["staged", "report", "--changelog"]);
    for needle in [
        "CVE-2024-11111",
        "CVE-2024-2222",
        "urgency high",
        "hello (2.10-2) unstable; urgency=medium",
        "new package",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.stdout);
    }
    assert!(
        !out.stdout.contains("Initial upload"),
        "the old version's entry is not new: {}",
        out.stdout
    );

    let items = json(&env.ok(&["--json", "staged", "list", "--changelog"]));
    let hello = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "hello")
        .unwrap();
    let log = &hello["changelog"];
    assert_eq!(log["kind"], "upgrade");
    assert_eq!(log["urgency"], "high");
    assert_eq!(
        log["cves"],
        serde_json::json!(["CVE-2024-11111", "CVE-2024-2222"])
    );
    assert_eq!(log["entries"].as_array().unwrap().len(), 2);
    assert_eq!(log["entries"][0]["version"], "2.10-3");

    env.ok(&["promote", "m", "--all", "--reason", "reviewed"]);
    env.ok(&["snapshot", "create", "b", "--from-mirror", "m"]);
    let out = env.ok(&["snapshot", "diff", "a", "b", "--changelog"]);
    insta::assert_snapshot!("snapshot_diff_changelog", env.redact(&out.transcript()));
    let v = json(&env.ok(&["--json", "snapshot", "diff", "a", "b", "--changelog"]));
    let changes = v["changes"].as_array().unwrap();
    let hello = changes.iter().find(|c| c["name"] == "hello").unwrap();
    assert_eq!(hello["changelog"]["cves"].as_array().unwrap().len(), 2);
    let newpkg = changes.iter().find(|c| c["name"] == "newpkg").unwrap();
    assert_eq!(newpkg["changelog"]["kind"], "new");
    assert_eq!(newpkg["changelog"]["has_changelog"], false);
}

/// Runs a reference validator when it is installed; under CI (`CI` set) a
/// missing validator fails rather than skips.
fn validate(what: &str, program: &str, args: &[&str]) {
    match std::process::Command::new(program).args(args).output() {
        Ok(out) => assert!(
            out.status.success(),
            "{what} rejects the document:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping the {what} validator ({program}: {e}); CI installs it");
        }
        Err(e) => panic!("the {what} validator `{program}` is missing under CI: {e}"),
    }
}

/// cyclonedx-python-lib's strict JSON validator, as a script.
const CYCLONEDX_CHECK: &str = "\
import sys
try:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
except ImportError as e:
    print('cyclonedx-python-lib missing:', e)
    sys.exit(3)
error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())
if error is not None:
    print(error)
    sys.exit(1)
";

#[test]
fn sboms_list_every_package_and_validate() {
    use crate::support::sources::SrcPkg;
    let env = TestEnv::new();
    let mut repo = Repo::new(vec![
        Pkg::new("libstdc++6", "1:12.2-14+deb12u1").source("gcc-12"),
        Pkg::new("hello", "2.10-3"),
    ]);
    repo.sources = vec![
        SrcPkg::new("gcc-12", "1:12.2-14+deb12u1", &["libstdc++6"]),
        SrcPkg::new("hello", "2.10-3", &["hello"]),
    ];
    env.publish_upstream(&repo);
    env.create_mirror("m", &["--with-sources"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "release-1.4", "--from-mirror", "m"]);
    let hello_sha = repo.packages[1].sha256().to_hex();

    let cdx = env.dir.path().join("bom.cdx.json");
    let out = env.ok(&[
        "snapshot",
        "export",
        "release-1.4",
        "--format",
        "cyclonedx",
        "-o",
        &cdx.display().to_string(),
    ]);
    assert!(out.stdout.contains("4 packages"), "{}", out.stdout);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    assert_eq!(doc["specVersion"], "1.6");
    let comps = doc["components"].as_array().unwrap();
    assert_eq!(comps.len(), 4, "two binaries and two sources: {doc}");
    let purls: Vec<&str> = comps.iter().map(|c| c["purl"].as_str().unwrap()).collect();
    assert!(
        purls.contains(&"pkg:deb/fixture/libstdc%2B%2B6@1%3A12.2-14%2Bdeb12u1?arch=amd64&distro=testing-fixture"),
        "{purls:?}"
    );
    assert!(
        purls
            .iter()
            .any(|p| p.starts_with("pkg:deb/fixture/hello@2.10-3?arch=source")),
        "{purls:?}"
    );
    let hello = comps
        .iter()
        .find(|c| c["name"] == "hello" && c["purl"].as_str().unwrap().contains("amd64"))
        .unwrap();
    assert_eq!(hello["hashes"][0]["content"], hello_sha.as_str());
    let refs = doc["externalReferences"].as_array().unwrap();
    assert_eq!(refs[0]["url"], env.url());
    assert!(
        refs[0]["comment"]
            .as_str()
            .unwrap()
            .contains("suite stable, Release date 2")
    );

    let spdx = env.dir.path().join("bom.spdx.json");
    let text = env
        .ok(&["snapshot", "export", "release-1.4", "--format", "spdx"])
        .stdout;
    std::fs::write(&spdx, &text).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let pkgs = doc["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), 5, "the snapshot and its four packages");
    assert!(
        pkgs.iter()
            .any(|p| p["checksums"][0]["checksumValue"] == hello_sha.as_str())
    );

    let script = env.dir.path().join("check_cyclonedx.py");
    std::fs::write(&script, CYCLONEDX_CHECK).unwrap();
    validate(
        "CycloneDX",
        "python3",
        &[&script.display().to_string(), &cdx.display().to_string()],
    );
    validate("SPDX", "pyspdxtools", &["-i", &spdx.display().to_string()]);
}

const OSV_HELLO: &str = r#"{
  "id": "DSA-9999-1",
  "modified": "2024-04-02T00:00:00Z",
  "affected": [{
    "package": {"ecosystem": "Debian:12", "name": "hello"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10-3"}]}],
    "ecosystem_specific": {"urgency": "high"}
  }]
}"#;

#[test]
fn an_osv_record_marks_the_live_version_affected_and_the_staged_one_fixed() {
    let env = staged_env();
    let osv = env.dir.path().join("osv");
    std::fs::create_dir(&osv).unwrap();
    std::fs::write(osv.join("DSA-9999-1.json"), OSV_HELLO).unwrap();
    let out = env.ok(&["advisories", "import", &osv.display().to_string()]);
    assert!(
        out.stdout.contains("imported 1 advisory records (osv)"),
        "{}",
        out.stdout
    );

    let found = json(&env.ok(&["--json", "advisories", "status", "--mirror", "m"]));
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["package"], "hello");
    assert_eq!(found[0]["version"], "2.10-1");
    assert_eq!(found[0]["advisory"], "DSA-9999-1");
    assert_eq!(found[0]["fixed"], "2.10-3");
    assert_eq!(found[0]["fix"], "staged");
    let text = env.ok(&["advisories", "status", "--snapshot", "a"]).stdout;
    assert!(
        text.contains("DSA-9999-1") && text.contains("2.10-1"),
        "{text}"
    );

    // A hostile file is an error naming the record; the earlier import stays.
    let bad = env.dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"hello": {"CVE-2024-9": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "_x"}}}}}"#,
    )
    .unwrap();
    let out = env.run(&["advisories", "import", &bad.display().to_string()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("record `hello/CVE-2024-9/bookworm`"),
        "{}",
        out.stderr
    );
    let v = json(&env.ok(&["--json", "status"]));
    assert_eq!(v["open_advisories"], 1);
    let report = env.ok(&["staged", "report", "m"]).stdout;
    assert!(report.contains("## Open advisories (1)"), "{report}");
    assert!(
        report.contains("| m | hello | 2.10-1 | DSA-9999-1 | 2.10-3 | staged |"),
        "{report}"
    );
    let out = env.run(&["status", "--check", "--max-open-advisories", "0"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("1 advisories affect live packages"),
        "{}",
        out.stderr
    );
    env.ok(&["status", "--check", "--max-open-advisories", "1"]);

    env.ok(&["promote", "m", "--all", "--reason", "security fix"]);
    let found = json(&env.ok(&["--json", "advisories", "status", "--mirror", "m"]));
    assert_eq!(found, serde_json::json!([]));
}

/// Zips `files` (name, body) with python3's `zipfile` (deflated) into `zip`.
fn python_zip(zip: &std::path::Path, files: &[(&str, &str)]) {
    let script = "import sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\n\
        for i in range(2, len(sys.argv), 2): z.writestr(sys.argv[i], sys.argv[i + 1])\n\
        z.close()\n";
    let mut cmd = std::process::Command::new("python3");
    cmd.arg("-c").arg(script).arg(zip);
    for (name, body) in files {
        cmd.arg(name).arg(body);
    }
    let st = cmd.status().unwrap();
    assert!(st.success(), "python3 zipfile failed");
}

/// Offset of the zip's end-of-central-directory record (no comment).
fn eocd(z: &[u8]) -> usize {
    let at = z.len() - 22;
    assert_eq!(&z[at..at + 4], b"PK\x05\x06");
    at
}

#[test]
fn issue_22_a_zip_of_osv_records_is_imported_and_hostile_zips_are_refused() {
    let env = staged_env();
    let zip = env.dir.path().join("all.zip");
    // Debian:13 is another release: that record must not match `bookworm`.
    let other = OSV_HELLO
        .replace("DSA-9999-1", "DSA-8888-1")
        .replace("Debian:12", "Debian:13");
    python_zip(
        &zip,
        &[
            ("DSA-9999-1.json", OSV_HELLO),
            ("DSA-8888-1.json", &other),
            ("README.md", "not a record"),
        ],
    );
    let out = env.ok(&["advisories", "import", &zip.display().to_string()]);
    assert!(
        out.stdout.contains("imported 2 advisory records (osv)"),
        "{}",
        out.stdout
    );
    let found = json(&env.ok(&["--json", "advisories", "status", "--mirror", "m"]));
    let ids: Vec<_> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["advisory"].clone())
        .collect();
    assert_eq!(ids, ["DSA-9999-1"], "{found:?}");
    assert_eq!(found[0]["version"], "2.10-1");
    assert_eq!(found[0]["fix"], "staged");

    // An entry whose declared size lies (central directory says 5 bytes).
    let good = std::fs::read(&zip).unwrap();
    let cd = u32::from_le_bytes(good[eocd(&good) + 16..][..4].try_into().unwrap()) as usize;
    let mut lie = good.clone();
    lie[cd + 24..cd + 28].copy_from_slice(&5u32.to_le_bytes());
    let liar = env.dir.path().join("liar.zip");
    std::fs::write(&liar, &lie).unwrap();
    let out = env.run(&["advisories", "import", &liar.display().to_string()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("liar.zip"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("entry `DSA-9999-1.json` is not the 5 bytes"),
        "{}",
        out.stderr
    );

    // A central directory cut short: it says 9 entries, it holds 3.
    let mut cut = good.clone();
    let at = eocd(&cut);
    cut[at + 8..at + 12].copy_from_slice(&[9, 0, 9, 0]);
    let short = env.dir.path().join("short.zip");
    std::fs::write(&short, &cut).unwrap();
    let out = env.run(&["advisories", "import", &short.display().to_string()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("short.zip")
            && out.stderr.contains("truncated or malformed at entry 3"),
        "{}",
        out.stderr
    );

    // A record that is not valid OSV names the zip and the entry.
    let bad = env.dir.path().join("bad.zip");
    python_zip(
        &bad,
        &[("x/BAD-1.json", r#"{"id": "BAD-1", "affected": 7}"#)],
    );
    let out = env.run(&["advisories", "import", &bad.display().to_string()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("entry `x/BAD-1.json`") && out.stderr.contains("record `BAD-1`"),
        "{}",
        out.stderr
    );

    // What was imported before stays.
    let v = json(&env.ok(&["--json", "status"]));
    assert_eq!(v["open_advisories"], 1);
}

/// `advisories status` (issue 22): "available upstream" means in the
/// mirror's own last verified upstream indices, so a fixed version its
/// filter leaves out counts, for the mirror and for a snapshot of it.
#[test]
fn issue_22_a_fix_outside_the_filter_is_available_upstream() {
    let env = TestEnv::new();
    let mut repo = Repo::new(vec![
        Pkg::new("hello", "2.10-1"),
        Pkg::new("hello", "2.10-3"),
        Pkg::new("tool", "0.9"),
    ]);
    repo.codename = CODENAME.into();
    env.publish_upstream(&repo);
    env.create_mirror("m", &["--filter", "hello (<< 2.10-3) | tool"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    let osv = env.dir.path().join("DSA-9999-1.json");
    std::fs::write(&osv, OSV_HELLO).unwrap();
    env.ok(&["advisories", "import", &osv.display().to_string()]);

    for scope in [["--mirror", "m"], ["--snapshot", "a"]] {
        let found = json(&env.ok(&["--json", "advisories", "status", scope[0], scope[1]]));
        let found = found.as_array().unwrap();
        assert_eq!(found.len(), 1, "{scope:?}: {found:?}");
        assert_eq!(found[0]["version"], "2.10-1");
        assert_eq!(found[0]["fix"], "upstream", "{scope:?}: {found:?}");
    }
    let text = env.ok(&["advisories", "status"]).stdout;
    assert!(
        text.contains("DSA-9999-1") && text.contains("upstream"),
        "{text}"
    );

    // Without the cached indices nothing says the fix is upstream, and a
    // warning says why.
    std::fs::remove_dir_all(env.root().join("cache/indices")).unwrap();
    let out = env.ok(&["--json", "advisories", "status", "--mirror", "m"]);
    assert_eq!(json(&out)[0]["fix"], "absent");
    assert!(
        out.stderr.contains("is not in the index cache"),
        "{}",
        out.stderr
    );
}

/// A fixed version only another mirror (of another upstream) holds is not
/// available to this one: `absent`.
#[test]
fn issue_22_a_fix_only_another_mirror_holds_is_absent() {
    let env = TestEnv::new();
    let mut fixed = Repo::new(vec![Pkg::new("hello", "2.10-3")]);
    fixed.codename = CODENAME.into();
    env.publish_upstream(&fixed);
    env.create_mirror("other", &[]);
    env.ok(&["mirror", "sync", "other"]);
    let mut old = Repo::new(vec![Pkg::new("hello", "2.10-1")]);
    old.codename = CODENAME.into();
    old.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&old);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    let osv = env.dir.path().join("DSA-9999-1.json");
    std::fs::write(&osv, OSV_HELLO).unwrap();
    env.ok(&["advisories", "import", &osv.display().to_string()]);

    let found = json(&env.ok(&["--json", "advisories", "status"]));
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "only `m` is affected: {found:?}");
    assert_eq!(found[0]["scope"], "m");
    assert_eq!(found[0]["fix"], "absent", "{found:?}");
    let report = env.ok(&["staged", "report"]).stdout;
    assert!(
        report.contains("| m | hello | 2.10-1 | DSA-9999-1 | 2.10-3 | absent |"),
        "{report}"
    );
}

/// A snapshot of a mirror and a local repository (issue 22): the SBOM
/// names the repository among its sources, with its component, and its
/// packages' purls have the vendor `local`; both formats still validate.
#[test]
fn issue_22_sboms_name_local_repositories_among_the_sources() {
    use crate::support::repos::write_deb;
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(vec![Pkg::new("hello", "2.10-3")]));
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["repo", "create", "team", "--component", "contrib"]);
    let ours = Pkg::new("tool", "0.1").arch("all");
    let deb = write_deb(&env.dir.path().join("incoming"), "tool.deb", &ours);
    env.ok(&["repo", "add", "team", &deb.display().to_string()]);
    env.ok(&[
        "snapshot",
        "create",
        "mixed",
        "--from-mirror",
        "m",
        "--from-repo",
        "team",
    ]);
    // Followed back through a merge, as the mirror sources are.
    env.ok(&["snapshot", "merge", "merged", "mixed"]);

    let cdx = env.dir.path().join("bom.cdx.json");
    env.ok(&[
        "snapshot",
        "export",
        "merged",
        "--format",
        "cyclonedx",
        "-o",
        &cdx.display().to_string(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    let purls: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap())
        .collect();
    assert!(
        purls.contains(&"pkg:deb/local/tool@0.1?arch=all"),
        "{purls:?}"
    );
    assert!(
        purls.contains(&"pkg:deb/fixture/hello@2.10-3?arch=amd64&distro=testing-fixture"),
        "{purls:?}"
    );
    let sources: Vec<&str> = doc["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "debvault:source")
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 2, "{doc}");
    assert!(sources[0].starts_with("mirror m: "), "{sources:?}");
    assert!(
        sources[1].starts_with("local repository team: component contrib"),
        "{sources:?}"
    );

    let spdx = env.dir.path().join("bom.spdx.json");
    let text = env
        .ok(&["snapshot", "export", "merged", "--format", "spdx"])
        .stdout;
    std::fs::write(&spdx, &text).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let info = doc["packages"][0]["sourceInfo"].as_str().unwrap();
    assert!(
        info.contains("mirror m: ") && info.contains("local repository team: component contrib"),
        "{info}"
    );
    let locators: Vec<&str> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["externalRefs"][0]["referenceLocator"].as_str())
        .collect();
    assert!(
        locators.contains(&"pkg:deb/local/tool@0.1?arch=all"),
        "{locators:?}"
    );

    let script = env.dir.path().join("check_cyclonedx.py");
    std::fs::write(&script, CYCLONEDX_CHECK).unwrap();
    validate(
        "CycloneDX",
        "python3",
        &[&script.display().to_string(), &cdx.display().to_string()],
    );
    validate("SPDX", "pyspdxtools", &["-i", &spdx.display().to_string()]);
}

/// The README's weekly review (issue 22), exactly as written there:
/// `staged report --changelog --since 7d > review.md` gives the changes
/// waiting, the week's decisions, the open advisories with where their fix
/// is, and each change's changelog entries with their CVE IDs.
#[test]
fn issue_22_the_readme_weekly_review_report() {
    let env = staged_env();
    let osv = env.dir.path().join("DSA-9999-1.json");
    std::fs::write(&osv, OSV_HELLO).unwrap();
    env.ok(&["advisories", "import", &osv.display().to_string()]);
    let out = env.ok(&["staged", "report", "--changelog", "--since", "7d"]);
    let report = &out.stdout;
    for needle in [
        "initial import",
        "## Open advisories (1)",
        "| m | hello | 2.10-1 | DSA-9999-1 | 2.10-3 | staged |",
        "CVE-2024-11111",
        "CVE-2024-2222",
        "newpkg",
    ] {
        assert!(report.contains(needle), "{needle}: {report}");
    }
    insta::assert_snapshot!("weekly_review_report", env.redact(&out.transcript()));

    // Decisions older than `--since` are left out; the rest stays.
    let later = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let report = env
        .ok(&["staged", "report", "--changelog", "--since", &later])
        .stdout;
    assert!(!report.contains("initial import"), "{report}");
    assert!(report.contains("CVE-2024-2222"), "{report}");
    let out = env.run(&["staged", "report", "--changelog", "--since", "7 days"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("invalid `--since` `7 days`"),
        "{}",
        out.stderr
    );
}

/// The Debian security tracker's JSON (issue 22): a `resolved` entry for
/// the mirror's codename marks the live version affected and the staged
/// one fixed; an `open` one has no fix; another release's entry and a
/// `not-affected` one count for nothing.
#[test]
fn issue_22_the_security_tracker_json_marks_the_live_version_affected() {
    let env = staged_env();
    let tracker = env.dir.path().join("tracker.json");
    std::fs::write(
        &tracker,
        r#"{"hello": {
            "CVE-2024-11111": {"releases": {
                "bookworm": {"status": "resolved", "fixed_version": "2.10-3", "urgency": "high"},
                "trixie": {"status": "resolved", "fixed_version": "2.10-9"}}},
            "CVE-2024-3333": {"releases": {"bookworm": {"status": "open", "urgency": "low"}}},
            "CVE-2024-4444": {"releases": {"bookworm": {"status": "not-affected"}}}},
          "tool": {"CVE-2024-5555": {"releases": {"trixie": {"status": "open"}}}}}"#,
    )
    .unwrap();
    let out = env.ok(&["advisories", "import", &tracker.display().to_string()]);
    assert!(out.stdout.contains("(debian-tracker)"), "{}", out.stdout);
    let found = json(&env.ok(&["--json", "advisories", "status", "--mirror", "m"]));
    let got: Vec<(&str, &str, Option<&str>)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["advisory"].as_str().unwrap(),
                f["fix"].as_str().unwrap(),
                f["fixed"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("CVE-2024-11111", "staged", Some("2.10-3")),
            ("CVE-2024-3333", "absent", None)
        ],
        "{found}"
    );
    assert_eq!(json(&env.ok(&["--json", "status"]))["open_advisories"], 2);
}
