//! Benchmark upstream: generates a large signed repository and serves it on loopback.
//!
//! `gen_upstream generate DIR N STATE` writes a repository of N packages (STATE 1),
//! or its successor (STATE 2: 1% new versions, 0.2% removals). With `UDEBS=K`
//! in the environment it also holds K udebs in `main/debian-installer/`, with
//! `INSTALLER_MB=M` an installer images tree of M MB in
//! `main/installer-amd64/current/images/` (see gen_installer.rs; in STATE 2
//! a point release: new images, a tenth of the udebs updated); it then
//! prints what they hold: "UDEBS UDEB_BYTES IMAGES IMAGE_BYTES".
//! `gen_upstream sized DIR N MB` writes a repository of N packages whose
//! `.deb` files hold about MB megabytes in all (incompressible payloads of
//! varied sizes): a client's working set, for the pull-through benchmark.
//! `gen_upstream serve DIR PORTFILE` serves DIR on 127.0.0.1 and writes the port.
//! `gen_upstream floor DIR N` times what no publisher of such a repository can
//! avoid on this file system: making the pool's N package directories (all in
//! one parent, `pool/main/p/`, which the kernel serializes) and linking one
//! file into each, one thread each. Prints "MKDIR_SECONDS LINK_SECONDS".

#[path = "../tests/cli/support/fixture.rs"]
mod fixture;
#[path = "../tests/cli/support/server.rs"]
mod server;
#[path = "../tests/cli/support/sources.rs"]
mod sources;

mod gen_installer;

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") if args.len() == 5 => {
            let dir = PathBuf::from(&args[2]);
            let n: usize = args[3].parse().expect("N");
            let state: u32 = args[4].parse().expect("STATE");
            let mut pkgs = Vec::with_capacity(n);
            for i in 0..n {
                let name = format!("pkg{i:05}");
                let mut version = "1.0-1".to_owned();
                if state == 2 && i % 100 == 7 {
                    version = "1.1-1".to_owned();
                }
                if state == 2 && i % 500 == 3 {
                    continue;
                }
                let mut p = fixture::Pkg::new(&name, &version);
                if i % 3 == 0 && i > 10 {
                    p = p.depends(&format!(
                        "pkg{:05} (>= 1.0), pkg{:05} | pkg{:05}",
                        i - 1,
                        i - 7,
                        i - 3
                    ));
                }
                if i % 10 == 0 {
                    p = p.arch("all");
                }
                // Every Debian .deb carries its changelog; state 2's new
                // versions name a CVE (`snapshot diff --changelog`).
                let log = changelog(&name, &version);
                p.data.push((
                    format!("./usr/share/doc/{name}/changelog.Debian.gz"),
                    fixture::gzip(log.as_bytes()),
                ));
                pkgs.push(p);
            }
            let mut repo = fixture::Repo::new(pkgs);
            repo.date =
                chrono::Utc::now() - chrono::Duration::hours(if state == 1 { 2 } else { 1 });
            repo.compressions = vec![".gz", ".xz"];
            let udebs = env_number("UDEBS");
            let installer_mb = env_number("INSTALLER_MB");
            if udebs == 0 && installer_mb == 0 {
                repo.write(&dir);
                return;
            }
            let staged = gen_installer::stage(&dir, &mut repo, udebs, installer_mb as u64, state);
            repo.write(&dir);
            gen_installer::place(&staged, &dir, &repo.suite);
            println!(
                "{} {} {} {}",
                staged.udeb_count, staged.udeb_bytes, staged.image_count, staged.image_bytes
            );
        }
        Some("sized") if args.len() == 5 => {
            let n: usize = args[3].parse().expect("N");
            let mb: usize = args[4].parse().expect("MB");
            sized(&PathBuf::from(&args[2]), n, mb);
        }
        Some("serve") if args.len() == 4 => {
            let srv = server::FixtureServer::start(PathBuf::from(&args[2]));
            let port = srv.url().rsplit(':').next().unwrap_or_default().to_owned();
            std::fs::write(&args[3], port).expect("write port file");
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
        Some("floor") if args.len() == 4 => {
            let n: usize = args[3].parse().expect("N");
            let (mkdir, link) = floor(&PathBuf::from(&args[2]), n);
            println!("{mkdir:.2} {link:.2}");
        }
        _ => {
            eprintln!(
                "usage: gen_upstream generate DIR N STATE | sized DIR N MB | serve DIR PORTFILE | floor DIR N"
            );
            std::process::exit(2);
        }
    }
}

/// The number in environment variable `name`; 0 when unset or empty.
fn env_number(name: &str) -> usize {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}=`{v}` is not a number")),
        _ => 0,
    }
}

/// N packages of MB megabytes in all, sizes spread from a quarter to
/// seven quarters of the mean (a few large, many small, as in a real set);
/// every third depends on earlier ones, so apt resolves dependencies.
fn sized(dir: &std::path::Path, n: usize, mb: usize) {
    let mean = (mb << 20) / n.max(1);
    let pkgs = (0..n)
        .map(|i| {
            let name = format!("pkg{i:05}");
            let size = mean / 4 + mean * 6 / 4 * ((i * 37) % n.max(1)) / n.max(1);
            let mut p = fixture::Pkg::new(&name, "1.0-1");
            if i % 3 == 0 && i > 10 {
                p = p.depends(&format!("pkg{:05} (>= 1.0), pkg{:05}", i - 1, i - 7));
            }
            if i % 10 == 0 {
                p = p.arch("all");
            }
            let seed = u32::try_from(i).unwrap_or(u32::MAX);
            p.data.push((
                format!("./usr/share/{name}/payload.bin"),
                fixture::noise(size, seed.wrapping_add(1)),
            ));
            p
        })
        .collect();
    // All three Packages, as Debian's Release lists (apt fetches nothing
    // from a Release that names no uncompressed Packages).
    fixture::Repo::new(pkgs).write(dir);
}

/// A Debian changelog of `name` up to `version`: the 1.0-1 upload, and for
/// 1.1-1 an entry above it naming a CVE.
fn changelog(name: &str, version: &str) -> String {
    let entry = |v: &str, urgency: &str, body: &str, day: u32| {
        format!(
            "{name} ({v}) unstable; urgency={urgency}\n\n  * {body}\n\n -- Bench <bench@example.invalid>  Mon, {day:02} Mar 2026 00:00:00 +0000\n\n"
        )
    };
    let mut log = String::new();
    if version == "1.1-1" {
        log += &entry("1.1-1", "high", "Fix CVE-2026-1000 in the parser.", 2);
    }
    log += &entry("1.0-1", "medium", "Initial release.", 1);
    log
}

/// Seconds to make `n` package directories the way a pool holds them, then
/// to hard-link a file into each (ext4 allows 65,000 links to one inode, so
/// the sources rotate over one file per 30,000 links).
fn floor(dir: &std::path::Path, n: usize) -> (f64, f64) {
    let parent = dir.join("pool/main/p");
    std::fs::create_dir_all(&parent).expect("create the pool");
    let sources: Vec<PathBuf> = (0..n.div_ceil(30_000).max(1))
        .map(|i| {
            let f = dir.join(format!("source-{i}.deb"));
            std::fs::write(&f, [0u8; 600]).expect("write a source file");
            f
        })
        .collect();
    let names: Vec<PathBuf> = (0..n).map(|i| parent.join(format!("pkg{i:05}"))).collect();
    let started = std::time::Instant::now();
    for d in &names {
        std::fs::create_dir(d).expect("mkdir");
    }
    let mkdir = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    for (i, d) in names.iter().enumerate() {
        std::fs::hard_link(&sources[i / 30_000], d.join("pkg_1.0-1_amd64.deb")).expect("link");
    }
    (mkdir, started.elapsed().as_secs_f64())
}
