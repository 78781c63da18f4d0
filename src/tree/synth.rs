//! Synthetic `Packages` stanzas for tests and timing (test-only).
//!
//! Stanzas look like Debian's (field order, lengths, hex digests, prose
//! descriptions drawn from a small vocabulary), so compression ratios and
//! speeds are close to a real index: about 500 bytes per stanza.

const WORDS: &[&str] = &[
    "library",
    "tool",
    "the",
    "for",
    "and",
    "development",
    "files",
    "runtime",
    "support",
    "of",
    "a",
    "to",
    "with",
    "data",
    "plugin",
    "module",
    "python",
    "perl",
    "documentation",
    "this",
    "package",
    "contains",
    "provides",
    "shared",
    "GNU",
    "utilities",
    "server",
    "client",
    "network",
    "graphics",
    "interface",
    "command-line",
    "is",
    "in",
    "from",
    "implementation",
    "bindings",
    "headers",
    "static",
    "debugging",
    "symbols",
    "fonts",
    "X11",
    "kernel",
    "system",
    "configuration",
    "simple",
    "fast",
    "small",
    "extension",
];

const SECTIONS: &[&str] = &[
    "libs", "devel", "utils", "python", "perl", "net", "admin", "doc", "x11", "misc",
];

/// A deterministic xorshift generator (no dependency, stable output).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits + 16);
        while s.len() < digits {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(digits);
        s
    }

    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| WORDS[self.below(WORDS.len())])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `n` stanzas for `component`/`arch`, sorted by package name, each ending
/// in `\n` (no blank separator line).
pub fn stanzas(n: usize, component: &str, arch: &str, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let name = format!("pkg{i:06}-{}", WORDS[rng.below(WORDS.len())].to_lowercase());
            let version = format!("{}.{}.{}-{}", rng.below(5), rng.below(20), rng.below(9), 1 + rng.below(3));
            let section = SECTIONS[rng.below(SECTIONS.len())];
            let first = name.chars().next().unwrap_or('p');
            let mut s = format!(
                "Package: {name}\nVersion: {version}\nInstalled-Size: {}\nMaintainer: Debian {} Maintainers <team-{}@lists.example.org>\nArchitecture: {arch}\n",
                rng.below(50_000),
                WORDS[rng.below(WORDS.len())],
                rng.below(300),
            );
            if rng.below(3) != 0 {
                s.push_str(&format!(
                    "Depends: libc6 (>= 2.{}), pkg{:06}-dep (>= {}.{}), libfoo{} | libbar{}\n",
                    30 + rng.below(8),
                    rng.below(60_000),
                    rng.below(4),
                    rng.below(10),
                    rng.below(100),
                    rng.below(100),
                ));
            }
            let n_short = 4 + rng.below(5);
            let short = rng.words(n_short);
            s.push_str(&format!(
                "Description: {short}\nDescription-md5: {}\nSection: {section}\nPriority: optional\nFilename: pool/{component}/{first}/{name}/{name}_{version}_{arch}.deb\nSize: {}\nMD5sum: {}\nSHA256: {}\n",
                rng.hex(32),
                rng.below(5_000_000),
                rng.hex(32),
                rng.hex(64),
            ));
            s
        })
        .collect()
}
