//! The Debian installer's images (issue 19, `mirror create --with-installer`):
//! `<component>/installer-<arch>/current/images/` verified through the chain
//! InRelease → `SHA256SUMS` (listed in the Release, or signed by a detached
//! `SHA256SUMS.gpg`) → every image, stored as blobs, carried by snapshots
//! and published with a `SHA256SUMS` listed in our signed Release.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use debvault::debian::release::Release;
use debvault::digest::Sha256;

use crate::support::installer::{Vouch, images, images_dir, publish_with_installer};
use crate::support::{Pkg, Repo, TestEnv, json};

fn repo() -> Repo {
    Repo::new(vec![Pkg::new("curl", "7.88")])
}

/// Runs `program` in `dir`, asserting success.
fn run_ok(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("run `{program}`: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "`{program} {args:?}` failed:\n{text}");
    text
}

/// Checks the publication `stable`: every image published with the
/// fixture's bytes, `sha256sum -c` accepts the published `SHA256SUMS`,
/// `gpgv` the InRelease, and the Release lists `SHA256SUMS` by its hash.
fn check_published(env: &TestEnv, want: &[(String, Vec<u8>)]) {
    let dist = env.root().join("public/dists/stable");
    let dir = images_dir("main", "amd64");
    let images = dist.join(&dir);
    for (path, data) in want {
        let got = std::fs::read(images.join(path)).unwrap();
        assert!(got == *data, "published `{path}` differs");
    }
    let check = run_ok(&images, "sha256sum", &["-c", "SHA256SUMS"]);
    assert_eq!(check.lines().count(), want.len(), "{check}");
    assert!(
        std::fs::symlink_metadata(dist.join("main/installer-amd64/current"))
            .unwrap()
            .is_dir(),
        "`current` must be a real directory"
    );
    let keyring = env.dir.path().join("published.gpg");
    env.ok(&["key", "export", "--output", keyring.to_str().unwrap()]);
    let home = env.dir.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    let (home, keyring) = (home.to_str().unwrap(), keyring.to_str().unwrap());
    run_ok(
        &dist,
        "gpgv",
        &["--homedir", home, "--keyring", keyring, "InRelease"],
    );
    let release = Release::parse(&std::fs::read_to_string(dist.join("Release")).unwrap()).unwrap();
    let rel = format!("{dir}SHA256SUMS");
    let listed = release
        .files
        .get(&rel)
        .unwrap_or_else(|| panic!("the Release lists no `{rel}`"));
    let sums = std::fs::read(dist.join(&rel)).unwrap();
    assert_eq!(listed.sha256, Some(Sha256::of(&sums)));
    assert_eq!(listed.size, sums.len() as u64);
}

#[test]
fn installer_images_mirror_snapshot_and_publish_verifiably() {
    let env = TestEnv::new();
    let files = images(1);
    publish_with_installer(&env, &repo(), &files, &files, Vouch::Release);
    env.create_mirror("m", &["--with-installer"]);
    let show = env.ok(&["mirror", "show", "m"]);
    assert!(
        show.stdout.contains("installer:     yes"),
        "{}",
        show.transcript()
    );
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
    check_published(&env, &files);
    // Filtered and merged snapshots keep the images of their first source
    // that has any; only snapshots keep their blobs now.
    env.ok(&["snapshot", "filter", "f", "a", "curl"]);
    env.ok(&["snapshot", "merge", "both", "f", "a"]);
    env.ok(&["publish", "drop", "stable"]);
    env.ok(&["snapshot", "drop", "a"]);
    env.ok(&["snapshot", "drop", "f"]);
    env.ok(&["mirror", "drop", "m"]);
    env.ok(&["gc", "--grace", "0s"]);
    env.ok(&["snapshot", "publish", "both", "--distribution", "again"]);
    let again = env.root().join("public/dists/again");
    let images = again.join(images_dir("main", "amd64"));
    let check = run_ok(&images, "sha256sum", &["-c", "SHA256SUMS"]);
    assert_eq!(check.lines().count(), files.len(), "{check}");
    let v = json(&env.ok(&["--json", "verify"]));
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(0), "{v}");
    assert_eq!(v["blobs"], 1 + files.len(), "{v}");
}

#[test]
fn unlisted_sha256sums_are_checked_against_their_detached_signature() {
    let env = TestEnv::new();
    let files = images(2);
    publish_with_installer(&env, &repo(), &files, &files, Vouch::Detached);
    env.create_mirror("m", &["--with-installer"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
    check_published(&env, &files);

    // A signature that does not match: the sync fails, nothing changes.
    let dists = env.upstream().join("dists/stable");
    let sums = dists.join(images_dir("main", "amd64")).join("SHA256SUMS");
    let mut r = repo();
    r.packages.push(Pkg::new("wget", "1.21"));
    let other = images(3);
    publish_with_installer(&env, &r, &other, &other, Vouch::Detached);
    std::fs::write(&sums, crate::support::installer::sha256sums(&files)).unwrap();
    let out = env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stderr.contains("SHA256SUMS.gpg"),
        "{}",
        out.transcript()
    );
}

#[test]
fn a_tampered_image_fails_the_sync_and_the_previous_revision_stays() {
    let env = TestEnv::new();
    let files = images(1);
    publish_with_installer(&env, &repo(), &files, &files, Vouch::Release);
    env.create_mirror("m", &["--with-installer"]);
    env.ok(&["mirror", "sync", "m"]);
    let before = json(&env.ok(&["--json", "mirror", "show", "m"]));

    // The next upstream lists a new netboot tarball but serves other bytes.
    let mut r = repo();
    r.packages.push(Pkg::new("wget", "1.21"));
    let listed = images(4);
    let mut served = listed.clone();
    served[1].1[0] ^= 0xff;
    publish_with_installer(&env, &r, &listed, &served, Vouch::Release);
    let out = env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stderr
            .contains("main/installer-amd64/current/images/netboot/netboot.tar.gz"),
        "{}",
        out.transcript()
    );
    let after = json(&env.ok(&["--json", "mirror", "show", "m"]));
    assert_eq!(after["revision"], before["revision"], "{after}");
    assert_eq!(after["packages"], before["packages"], "{after}");
}

#[test]
fn installer_images_publish_to_a_bucket() {
    let env = TestEnv::new_s3();
    let bucket = env.s3.as_ref().unwrap().bucket();
    let files = images(5);
    publish_with_installer(&env, &repo(), &files, &files, Vouch::Release);
    env.create_mirror("m", &["--with-installer"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
    // What a client downloads: the images directory, checked by sha256sum.
    let dir = images_dir("main", "amd64");
    let local = env.dir.path().join("downloaded");
    for (path, _) in &files {
        let data = bucket
            .get(&format!("public/dists/stable/{dir}{path}"))
            .unwrap_or_else(|| panic!("`{path}` is not in the bucket"));
        let dst = local.join(path);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::write(dst, data).unwrap();
    }
    let sums = bucket
        .get(&format!("public/dists/stable/{dir}SHA256SUMS"))
        .unwrap();
    std::fs::write(local.join("SHA256SUMS"), &sums).unwrap();
    let check = run_ok(&local, "sha256sum", &["-c", "SHA256SUMS"]);
    assert_eq!(check.lines().count(), files.len(), "{check}");
    let release = bucket.get("public/dists/stable/Release").unwrap();
    let release = Release::parse(std::str::from_utf8(&release).unwrap()).unwrap();
    let listed = &release.files[&format!("{dir}SHA256SUMS")];
    assert_eq!(listed.sha256, Some(Sha256::of(&sums)));
}

/// A dry run counts the images the store lacks and sizes them as the
/// upstream announces them; the sync fetches them (with the bounded
/// parallelism of pool files) and reports the same; a later sync fetches
/// only the images that changed.
#[test]
fn a_dry_run_counts_and_sizes_the_images_a_sync_then_fetches() {
    let env = TestEnv::new();
    let files = images(6);
    publish_with_installer(&env, &repo(), &files, &files, Vouch::Release);
    env.create_mirror("m", &["--with-installer"]);
    let bytes = |files: &[(String, Vec<u8>)]| files.iter().map(|(_, d)| d.len()).sum::<usize>();
    let want = serde_json::json!({"files": files.len(), "bytes": bytes(&files)});
    let v = json(&env.ok(&["--json", "mirror", "sync", "m", "--dry-run"]));
    assert_eq!(v["mirrors"][0]["installer_images"], want, "{v}");
    let out = env.ok(&["mirror", "sync", "m", "--dry-run"]);
    let text = format!("and {} installer files (", files.len());
    assert!(out.stdout.contains(&text), "{}", out.transcript());
    let v = json(&env.ok(&["--json", "mirror", "sync", "m", "--downloads", "3"]));
    assert_eq!(v["mirrors"][0]["installer_images"], want, "{v}");
    check_published_after_snapshot(&env, &files);

    // New images, some the same (MANIFEST): only the others come.
    let mut r = repo();
    r.packages.push(Pkg::new("wget", "1.21"));
    let next = images(7);
    publish_with_installer(&env, &r, &next, &next, Vouch::Release);
    let changed: Vec<_> = next
        .iter()
        .filter(|(_, d)| !files.iter().any(|(_, old)| old == d))
        .cloned()
        .collect();
    assert!(!changed.is_empty() && changed.len() < next.len());
    let want = serde_json::json!({"files": changed.len(), "bytes": bytes(&changed)});
    let v = json(&env.ok(&["--json", "mirror", "sync", "m", "--dry-run"]));
    assert_eq!(v["mirrors"][0]["installer_images"], want, "{v}");
    let v = json(&env.ok(&["--json", "mirror", "sync", "m"]));
    assert_eq!(v["mirrors"][0]["installer_images"], want, "{v}");
}

/// Snapshots the mirror `m` and publishes it as `stable`, checked.
fn check_published_after_snapshot(env: &TestEnv, files: &[(String, Vec<u8>)]) {
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "publish", "a", "--distribution", "stable"]);
    check_published(env, files);
}

/// A bucket that holds a publication's images already is not sent them
/// again: the next publish (another snapshot, the same images) finds them
/// recorded and listed, and `sha256sum -c` still accepts them.
#[test]
fn images_a_bucket_holds_are_not_uploaded_again() {
    let env = TestEnv::new_s3();
    let bucket = env.s3.as_ref().unwrap().bucket();
    let files = images(8);
    publish_with_installer(&env, &repo(), &files, &files, Vouch::Release);
    env.create_mirror("m", &["--with-installer"]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "a", "--from-mirror", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    let publish = |snap: &str| {
        json(&env.ok(&[
            "--json",
            "snapshot",
            "publish",
            snap,
            "--distribution",
            "stable",
        ]))
    };
    let v = publish("a");
    assert!(v["installer_present"].is_null(), "{v}");
    env.ok(&["snapshot", "filter", "f", "a", "curl"]);
    let v = publish("f");
    assert_eq!(v["installer_present"], files.len(), "{v}");
    let dir = images_dir("main", "amd64");
    let local = env.dir.path().join("downloaded");
    for (path, data) in &files {
        let got = bucket
            .get(&format!("public/dists/stable/{dir}{path}"))
            .unwrap_or_else(|| panic!("`{path}` is not in the bucket"));
        assert!(got == *data, "`{path}` differs");
        let dst = local.join(path);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::write(dst, got).unwrap();
    }
    let sums = bucket
        .get(&format!("public/dists/stable/{dir}SHA256SUMS"))
        .unwrap();
    std::fs::write(local.join("SHA256SUMS"), &sums).unwrap();
    let check = run_ok(&local, "sha256sum", &["-c", "SHA256SUMS"]);
    assert_eq!(check.lines().count(), files.len(), "{check}");
}

#[test]
fn an_upstream_without_images_is_a_warning_and_no_installer_turns_it_off() {
    let env = TestEnv::new();
    env.publish_upstream(&repo());
    env.create_mirror("m", &["--with-installer"]);
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(
        out.stderr
            .contains("no `main/installer-amd64/current/images/SHA256SUMS`"),
        "{}",
        out.transcript()
    );
    env.ok(&["mirror", "edit", "m", "--no-installer"]);
    let show = env.ok(&["mirror", "show", "m"]);
    assert!(!show.stdout.contains("installer:"), "{}", show.transcript());
    let out = env.ok(&["mirror", "sync", "m"]);
    assert!(!out.stderr.contains("SHA256SUMS"), "{}", out.transcript());
}

/// What a netboot install fetches, as far as it runs offline: the
/// published `netboot/` files (tarball, kernel, initrd) pass `sha256sum -c`
/// against the published `SHA256SUMS`, `gpgv` accepts the InRelease that
/// lists it, and the udebs the installer would fetch next
/// (`main/debian-installer/binary-amd64/Packages`) are served by `serve`
/// and download with the real apt, byte for byte.
#[test]
fn a_netboot_publication_serves_its_images_and_its_udebs() {
    use crate::support::apt::{Apt, Serve, Sources};
    use crate::support::fixture::{gzip, xz};
    use crate::support::udebs::{installer_index, udeb, udeb_path};

    let env = TestEnv::new();
    let files = images(9);
    let udebs = vec![
        udeb("anna", "1.87").depends("di-utils"),
        udeb("di-utils", "1.148"),
    ];
    let mut r = repo();
    let text = installer_index(&udebs, "main", "amd64");
    let rel = "main/debian-installer/binary-amd64/Packages";
    r.dists_files
        .push((format!("{rel}.xz"), xz(text.as_bytes())));
    r.dists_files
        .push((format!("{rel}.gz"), gzip(text.as_bytes())));
    r.dists_files.push((rel.to_owned(), text.into_bytes()));
    publish_with_installer(&env, &r, &files, &files, Vouch::Release);
    for p in &udebs {
        let full = env.upstream().join(udeb_path(p));
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, p.deb()).unwrap();
    }
    env.create_mirror("m", &["--with-installer", "--with-udebs"]);
    env.ok(&["mirror", "sync", "m"]);
    check_published_after_snapshot(&env, &files);

    let keyring = env.dir.path().join("debvault.gpg");
    env.ok(&["key", "export", "-o", keyring.to_str().unwrap()]);
    let serve = Serve::start(&env);
    // The netboot files as a client fetches them, through `serve`.
    let dir = images_dir("main", "amd64");
    for (path, data) in files.iter().filter(|(p, _)| p.starts_with("netboot/")) {
        let got = serve.get_ok(&format!("/dists/stable/{dir}{path}"));
        assert!(got == *data, "served `{path}` differs");
    }
    let apt_dir = env.dir.path().join("apt");
    let apt = Apt::new(apt_dir.clone(), &serve.url(), &keyring, Sources::OneLine);
    std::fs::write(
        apt_dir.join("etc/sources.list"),
        format!(
            "deb [signed-by={}] {} stable main/debian-installer\n",
            keyring.display(),
            serve.url()
        ),
    )
    .unwrap();
    apt.ok(&["update"]);
    let into = env.dir.path().join("udebs");
    std::fs::create_dir_all(&into).unwrap();
    let out = apt.run_in(&into, &["download", "anna", "di-utils"]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    for p in &udebs {
        let name = format!("{}_{}_{}.udeb", p.name, p.version, p.arch);
        let got = std::fs::read(into.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(Sha256::of(&got), Sha256::of(&p.deb()), "{name}");
    }
}
