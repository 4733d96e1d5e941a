//! The request body, read whole on the host before the request takes a
//! running slot: bounded in size (`413 body_too_large`) and in time
//! (`408 body_timeout`), so a client trickling its body holds a connection
//! but never a slot, an instance or guest memory. The guest then gets the
//! bytes in one piece with an exact `content-length`.

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body_util::BodyExt;
use std::time::Duration;
use tokio::time::Instant;

/// How much of a request body is read, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    pub max_bytes: usize,
    /// From the end of the request head to the end of its body.
    pub timeout: Duration,
}

/// Why a body was not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("the request body exceeds {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the request body did not arrive within {} s", .timeout.as_secs_f64())]
    TimedOut { timeout: Duration },
    #[error("could not read the request body: {0}")]
    Unreadable(String),
}

impl BodyError {
    pub fn status(&self) -> http::StatusCode {
        match self {
            BodyError::TooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::TimedOut { .. } => http::StatusCode::REQUEST_TIMEOUT,
            BodyError::Unreadable(_) => http::StatusCode::BAD_REQUEST,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            BodyError::TooLarge { .. } => "body_too_large",
            BodyError::TimedOut { .. } => "body_timeout",
            BodyError::Unreadable(_) => "unreadable_body",
        }
    }
}

/// After the limit is passed, up to this many times the limit is still read
/// and thrown away (within the deadline), so the client sees the `413`
/// instead of a connection reset for the bytes it had in flight.
const DRAIN_FACTOR: usize = 4;

/// Reads `body` whole, refusing more than `limits.max_bytes` (declared in
/// `content-length` or sent) and giving up at `deadline`.
pub async fn read_bounded<B>(
    headers: &HeaderMap,
    mut body: B,
    limits: &BodyLimits,
    deadline: Instant,
) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let too_large = BodyError::TooLarge {
        limit: limits.max_bytes,
    };
    if declared_length(headers).is_some_and(|n| n > limits.max_bytes as u64) {
        return Err(too_large);
    }
    let mut received = BytesMut::new();
    while let Some(data) = next_data(&mut body, limits, deadline).await? {
        if received.len() + data.len() > limits.max_bytes {
            drain(&mut body, limits, deadline).await;
            return Err(too_large);
        }
        received.extend_from_slice(&data);
    }
    Ok(received.freeze())
}

/// The next data frame (trailers are skipped), `None` at the end.
async fn next_data<B>(
    body: &mut B,
    limits: &BodyLimits,
    deadline: Instant,
) -> Result<Option<Bytes>, BodyError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_elapsed) => {
                return Err(BodyError::TimedOut {
                    timeout: limits.timeout,
                });
            }
            Ok(None) => return Ok(None),
            Ok(Some(Err(err))) => return Err(BodyError::Unreadable(err.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            return Ok(Some(data));
        }
    }
}

/// Reads and discards what is left, up to [`DRAIN_FACTOR`] × the limit.
async fn drain<B>(body: &mut B, limits: &BodyLimits, deadline: Instant)
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut budget = limits.max_bytes.saturating_mul(DRAIN_FACTOR);
    while let Ok(Some(data)) = next_data(body, limits, deadline).await {
        budget = budget.saturating_sub(data.len());
        if budget == 0 {
            return;
        }
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use http_body_util::{Full, StreamBody};
    use std::convert::Infallible;

    const LIMITS: BodyLimits = BodyLimits {
        max_bytes: 10,
        timeout: Duration::from_millis(50),
    };

    fn soon() -> Instant {
        Instant::now() + LIMITS.timeout
    }

    fn length(n: usize) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, n.into());
        headers
    }

    /// A body that sends `chunks` and then stays open without sending more.
    fn stalling(
        chunks: Vec<&'static str>,
    ) -> StreamBody<
        impl futures::Stream<Item = Result<hyper::body::Frame<Bytes>, Infallible>> + Unpin,
    > {
        let sent = futures::stream::iter(chunks).map(|chunk| {
            Ok(hyper::body::Frame::data(Bytes::from_static(
                chunk.as_bytes(),
            )))
        });
        StreamBody::new(sent.chain(futures::stream::pending()))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let body = Full::new(Bytes::from_static(b"0123456789"));
        let read = read_bounded(&length(10), body, &LIMITS, soon()).await;
        assert_eq!(read, Ok(Bytes::from_static(b"0123456789")));
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading() {
        // The body never arrives: only the header is looked at.
        let read = read_bounded(&length(11), stalling(vec![]), &LIMITS, soon()).await;
        assert_eq!(read, Err(BodyError::TooLarge { limit: 10 }));
        assert_eq!(read.unwrap_err().status(), 413);
    }

    #[tokio::test]
    async fn a_chunked_body_over_the_limit_is_refused() {
        let body = Full::new(Bytes::from_static(b"0123456789A"));
        let read = read_bounded(&HeaderMap::new(), body, &LIMITS, soon()).await;
        assert_eq!(read, Err(BodyError::TooLarge { limit: 10 }));
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_times_out() {
        let read = read_bounded(&length(8), stalling(vec!["0123"]), &LIMITS, soon()).await;
        let err = read.unwrap_err();
        assert_eq!(
            err,
            BodyError::TimedOut {
                timeout: LIMITS.timeout
            }
        );
        assert_eq!((err.status().as_u16(), err.code()), (408, "body_timeout"));
    }

    #[tokio::test]
    async fn a_too_large_body_that_then_stalls_is_still_too_large() {
        let body = stalling(vec!["01234", "56789", "ABC"]);
        let read = read_bounded(&HeaderMap::new(), body, &LIMITS, soon()).await;
        assert_eq!(read, Err(BodyError::TooLarge { limit: 10 }));
    }

    #[tokio::test]
    async fn an_empty_body_is_empty() {
        let read = read_bounded(&HeaderMap::new(), Full::new(Bytes::new()), &LIMITS, soon()).await;
        assert_eq!(read, Ok(Bytes::new()));
    }
}
