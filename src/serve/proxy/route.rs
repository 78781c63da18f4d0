//! Which requests the proxy answers: `/NAME/…` (origin-form) and
//! absolute-URI requests whose URL lies under a configured upstream (what
//! apt sends through `Acquire::http::Proxy`). Any other absolute URI, and
//! every `CONNECT`, is refused: the server is never an open proxy.

use hyper::{Method, Uri};
use url::Url;

/// Where a request goes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Route {
    /// To proxy `index`, for the raw path below its upstream (starting
    /// with `/`).
    Proxy(usize, String),
    /// Refused (403), for the reason given (logged).
    Refuse(&'static str),
    /// Not the proxy's: the served tree answers.
    Local,
}

/// Routes a request among the proxies `(name, upstream)`.
pub(super) fn route(proxies: &[(&str, &Url)], method: &Method, uri: &Uri) -> Route {
    if method == Method::CONNECT {
        return Route::Refuse("CONNECT is not proxied");
    }
    if let Some(authority) = uri.authority() {
        let scheme = uri.scheme_str().unwrap_or("");
        let port = authority.port_u16().or(match scheme {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        });
        let path = uri.path();
        for (i, (_, upstream)) in proxies.iter().enumerate() {
            let same_host = upstream
                .host_str()
                .is_some_and(|h| h.eq_ignore_ascii_case(authority.host()));
            // Below the upstream's path at a segment boundary: `/debian`
            // does not cover `/debian-security`.
            if scheme == upstream.scheme()
                && same_host
                && port == upstream.port_or_known_default()
                && let Some(rest) = path.strip_prefix(upstream.path().trim_end_matches('/'))
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return checked(i, rest);
            }
        }
        return Route::Refuse("not under a configured upstream");
    }
    let raw = uri.path();
    let first = raw.trim_start_matches('/').split('/').next().unwrap_or("");
    for (i, (name, _)) in proxies.iter().enumerate() {
        if first == *name {
            return checked(i, &raw.trim_start_matches('/')[first.len()..]);
        }
    }
    Route::Local
}

/// The proxy route for `rest` (the path below the upstream), unless a
/// segment could climb out of the upstream's path: `.`, `..` (also
/// percent-encoded), a backslash or a NUL.
fn checked(i: usize, rest: &str) -> Route {
    let climbs = rest.split('/').any(|seg| {
        let lower = seg.to_ascii_lowercase();
        let dots = lower.replace("%2e", ".");
        dots == "."
            || dots == ".."
            || lower.contains("%2f")
            || lower.contains("%5c")
            || seg.contains(['\\', '\0'])
    });
    if climbs {
        return Route::Refuse("a path that leaves the upstream");
    }
    Route::Proxy(
        i,
        if rest.is_empty() {
            "/".to_owned()
        } else {
            rest.to_owned()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(method: Method, target: &str) -> Route {
        let debian = Url::parse("http://deb.example.org/debian/").expect("url");
        let other = Url::parse("http://mirror.example.net:8080/").expect("url");
        let proxies = [("debian", &debian), ("other", &other)];
        route(&proxies, &method, &target.parse().expect("uri"))
    }

    #[test]
    fn origin_form_by_name() {
        assert_eq!(
            routed(Method::GET, "/debian/dists/stable/InRelease"),
            Route::Proxy(0, "/dists/stable/InRelease".into())
        );
        assert_eq!(routed(Method::GET, "/other"), Route::Proxy(1, "/".into()));
        assert_eq!(routed(Method::GET, "/debianx/dists"), Route::Local);
        assert!(matches!(
            routed(Method::GET, "/debian/dists/../../etc"),
            Route::Refuse(_)
        ));
        assert_eq!(routed(Method::GET, "/dists/stable/InRelease"), Route::Local);
    }

    #[test]
    fn absolute_uris_under_an_upstream_only() {
        assert_eq!(
            routed(
                Method::GET,
                "http://deb.example.org/debian/pool/main/h/hello/hello_1_all.deb"
            ),
            Route::Proxy(0, "/pool/main/h/hello/hello_1_all.deb".into())
        );
        assert_eq!(
            routed(Method::GET, "http://DEB.example.org:80/debian/dists/x"),
            Route::Proxy(0, "/dists/x".into())
        );
        assert_eq!(
            routed(Method::GET, "http://mirror.example.net:8080/dists/x"),
            Route::Proxy(1, "/dists/x".into())
        );
        for refused in [
            "http://deb.example.org/debian-security/dists/x",
            "http://deb.example.org/debian/../secret",
            "http://deb.example.org/debian/dists/%2e%2E/x",
            "http://deb.example.org/debian/dists%2F..%2Fx",
            "http://evil.example.com/debian/dists/x",
            "http://deb.example.org/ubuntu/dists/x",
            "http://deb.example.org:81/debian/dists/x",
            "https://deb.example.org/debian/dists/x",
            "http://mirror.example.net/dists/x",
        ] {
            assert!(
                matches!(routed(Method::GET, refused), Route::Refuse(_)),
                "{refused}"
            );
        }
        assert!(matches!(
            routed(Method::CONNECT, "deb.example.org:443"),
            Route::Refuse(_)
        ));
    }
}
