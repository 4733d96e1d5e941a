//! A guest's answer, its head held until its body has ended.
//!
//! hyper writes a response's head as soon as it has it. A guest's body (a
//! WASI stream its instance fills on its own task) comes a moment later, so
//! each small answer left in two or three pieces: the head, the chunk, the
//! chunked terminator, each a `send` and a wake-up of the client. Rules:
//!
//! - the head waits, at most [`SETTLE_WAIT`], for the body to end (read to
//!   its end, never dropped early: the guest's instance finishes cleanly);
//! - a body whole by then becomes one piece with its exact `content-length`
//!   (whatever the guest said), so the whole answer leaves in one `send`; an
//!   empty one keeps the guest's headers (a HEAD answer, a 204, a 304 state
//!   a length that is not their body's);
//! - any other body (a stream that says nothing at first or goes on: a long
//!   poll, events; or one past [`MAX_SETTLED_BYTES`]) gets its head after
//!   the wait and streams on from the frames already read;
//! - a body that fails before its first frame is sent answers `500
//!   component_failed`, not a head followed by a cut connection.

use super::response;
use bytes::{Bytes, BytesMut};
use futures::{FutureExt, StreamExt};
use http::{HeaderValue, Response};
use http_body_util::{BodyExt, BodyStream, StreamBody};
use hyper::body::{Body, Frame};
use std::time::Duration;
use tokio::time::Instant;
use wasmtime_wasi_http::WasiBody;

/// Most bytes read ahead into one piece; past it the body streams.
pub const MAX_SETTLED_BYTES: usize = 1 << 20;

/// How long the head waits for the body to be whole.
pub const SETTLE_WAIT: Duration = Duration::from_millis(5);

/// Turns of the scheduler [`next_frame_soon`] gives a frame after the first.
const YIELDS_FOR_NEXT_FRAME: usize = 2;

/// `response` with its body's first frames read: whole, or streaming on.
pub async fn settle(
    component: &str,
    response: Response<WasiBody>,
    deadline: Instant,
) -> Response<WasiBody> {
    settle_waiting(component, response, deadline, SETTLE_WAIT).await
}

/// [`settle`], the head waiting at most `wait` for the body.
async fn settle_waiting(
    component: &str,
    response: Response<WasiBody>,
    deadline: Instant,
    wait: Duration,
) -> Response<WasiBody> {
    let (mut parts, mut body) = response.into_parts();
    if body.is_end_stream() {
        return Response::from_parts(parts, body);
    }
    let wait_until = deadline.min(Instant::now() + wait);
    let mut frames = Vec::new();
    let mut read = 0;
    loop {
        // The first frame is worth a timed wait; later ones usually are there.
        let soon = if frames.is_empty() {
            None
        } else {
            next_frame_soon(&mut body).await
        };
        let next = match soon {
            Some(next) => next,
            None => match tokio::time::timeout_at(wait_until, body.frame()).await {
                Ok(next) => next,
                Err(_elapsed) => return streaming(parts, frames, body),
            },
        };
        match next {
            None => break,
            Some(Err(err)) => return response::error_response(component, err.into()),
            Some(Ok(frame)) => {
                read += frame.data_ref().map_or(0, Bytes::len);
                frames.push(frame);
            }
        }
        if read > MAX_SETTLED_BYTES {
            return streaming(parts, frames, body);
        }
    }
    match whole(frames) {
        // A HEAD answer, a 204 or a 304 says a length that is not its body's.
        Ok(bytes) if bytes.is_empty() => Response::from_parts(parts, response::full_body(bytes)),
        Ok(bytes) => {
            parts.headers.remove(http::header::TRANSFER_ENCODING);
            parts
                .headers
                .insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            Response::from_parts(parts, response::full_body(bytes))
        }
        Err(frames) => streaming(parts, frames, body),
    }
}

/// The body's next frame if it is there within [`YIELDS_FOR_NEXT_FRAME`]
/// turns of the scheduler: the guest's instance writes on a task of its
/// own, usually its last piece and the end one turn after the first. Cheaper
/// than a timed wait, which remains the fallback.
async fn next_frame_soon(
    body: &mut WasiBody,
) -> Option<Option<Result<Frame<Bytes>, wasmtime_wasi_http::Error>>> {
    for _ in 0..YIELDS_FOR_NEXT_FRAME {
        if let Some(frame) = body.frame().now_or_never() {
            return Some(frame);
        }
        tokio::task::yield_now().await;
    }
    body.frame().now_or_never()
}

/// The data of `frames` in one piece, unless one of them is trailers.
fn whole(frames: Vec<Frame<Bytes>>) -> Result<Bytes, Vec<Frame<Bytes>>> {
    if frames.iter().any(|frame| !frame.is_data()) {
        return Err(frames);
    }
    if frames.len() == 1 {
        return Ok(frames
            .into_iter()
            .next()
            .and_then(|frame| frame.into_data().ok())
            .unwrap_or_default());
    }
    let mut bytes = BytesMut::new();
    for frame in frames {
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes.freeze())
}

/// The frames already read, then the rest of `body` as it comes.
fn streaming(
    parts: http::response::Parts,
    frames: Vec<Frame<Bytes>>,
    body: WasiBody,
) -> Response<WasiBody> {
    let read = futures::stream::iter(frames.into_iter().map(Ok::<_, wasmtime_wasi_http::Error>));
    let rest = BodyStream::new(body);
    let body = StreamBody::new(read.chain(rest)).boxed_unsync();
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    type Sent = Result<Frame<Bytes>, wasmtime_wasi_http::Error>;

    /// A body fed by the test through a channel, as a guest's stream is.
    fn channel_body() -> (tokio::sync::mpsc::UnboundedSender<Sent>, WasiBody) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let stream = tokio_stream_from(rx);
        (tx, StreamBody::new(stream).boxed_unsync())
    }

    fn tokio_stream_from(
        mut rx: tokio::sync::mpsc::UnboundedReceiver<Sent>,
    ) -> impl futures::Stream<Item = Sent> + Send + 'static {
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }

    fn data(text: &str) -> Sent {
        Ok(Frame::data(Bytes::from(text.to_string())))
    }

    fn later(deadline_ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(deadline_ms)
    }

    /// A response over `body` with one header the guest set.
    fn answer_with(
        body: WasiBody,
        name: http::HeaderName,
        value: &'static str,
    ) -> Response<WasiBody> {
        let mut response = Response::new(body);
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
        response
    }

    async fn text(body: WasiBody) -> String {
        String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_body_that_has_ended_becomes_one_piece_with_its_exact_length() {
        let (tx, body) = channel_body();
        tx.send(data("o")).unwrap();
        tx.send(data("k")).unwrap();
        drop(tx);
        let response = answer_with(body, http::header::TRANSFER_ENCODING, "chunked");
        let settled = settle("c", response, later(5_000)).await;
        assert_eq!(settled.headers()[http::header::CONTENT_LENGTH], "2");
        assert!(
            !settled
                .headers()
                .contains_key(http::header::TRANSFER_ENCODING)
        );
        assert_eq!(settled.body().size_hint().exact(), Some(2));
        assert_eq!(text(settled.into_body()).await, "ok");
    }

    #[tokio::test]
    async fn an_empty_body_keeps_the_length_its_guest_stated() {
        let (tx, body) = channel_body();
        drop(tx);
        let response = answer_with(body, http::header::CONTENT_LENGTH, "3742");
        let settled = settle("c", response, later(5_000)).await;
        assert_eq!(settled.headers()[http::header::CONTENT_LENGTH], "3742");
        assert_eq!(text(settled.into_body()).await, "");
    }

    #[tokio::test]
    async fn the_head_waits_for_the_first_frame() {
        let (tx, body) = channel_body();
        let sender = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            tx.send(data("late")).unwrap();
        });
        let wait = Duration::from_secs(60);
        let settled = settle_waiting("c", Response::new(body), later(60_000), wait).await;
        sender.await.unwrap();
        assert_eq!(settled.headers()[http::header::CONTENT_LENGTH], "4");
        assert_eq!(text(settled.into_body()).await, "late");
    }

    #[tokio::test]
    async fn a_body_that_goes_on_streams_on_after_what_was_read() {
        let (tx, body) = channel_body();
        tx.send(data("first ")).unwrap();
        let settled = settle("c", Response::new(body), later(5_000)).await;
        assert!(!settled.headers().contains_key(http::header::CONTENT_LENGTH));
        let mut stream = BodyStream::new(settled.into_body());
        let first = stream.next().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, "first ");
        tx.send(data("second")).unwrap();
        drop(tx);
        let second = stream.next().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(second, "second");
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn trailers_keep_the_body_streaming() {
        let (tx, body) = channel_body();
        tx.send(data("x")).unwrap();
        tx.send(Ok(Frame::trailers(http::HeaderMap::new())))
            .unwrap();
        drop(tx);
        let settled = settle("c", Response::new(body), later(5_000)).await;
        assert!(!settled.headers().contains_key(http::header::CONTENT_LENGTH));
        let collected = settled.into_body().collect().await.unwrap();
        assert!(collected.trailers().is_some());
        assert_eq!(collected.to_bytes(), "x");
    }

    #[tokio::test]
    async fn a_body_silent_at_first_gets_its_head_at_once_and_streams() {
        let (tx, body) = channel_body();
        let wait = Duration::from_millis(10);
        let settled = settle_waiting("c", Response::new(body), later(60_000), wait).await;
        assert_eq!(settled.status(), StatusCode::OK);
        assert!(!settled.headers().contains_key(http::header::CONTENT_LENGTH));
        tx.send(data("event")).unwrap();
        drop(tx);
        assert_eq!(text(settled.into_body()).await, "event");
    }

    #[tokio::test]
    async fn the_first_frame_wait_never_passes_the_request_s_deadline() {
        let (_tx, body) = channel_body();
        let wait = Duration::from_secs(60);
        let settled = settle_waiting("c", Response::new(body), Instant::now(), wait).await;
        assert_eq!(settled.status(), StatusCode::OK);
        assert!(!settled.headers().contains_key(http::header::CONTENT_LENGTH));
    }

    #[tokio::test]
    async fn a_body_that_fails_before_its_first_frame_answers_component_failed() {
        let (tx, body) = channel_body();
        tx.send(Err(wasmtime_wasi_http::Error::InternalError(Some(
            "the guest's stream broke".into(),
        ))))
        .unwrap();
        drop(tx);
        let settled = settle("c", Response::new(body), later(5_000)).await;
        assert_eq!(settled.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            text(settled.into_body())
                .await
                .contains("\"component_failed\"")
        );
    }
}
