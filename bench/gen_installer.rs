//! The Debian installer's part of the benchmark upstream (issue 19), shaped
//! like Debian's archive for one architecture:
//!
//! - `main/debian-installer/binary-amd64/Packages{,.xz}` naming `udebs` real
//!   (ar) udebs in the pool, ten to a source package; their sizes run from
//!   4 KiB to 1 MiB, most of them small (median 8 KiB, mean 74 KiB: 3,000
//!   udebs hold about 230 MB), as Debian's many small udebs and fewer large
//!   kernel module udebs do;
//! - `main/installer-amd64/20250803/images/` with `current` a symlink to it,
//!   as on Debian's mirrors: `MANIFEST`, `MANIFEST.udebs`, cdrom, hd-media
//!   and netboot trees (kernels, initrds, `netboot.tar.gz`, `mini.iso`,
//!   boot menus), 48 files, and the `SHA256SUMS` naming them, which is the
//!   only file of the tree the signed Release lists (under both `current`
//!   and the dated directory, as Debian's Release does). The binary files
//!   are random bytes, scaled so that the tree holds `installer_mb` MB.
//!
//! State 2 is a point release: a new dated directory whose images all
//! differ, and new versions of a tenth of the udebs (every udeb of one
//! source package in ten, as a kernel update brings).
//!
//! The udebs and images are written aside first (a sibling `DIR.staging`)
//! and moved in after [`fixture::Repo::write`], which clears its directory:
//! only their index entries are held in memory, never their bytes.

use std::path::{Path, PathBuf};

use debvault::digest::Sha256;

use crate::fixture::{self, Pkg, Repo};

/// The dated directory `current` points at in `state`.
fn release_dir(state: u32) -> &'static str {
    if state == 2 { "20251115" } else { "20250803" }
}

/// Image files below `images/`, and their size in KiB at Debian's scale
/// (about 380 MB in all); 0 marks a text file whose size does not scale.
const IMAGES: &[(&str, u64)] = &[
    ("MANIFEST", 0),
    ("MANIFEST.udebs", 0),
    ("cdrom/debian-cd_info.tar.gz", 60),
    ("cdrom/gtk/debian-cd_info.tar.gz", 60),
    ("cdrom/gtk/initrd.gz", 46_000),
    ("cdrom/gtk/vmlinuz", 9_800),
    ("cdrom/initrd.gz", 27_000),
    ("cdrom/vmlinuz", 9_800),
    ("cdrom/xen/debian.cfg", 0),
    ("hd-media/boot.img.gz", 38_000),
    ("hd-media/gtk/initrd.gz", 46_500),
    ("hd-media/gtk/vmlinuz", 9_800),
    ("hd-media/initrd.gz", 27_500),
    ("hd-media/vmlinuz", 9_800),
    ("netboot/debian-installer/amd64/boot-screens/adtxt.cfg", 0),
    (
        "netboot/debian-installer/amd64/boot-screens/exithelp.cfg",
        0,
    ),
    ("netboot/debian-installer/amd64/boot-screens/f1.txt", 0),
    ("netboot/debian-installer/amd64/boot-screens/f2.txt", 0),
    ("netboot/debian-installer/amd64/boot-screens/f3.txt", 0),
    ("netboot/debian-installer/amd64/boot-screens/f4.txt", 0),
    ("netboot/debian-installer/amd64/boot-screens/f5.txt", 0),
    ("netboot/debian-installer/amd64/boot-screens/f6.txt", 0),
    ("netboot/debian-installer/amd64/boot-screens/f7.txt", 0),
    ("netboot/debian-installer/amd64/boot-screens/f8.txt", 0),
    ("netboot/debian-installer/amd64/boot-screens/f9.txt", 0),
    ("netboot/debian-installer/amd64/boot-screens/f10.txt", 0),
    (
        "netboot/debian-installer/amd64/boot-screens/ldlinux.c32",
        120,
    ),
    (
        "netboot/debian-installer/amd64/boot-screens/libcom32.c32",
        185,
    ),
    (
        "netboot/debian-installer/amd64/boot-screens/libutil.c32",
        24,
    ),
    ("netboot/debian-installer/amd64/boot-screens/menu.cfg", 0),
    ("netboot/debian-installer/amd64/boot-screens/prompt.cfg", 0),
    ("netboot/debian-installer/amd64/boot-screens/splash.png", 40),
    ("netboot/debian-installer/amd64/boot-screens/stdmenu.cfg", 0),
    (
        "netboot/debian-installer/amd64/boot-screens/syslinux.cfg",
        0,
    ),
    ("netboot/debian-installer/amd64/boot-screens/txt.cfg", 0),
    (
        "netboot/debian-installer/amd64/boot-screens/vesamenu.c32",
        27,
    ),
    ("netboot/debian-installer/amd64/bootnetx64.efi", 950),
    ("netboot/debian-installer/amd64/grub/font.pf2", 2_400),
    ("netboot/debian-installer/amd64/grub/grub.cfg", 0),
    ("netboot/debian-installer/amd64/grubx64.efi", 2_500),
    ("netboot/debian-installer/amd64/initrd.gz", 27_300),
    ("netboot/debian-installer/amd64/linux", 9_800),
    ("netboot/debian-installer/amd64/pxelinux.0", 42),
    ("netboot/gtk/debian-installer/amd64/initrd.gz", 46_300),
    ("netboot/gtk/debian-installer/amd64/linux", 9_800),
    ("netboot/gtk/netboot.tar.gz", 60_000),
    ("netboot/mini.iso", 62_000),
    ("netboot/netboot.tar.gz", 40_000),
];

/// What [`stage`] prepared: the files to move in once the repository is written.
pub struct Staged {
    dir: PathBuf,
    /// The dated directory `current` points at.
    release_dir: &'static str,
    /// Paths below the repository root, each staged under `dir`.
    files: Vec<String>,
    /// What was made, for the generator to say.
    pub udeb_count: usize,
    pub udeb_bytes: u64,
    pub image_count: usize,
    pub image_bytes: u64,
}

/// Writes `udebs` udebs and (for `installer_mb` > 0) the images of
/// `state` (1, or 2: the point release) into a staging directory beside
/// `root`, and adds their indices to `repo`'s signed files.
pub fn stage(root: &Path, repo: &mut Repo, udebs: usize, installer_mb: u64, state: u32) -> Staged {
    let dir = root.with_extension("staging");
    let _ = std::fs::remove_dir_all(&dir);
    let mut staged = Staged {
        dir,
        release_dir: release_dir(state),
        files: Vec::new(),
        udeb_count: 0,
        udeb_bytes: 0,
        image_count: 0,
        image_bytes: 0,
    };
    let mut names = Vec::new();
    if udebs > 0 {
        names = stage_udebs(&mut staged, repo, udebs, state);
    }
    if installer_mb > 0 {
        stage_images(&mut staged, repo, installer_mb, &names, state);
    }
    staged
}

/// Moves the staged files into the written repository under `root`, and
/// makes `current` the symlink Debian's mirrors have.
pub fn place(staged: &Staged, root: &Path, suite: &str) {
    for rel in &staged.files {
        let to = root.join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::rename(staged.dir.join(rel), &to).expect("move a staged file in");
    }
    let installer = root.join("dists").join(suite).join("main/installer-amd64");
    if staged.image_count > 0 {
        // `Repo::write` wrote the listed SHA256SUMS under both paths, each
        // with a by-hash copy Debian's installer tree does not have.
        let dated = installer.join(staged.release_dir).join("images");
        let _ = std::fs::remove_dir_all(dated.join("by-hash"));
        std::fs::remove_dir_all(installer.join("current")).expect("drop current");
        std::os::unix::fs::symlink(staged.release_dir, installer.join("current")).expect("symlink");
    }
    let _ = std::fs::remove_dir_all(&staged.dir);
}

/// The udebs: staged pool files, their index in `repo`. Returns
/// "name version" of each, for `MANIFEST.udebs`.
fn stage_udebs(staged: &mut Staged, repo: &mut Repo, n: usize, state: u32) -> Vec<String> {
    let mut text = String::new();
    let mut names = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("di{i:04}-udeb");
        let updated = state == 2 && (i / 10) % 10 == 3;
        let version = if updated { "1.1-1" } else { "1.0-1" };
        let mut p = Pkg::new(&name, version).source(&format!("dsrc{:03}", i / 10));
        p.section = "debian-installer".into();
        if i % 10 == 9 {
            p = p.arch("all");
        }
        if i % 4 == 0 && i >= 10 {
            p = p.depends(&format!("di{:04}-udeb, di{:04}-udeb", i - 1, i - 9));
        }
        let seed = u32::try_from(i).unwrap_or(u32::MAX) + if updated { 1 << 20 } else { 0 };
        p.data.push((
            format!("./lib/debian-installer/{name}.bin"),
            fixture::noise(udeb_size(i, n), seed.wrapping_mul(2_654_435_761) | 1),
        ));
        let rel = p.pool_path();
        let rel = rel.strip_suffix(".deb").unwrap_or(&rel).to_owned() + ".udeb";
        p = p.filename(&rel);
        let deb = p.deb();
        if !text.is_empty() {
            text.push('\n');
        }
        text += &p.stanza(&deb);
        write(&staged.dir.join(&rel), &deb);
        staged.files.push(rel);
        staged.udeb_count += 1;
        staged.udeb_bytes += deb.len() as u64;
        names.push(format!("{name} {version}"));
    }
    let rel = "main/debian-installer/binary-amd64/Packages";
    repo.dists_files
        .push((format!("{rel}.xz"), fixture::xz(text.as_bytes())));
    repo.dists_files.push((rel.to_owned(), text.into_bytes()));
    names
}

/// The payload of udeb `i` of `n`: 4 KiB × 256^(u³) for u spread over
/// [0, 1), so from 4 KiB to 1 MiB, median 8 KiB.
fn udeb_size(i: usize, n: usize) -> usize {
    let u = ((i * 7919) % n.max(1)) as f64 / n.max(1) as f64;
    (4096.0 * 256f64.powf(u.powi(3))) as usize
}

/// The images, scaled to `mb` MB, staged under the dated directory; their
/// `SHA256SUMS` goes into `repo` under `current` and the dated directory.
fn stage_images(staged: &mut Staged, repo: &mut Repo, mb: u64, udebs: &[String], state: u32) {
    let full_kib: u64 = IMAGES.iter().map(|(_, k)| k).sum();
    let base = format!(
        "dists/{}/main/installer-amd64/{}/images",
        repo.suite, staged.release_dir
    );
    let mut sums = String::new();
    for (i, (path, kib)) in IMAGES.iter().enumerate() {
        let data = if *kib == 0 {
            text_file(path, udebs)
        } else {
            // Scaled to the total asked for, at least a byte.
            let len = (kib * mb * 1_000_000 / full_kib).max(1);
            let seed = (u32::try_from(i).unwrap_or(0) + 1000 * state).wrapping_add(0x9e37_79b9);
            fixture::noise(usize::try_from(len).expect("image size"), seed)
        };
        sums += &format!("{}  ./{path}\n", Sha256::of(&data));
        let rel = format!("{base}/{path}");
        write(&staged.dir.join(&rel), &data);
        staged.files.push(rel);
        staged.image_count += 1;
        staged.image_bytes += data.len() as u64;
    }
    for dir in [staged.release_dir, "current"] {
        repo.dists_files.push((
            format!("main/installer-amd64/{dir}/images/SHA256SUMS"),
            sums.clone().into_bytes(),
        ));
    }
}

/// The text files of the tree: a MANIFEST, the udebs the images hold, boot
/// menus and help screens of a few KiB.
fn text_file(path: &str, udebs: &[String]) -> Vec<u8> {
    match path {
        "MANIFEST" => IMAGES
            .iter()
            .filter(|(p, k)| *k > 0 && !p.ends_with(".c32"))
            .map(|(p, _)| format!("{p:<56} bench image\n"))
            .collect::<String>()
            .into_bytes(),
        "MANIFEST.udebs" => {
            let mut out = String::from("netboot\n");
            for u in udebs.iter().take(600) {
                out += &format!("  {u}\n");
            }
            out.into_bytes()
        }
        _ => format!("# {path}\n{}", "menu label ^Install\n".repeat(100)).into_bytes(),
    }
}

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, data).expect("write a staged file");
}
