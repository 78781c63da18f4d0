//! The client side of the HTTP API tests: a std-only HTTP/1.1 client (one
//! connection per request), multipart bodies, and a data root configured
//! for `serve` to answer the API.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::TestEnv;

/// One answer.
pub struct Http {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Http {
    /// The body as JSON (panics with the body if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    pub fn text(&self) -> String {
        format!("{} {}", self.status, String::from_utf8_lossy(&self.body))
    }
}

/// A request's parts beyond method and path.
#[derive(Default, Clone)]
pub struct Req<'a> {
    pub token: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// Send `Content-Length` (else the body is sent chunked).
    pub chunked: bool,
    /// Announce this `Content-Length` but send no body at all (a refusal
    /// must come before any byte of it is read).
    pub announce_only: Option<u64>,
}

/// Sends one request and reads the whole answer (`None` if the server
/// reset the connection before an answer could be read).
pub fn try_request(addr: &str, method: &str, path: &str, r: &Req<'_>) -> Option<Http> {
    let mut conn = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = r.token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(ct) = r.content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    match (r.announce_only, r.chunked) {
        (Some(n), _) => head.push_str(&format!("Content-Length: {n}\r\n")),
        (None, true) => head.push_str("Transfer-Encoding: chunked\r\n"),
        (None, false) => head.push_str(&format!("Content-Length: {}\r\n", r.body.len())),
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    if r.announce_only.is_none() {
        if r.chunked {
            for chunk in r.body.chunks(1024) {
                out.extend(format!("{:x}\r\n", chunk.len()).bytes());
                out.extend(chunk);
                out.extend(b"\r\n");
            }
            out.extend(b"0\r\n\r\n");
        } else {
            out.extend(r.body);
        }
    }
    // The server may answer (413) and close before taking everything.
    let _ = conn.write_all(&out);
    let mut raw = Vec::new();
    if conn.read_to_end(&mut raw).is_err() && raw.is_empty() {
        return None;
    }
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let body = raw.split_off(end + 4);
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some(Http { status, head, body })
}

/// Sends one request; the answer must come.
pub fn request(addr: &str, method: &str, path: &str, r: &Req<'_>) -> Http {
    try_request(addr, method, path, r)
        .unwrap_or_else(|| panic!("{method} {path}: no answer (connection reset)"))
}

/// A `multipart/form-data` body of `files` (and one plain field, which
/// must be skipped): content type and bytes.
pub fn multipart(files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "debvault-test-boundary-7MA4YWxk";
    let mut body = Vec::new();
    body.extend(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nfrom ci\r\n")
            .bytes(),
    );
    for (name, data) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .bytes(),
        );
        body.extend(*data);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Writes `<root>/config.toml` turning the API on, with `extra` lines of
/// its `[api]` section.
pub fn enable_api(env: &TestEnv, api: &str) {
    std::fs::create_dir_all(env.root()).expect("mkdir root");
    std::fs::write(
        env.root().join("config.toml"),
        format!("[serve]\napi = true\n\n[api]\n{api}\n"),
    )
    .expect("write config");
}

/// `token create NAME --scope SCOPES [--repo R]…`: the secret.
pub fn token(env: &TestEnv, name: &str, scopes: &str, repos: &[&str]) -> String {
    let mut args = vec!["token", "create", name, "--scope", scopes];
    for r in repos {
        args.extend(["--repo", r]);
    }
    let out = env.ok(&args);
    let secret = out.stdout.trim().to_owned();
    assert!(secret.starts_with("dvt_"), "{}", out.transcript());
    secret
}
