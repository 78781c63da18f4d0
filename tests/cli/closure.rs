//! Dependency closure on a real Debian index: a loopback copy of bookworm `main`/amd64.
//!
//! `testdata/bookworm/Packages.xz` is an excerpt of the real bookworm index
//! (see `make_subset.py`): the over-approximated closure of 15 top-level
//! packages plus decoys, stanzas verbatim. Pool files are replaced by small
//! unique files whose Size and SHA256 are written into the stanzas.

use std::collections::HashMap;
use std::io::Read;

use debvault::debian::deb822::StanzaReader;
use debvault::debian::relation::parse_relations;
use debvault::debian::version::Version;
use debvault::digest::Sha256;

use crate::support::{Pkg, Repo, TestEnv, fixture::RawPkg};

const TOP: [&str; 15] = [
    "curl",
    "git",
    "openssh-client",
    "jq",
    "nginx",
    "python3",
    "vim-tiny",
    "ca-certificates",
    "rsync",
    "gnupg",
    "less",
    "htop",
    "tmux",
    "zstd",
    "unzip",
];

fn bookworm_subset() -> Vec<RawPkg> {
    let path = crate::support::fixture::testdata().join("bookworm/Packages.xz");
    let mut text = Vec::new();
    liblzma::read::XzDecoder::new(std::fs::File::open(path).expect("open subset"))
        .read_to_end(&mut text)
        .expect("xz");
    StanzaReader::new(&text[..])
        .map(|s| {
            let mut s = s.expect("stanza");
            let key = format!(
                "{}_{}_{}",
                s.get("Package").unwrap_or(""),
                s.get("Version").unwrap_or(""),
                s.get("Architecture").unwrap_or("")
            );
            let data = format!("fake deb {key}\n").into_bytes();
            s.set("Size", data.len().to_string());
            s.set("SHA256", Sha256::of(&data).to_string());
            s.remove("MD5sum");
            RawPkg {
                component: "main".into(),
                arch: s.get("Architecture").unwrap_or("amd64").to_owned(),
                filename: s.get("Filename").expect("Filename").to_owned(),
                stanza: s.to_text(),
                data,
            }
        })
        .collect()
}

#[test]
fn fifteen_top_level_packages_with_complete_closure() {
    let env = TestEnv::new();
    let raw = bookworm_subset();
    let mut repo = Repo::new(Vec::new());
    repo.suite = "bookworm".into();
    repo.raw = raw.clone();
    env.publish_upstream(&repo);
    let key = crate::support::fixture::public_key("upstream")
        .display()
        .to_string();
    let url = env.url();
    let filter = TOP.join(" | ");
    env.ok(&[
        "mirror",
        "create",
        "bookworm",
        &url,
        "bookworm",
        "main",
        "--arch",
        "amd64",
        "--keyring",
        &key,
        "--filter",
        &filter,
        "--with-deps",
    ]);
    let out = env.ok(&["mirror", "sync", "bookworm"]);
    assert!(!out.stderr.contains("not satisfiable"), "{}", out.stderr);

    // What the mirror holds: the blobs map back to stanzas by their unique content.
    let by_sha: HashMap<String, &RawPkg> = raw
        .iter()
        .map(|r| (Sha256::of(&r.data).to_string(), r))
        .collect();
    let held: Vec<&RawPkg> = crate::support::tree(&env.root().join("blobs/sha256"))
        .iter()
        .map(|(p, _)| by_sha[p.rsplit('/').next().expect("name")])
        .collect();
    let stanzas: Vec<debvault::debian::deb822::Stanza> = held
        .iter()
        .map(|r| {
            StanzaReader::new(r.stanza.as_bytes())
                .next()
                .expect("one")
                .expect("stanza")
        })
        .collect();
    let names: Vec<&str> = stanzas.iter().filter_map(|s| s.get("Package")).collect();
    for top in TOP {
        assert!(names.contains(&top), "`{top}` missing from the mirror");
    }
    assert!(
        held.len() < raw.len(),
        "decoys must not be mirrored ({} of {})",
        held.len(),
        raw.len()
    );

    // Every Depends / Pre-Depends of every mirrored package is satisfied inside the mirror.
    let mut real: HashMap<&str, Vec<Version>> = HashMap::new();
    let mut provided: HashMap<String, Vec<Option<Version>>> = HashMap::new();
    for s in &stanzas {
        let name = s.get("Package").expect("Package");
        real.entry(name)
            .or_default()
            .push(Version::parse(s.get("Version").expect("Version")).expect("version"));
        for dep in parse_relations(s.get("Provides").unwrap_or("")).expect("provides") {
            for r in dep.alternatives {
                provided
                    .entry(r.name)
                    .or_default()
                    .push(r.constraint.map(|c| c.version));
            }
        }
    }
    let mut checked = 0;
    for s in &stanzas {
        for field in ["Pre-Depends", "Depends"] {
            for dep in parse_relations(s.get(field).unwrap_or("")).expect("relations") {
                let ok = dep.alternatives.iter().any(|r| {
                    let by_real = real.get(r.name.as_str()).is_some_and(|vs| {
                        vs.iter()
                            .any(|v| r.constraint.as_ref().is_none_or(|c| c.matches(v)))
                    });
                    let by_provides = provided.get(&r.name).is_some_and(|vs| {
                        vs.iter().any(|pv| match (&r.constraint, pv) {
                            (None, _) => true,
                            (Some(c), Some(v)) => c.matches(v),
                            (Some(_), None) => false,
                        })
                    });
                    by_real || by_provides
                });
                assert!(
                    ok,
                    "{} {field}: `{dep}` is not satisfied inside the mirror",
                    s.get("Package").unwrap_or("?")
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} dependencies checked");

    // `snapshot verify` agrees on real data (Multi-Arch, `:any`, Provides).
    env.ok(&["snapshot", "create", "s", "--from-mirror", "bookworm"]);
    let out = env.ok(&["snapshot", "verify", "s"]);
    assert_eq!(out.stdout, "", "{}", out.transcript());
}

/// `name_version_arch` of the mirror's live packages.
fn live(env: &TestEnv, mirror: &str) -> Vec<String> {
    let out = env.ok(&["--json", "mirror", "show", mirror, "--with-packages"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    v["package_list"]
        .as_array()
        .expect("package list")
        .iter()
        .map(|p| p["package"].as_str().expect("package").to_owned())
        .collect()
}

/// Issue 23: the closure followed only `usrmerge` of `usrmerge |
/// usr-is-merged`, so a debootstrap taking the other branch failed, and
/// nothing said an alternative was left out.
#[test]
fn issue_23_follow_all_alternatives() {
    let env = TestEnv::new();
    env.publish_upstream(&Repo::new(vec![
        Pkg::new("init-system-helpers", "1.65").pre_depends("usrmerge | usr-is-merged"),
        Pkg::new("usrmerge", "35"),
        Pkg::new("usr-is-merged", "35"),
        Pkg::new("mail", "1").depends("exim4 | postfix | nullmailer"),
        Pkg::new("exim4", "4.96"),
        Pkg::new("postfix", "3.7"),
    ]));
    env.create_mirror(
        "m",
        &["--filter", "init-system-helpers | mail", "--with-deps"],
    );
    let out = env.run(&["mirror", "sync", "m", "--dry-run"]);
    insta::assert_snapshot!(
        "sync_dry_run_alternatives_left_out",
        env.redact(&out.transcript())
    );
    let out = env.ok(&["--json", "mirror", "sync", "m", "--dry-run"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        v["mirrors"][0]["alternatives_left_out"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{v}"
    );

    env.ok(&["mirror", "edit", "m", "--follow-all-alternatives"]);
    let out = env.ok(&["mirror", "show", "m"]);
    assert!(
        out.stdout.contains("alternatives:  all followed"),
        "{}",
        out.stdout
    );
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(!out.stdout.contains("left out"), "{}", out.transcript());
    assert_eq!(
        live(&env, "m"),
        [
            "exim4_4.96_amd64",
            "init-system-helpers_1.65_amd64",
            "mail_1_amd64",
            "postfix_3.7_amd64",
            "usr-is-merged_35_amd64",
            "usrmerge_35_amd64"
        ]
    );
}
