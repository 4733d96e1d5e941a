//! `--alert-webhook URL`: every alert the host fires is also POSTed there as
//! JSON (the same object `GET /api/alerts` lists), for a chat hook or a
//! pager. The URL is the operator's, given on the command line, so it is
//! the allowance (guests' `allowed_outbound_hosts` do not apply to it);
//! `http` and `https` (rustls with the webpki roots, through
//! wasmtime-wasi-http's client, the one guests' requests use).
//!
//! Delivery never holds up the alerting: alerts go into a bounded queue
//! ([`QUEUE`]) and one task POSTs them in order, each with a deadline and up
//! to [`ATTEMPTS`] tries (back-off 0.5, 1 s) on a connection error or a 5xx
//! answer; a 4xx is the hook refusing the alert and is not retried. A full
//! queue (the hook is down for long) drops the alert with a warning: it is
//! still served at `GET /api/alerts` and in the log.

use super::FiredAlert;
use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use std::time::Duration;
use tokio::sync::mpsc;
use wasmtime_wasi_http::RequestOptions;

/// Alerts waiting to be POSTed.
const QUEUE: usize = 256;
/// Tries per alert.
const ATTEMPTS: u32 = 3;
/// The deadline of one try (connect, answer).
const TRY_TIMEOUT: Duration = Duration::from_secs(5);

/// A webhook URL: `http://` or `https://`, with a host.
pub fn parse_url(text: &str) -> Result<Uri, String> {
    let uri: Uri = text
        .parse()
        .map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none() {
        return Err(format!(
            "{text:?} is not an http:// or https:// URL with a host"
        ));
    }
    Ok(uri)
}

/// The sending side: what the alerting hands alerts to.
#[derive(Clone)]
pub struct Webhook {
    queue: mpsc::Sender<FiredAlert>,
}

impl Webhook {
    /// Starts the task that POSTs to `url`.
    pub fn start(url: Uri) -> Self {
        let (queue, alerts) = mpsc::channel(QUEUE);
        tokio::spawn(deliver_all(url, alerts));
        Self { queue }
    }

    /// Queues one alert; never waits.
    pub fn send(&self, alert: &FiredAlert) {
        if self.queue.try_send(alert.clone()).is_err() {
            tracing::warn!(series = %alert.alert.series, "alert webhook: queue full, this alert is not POSTed");
        }
    }
}

async fn deliver_all(url: Uri, mut alerts: mpsc::Receiver<FiredAlert>) {
    while let Some(alert) = alerts.recv().await {
        let body = match serde_json::to_vec(&alert) {
            Ok(body) => Bytes::from(body),
            Err(_) => continue,
        };
        deliver(&url, body, &alert.alert.series).await;
    }
}

/// One alert, with retries; the outcome is logged.
async fn deliver(url: &Uri, body: Bytes, series: &str) {
    let mut wait = Duration::from_millis(500);
    for attempt in 1..=ATTEMPTS {
        match post(url, body.clone()).await {
            Ok(status) if status.is_success() => {
                tracing::debug!(%series, %status, "alert webhook: delivered");
                return;
            }
            Ok(status) if status.is_client_error() => {
                tracing::warn!(%series, %status, "alert webhook: refused by the hook; not retried");
                return;
            }
            Ok(status) => {
                tracing::warn!(%series, %status, attempt, "alert webhook: failed")
            }
            Err(error) => tracing::warn!(%series, %error, attempt, "alert webhook: failed"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
}

/// POSTs `body` and reads the answer's status (its body is drained).
async fn post(url: &Uri, body: Bytes) -> Result<StatusCode, String> {
    let request = Request::post(url.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, "fbposts-alerts")
        .body(Full::new(body).map_err(|never| match never {}))
        .map_err(|e| e.to_string())?;
    let options = RequestOptions {
        connect_timeout: Some(TRY_TIMEOUT),
        first_byte_timeout: Some(TRY_TIMEOUT),
        between_bytes_timeout: Some(TRY_TIMEOUT),
    };
    let exchange = async {
        let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(options))
            .await
            .map_err(|e| format!("{e:?}"))?;
        let status = response.status();
        let drained = response.into_body().collect();
        let (_, io) = tokio::join!(drained, io);
        io.map_err(|e| format!("{e:?}"))?;
        Ok(status)
    };
    tokio::time::timeout(TRY_TIMEOUT * 2, exchange)
        .await
        .map_err(|_| format!("no answer within {:?}", TRY_TIMEOUT * 2))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_with_a_host_are_webhooks() {
        assert!(parse_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(parse_url("https://hooks.example.com/T0/B1").is_ok());
        for bad in [
            "ftp://example.com/x",
            "/relative",
            "example.com",
            "http://",
            "",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
