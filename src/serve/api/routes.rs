//! The API's routes as data: one table the router matches against, the
//! OpenAPI description is checked against (a test), and `docs/API.md`
//! lists. Patterns are aptly's, `{name}` standing for one path segment.

/// What a route does; the handler matches on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Version,
    Healthy,
    Ready,
    FilesList,
    FilesListDir,
    FilesUpload,
    FilesPut,
    FilesDeleteDir,
    FilesDeleteFile,
    ReposList,
    ReposCreate,
    ReposShow,
    ReposDelete,
    ReposEdit,
    ReposPackages,
    ReposAddDir,
    ReposAddFile,
    ReposIncludeDir,
    ReposIncludeFile,
    RepoSnapshot,
    MirrorSnapshot,
    SnapshotsList,
    SnapshotsShow,
    SnapshotsDiff,
    SnapshotsMerge,
    PublishList,
    PublishListPrefix,
    PublishCreate,
    PublishCreatePrefix,
    PublishShow,
    PublishSwitch,
    PublishDrop,
    TasksList,
    TasksShow,
    TasksWait,
}

/// Every route: method, pattern, operation.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/version"),
    ("GET", "/api/healthy"),
    ("GET", "/api/ready"),
    ("GET", "/api/files"),
    ("GET", "/api/files/{dir}"),
    ("POST", "/api/files/{dir}"),
    ("PUT", "/api/files/{dir}/{file}"),
    ("DELETE", "/api/files/{dir}"),
    ("DELETE", "/api/files/{dir}/{file}"),
    ("GET", "/api/repos"),
    ("POST", "/api/repos"),
    ("GET", "/api/repos/{name}"),
    ("DELETE", "/api/repos/{name}"),
    ("PUT", "/api/repos/{name}"),
    ("GET", "/api/repos/{name}/packages"),
    ("POST", "/api/repos/{name}/file/{dir}"),
    ("POST", "/api/repos/{name}/file/{dir}/{file}"),
    ("POST", "/api/repos/{name}/include/{dir}"),
    ("POST", "/api/repos/{name}/include/{dir}/{file}"),
    ("POST", "/api/repos/{name}/snapshots"),
    ("POST", "/api/mirrors/{name}/snapshots"),
    ("GET", "/api/snapshots"),
    ("GET", "/api/snapshots/{name}"),
    ("GET", "/api/snapshots/{name}/diff/{other}"),
    ("POST", "/api/snapshots/merge"),
    ("GET", "/api/publish"),
    ("GET", "/api/publish/{prefix}"),
    ("POST", "/api/publish"),
    ("POST", "/api/publish/{prefix}"),
    ("GET", "/api/publish/{prefix}/{distribution}"),
    ("PUT", "/api/publish/{prefix}/{distribution}"),
    ("DELETE", "/api/publish/{prefix}/{distribution}"),
    ("GET", "/api/tasks"),
    ("GET", "/api/tasks/{id}"),
    ("GET", "/api/tasks/{id}/wait"),
];

/// The operation of each entry of [`ROUTES`], in the same order.
const OPS: &[Op] = &[
    Op::Version,
    Op::Healthy,
    Op::Ready,
    Op::FilesList,
    Op::FilesListDir,
    Op::FilesUpload,
    Op::FilesPut,
    Op::FilesDeleteDir,
    Op::FilesDeleteFile,
    Op::ReposList,
    Op::ReposCreate,
    Op::ReposShow,
    Op::ReposDelete,
    Op::ReposEdit,
    Op::ReposPackages,
    Op::ReposAddDir,
    Op::ReposAddFile,
    Op::ReposIncludeDir,
    Op::ReposIncludeFile,
    Op::RepoSnapshot,
    Op::MirrorSnapshot,
    Op::SnapshotsList,
    Op::SnapshotsShow,
    Op::SnapshotsDiff,
    Op::SnapshotsMerge,
    Op::PublishList,
    Op::PublishListPrefix,
    Op::PublishCreate,
    Op::PublishCreatePrefix,
    Op::PublishShow,
    Op::PublishSwitch,
    Op::PublishDrop,
    Op::TasksList,
    Op::TasksShow,
    Op::TasksWait,
];

/// What the router found for a method and path.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Matched {
    /// A route, with its `{…}` segments in order (percent-decoded).
    Route(Op, Vec<String>),
    /// The path exists for other methods (405, with `Allow`).
    WrongMethod(Vec<&'static str>),
    /// No route has this path.
    NotFound,
}

/// Matches `path` (raw, without the query) and `method` against [`ROUTES`].
/// A segment that does not percent-decode to UTF-8 matches nothing.
pub(super) fn route(method: &str, path: &str) -> Matched {
    let Some(segments) = split(path) else {
        return Matched::NotFound;
    };
    let mut allowed = Vec::new();
    for (i, (m, pattern)) in ROUTES.iter().enumerate() {
        let Some(params) = match_pattern(pattern, &segments) else {
            continue;
        };
        if *m == method {
            return Matched::Route(OPS[i], params);
        }
        allowed.push(*m);
    }
    if allowed.is_empty() {
        Matched::NotFound
    } else {
        allowed.dedup();
        Matched::WrongMethod(allowed)
    }
}

/// The decoded segments of `path`; a trailing `/` is ignored (aptly's
/// `POST /api/publish/prefix/` form), an empty inner segment kept (aptly's
/// `/api/publish//wheezy` names the root prefix).
fn split(path: &str) -> Option<Vec<String>> {
    let path = path.strip_suffix('/').unwrap_or(path);
    path.split('/').skip(1).map(percent_decode).collect()
}

fn match_pattern(pattern: &str, segments: &[String]) -> Option<Vec<String>> {
    let parts: Vec<&str> = pattern.split('/').skip(1).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, seg) in parts.iter().zip(segments) {
        if part.starts_with('{') {
            params.push(seg.clone());
        } else if part != seg {
            return None;
        }
    }
    Some(params)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A query parameter's decoded value (`+` is a space), the first if repeated.
pub(super) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode(&v.replace('+', " ")))?
    })
}

/// Whether a query flag is on (`1`, `true`, `yes`), as aptly reads them.
pub(super) fn query_flag(query: Option<&str>, name: &str) -> bool {
    matches!(
        query_param(query, name).as_deref(),
        Some("1" | "true" | "yes")
    )
}

/// aptly's prefix in a URL: `_` for `/`, `__` for `_`, `:.` (or empty) for
/// the root. A storage before `:` (`s3:name:`) is not supported: the
/// endpoint is the configured one.
pub(super) fn decode_prefix(raw: &str) -> Result<String, String> {
    if raw.is_empty() || raw == ":." || raw == "." {
        return Ok(".".to_owned());
    }
    if raw.contains(':') {
        return Err(format!(
            "prefix `{raw}` names a storage; debvault publishes to its configured endpoint, give the prefix alone"
        ));
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '_' {
            if chars.peek() == Some(&'_') {
                chars.next();
                out.push('_');
            } else {
                out.push('/');
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_an_operation() {
        assert_eq!(ROUTES.len(), OPS.len());
    }

    #[test]
    fn routes_match_with_parameters_and_methods() {
        assert_eq!(
            route("POST", "/api/repos/team/file/ci-1/x.deb"),
            Matched::Route(
                Op::ReposAddFile,
                vec!["team".into(), "ci-1".into(), "x.deb".into()]
            )
        );
        assert_eq!(
            route("GET", "/api/files/a%20b"),
            Matched::Route(Op::FilesListDir, vec!["a b".into()])
        );
        assert_eq!(
            route("PATCH", "/api/repos/team"),
            Matched::WrongMethod(vec!["GET", "DELETE", "PUT"])
        );
        assert_eq!(
            route("POST", "/api/snapshots/merge"),
            Matched::Route(Op::SnapshotsMerge, vec![])
        );
        assert_eq!(
            route("GET", "/api/snapshots/merge"),
            Matched::Route(Op::SnapshotsShow, vec!["merge".into()])
        );
        assert_eq!(route("GET", "/api/nothing"), Matched::NotFound);
        assert_eq!(route("GET", "/api/files/%ff"), Matched::NotFound);
        assert_eq!(
            route("DELETE", "/api/publish//stable"),
            Matched::Route(Op::PublishDrop, vec![String::new(), "stable".into()])
        );
    }

    #[test]
    fn aptly_prefixes_decode() {
        assert_eq!(decode_prefix(":.").as_deref(), Ok("."));
        assert_eq!(decode_prefix("").as_deref(), Ok("."));
        assert_eq!(
            decode_prefix("debian_testing").as_deref(),
            Ok("debian/testing")
        );
        assert_eq!(decode_prefix("my__repo_x").as_deref(), Ok("my_repo/x"));
        assert!(decode_prefix("s3:bucket:").is_err());
    }

    #[test]
    fn query_parameters() {
        assert_eq!(
            query_param(Some("a=1&q=Name%20(hello)&x"), "q").as_deref(),
            Some("Name (hello)")
        );
        assert!(query_flag(Some("_async=true"), "_async"));
        assert!(!query_flag(Some("_async=0"), "_async"));
        assert!(!query_flag(None, "_async"));
    }
}
