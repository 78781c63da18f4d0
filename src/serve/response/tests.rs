//! The builder's decisions, against the stat results of both origins (a
//! file's metadata, an object's info), and whole replies from a directory.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use hyper::header::{self, HeaderMap, HeaderValue};

use super::*;
use crate::serve::http::{Validators, format_http_date};
use crate::serve::origin::bucket::object_validators;
use crate::serve::origin::dir::{DirOrigin, validators};
use crate::store::s3::ObjectInfo;

const SIZE: u64 = 10;

/// A file dated a minute ago in `dir` (so it has a `Last-Modified`).
fn old_file(dir: &std::path::Path, rel: &str) -> std::fs::Metadata {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, b"0123456789").expect("write");
    let file = std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_modified(SystemTime::now() - Duration::from_secs(60))
        .expect("date");
    file.metadata().expect("metadata")
}

/// What each origin's stat says of a 10-byte file, and the date it carries.
fn stats(dir: &std::path::Path) -> Vec<(&'static str, Meta)> {
    let info = ObjectInfo {
        size: SIZE,
        e_tag: Some("abc123".into()),
        last_modified: DateTime::from_timestamp(1_700_000_000, 0).expect("date"),
    };
    let meta = |validators: Validators| Meta {
        size: SIZE,
        validators,
        immutable: true,
    };
    vec![
        ("dir", meta(validators(&old_file(dir, "pool/a.deb")))),
        ("bucket", meta(object_validators(&info))),
    ]
}

fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(name.clone(), HeaderValue::from_str(value).expect("ascii"));
    }
    map
}

#[test]
fn conditional_and_range_matrix_holds_for_both_origins() {
    use header::{IF_MATCH as IM, IF_UNMODIFIED_SINCE as IUS};
    use header::{IF_MODIFIED_SINCE as IMS, IF_NONE_MATCH as INM, IF_RANGE, RANGE};
    let dir = tempfile::tempdir().expect("tempdir");
    for (origin, meta) in stats(dir.path()) {
        let etag = meta.validators.etag.clone();
        let weak = format!("W/{etag}");
        let listed = format!("\"x\", {etag}");
        let modified: DateTime<Utc> = meta.validators.last_modified.expect("settled date");
        let date = format_http_date(modified);
        let before = format_http_date(modified - chrono::Duration::seconds(1));
        let after = format_http_date(modified + chrono::Duration::seconds(1));
        let cases: Vec<(Vec<(header::HeaderName, &str)>, Plan)> = vec![
            (vec![], Plan::Send(None)),
            (vec![(INM, &etag)], Plan::NotModified),
            (vec![(INM, &weak)], Plan::NotModified),
            (vec![(INM, "*")], Plan::NotModified),
            (vec![(INM, &listed)], Plan::NotModified),
            (vec![(INM, "\"x\""), (INM, &etag)], Plan::NotModified),
            // If-None-Match wins over If-Modified-Since.
            (vec![(INM, "\"x\""), (IMS, &after)], Plan::Send(None)),
            (vec![(IMS, &date)], Plan::NotModified),
            (vec![(IMS, &after)], Plan::NotModified),
            (vec![(IMS, &before)], Plan::Send(None)),
            (vec![(IMS, "yesterday")], Plan::Send(None)),
            (vec![(RANGE, "bytes=2-4")], Plan::Send(Some(2..5))),
            (vec![(RANGE, "bytes=-3")], Plan::Send(Some(7..10))),
            (vec![(RANGE, "bytes=10-")], Plan::Unsatisfiable),
            (vec![(RANGE, "bytes=0-1,3-4")], Plan::Send(None)),
            (
                vec![(RANGE, "bytes=2-4"), (IF_RANGE, &etag)],
                Plan::Send(Some(2..5)),
            ),
            (
                vec![(RANGE, "bytes=2-4"), (IF_RANGE, &date)],
                Plan::Send(Some(2..5)),
            ),
            (
                vec![(RANGE, "bytes=2-4"), (IF_RANGE, "\"x\"")],
                Plan::Send(None),
            ),
            (
                vec![(RANGE, "bytes=2-4"), (IF_RANGE, &weak)],
                Plan::Send(None),
            ),
            (
                vec![(RANGE, "bytes=2-4"), (IF_RANGE, &before)],
                Plan::Send(None),
            ),
            (
                vec![(RANGE, "bytes=10-"), (IF_RANGE, "\"x\"")],
                Plan::Send(None),
            ),
            // Not modified comes before the range.
            (vec![(RANGE, "bytes=10-"), (INM, &etag)], Plan::NotModified),
            // Issue 24: If-Match (strong), else If-Unmodified-Since, come
            // first and fail with 412.
            (vec![(IM, &etag)], Plan::Send(None)),
            (vec![(IM, "*")], Plan::Send(None)),
            (vec![(IM, &listed)], Plan::Send(None)),
            (vec![(IM, "\"x\"")], Plan::PreconditionFailed),
            (vec![(IM, &weak)], Plan::PreconditionFailed),
            (vec![(IM, &etag), (IUS, &before)], Plan::Send(None)),
            (vec![(IUS, &date)], Plan::Send(None)),
            (vec![(IUS, &after)], Plan::Send(None)),
            (vec![(IUS, &before)], Plan::PreconditionFailed),
            (vec![(IUS, "yesterday")], Plan::Send(None)),
            (
                vec![(IM, "\"x\""), (INM, &etag), (RANGE, "bytes=2-4")],
                Plan::PreconditionFailed,
            ),
            (
                vec![(IUS, &date), (RANGE, "bytes=2-4")],
                Plan::Send(Some(2..5)),
            ),
        ];
        for (pairs, want) in cases {
            let got = plan(&headers(&pairs), &meta);
            assert_eq!(got, want, "{origin}: {pairs:?}");
        }
        // A file with no date yet may have changed after any date.
        let mut fresh = meta.clone();
        fresh.validators.last_modified = None;
        let since = headers(&[(IUS, &after)]);
        assert_eq!(plan(&since, &fresh), Plan::PreconditionFailed, "{origin}");
    }
}

#[test]
fn headers_about_a_file_follow_its_stat() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (origin, mut meta) in stats(dir.path()) {
        let common = common_headers(&meta);
        assert_eq!(
            common[header::ETAG],
            meta.validators.etag.as_str(),
            "{origin}"
        );
        assert!(common.contains_key(header::LAST_MODIFIED), "{origin}");
        assert_eq!(common[header::CACHE_CONTROL], IMMUTABLE);
        assert_eq!(common[header::ACCEPT_RANGES], "bytes");
        meta.immutable = false;
        meta.validators.last_modified = None;
        let common = common_headers(&meta);
        assert_eq!(common[header::CACHE_CONTROL], REVALIDATE);
        assert!(!common.contains_key(header::LAST_MODIFIED), "{origin}");
    }
}

/// Status, `Content-Length` to be, and `Content-Range` of a reply.
type Summary<S> = (u16, Option<u64>, Option<S>);

fn summary(reply: &Reply) -> Summary<String> {
    let len = match &reply.payload {
        Payload::None => None,
        Payload::Bytes(bytes) => Some(bytes.len() as u64),
        Payload::Content { len, .. } | Payload::Head { len } => Some(*len),
    };
    let range = reply
        .headers
        .get(header::CONTENT_RANGE)
        .map(|v| v.to_str().expect("ascii").to_owned());
    (reply.status.as_u16(), len, range)
}

#[tokio::test]
async fn a_directory_answers_through_the_builder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = old_file(dir.path(), "pool/a.deb");
    old_file(dir.path(), ".debvault/secret");
    let etag = validators(&meta).etag;
    let origin = DirOrigin::new(dir.path().to_path_buf(), None);
    let (get, head) = (Method::GET, Method::HEAD);
    let range = |r: &str| headers(&[(header::RANGE, r)]);
    let none = HeaderMap::new();
    let cases: Vec<(&Method, &str, HeaderMap, Summary<&str>)> = vec![
        (&get, "/pool/a.deb", none.clone(), (200, Some(10), None)),
        (&head, "/pool/a.deb", none.clone(), (200, Some(10), None)),
        (
            &get,
            "/pool/a.deb",
            range("bytes=2-4"),
            (206, Some(3), Some("bytes 2-4/10")),
        ),
        // The directory applies a range to HEAD as to GET.
        (
            &head,
            "/pool/a.deb",
            range("bytes=2-4"),
            (206, Some(3), Some("bytes 2-4/10")),
        ),
        (
            &get,
            "/pool/a.deb",
            range("bytes=10-"),
            (416, Some(0), Some("bytes */10")),
        ),
        (
            &head,
            "/pool/a.deb",
            range("bytes=10-"),
            (416, Some(0), Some("bytes */10")),
        ),
        (
            &get,
            "/pool/a.deb",
            headers(&[(header::IF_NONE_MATCH, &etag)]),
            (304, None, None),
        ),
        (&get, "/pool/nope.deb", none.clone(), (404, Some(14), None)),
        (
            &get,
            "/.debvault/secret",
            none.clone(),
            (404, Some(14), None),
        ),
        (
            &get,
            "/pool/../../etc/passwd",
            none.clone(),
            (400, Some(16), None),
        ),
        (
            &Method::POST,
            "/pool/a.deb",
            none.clone(),
            (405, Some(23), None),
        ),
    ];
    for (method, path, request, want) in cases {
        let reply = respond(&origin, method, path, &request).await;
        let (status, len, range) = summary(&reply);
        assert_eq!((status, len, range.as_deref()), want, "{method} {path}");
    }
    let reply = respond(&origin, &get, "/pool/", &none).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let reply = respond(&origin, &get, "/pool/a.deb", &none).await;
    assert_eq!(reply.headers[header::CACHE_CONTROL], IMMUTABLE);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/vnd.debian.binary-package"
    );
}

#[test]
fn content_types() {
    assert_eq!(
        content_type("curl_7.88_amd64.deb"),
        "application/vnd.debian.binary-package"
    );
    assert_eq!(content_type("Packages.xz"), "application/x-xz");
    assert_eq!(content_type("Release.gpg"), "application/pgp-signature");
    assert_eq!(content_type("InRelease"), TEXT);
    assert_eq!(content_type("0123abcd"), "application/octet-stream");
}
