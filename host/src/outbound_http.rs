//! The outbound-HTTP capability ([`OutboundHttp`]): links `wasi:http` (P2 and
//! P3) and lets guests send requests only to the hosts listed in the
//! component's `allowed_outbound_hosts`, like Spin. Everything else gets
//! `HttpRequestDenied` before any connection is made. Entries may use
//! application variables (`https://{{ region }}.example.com`); they are
//! rendered and checked at start-up.
//!
//! Supported forms (Spin's): `https://api.example.com`, `http://127.0.0.1:8080`,
//! `https://*.example.com`, `http://localhost:*`, `*://host:*`, and the catch-all
//! `*://*:*`. A missing port means the scheme's default port. The same
//! policy guards outbound Redis (`redis://host:port`, see [`crate::redis`]).

use crate::capability::{AppContext, Capability, ComponentContext};
use crate::host_state::HostState;
use crate::variables::{AppVariables, Variables};
use http::Request;
use std::sync::Arc;
use wasmtime::component::Linker;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The outbound-HTTP capability. Its per-request state is the component's
/// [`OutboundPolicy`], which `HostState` hands to wasi:http as its hooks.
pub struct OutboundHttp;

impl Capability for OutboundHttp {
    type Prepared = OutboundPolicy;
    type InstanceState = OutboundPolicy;

    /// Adds wasi:http, both versions (types, handler and client).
    fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
        wasmtime_wasi_http::p3::add_to_linker(linker)
    }

    async fn configure_app(_ctx: &AppContext<'_>) -> anyhow::Result<Self> {
        Ok(Self)
    }

    /// Renders and parses the component's `allowed_outbound_hosts`.
    fn prepare(&self, ctx: &ComponentContext<'_>) -> anyhow::Result<OutboundPolicy> {
        let variables = ctx.capability::<Variables>().app();
        policy_from_templates(variables, &ctx.component.allowed_outbound_hosts)
            .map_err(anyhow::Error::msg)
    }

    fn instance(policy: &OutboundPolicy) -> OutboundPolicy {
        policy.clone()
    }
}

/// A component's outbound policy, with templates in its
/// `allowed_outbound_hosts` expanded. An entry that is invalid once expanded
/// is reported as written when a secret went into it.
pub fn policy_from_templates(
    variables: &AppVariables,
    entries: &[String],
) -> Result<OutboundPolicy, String> {
    let mut rendered = Vec::with_capacity(entries.len());
    for entry in entries {
        let (value, secret) = variables.render(entry).map_err(|e| e.to_string())?;
        if let Err(err) = OutboundPolicy::parse(std::slice::from_ref(&value)) {
            return Err(if secret {
                format!(
                    "invalid allowed_outbound_hosts entry {entry:?} (its value is not shown: it uses a secret variable)"
                )
            } else if value != *entry {
                format!("{err} (expanded from {entry:?})")
            } else {
                err
            });
        }
        rendered.push(value);
    }
    OutboundPolicy::parse(&rendered)
}

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    Suffix(String),
}

/// The set of destinations one component may reach; cheap to clone per request.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Arc<Vec<AllowedHost>>,
}

impl OutboundPolicy {
    /// Parses a component's `allowed_outbound_hosts`.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let allowed = entries
            .iter()
            .map(|entry| parse_entry(entry))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            allowed: Arc::new(allowed),
        })
    }

    /// Whether a request to `uri` is allowed. The host is compared as a
    /// name, never resolved: `127.0.0.1.nip.io` or `[::1]` is not
    /// `127.0.0.1`. A URI with userinfo (`user@host`) is refused outright:
    /// HTTP senders must not generate it (RFC 9110 §4.2.4), and it is how
    /// `http://127.0.0.1:80@evil.example/` hides its real host from a reader.
    pub fn allows_uri(&self, uri: &http::Uri) -> bool {
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return false;
        }
        let scheme = uri.scheme_str().unwrap_or("https");
        let port = uri.port_u16().or_else(|| default_port(scheme)).unwrap_or(0);
        self.allows(scheme, uri.host().unwrap_or_default(), port)
    }

    /// Whether a request to `scheme://host:port` is allowed.
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        self.allowed.iter().any(|rule| {
            rule.scheme.as_deref().is_none_or(|s| s == scheme)
                && match &rule.host {
                    HostPattern::Any => true,
                    HostPattern::Exact(h) => *h == host,
                    HostPattern::Suffix(suffix) => host.ends_with(suffix.as_str()),
                }
                && match rule.port {
                    None => true,
                    Some(p) => p == port,
                }
        })
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "redis" | "rediss" => Some(6379),
        _ => None,
    }
}

fn parse_entry(entry: &str) -> Result<AllowedHost, String> {
    let bad = |why: &str| format!("invalid allowed_outbound_hosts entry {entry:?}: {why}");
    let (scheme, rest) = entry
        .split_once("://")
        .ok_or_else(|| bad("expected scheme://host[:port]"))?;
    let rest = rest.trim_end_matches('/');
    if rest.contains('/') {
        return Err(bad("paths are not allowed"));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let scheme = match scheme {
        "*" => None,
        "http" | "https" | "redis" | "rediss" => Some(scheme.to_string()),
        other => return Err(bad(&format!("unsupported scheme {other:?}"))),
    };
    let port = match port {
        Some("*") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| bad("port must be a number or *"))?,
        ),
        None => match scheme.as_deref().and_then(default_port) {
            Some(p) => Some(p),
            None => return Err(bad("a wildcard scheme needs an explicit port or *")),
        },
    };
    let host = host.to_ascii_lowercase();
    let host = if host == "*" {
        HostPattern::Any
    } else if let Some(suffix) = host.strip_prefix("*.") {
        HostPattern::Suffix(format!(".{suffix}"))
    } else if host.is_empty() || host.contains('*') {
        return Err(bad("host must be a name, *.domain or *"));
    } else {
        HostPattern::Exact(host)
    };
    Ok(AllowedHost { scheme, host, port })
}

type SendFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = Result<(), Error>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let uri = request.uri();
        if !self.allows_uri(uri) {
            // Userinfo may hold a password: log the host and port only.
            tracing::warn!(
                scheme = uri.scheme_str().unwrap_or("https"),
                host = uri.host().unwrap_or_default(),
                port = uri.port_u16(),
                userinfo = uri.authority().is_some_and(|a| a.as_str().contains('@')),
                "outbound request denied: not in allowed_outbound_hosts"
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        drop(fut);
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::VariableDef;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn empty_list_denies_everything() {
        assert!(!policy(&[]).allows("https", "example.com", 443));
    }

    #[test]
    fn exact_host_uses_default_port() {
        let p = policy(&["https://api.example.com"]);
        assert!(p.allows("https", "api.example.com", 443));
        assert!(p.allows("https", "API.example.com", 443));
        assert!(!p.allows("https", "api.example.com", 8443));
        assert!(!p.allows("http", "api.example.com", 80));
        assert!(!p.allows("https", "evil.com", 443));
    }

    #[test]
    fn wildcards() {
        let p = policy(&["https://*.example.com", "http://localhost:*"]);
        assert!(p.allows("https", "a.example.com", 443));
        assert!(!p.allows("https", "example.com.evil", 443));
        assert!(p.allows("http", "localhost", 11434));
        assert!(policy(&["*://*:*"]).allows("http", "10.0.0.1", 9));
    }

    #[test]
    fn only_the_exact_name_and_port_pass_without_resolving_anything() {
        let p = policy(&["http://127.0.0.1:8080"]);
        let allows = |uri: &str| p.allows_uri(&uri.parse().unwrap());
        assert!(allows("http://127.0.0.1:8080/x"));
        for denied in [
            "http://127.0.0.1.nip.io:8080/",
            "http://[::1]:8080/",
            "http://localhost:8080/",
            "http://127.0.0.1:8081/",
            "http://127.0.0.1/",
            "http://127.0.0.1.:8080/",
            "http://2130706433:8080/",
            "https://127.0.0.1:8080/",
            "http://user@127.0.0.1:8080/",
            "http://user:secret@127.0.0.1:8080/",
            "http://127.0.0.1:8080@example.com/",
        ] {
            assert!(!allows(denied), "{denied}");
        }
    }

    #[test]
    fn a_redis_entry_allows_that_redis_server_only() {
        let p = policy(&["redis://127.0.0.1:*", "redis://cache.internal"]);
        assert!(p.allows("redis", "127.0.0.1", 6390));
        assert!(p.allows("redis", "cache.internal", 6379));
        assert!(!p.allows("redis", "cache.internal", 6380));
        assert!(!p.allows("http", "127.0.0.1", 6390));
    }

    #[test]
    fn rejects_malformed_entries() {
        for entry in [
            "example.com",
            "ftp://x",
            "https://x/path",
            "*://x",
            "https://x:abc",
        ] {
            assert!(
                OutboundPolicy::parse(&[entry.to_string()]).is_err(),
                "{entry}"
            );
        }
    }

    #[test]
    fn outbound_templates_hide_secrets() {
        let def = |default: &str, secret| VariableDef {
            default: Some(default.to_string()),
            required: false,
            secret,
            description: None,
        };
        let defs = std::collections::BTreeMap::from([
            ("region".to_string(), def("eu", false)),
            ("api_key".to_string(), def("not a host at all", true)),
        ]);
        let vars = AppVariables::resolve(&defs, |_| Ok(None)).unwrap();
        let policy =
            policy_from_templates(&vars, &["https://{{ region }}.example.com".to_string()])
                .unwrap();
        assert!(policy.allows("https", "eu.example.com", 443));
        let err =
            policy_from_templates(&vars, &["https://{{ api_key }}/x".to_string()]).unwrap_err();
        assert!(!err.contains("not a host"), "{err}");
    }
}
