//! HTTP routing: which component handles a request path, and the `spin-*`
//! request headers that tell the component how it was matched.
//!
//! This module owns the route table built from the manifest's
//! `[[trigger.http]]` entries and reproduces `spin up`'s matching rules:
//!
//! * a route without a wildcard matches only that path; leading and trailing
//!   slashes are not significant (`/foo` matches `/foo` and `/foo/`);
//! * a route ending in `/...` (or `/*`) matches its prefix and everything
//!   below it (`/foo/...` matches `/foo`, `/foo/` and `/foo/bar`); `/...`
//!   matches every path;
//! * a `:name` segment matches any single non-empty path segment and
//!   captures it;
//! * when several routes match, the most specific wins: routes are compared
//!   segment by segment (literal > `:param` > wildcard), and when one is a
//!   prefix of the other the shorter route wins, so `/foo` beats `/foo/...`
//!   and `/one/two/...` beats `/one/...`;
//! * private routes (`route = { private = true }`) are never routed.
//!
//! Unlike `spin up`, which logs duplicate routes and lets the later one win,
//! [`Router::build`] rejects two routes that match exactly the same paths.
//! It knows nothing about wasmtime or hyper beyond the `http` header types.

use std::cmp::Ordering;
use std::net::SocketAddr;

use http::{HeaderName, HeaderValue};

use crate::manifest::{HttpRoute, HttpTrigger};

/// `spin up` answers paths under this prefix itself (`health`, `info`);
/// a route there never reaches a component.
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// `spin-full-url`: the full request URL, query included.
pub const SPIN_FULL_URL: HeaderName = HeaderName::from_static("spin-full-url");
/// `spin-path-info`: the part of the path matched by a trailing wildcard.
pub const SPIN_PATH_INFO: HeaderName = HeaderName::from_static("spin-path-info");
/// `spin-matched-route`: the matched route, normalised (leading `/`, no trailing `/`).
pub const SPIN_MATCHED_ROUTE: HeaderName = HeaderName::from_static("spin-matched-route");
/// `spin-component-route`: the route as written, without a trailing `/...`.
pub const SPIN_COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-component-route");
/// `spin-raw-component-route`: the route exactly as written in the manifest.
pub const SPIN_RAW_COMPONENT_ROUTE: HeaderName =
    HeaderName::from_static("spin-raw-component-route");
/// `spin-base-path`: the application base path (always `/`).
pub const SPIN_BASE_PATH: HeaderName = HeaderName::from_static("spin-base-path");
/// `spin-client-addr`: the client's socket address.
pub const SPIN_CLIENT_ADDR: HeaderName = HeaderName::from_static("spin-client-addr");
/// Prefix of the per-parameter headers (`spin-path-match-<name>`).
pub const SPIN_PATH_MATCH_PREFIX: &str = "spin-path-match-";

/// Why a route table could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    /// Two triggers whose routes match exactly the same paths.
    #[error(
        "route {route:?} (component `{component}`) duplicates route {existing_route:?} (component `{existing_component}`): both match exactly the same paths, so one could never be reached"
    )]
    Duplicate {
        /// The later route, as written.
        route: String,
        /// Its component.
        component: String,
        /// The earlier route it collides with, as written.
        existing_route: String,
        /// The earlier route's component.
        existing_component: String,
    },
    /// A route pattern that cannot be parsed.
    #[error("invalid route {route:?} for component `{component}`: {reason}")]
    Invalid {
        /// The route as written.
        route: String,
        /// Its component.
        component: String,
        /// What is wrong with it.
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    /// Only ever the last segment.
    Wildcard,
}

impl Segment {
    /// How specific a segment is: literal > parameter > wildcard.
    fn rank(&self) -> u8 {
        match self {
            Segment::Literal(_) => 2,
            Segment::Param(_) => 1,
            Segment::Wildcard => 0,
        }
    }

    /// Equal when both match the same path segments (parameter names aside).
    fn same_shape(&self, other: &Segment) -> bool {
        match (self, other) {
            (Segment::Literal(a), Segment::Literal(b)) => a == b,
            (Segment::Param(_), Segment::Param(_)) | (Segment::Wildcard, Segment::Wildcard) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    component_id: String,
    raw_route: String,
    based_route: String,
    component_route: String,
    segments: Vec<Segment>,
}

/// The route table: request path to component.
#[derive(Debug, Clone, Default)]
pub struct Router {
    /// Most specific first; equally specific routes keep manifest order.
    entries: Vec<Entry>,
}

/// A successful match of a request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    /// The component handling the request.
    pub component_id: &'a str,
    /// The route exactly as written in the manifest, e.g. `/api/...`.
    pub raw_route: &'a str,
    /// The route with a leading `/` and one trailing `/` removed (the base is
    /// always `/`); Spin's `spin-matched-route`. Note the root route `/`
    /// normalises to the empty string, as in Spin.
    pub based_route: String,
    /// `raw_route` without a trailing `/...`; Spin's `spin-component-route`.
    pub component_route: &'a str,
    /// The part of the path matched by a trailing wildcard, with Spin's
    /// slash rules: `/foo/...` against `/foo` gives `""`, `/foo/` gives `/`,
    /// `/foo/bar` gives `/bar`, `/foo/bar/` gives `/bar/`. Empty for routes
    /// without a wildcard.
    pub path_info: String,
    /// `:name` captures, in route order.
    pub params: Vec<(String, String)>,
}

/// `raw` with a leading `/` and without one trailing `/` (Spin's "based" route
/// with base `/`).
fn based_route(raw: &str) -> String {
    let absolute = if raw.starts_with('/') {
        raw.to_string()
    } else {
        format!("/{raw}")
    };
    match absolute.strip_suffix('/') {
        Some(s) => s.to_string(),
        None => absolute,
    }
}

fn is_param_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Splits a based route into segments.
fn parse_route(based: &str) -> Result<Vec<Segment>, String> {
    let (body, wildcard) = match based
        .strip_suffix("/...")
        .or_else(|| based.strip_suffix("/*"))
    {
        Some(prefix) => (prefix, true),
        None => (based, false),
    };
    let mut segments = Vec::new();
    // Empty pieces (doubled slashes) are not significant, as in Spin.
    for piece in body.split('/').filter(|p| !p.is_empty()) {
        if piece == "..." || piece.contains('*') {
            return Err(
                "a wildcard may only be the last segment of a route, written `/...`".into(),
            );
        }
        if let Some(name) = piece.strip_prefix(':') {
            if name.is_empty() {
                return Err("route parameters must be named, e.g. `/users/:id`".into());
            }
            if !is_param_name(name) {
                return Err(format!(
                    "route parameter `:{name}` must be a whole path segment named with ASCII letters, digits, `_` or `-`"
                ));
            }
            if segments.contains(&Segment::Param(name.to_string())) {
                return Err(format!("route parameter `:{name}` appears twice"));
            }
            segments.push(Segment::Param(name.to_string()));
        } else {
            segments.push(Segment::Literal(piece.to_string()));
        }
    }
    if wildcard {
        segments.push(Segment::Wildcard);
    }
    Ok(segments)
}

/// `Greater` when `a` is more specific than `b`.
fn specificity(a: &[Segment], b: &[Segment]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.rank().cmp(&y.rank()))
        .find(|o| o.is_ne())
        // One is a prefix of the other: the shorter is more specific.
        .unwrap_or_else(|| b.len().cmp(&a.len()))
}

/// Matches `path` against `segments`: the parameter captures and, for
/// wildcard routes, the (slash-trimmed) remainder.
fn match_path<'p>(segments: &[Segment], path: &'p str) -> Option<(Vec<&'p str>, Option<&'p str>)> {
    let mut rest = path.trim_matches('/');
    let mut params = Vec::new();
    let mut wildcard = None;
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix('/') {
                Some(r) => rest = r,
                // `/foo/...` also matches `/foo` itself.
                None if rest.is_empty() && *segment == Segment::Wildcard => {}
                None => return None,
            }
        }
        match segment {
            Segment::Literal(text) => {
                rest = rest.strip_prefix(text.as_str())?;
            }
            Segment::Param(_) => {
                if rest.is_empty() {
                    return None;
                }
                let end = rest.find('/').unwrap_or(rest.len());
                params.push(&rest[..end]);
                rest = &rest[end..];
            }
            Segment::Wildcard => {
                wildcard = Some(rest);
                rest = "";
            }
        }
    }
    (rest.is_empty() || rest == "/").then_some((params, wildcard))
}

impl Router {
    /// Builds the table from the HTTP triggers (private ones are skipped).
    /// Fails on an unparseable route or on two routes matching exactly the
    /// same paths, naming both components.
    pub fn build(triggers: &[HttpTrigger]) -> Result<Router, RoutingError> {
        let mut entries: Vec<Entry> = Vec::new();
        for trigger in triggers {
            let HttpRoute::Path(raw) = &trigger.route else {
                continue;
            };
            let based = based_route(raw);
            let segments = parse_route(&based).map_err(|reason| RoutingError::Invalid {
                route: raw.clone(),
                component: trigger.component.clone(),
                reason,
            })?;
            if let Some(existing) = entries.iter().find(|e| {
                e.segments.len() == segments.len()
                    && e.segments
                        .iter()
                        .zip(&segments)
                        .all(|(a, b)| a.same_shape(b))
            }) {
                return Err(RoutingError::Duplicate {
                    route: raw.clone(),
                    component: trigger.component.clone(),
                    existing_route: existing.raw_route.clone(),
                    existing_component: existing.component_id.clone(),
                });
            }
            if based.starts_with(WELL_KNOWN_PREFIX) {
                tracing::error!(
                    "route {raw:?} (component `{}`) is under the reserved prefix {WELL_KNOWN_PREFIX}; `spin up` never routes such paths to a component",
                    trigger.component
                );
            }
            entries.push(Entry {
                component_id: trigger.component.clone(),
                component_route: raw.strip_suffix("/...").unwrap_or(raw).to_string(),
                raw_route: raw.clone(),
                based_route: based,
                segments,
            });
        }
        // Stable: equally specific routes keep manifest order.
        entries.sort_by(|a, b| specificity(&b.segments, &a.segments));
        Ok(Router { entries })
    }

    /// The most specific route matching `path` (the request URI's path; a
    /// `?query` suffix is ignored), or `None` (404).
    pub fn route(&self, path: &str) -> Option<RouteMatch<'_>> {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        self.entries.iter().find_map(|entry| {
            let (captures, wildcard) = match_path(&entry.segments, path)?;
            let params = entry
                .segments
                .iter()
                .filter_map(|s| match s {
                    Segment::Param(name) => Some(name.clone()),
                    _ => None,
                })
                .zip(captures)
                .map(|(name, value)| (name, value.to_string()))
                .collect();
            let path_info = match wildcard {
                None => String::new(),
                Some(rest) => {
                    // Spin keeps a trailing slash the matcher trims away.
                    let slash = if path.ends_with('/') { "/" } else { "" };
                    if rest.is_empty() {
                        slash.to_string()
                    } else {
                        format!("/{rest}{slash}")
                    }
                }
            };
            Some(RouteMatch {
                component_id: &entry.component_id,
                raw_route: &entry.raw_route,
                based_route: entry.based_route.clone(),
                component_route: &entry.component_route,
                path_info,
                params,
            })
        })
    }
}

/// The `spin-*` headers Spin sets on the inbound request, in Spin's order:
/// `spin-path-info`, `spin-full-url`, `spin-matched-route`, `spin-base-path`,
/// `spin-raw-component-route`, `spin-component-route`, `spin-client-addr`,
/// then `spin-path-match-<name>` per `:name` parameter (name lowercased, `_`
/// written as `-`). `full_url` e.g. `http://127.0.0.1:3000/api/analyze?x=1`
/// (Spin builds it from the scheme, the `Host` header and the path and
/// query); `client_addr` e.g. `127.0.0.1:53422`.
///
/// Set them with `HeaderMap::insert` so they replace any `spin-*` header the
/// client sent. A value that is not a valid header value (impossible for
/// values taken from a parsed URI) is skipped with a warning.
pub fn spin_headers(
    m: &RouteMatch,
    full_url: &str,
    client_addr: SocketAddr,
) -> Vec<(HeaderName, HeaderValue)> {
    let client_addr = client_addr.to_string();
    let fixed = [
        (SPIN_PATH_INFO, m.path_info.as_str()),
        (SPIN_FULL_URL, full_url),
        (SPIN_MATCHED_ROUTE, m.based_route.as_str()),
        (SPIN_BASE_PATH, "/"),
        (SPIN_RAW_COMPONENT_ROUTE, m.raw_route),
        (SPIN_COMPONENT_ROUTE, m.component_route),
        (SPIN_CLIENT_ADDR, client_addr.as_str()),
    ];
    let params = m.params.iter().filter_map(|(name, value)| {
        let header = format!(
            "{SPIN_PATH_MATCH_PREFIX}{}",
            name.to_ascii_lowercase().replace('_', "-")
        );
        match HeaderName::from_bytes(header.as_bytes()) {
            Ok(h) => Some((h, value.as_str())),
            Err(_) => {
                tracing::warn!("cannot send route parameter {name:?} as header {header:?}");
                None
            }
        }
    });
    fixed
        .into_iter()
        .chain(params)
        .filter_map(|(name, value)| match HeaderValue::from_str(value) {
            Ok(v) => Some((name, v)),
            Err(_) => {
                tracing::warn!("not sending header {name}: {value:?} is not a valid header value");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(route: &str, component: &str) -> HttpTrigger {
        HttpTrigger {
            id: None,
            route: HttpRoute::Path(route.into()),
            component: component.into(),
        }
    }

    fn router(routes: &[(&str, &str)]) -> Router {
        let triggers: Vec<_> = routes.iter().map(|(r, c)| trigger(r, c)).collect();
        Router::build(&triggers).unwrap()
    }

    fn component<'a>(r: &'a Router, path: &str) -> Option<&'a str> {
        r.route(path).map(|m| m.component_id)
    }

    #[test]
    fn exact_routes_match_only_their_path() {
        let r = router(&[("/foo", "foo"), ("/foo/bar", "foobar")]);
        assert_eq!(component(&r, "/foo"), Some("foo"));
        assert_eq!(component(&r, "/foo/bar"), Some("foobar"));
        assert_eq!(component(&r, "/foobar"), None);
        assert_eq!(component(&r, "/foo/baz"), None);
        assert_eq!(component(&r, "/fo"), None);
        assert_eq!(component(&r, "/"), None);
        let m = r.route("/foo").unwrap();
        assert_eq!(m.path_info, "");
        assert!(m.params.is_empty());
    }

    #[test]
    fn trailing_slashes_are_not_significant_for_exact_routes() {
        let r = router(&[("/foo", "foo"), ("/bar/", "bar"), ("baz", "baz")]);
        assert_eq!(component(&r, "/foo/"), Some("foo"));
        assert_eq!(component(&r, "/bar"), Some("bar"));
        assert_eq!(component(&r, "/bar/"), Some("bar"));
        assert_eq!(component(&r, "/baz"), Some("baz"));
        assert_eq!(component(&r, "//foo//"), Some("foo"));
        let m = r.route("/bar").unwrap();
        assert_eq!(m.raw_route, "/bar/");
        assert_eq!(m.based_route, "/bar");
        assert_eq!(r.route("/baz").unwrap().based_route, "/baz");
    }

    #[test]
    fn root_route_matches_only_root() {
        let r = router(&[("/", "root")]);
        assert_eq!(component(&r, "/"), Some("root"));
        assert_eq!(component(&r, ""), Some("root"));
        assert_eq!(component(&r, "/x"), None);
    }

    #[test]
    fn wildcard_matches_prefix_and_below_with_spin_path_info() {
        let r = router(&[("/test/...", "t")]);
        for (path, info) in [
            ("/test", ""),
            ("/test/", "/"),
            ("/test/hello", "/hello"),
            ("/test/hello/", "/hello/"),
            ("/test/a/b/c", "/a/b/c"),
        ] {
            let m = r
                .route(path)
                .unwrap_or_else(|| panic!("{path} should match"));
            assert_eq!(m.component_id, "t");
            assert_eq!(m.path_info, info, "{path}");
        }
        assert_eq!(component(&r, "/testing"), None);
        assert_eq!(component(&r, "/other"), None);
        // `/*` is accepted as a trailing wildcard too.
        let r = router(&[("/x/*", "x")]);
        assert_eq!(r.route("/x/y").unwrap().path_info, "/y");
    }

    #[test]
    fn catch_all_matches_everything() {
        let r = router(&[("/...", "all")]);
        for (path, info) in [
            ("/", "/"),
            ("/foo/bar", "/foo/bar"),
            ("/abc/", "/abc/"),
            ("", ""),
        ] {
            let m = r.route(path).unwrap();
            assert_eq!(m.component_id, "all");
            assert_eq!(m.path_info, info, "{path:?}");
        }
        // The query string is not part of the path.
        assert_eq!(r.route("/a/b?c=d/e").unwrap().path_info, "/a/b");
    }

    #[test]
    fn params_capture_single_segments() {
        let r = router(&[("/users/:id", "user"), ("/users/:id/posts/...", "posts")]);
        let m = r.route("/users/42").unwrap();
        assert_eq!(m.component_id, "user");
        assert_eq!(m.params, vec![("id".to_string(), "42".to_string())]);
        let m = r.route("/users/42/posts/7/comments").unwrap();
        assert_eq!(m.component_id, "posts");
        assert_eq!(m.params, vec![("id".to_string(), "42".to_string())]);
        assert_eq!(m.path_info, "/7/comments");
        assert_eq!(component(&r, "/users"), None);
        assert_eq!(component(&r, "/users/42/extra"), None);
    }

    #[test]
    fn most_specific_route_wins_regardless_of_order() {
        let routes = [
            ("/...", "catch-all"),
            ("/one/...", "one-wild"),
            ("/one/two/...", "one-two-wild"),
            ("/one/two/three/...", "one-two-three-wild"),
            ("/one/:p", "one-param"),
            ("/one/exact", "one-exact"),
            ("/one", "one"),
        ];
        let check = |r: &Router| {
            assert_eq!(
                component(r, "/one/two/three/four"),
                Some("one-two-three-wild")
            );
            assert_eq!(component(r, "/one/two/x"), Some("one-two-wild"));
            assert_eq!(component(r, "/one/exact"), Some("one-exact"));
            assert_eq!(component(r, "/one/other"), Some("one-param"));
            // A literal segment beats a parameter, even in a wildcard route.
            assert_eq!(component(r, "/one/two"), Some("one-two-wild"));
            assert_eq!(component(r, "/one/x/y"), Some("one-wild"));
            assert_eq!(component(r, "/one"), Some("one"));
            assert_eq!(component(r, "/elsewhere"), Some("catch-all"));
            assert_eq!(component(r, "/"), Some("catch-all"));
        };
        check(&router(&routes));
        let mut reversed = routes;
        reversed.reverse();
        check(&router(&reversed));
    }

    #[test]
    fn exact_beats_wildcard_and_param_beats_wildcard() {
        let r = router(&[("/...", "wild"), ("/one", "exact"), ("/:any", "param")]);
        assert_eq!(component(&r, "/one"), Some("exact"));
        assert_eq!(component(&r, "/two"), Some("param"));
        assert_eq!(component(&r, "/two/three"), Some("wild"));
    }

    #[test]
    fn no_match_returns_none() {
        let r = router(&[("/api/...", "api")]);
        assert!(r.route("/").is_none());
        assert!(r.route("/apix").is_none());
        assert!(Router::build(&[]).unwrap().route("/").is_none());
    }

    #[test]
    fn duplicates_are_rejected_naming_both_components() {
        for (first, second) in [
            ("/foo", "/foo"),
            ("/foo", "/foo/"),
            ("/foo/...", "foo/..."),
            ("/...", "/*"),
            ("/users/:id", "/users/:name"),
        ] {
            let err =
                Router::build(&[trigger(first, "first"), trigger(second, "second")]).unwrap_err();
            match &err {
                RoutingError::Duplicate {
                    route,
                    component,
                    existing_route,
                    existing_component,
                } => {
                    assert_eq!(route, second);
                    assert_eq!(component, "second");
                    assert_eq!(existing_route, first);
                    assert_eq!(existing_component, "first");
                }
                other => panic!("unexpected {other:?}"),
            }
            let text = err.to_string();
            assert!(
                text.contains("`first`") && text.contains("`second`"),
                "{text}"
            );
        }
        // Same prefix, different kinds: not duplicates.
        router(&[
            ("/foo", "a"),
            ("/foo/...", "b"),
            ("/:x", "c"),
            ("/...", "d"),
        ]);
    }

    #[test]
    fn private_routes_are_never_routed() {
        let triggers = [
            trigger("/public", "public"),
            HttpTrigger {
                id: None,
                route: HttpRoute::Private,
                component: "internal".into(),
            },
        ];
        let r = Router::build(&triggers).unwrap();
        assert_eq!(r.entries.len(), 1);
        assert_eq!(component(&r, "/public"), Some("public"));
        assert!(r.route("/internal").is_none());
    }

    #[test]
    fn invalid_routes_are_rejected() {
        for bad in [
            "/a/.../b",
            "/a/*/b",
            "/*named",
            "/users/:",
            "/files/:name.json",
            "/:a/:a",
            "/a*b",
        ] {
            let err = Router::build(&[trigger(bad, "c")]).unwrap_err();
            assert!(
                matches!(&err, RoutingError::Invalid { route, component, .. } if route == bad && component == "c"),
                "{bad}: {err}"
            );
        }
    }

    fn header_map(headers: &[(HeaderName, HeaderValue)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    const CLIENT: &str = "127.0.0.1:8777";

    #[test]
    fn headers_for_wildcard_route() {
        // Spin's own example: route `/foo/...`, request `/foo/bar?key1=value1&key2=value2`.
        let r = router(&[("/foo/...", "dummy")]);
        let m = r.route("/foo/bar").unwrap();
        let h = spin_headers(
            &m,
            "https://fermyon.dev/foo/bar?key1=value1&key2=value2",
            CLIENT.parse().unwrap(),
        );
        assert_eq!(
            header_map(&h),
            pairs(&[
                ("spin-path-info", "/bar"),
                (
                    "spin-full-url",
                    "https://fermyon.dev/foo/bar?key1=value1&key2=value2"
                ),
                ("spin-matched-route", "/foo/..."),
                ("spin-base-path", "/"),
                ("spin-raw-component-route", "/foo/..."),
                ("spin-component-route", "/foo"),
                ("spin-client-addr", CLIENT),
            ])
        );
    }

    #[test]
    fn headers_for_param_route() {
        // Spin's example: route `/foo/:userid/...`, request `/foo/42/bar`.
        let r = router(&[("/foo/:userid/...", "dummy"), ("/orgs/:org_id", "org")]);
        let m = r.route("/foo/42/bar").unwrap();
        let h = header_map(&spin_headers(
            &m,
            "https://fermyon.dev/foo/42/bar?key1=value1",
            CLIENT.parse().unwrap(),
        ));
        assert_eq!(h[0], pairs(&[("spin-path-info", "/bar")])[0]);
        assert_eq!(h[2].1, "/foo/:userid/...");
        assert_eq!(h[4].1, "/foo/:userid/...");
        assert_eq!(h[5].1, "/foo/:userid");
        assert_eq!(h[7], ("spin-path-match-userid".into(), "42".into()));
        assert_eq!(h.len(), 8);

        // Parameter names are lowercased with `_` written as `-`.
        let m = r.route("/orgs/acme").unwrap();
        let h = header_map(&spin_headers(
            &m,
            "http://x/orgs/acme",
            CLIENT.parse().unwrap(),
        ));
        assert_eq!(h[7], ("spin-path-match-org-id".into(), "acme".into()));
    }

    #[test]
    fn headers_for_exact_route() {
        let r = router(&[("/api/analyze", "analyze"), ("/", "root"), ("/...", "all")]);
        let m = r.route("/api/analyze").unwrap();
        let h = header_map(&spin_headers(
            &m,
            "http://127.0.0.1:3000/api/analyze?x=1",
            "127.0.0.1:53422".parse().unwrap(),
        ));
        assert_eq!(
            h,
            pairs(&[
                ("spin-path-info", ""),
                ("spin-full-url", "http://127.0.0.1:3000/api/analyze?x=1"),
                ("spin-matched-route", "/api/analyze"),
                ("spin-base-path", "/"),
                ("spin-raw-component-route", "/api/analyze"),
                ("spin-component-route", "/api/analyze"),
                ("spin-client-addr", "127.0.0.1:53422"),
            ])
        );
        // Root and catch-all: Spin's normalisation gives "" as the matched
        // route of `/` and as the component route of `/...`.
        let root = header_map(&spin_headers(
            &r.route("/").unwrap(),
            "http://h/",
            CLIENT.parse().unwrap(),
        ));
        assert_eq!(root[2], ("spin-matched-route".into(), "".into()));
        assert_eq!(root[4], ("spin-raw-component-route".into(), "/".into()));
        assert_eq!(root[5], ("spin-component-route".into(), "/".into()));
        let all = header_map(&spin_headers(
            &r.route("/x").unwrap(),
            "http://h/x",
            "[::1]:9".parse().unwrap(),
        ));
        assert_eq!(all[0], ("spin-path-info".into(), "/x".into()));
        assert_eq!(all[2], ("spin-matched-route".into(), "/...".into()));
        assert_eq!(all[5], ("spin-component-route".into(), "".into()));
        assert_eq!(all[6], ("spin-client-addr".into(), "[::1]:9".into()));
    }
}
