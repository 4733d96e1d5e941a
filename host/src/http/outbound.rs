//! Outgoing HTTP from guests: requests are allowed only to the hosts listed in
//! the component's `allowed_outbound_hosts`, like Spin. Everything else gets
//! `HttpRequestDenied` before any connection is made.
//!
//! Supported forms (Spin's): `https://api.example.com`, `http://127.0.0.1:8080`,
//! `https://*.example.com`, `http://localhost:*`, `*://host:*`, and the catch-all
//! `*://*:*`. A missing port means the scheme's default port.

use http::Request;
use std::sync::Arc;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

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
        "http" | "https" => Some(scheme.to_string()),
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
        let scheme = uri.scheme_str().unwrap_or("https").to_string();
        let host = uri.host().unwrap_or_default().to_string();
        let port = uri
            .port_u16()
            .or_else(|| default_port(&scheme))
            .unwrap_or(0);
        if !self.allows(&scheme, &host, port) {
            tracing::warn!(%scheme, %host, port, "outbound request denied: not in allowed_outbound_hosts");
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
}
