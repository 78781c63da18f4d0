//! The committed man pages and completions match what the code generates.

use std::path::Path;

fn regenerate_and_compare(what: &str, committed: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_debvault"))
        .args(["generate", what])
        .arg(dir.path())
        .status()
        .expect("run generate");
    assert!(status.success());
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join(committed);
    let fresh = crate::support::tree(dir.path());
    let old = crate::support::tree(&committed);
    let names = |t: &[(String, u64)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&fresh),
        names(&old),
        "`{}` is stale: run `debvault generate {what} {}`",
        committed.display(),
        committed.display()
    );
    for (name, _) in &fresh {
        let a = std::fs::read(dir.path().join(name)).expect("read fresh");
        let b = std::fs::read(committed.join(name)).expect("read committed");
        assert!(
            a == b,
            "`{name}` is stale: run `cargo run -- generate {what} {}`",
            committed.display()
        );
    }
}

#[test]
fn man_pages_are_current() {
    regenerate_and_compare("man", "man");
}

#[test]
fn completions_are_current() {
    regenerate_and_compare("completions", "completions");
}
