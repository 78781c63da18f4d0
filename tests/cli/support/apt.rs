//! The real client side of end-to-end tests: `debvault serve` as a child
//! process, a std-only HTTP GET, and a private `apt-get` configuration.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use debvault::digest::Sha256;

use super::{Output, TestEnv};

// --- debvault serve -------------------------------------------------------

/// `debvault serve --listen 127.0.0.1:0` as a child process; killed on drop.
pub struct Serve {
    child: Child,
    pub addr: String,
    log: Option<JoinHandle<String>>,
}

impl Serve {
    pub fn start(env: &TestEnv) -> Serve {
        let mut child = env
            .cmd()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn `debvault serve`");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut banner = String::new();
        stderr.read_line(&mut banner).expect("read serve banner");
        let addr = banner
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in serve banner {banner:?}"))
            .to_owned();
        // Keep draining the access log so the server never blocks on a full pipe.
        let log = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            rest
        });
        Serve {
            child,
            addr,
            log: Some(log),
        }
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        http_get(&self.addr, path)
    }

    /// GET that must answer 200.
    pub fn get_ok(&self, path: &str) -> Vec<u8> {
        let (status, body) = self.get(path);
        assert_eq!(
            status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        body
    }
}

impl Serve {
    /// Stops the server and returns what it logged after its banner.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log
            .take()
            .and_then(|log| log.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(log) = self.log.take() {
            let _ = log.join();
        }
    }
}

/// A std-only HTTP/1.0 GET (one connection per request): status and body.
pub fn http_get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    let mut conn = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    write!(conn, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("send request");
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: no end of headers"));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let body = raw.split_off(end + 4);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: bad status line in {head:?}"));
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())?
    });
    if let Some(length) = length {
        assert_eq!(
            body.len(),
            length,
            "GET {path}: body shorter than announced"
        );
    }
    (status, body)
}

// --- apt ------------------------------------------------------------------

/// How the publication is given to apt.
#[derive(Clone, Copy)]
pub enum Sources {
    /// `deb [signed-by=…] URL stable main` in `sources.list`.
    OneLine,
    /// `Types: deb …` in `sources.list.d/debvault.sources`.
    Deb822,
    /// `deb` and `deb-src` lines in `sources.list`.
    WithSrc,
}

/// A private apt: every directory and configuration file under `dir`.
pub struct Apt {
    dir: PathBuf,
    /// The system root whose apt runs (`chroot`), if not this machine's.
    chroot: Option<PathBuf>,
    /// Removes the directory inside the chroot.
    _tmp: Option<tempfile::TempDir>,
}

impl Apt {
    pub fn new(dir: PathBuf, url: &str, keyring: &Path, sources: Sources) -> Apt {
        Apt::configure(&dir, &dir, url, keyring, sources);
        Apt {
            dir,
            chroot: None,
            _tmp: None,
        }
    }

    /// A private apt of the system at `root` (another Debian release),
    /// run with `chroot`: its directory and a copy of the keyring live in
    /// the root's `/tmp`. The network is shared, so loopback reaches
    /// `debvault serve`.
    pub fn in_chroot(root: &Path, url: &str, keyring: &Path, sources: Sources) -> Apt {
        let tmp = tempfile::Builder::new()
            .prefix("debvault-test-")
            .tempdir_in(root.join("tmp"))
            .expect("temp dir in the chroot");
        let inner = Path::new("/tmp").join(tmp.path().file_name().expect("temp dir name"));
        let key = tmp.path().join("keyring.gpg");
        std::fs::copy(keyring, &key).expect("copy the keyring into the chroot");
        Apt::configure(tmp.path(), &inner, url, &inner.join("keyring.gpg"), sources);
        Apt {
            dir: tmp.path().to_owned(),
            chroot: Some(root.to_owned()),
            _tmp: Some(tmp),
        }
    }

    /// Writes the directories, configuration and sources under `dir`,
    /// which apt sees as `inner`.
    fn configure(dir: &Path, inner: &Path, url: &str, keyring: &Path, sources: Sources) {
        for sub in [
            "etc/apt.conf.d",
            "etc/sources.list.d",
            "etc/preferences.d",
            "etc/trusted.gpg.d",
            "state/lists/partial",
            "cache/archives/partial",
            "log",
        ] {
            std::fs::create_dir_all(dir.join(sub)).expect("mkdir apt dir");
        }
        std::fs::write(dir.join("status"), b"").expect("write dpkg status");
        std::fs::write(dir.join("etc/apt.conf"), b"").expect("write apt.conf");
        let d = inner.display();
        let conf = format!(
            r#"Dir "{d}/";
Dir::State "{d}/state/";
Dir::State::Lists "{d}/state/lists/";
Dir::State::status "{d}/status";
Dir::Cache "{d}/cache/";
Dir::Cache::Archives "{d}/cache/archives/";
Dir::Etc "{d}/etc/";
Dir::Etc::main "{d}/etc/apt.conf";
Dir::Etc::Parts "{d}/etc/apt.conf.d/";
Dir::Etc::SourceList "{d}/etc/sources.list";
Dir::Etc::SourceParts "{d}/etc/sources.list.d/";
Dir::Etc::Preferences "{d}/etc/preferences";
Dir::Etc::PreferencesParts "{d}/etc/preferences.d/";
Dir::Etc::Trusted "{d}/etc/trusted.gpg";
Dir::Etc::TrustedParts "{d}/etc/trusted.gpg.d/";
Dir::Log "{d}/log/";
Dir::Bin::Methods "/usr/lib/apt/methods/";
Debug::NoLocking "true";
APT::Sandbox::User "root";
APT::Architecture "amd64";
APT::Architectures {{ "amd64"; }};
Acquire::Languages "none";
Acquire::Retries "0";
Acquire::http::Timeout "10";
"#
        );
        std::fs::write(dir.join("apt.conf"), conf).expect("write private apt.conf");
        let key = keyring.display();
        match sources {
            Sources::OneLine => std::fs::write(
                dir.join("etc/sources.list"),
                format!("deb [signed-by={key}] {url} stable main\n"),
            ),
            Sources::WithSrc => std::fs::write(
                dir.join("etc/sources.list"),
                format!(
                    "deb [signed-by={key}] {url} stable main\ndeb-src [signed-by={key}] {url} stable main\n"
                ),
            ),
            Sources::Deb822 => {
                std::fs::write(dir.join("etc/sources.list"), b"").expect("write sources.list");
                std::fs::write(
                    dir.join("etc/sources.list.d/debvault.sources"),
                    format!(
                        "Types: deb\nURIs: {url}\nSuites: stable\nComponents: main\nSigned-By: {key}\n"
                    ),
                )
            }
        }
        .expect("write sources");
    }

    /// Runs `apt-get ARGS` with only this configuration.
    pub fn run(&self, args: &[&str]) -> Output {
        self.tool("apt-get", args)
    }

    /// Runs an apt tool (`apt-get`, `apt-cache`) with only this configuration.
    pub fn tool(&self, tool: &str, args: &[&str]) -> Output {
        self.tool_in(None, tool, args)
    }

    /// Runs `apt-get ARGS` in the working directory `cwd` (where
    /// `apt-get source` puts its files).
    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Output {
        self.tool_in(Some(cwd), "apt-get", args)
    }

    fn tool_in(&self, cwd: Option<&Path>, tool: &str, args: &[&str]) -> Output {
        let mut cmd = match &self.chroot {
            Some(root) => {
                let mut c = Command::new("chroot");
                c.arg(root).arg(tool);
                c
            }
            None => Command::new(tool),
        };
        let conf = match &self.chroot {
            Some(root) => Path::new("/").join(
                self.dir
                    .strip_prefix(root)
                    .expect("apt dir in the chroot")
                    .join("apt.conf"),
            ),
            None => self.dir.join("apt.conf"),
        };
        for (k, _) in std::env::vars() {
            let lower = k.to_ascii_lowercase();
            if lower.ends_with("_proxy") || k.starts_with("APT_") {
                cmd.env_remove(k);
            }
        }
        if let Some(cwd) = cwd {
            cmd.current_dir(cwd);
        }
        let out = cmd
            .env("APT_CONFIG", conf)
            .env("LC_ALL", "C")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run `{tool}` (is apt installed?): {e}"));
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(out.code, 0, "apt-get {args:?}:\n{}", out.transcript());
        assert!(
            !out.stderr.contains("W:") && !out.stderr.contains("E:"),
            "apt-get {args:?} warned:\n{}",
            out.transcript()
        );
        out
    }

    /// The `.deb`s apt downloaded: file name → SHA256.
    pub fn archives(&self) -> BTreeMap<String, Sha256> {
        let dir = self.dir.join("cache/archives");
        let mut out = BTreeMap::new();
        for e in std::fs::read_dir(&dir).expect("list archives").flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".deb") {
                let data = std::fs::read(e.path()).expect("read downloaded deb");
                out.insert(name, Sha256::of(&data));
            }
        }
        out
    }

    /// The text of every `Packages` list apt stored.
    pub fn lists(&self) -> String {
        self.lists_of("")
    }

    /// The text of the `Packages` lists apt stored from URLs containing
    /// `part` (as apt writes it in list names: `/` as `_`).
    pub fn lists_of(&self, part: &str) -> String {
        let dir = self.dir.join("state/lists");
        let mut text = String::new();
        for e in std::fs::read_dir(&dir).expect("list lists").flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with("_Packages") && name.contains(part) {
                text += &std::fs::read_to_string(e.path()).expect("read list");
            }
        }
        text
    }
}

/// Installed apt's `(major, minor)`.
pub fn apt_version() -> (u32, u32) {
    let out = Command::new("apt-get")
        .arg("--version")
        .output()
        .expect("run `apt-get --version` (is apt installed?)");
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no version in {text:?}"));
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}
