//! The absolute URI a guest sees, as Spin gives it
//! (`http://<authority><path-and-query>`): the authority comes from the
//! request target when it is absolute, else from the `Host` header, else
//! from the listening address. It is validated as a `host[:port]` and the
//! URI is assembled with `http::uri::Builder`, never by pasting strings, so a
//! `Host: a/b?` cannot change the path the guest sees (`400 invalid_host`).

use http::uri::{Authority, Builder, PathAndQuery, Scheme};
use http::{HeaderValue, Uri};
use std::net::SocketAddr;

/// Why the request's authority was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the Host header {shown:?} is not a valid host[:port]")]
pub struct InvalidHost {
    shown: String,
}

impl InvalidHost {
    fn new(raw: &[u8]) -> Self {
        // Bounded and printable, for the error message.
        let shown = String::from_utf8_lossy(&raw[..raw.len().min(100)]).into_owned();
        Self { shown }
    }
}

/// The URI the guest gets for a request with target `target` and `host`.
pub fn guest_uri(
    target: &Uri,
    host: Option<&HeaderValue>,
    local: SocketAddr,
) -> Result<Uri, InvalidHost> {
    let authority = match (target.authority(), host) {
        (Some(authority), _) => checked(authority.clone(), authority.as_str().as_bytes())?,
        (None, Some(host)) => parse_authority(host.as_bytes())?,
        (None, None) => Authority::try_from(local.to_string())
            .map_err(|_| InvalidHost::new(local.to_string().as_bytes()))?,
    };
    let path_and_query = target
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Builder::new()
        .scheme(Scheme::HTTP)
        .authority(authority)
        .path_and_query(path_and_query)
        .build()
        .map_err(|_| InvalidHost::new(host.map_or(&b""[..], HeaderValue::as_bytes)))
}

/// A `Host` header value as an authority: `host[:port]`, nothing else.
fn parse_authority(raw: &[u8]) -> Result<Authority, InvalidHost> {
    let authority = Authority::try_from(raw).map_err(|_| InvalidHost::new(raw))?;
    checked(authority, raw)
}

/// Refuses what `Authority` accepts but a Host header must not carry: user
/// information, an empty host, a port that is not a number up to 65535.
fn checked(authority: Authority, raw: &[u8]) -> Result<Authority, InvalidHost> {
    let has_bad_port = authority
        .as_str()
        .rsplit_once(':')
        .is_some_and(|(host, port)| {
            // `[::1]` alone has colons but no port.
            !host.is_empty() && !port.ends_with(']') && port.parse::<u16>().is_err()
        });
    if authority.as_str().contains('@') || authority.host().is_empty() || has_bad_port {
        return Err(InvalidHost::new(raw));
    }
    Ok(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 3000);

    fn uri_for(target: &str, host: Option<&str>) -> Result<String, InvalidHost> {
        let target: Uri = target.parse().unwrap();
        let host = host.map(|h| HeaderValue::from_bytes(h.as_bytes()).unwrap());
        guest_uri(&target, host.as_ref(), LOCAL).map(|uri| uri.to_string())
    }

    #[test]
    fn the_guest_sees_the_host_header_and_the_path_and_query() {
        assert_eq!(
            uri_for("/api/analyze?x=1", Some("example.com:8080")).unwrap(),
            "http://example.com:8080/api/analyze?x=1"
        );
        assert_eq!(
            uri_for("/api/analyze", Some("[::1]:3000")).unwrap(),
            "http://[::1]:3000/api/analyze"
        );
        assert_eq!(
            uri_for("/api/analyze", Some("localhost")).unwrap(),
            "http://localhost/api/analyze"
        );
    }

    #[test]
    fn a_host_header_cannot_change_the_path_the_guest_sees() {
        for bad in [
            "a/api/enhance?",
            "a?b",
            "a#b",
            "user@host",
            "",
            "host:port",
            "host:70000",
            "a b",
        ] {
            assert!(uri_for("/api/analyze", Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn without_a_host_header_the_listening_address_is_used() {
        assert_eq!(
            uri_for("/api/analyze", None).unwrap(),
            "http://127.0.0.1:3000/api/analyze"
        );
    }

    #[test]
    fn an_absolute_target_gives_the_authority() {
        assert_eq!(
            uri_for("http://example.com/api/analyze", Some("other.example")).unwrap(),
            "http://example.com/api/analyze"
        );
    }

    #[test]
    fn the_error_message_is_bounded() {
        let long = "a/".repeat(500);
        let err = uri_for("/", Some(&long)).unwrap_err();
        assert!(err.to_string().len() < 200, "{err}");
    }
}
