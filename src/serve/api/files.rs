//! `/api/files`: uploads, in directories private to each token.
//!
//! Files stream to disk as they arrive (`multipart.rs` for `POST`, the raw
//! body for `PUT`), never whole in memory, into dot-named temporary files
//! that listings skip. A request over the upload limit is refused — at
//! once when `Content-Length` says so, else as soon as the count passes it
//! — and so is a truncated or malformed one; either way every file of the
//! request is deleted, so nothing of it is stored. Only a complete request
//! renames its files into place. Names are single path segments: no `/`,
//! no leading `.`, no control characters.

use std::path::{Path, PathBuf};

use http_body_util::BodyExt as _;
use hyper::StatusCode;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;

use super::multipart::{Event, Parser, boundary};
use super::reply::{Answer, ApiError};

/// Longest upload directory or file name.
const MAX_NAME: usize = 255;

/// Checks that `name` is one safe path segment.
pub(super) fn check_name(what: &str, name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{what} `{}` is not valid: one path segment, not starting with `.`",
            name.escape_debug()
        )))
    }
}

fn io_error(what: &str, e: &std::io::Error) -> ApiError {
    tracing::warn!(error = %e, "api upload: cannot {what}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("cannot {what}: {e}"),
    )
}

/// Names of the visible entries of `dir` that `want_dir` selects.
async fn names(dir: &Path, want_dir: bool) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(e) = entries.next_entry().await? {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || e.file_type().await?.is_dir() != want_dir {
            continue;
        }
        out.push(name);
    }
    out.sort();
    Ok(out)
}

/// `GET /api/files`: the token's upload directories.
pub(super) async fn list_dirs(root: &Path) -> Answer {
    match names(root, true).await {
        Ok(list) => Ok((StatusCode::OK, json!(list))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((StatusCode::OK, json!([]))),
        Err(e) => Err(io_error("list the upload directories", &e)),
    }
}

/// `GET /api/files/{dir}`: the files of one upload directory.
pub(super) async fn list_dir(root: &Path, dir: &str) -> Answer {
    check_name("directory", dir)?;
    match names(&root.join(dir), false).await {
        Ok(list) => Ok((StatusCode::OK, json!(list))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::not_found(format!(
            "upload directory `{dir}` does not exist"
        ))),
        Err(e) => Err(io_error("list an upload directory", &e)),
    }
}

/// `DELETE /api/files/{dir}[/{file}]`. A directory that is already gone
/// is not an error (adding a directory's packages removes it, as aptly's
/// does, and CI scripts often delete it afterwards anyway).
pub(super) async fn delete(root: &Path, dir: &str, file: Option<&str>) -> Answer {
    check_name("directory", dir)?;
    let result = match file {
        Some(file) => {
            check_name("file", file)?;
            match tokio::fs::remove_file(root.join(dir).join(file)).await {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(ApiError::not_found(format!(
                        "`{dir}/{file}` does not exist"
                    )));
                }
                r => r,
            }
        }
        None => match tokio::fs::remove_dir_all(root.join(dir)).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r,
        },
    };
    result.map_err(|e| io_error("delete an upload", &e))?;
    Ok((StatusCode::OK, json!({})))
}

/// Files of one request: written to temporaries, renamed into place only
/// when the whole request was good, deleted otherwise (also on drop).
struct Upload {
    dir: PathBuf,
    /// (temporary, final name)
    files: Vec<(PathBuf, String)>,
    limit: u64,
    received: u64,
    done: bool,
}

impl Upload {
    async fn new(
        root: &Path,
        dir: &str,
        headers: &HeaderMap,
        limit: u64,
    ) -> Result<Self, ApiError> {
        check_name("directory", dir)?;
        let announced = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > limit) {
            return Err(too_large(limit));
        }
        let dir = root.join(dir);
        let mut builder = tokio::fs::DirBuilder::new();
        builder.recursive(true).mode(0o700);
        builder
            .create(&dir)
            .await
            .map_err(|e| io_error("create the upload directory", &e))?;
        Ok(Upload {
            dir,
            files: Vec::new(),
            limit,
            received: 0,
            done: false,
        })
    }

    /// Opens the temporary for the next file, named `name` once complete.
    async fn open(&mut self, name: &str) -> Result<tokio::fs::File, ApiError> {
        // Browsers and curl may send a path: keep its last segment.
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        check_name("file", base)?;
        // Dot-named and not ending in `.deb`: neither listed nor taken by
        // an add of the directory while the upload is under way.
        let tmp = self
            .dir
            .join(format!(".upload-{}-{base}.part", self.files.len()));
        let file = tokio::fs::File::create(&tmp)
            .await
            .map_err(|e| io_error("store an upload", &e))?;
        self.files.push((tmp, base.to_owned()));
        Ok(file)
    }

    /// Counts `n` more bytes; 413 past the limit.
    fn count(&mut self, n: usize) -> Result<(), ApiError> {
        self.received += n as u64;
        if self.received > self.limit {
            return Err(too_large(self.limit));
        }
        Ok(())
    }

    /// Renames every file into place; the answer lists them as `dir/file`.
    async fn commit(mut self, dir: &str) -> Answer {
        let mut listed = Vec::new();
        for (tmp, name) in &self.files {
            tokio::fs::rename(tmp, self.dir.join(name))
                .await
                .map_err(|e| io_error("store an upload", &e))?;
            listed.push(Value::String(format!("{dir}/{name}")));
        }
        self.done = true;
        Ok((StatusCode::OK, Value::Array(listed)))
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        for (tmp, _) in &self.files {
            let _ = std::fs::remove_file(tmp);
        }
        // Only if it is empty: it may hold earlier uploads.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the upload is larger than the limit of {limit} bytes (`[api] upload-limit`)"),
    )
}

async fn write(file: &mut tokio::fs::File, data: &[u8]) -> Result<(), ApiError> {
    file.write_all(data)
        .await
        .map_err(|e| io_error("store an upload", &e))
}

async fn close(mut file: tokio::fs::File) -> Result<(), ApiError> {
    file.flush()
        .await
        .map_err(|e| io_error("store an upload", &e))
}

fn read_error(e: &hyper::Error) -> ApiError {
    ApiError::bad_request(format!("the upload was cut off: {e}"))
}

/// `POST /api/files/{dir}`: `multipart/form-data`, every file part kept
/// under its file name.
pub(super) async fn upload(
    root: &Path,
    dir: &str,
    headers: &HeaderMap,
    mut body: Incoming,
    limit: u64,
) -> Answer {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = boundary(content_type) else {
        return Err(ApiError::bad_request(
            "the body must be `multipart/form-data` with a boundary",
        ));
    };
    let mut incoming = Upload::new(root, dir, headers, limit).await?;
    let mut parser = Parser::new(&boundary);
    let mut current: Option<tokio::fs::File> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|e| read_error(&e))?.into_data() else {
            continue;
        };
        incoming.count(data.len())?;
        let events = parser
            .feed(&data)
            .map_err(|e| ApiError::bad_request(format!("malformed multipart body: {e}")))?;
        for event in events {
            match event {
                Event::File(name) => current = Some(incoming.open(&name).await?),
                Event::Data(bytes) => {
                    if let Some(file) = current.as_mut() {
                        write(file, &bytes).await?;
                    }
                }
                Event::FileEnd => {
                    if let Some(file) = current.take() {
                        close(file).await?;
                    }
                }
            }
        }
    }
    parser
        .finish()
        .map_err(|e| ApiError::bad_request(format!("malformed multipart body: {e}")))?;
    if incoming.files.is_empty() {
        return Err(ApiError::bad_request(
            "the body holds no file part (`-F file=@NAME`)",
        ));
    }
    incoming.commit(dir).await
}

/// `PUT /api/files/{dir}/{file}`: the raw body is the file.
pub(super) async fn put(
    root: &Path,
    dir: &str,
    name: &str,
    headers: &HeaderMap,
    mut body: Incoming,
    limit: u64,
) -> Answer {
    check_name("file", name)?;
    let mut incoming = Upload::new(root, dir, headers, limit).await?;
    let mut file = incoming.open(name).await?;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|e| read_error(&e))?.into_data() else {
            continue;
        };
        incoming.count(data.len())?;
        write(&mut file, &data).await?;
    }
    close(file).await?;
    incoming.commit(dir).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_single_safe_segments() {
        for good in ["ci-1", "hello_1.0_amd64.deb", "a b"] {
            assert!(check_name("file", good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", ".hidden", "a/b", "a\\b", "x\0", "x\n"] {
            assert!(check_name("file", bad).is_err(), "{bad:?}");
        }
        assert!(check_name("file", &"x".repeat(256)).is_err());
    }
}
