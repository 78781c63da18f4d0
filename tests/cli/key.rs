//! `key generate | import | export | list`.

use std::os::unix::fs::PermissionsExt as _;

use crate::support::{TestEnv, fixture};

#[test]
fn generate_list_export_and_gpgv_accepts_the_export() {
    let env = TestEnv::new();
    let out = env.ok(&["key", "list"]);
    assert_eq!(out.stdout, "", "{}", out.transcript());
    assert!(
        out.stderr.contains("no signing keys"),
        "{}",
        out.transcript()
    );
    let out = env.ok(&[
        "key",
        "generate",
        "--name",
        "Test Repo",
        "--email",
        "repo@example.invalid",
        "--json",
    ]);
    let info: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let fpr = info["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    assert_eq!(info["user_ids"][0], "Test Repo <repo@example.invalid>");
    let file = env.root().join("keys").join(format!("{fpr}.sec.asc"));
    let mode = std::fs::metadata(&file)
        .expect("key file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "secret key file mode");
    let dir_mode = std::fs::metadata(env.root().join("keys"))
        .expect("dir")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    assert!(env.ok(&["key", "list"]).stdout.contains(&fpr));

    // Armored export is public only; the binary one is a keyring gpgv can use.
    let armored = env.ok(&["key", "export", "--armor"]).stdout;
    assert!(
        armored.contains("BEGIN PGP PUBLIC KEY BLOCK") && !armored.contains("PRIVATE"),
        "{armored}"
    );
    let keyring = env.dir.path().join("repo.gpg");
    env.ok(&[
        "key",
        "export",
        "--output",
        keyring.to_str().expect("utf-8"),
    ]);
    let signed = env.dir.path().join("signed.txt");
    let key = debvault::pgp::SigningKey::load(&file, None).expect("load");
    let sig = debvault::pgp::sign_clearsigned(&[key], b"Origin: test\n").expect("sign");
    std::fs::write(&signed, sig).expect("write");
    let status = std::process::Command::new("gpgv")
        .arg("--homedir")
        .arg(env.dir.path())
        .arg("--keyring")
        .arg(&keyring)
        .arg(&signed)
        .output()
        .expect("run gpgv");
    assert!(
        status.status.success(),
        "gpgv: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn import_rotation_and_encrypted_keys() {
    let env = TestEnv::new();
    let upstream = fixture::testdata().join("keys/upstream.sec.asc");
    let rotated = fixture::testdata().join("keys/rotated.sec.asc");
    let encrypted = fixture::testdata().join("keys/encrypted.sec.asc");
    let s = |p: &std::path::Path| p.display().to_string();
    env.ok(&["key", "import", &s(&upstream)]);
    env.ok(&["key", "import", &s(&rotated)]);
    let out = env.run(&["key", "import", &s(&upstream)]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("already in the key store"),
        "{}",
        out.stderr
    );

    // A missing passphrase is a configuration error.
    let out = env.run(&["key", "import", &s(&encrypted)]);
    assert_eq!(out.code, 2, "{}", out.transcript());
    assert!(
        out.stderr.to_lowercase().contains("passphrase"),
        "{}",
        out.stderr
    );
    let out = env
        .cmd()
        .args(["key", "import", &s(&encrypted)])
        .env("DEBVAULT_KEY_PASSPHRASE", "test-passphrase")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Without the passphrase an encrypted key is listed as locked, never as an error.
    let list = env.ok(&["key", "list", "--json"]);
    let keys: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
    let keys = keys.as_array().expect("array");
    assert_eq!(keys.len(), 3);
    assert_eq!(keys.iter().filter(|k| k["locked"] == true).count(), 1);
    // Export covers every key (rotation: clients trust old and new at once).
    let ring = env.dir.path().join("all.gpg");
    env.ok(&["key", "export", "-o", &s(&ring)]);
    let loaded = debvault::pgp::Keyring::load(&[ring]).expect("keyring");
    assert_eq!(loaded.len(), 3);
    // A passphrase file works as well as the variable.
    let pass = env.dir.path().join("pass");
    std::fs::write(&pass, "test-passphrase\n").expect("write");
    let out = env
        .cmd()
        .args(["key", "list"])
        .env("DEBVAULT_KEY_PASSPHRASE_FILE", &pass)
        .output()
        .expect("run");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("encrypted;"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `key remove` takes a key out of signing (by fingerprint or long key ID),
/// keeps its file aside, audits it, and warns when none is left.
#[test]
fn remove_takes_a_key_out_of_signing_and_keeps_its_file() {
    let env = TestEnv::new();
    let fingerprint = |email: &str| {
        let out = env.ok(&["--json", "key", "generate", "--email", email]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
        v["fingerprint"].as_str().expect("fingerprint").to_owned()
    };
    let (old, new) = (
        fingerprint("old@example.invalid"),
        fingerprint("new@example.invalid"),
    );
    for (id, says) in [
        ("ABCD", "not a key fingerprint or long key ID"),
        ("0123456789ABCDEF", "no signing key `0123456789ABCDEF`"),
    ] {
        let out = env.run(&["key", "remove", id]);
        assert_eq!(out.code, 2, "{}", out.transcript());
        assert!(out.stderr.contains(says), "{}", out.transcript());
    }
    // The long key ID (last 16 hex digits), lower case, is enough.
    let out = env.ok(&["key", "remove", &old[old.len() - 16..].to_ascii_lowercase()]);
    assert!(
        out.stdout
            .starts_with(&format!("removed key {old} from signing")),
        "{}",
        out.transcript()
    );
    assert_eq!(out.stderr, "");
    let listed = env.ok(&["key", "list"]).stdout;
    assert!(listed.contains(&new) && !listed.contains(&old), "{listed}");
    let kept: Vec<_> = std::fs::read_dir(env.root().join("keys/removed"))
        .expect("removed dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    assert!(
        kept.len() == 1 && kept[0].starts_with(&format!("{old}.sec.asc.")),
        "{kept:?}"
    );
    // The export, and so what publish signs with, is the remaining key only.
    let armored = env.ok(&["key", "export", "--armor"]).stdout;
    assert_eq!(
        armored.matches("BEGIN PGP PUBLIC KEY BLOCK").count(),
        1,
        "{armored}"
    );
    let out = env.ok(&["key", "remove", &new]);
    assert!(
        out.stderr.contains("no signing key left"),
        "{}",
        out.transcript()
    );
    let audit = env.ok(&["--json", "audit"]).stdout;
    assert_eq!(audit.matches("\"key-remove\"").count(), 2, "{audit}");
}

/// A key file or directory others can read (copied by hand, a loose
/// umask) is taken back with a warning by the next command.
#[test]
fn keys_open_to_others_are_tightened_with_a_warning() {
    let env = TestEnv::new();
    let out = env.ok(&[
        "--json",
        "key",
        "generate",
        "--email",
        "ops@example.invalid",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let file = std::path::PathBuf::from(v["path"].as_str().expect("path"));
    let dir = env.root().join("keys");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = env.ok(&["key", "list"]);
    assert!(
        out.stderr.contains("key directory") && out.stderr.contains("(mode 644); made it 0600"),
        "{}",
        out.transcript()
    );
    assert_eq!((mode(&file), mode(&dir)), (0o600, 0o700));
    // Any command that opens the data root does the same, once.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let out = env.ok(&["snapshot", "list"]);
    assert!(
        out.stderr.contains("(mode 640); made it 0600"),
        "{}",
        out.transcript()
    );
    let out = env.ok(&["snapshot", "list"]);
    assert!(!out.stderr.contains("warning"), "{}", out.transcript());
}
