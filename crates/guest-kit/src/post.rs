//! The `wasi:http` handler of the JSON `POST` routes (analyze, enhance,
//! predict, generate, feedback), talking to `wasi:http` directly instead of
//! through spin-sdk's `http_compat` conversion to `http::Request`.
//!
//! Why: every `wasi:http` call is a task of the host's component runtime,
//! and the conversion makes thirteen of them per request whatever the route
//! needs — the scheme, the authority, the path, the method, the options,
//! the headers twice, a copy of every header (Spin's seven `spin-*` headers
//! included) into an `http::HeaderMap`, the content length, the body, then
//! the response's fields, the response and its status. These routes need
//! the method, two headers and the body: [`PostRequest`] asks for those
//! only, and [`into_wasi_response`] sets the status only when it is not
//! the default 200. The answers are the same: the method, media-type and
//! size checks ([`check_head`], [`BodyLimit`]) are those of every JSON
//! route, tested natively here.
//!
//! A component exports its handler with [`json_post_service!`]:
//!
//! ```ignore
//! fbposts_guest_kit::json_post_service!(handle);
//!
//! async fn handle(req: PostRequest) -> JsonResponse { … }
//! ```

use crate::{JsonResponse, MAX_BODY_BYTES};
use bytes::Bytes;
use fbposts_core::ApiError;
use http_body_util::BodyExt;
use spin_sdk::wasip3::http::types::{ErrorCode, Fields, Method, Request, Response};
use spin_sdk::wasip3::wit_bindgen::StreamResult;
use spin_sdk::wasip3::{wit_future, wit_stream};

/// The bytes asked for by each read of the body: one read holds a typical
/// post, and a large body grows the buffer a chunk at a time.
const READ_CHUNK: usize = 16 * 1024;

/// An incoming request as the JSON `POST` routes read it.
pub struct PostRequest {
    request: Request,
    headers: Fields,
}

impl PostRequest {
    pub fn new(request: Request) -> Self {
        let headers = request.get_headers();
        Self { request, headers }
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<Vec<u8>> {
        self.headers.get(name).into_iter().next()
    }

    /// Whether the host's pre-caching replayed this request (no client
    /// asked), so no event is published for it.
    pub fn computed_ahead(&self) -> bool {
        self.headers.has(crate::events::COMPUTED_AHEAD_HEADER)
    }

    /// The body of a `POST` with content type `application/json`, at most
    /// [`MAX_BODY_BYTES`]; the client's error otherwise. `end` says how the
    /// route knows the body is whole ([`BodyEnd`]).
    pub async fn read_json(self, end: BodyEnd) -> Result<Bytes, ApiError> {
        let content_type = self.header(http::header::CONTENT_TYPE.as_str());
        check_head(&self.request.get_method(), content_type.as_deref())?;
        let declared = match end {
            BodyEnd::LengthChecked => self.header(http::header::CONTENT_LENGTH.as_str()),
            BodyEnd::DocumentSuffices => None,
        };
        let (_handling, handling_reader) = wit_future::new(|| Ok(()));
        let (mut stream, trailers) = Request::consume_body(self.request, handling_reader);
        let mut body = BodyLimit::new(MAX_BODY_BYTES);
        loop {
            let (result, chunk) = stream.read(body.next_chunk()).await;
            body.append(chunk)?;
            match result {
                StreamResult::Complete(_) => continue,
                StreamResult::Dropped | StreamResult::Cancelled => break,
            }
        }
        let bytes = body.into_bytes();
        if is_whole(end, declared.as_deref(), &bytes) {
            // Dropped unread: see `is_whole`.
            drop(trailers);
            return Ok(bytes);
        }
        match trailers.await {
            Ok(_) => Ok(bytes),
            Err(err) => Err(ApiError::new(
                400,
                "unreadable_body",
                format!("could not read the request body: {err:?}"),
            )),
        }
    }
}

/// How a route knows that the body it read is the whole body without
/// waiting for the stream's end (see [`is_whole`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEnd {
    /// For routes whose only effects are their answer, its cache entry and
    /// an analytics event (analyze, enhance, predict): a body that is one
    /// whole JSON object or array is the whole document, since nothing but
    /// whitespace can follow one in a valid body. A stream cut after it, or
    /// a `content-length` that promised more, changes nothing the route
    /// does: it answers the document it got (on the fbposts host a body
    /// shorter than its length fails in hyper, a 400 before the guest
    /// runs). No `content-length` is read (a host call less).
    DocumentSuffices,
    /// For routes that record what they are sent (feedback, generate's
    /// experiment arms): the body must also be as long as its
    /// `content-length` said, so a body whose stream failed is a 400 the
    /// client retries, not a write applied twice.
    LengthChecked,
}

/// Whether `body` is known whole without the stream's end, as `end` asks:
/// one whole JSON object or array ([`BodyEnd::DocumentSuffices`]), or one
/// whole JSON document as long as its `content-length` (`declared`) said
/// ([`BodyEnd::LengthChecked`]). Only a body that is not is checked against
/// the stream's end (the trailers future, whose error says the body was cut
/// off). Awaiting that future cost a whole suspension of the handler on
/// every request (the host settles it a turn after the stream's end): an
/// `/api/analyze` cache hit at c=64 went from 84–86 to 81–83 µs of CPU
/// without it (README, "One suspension fewer per request"). A scalar (`12`
/// may be the start of `123`) or a body sent without a length on a
/// length-checked route is still checked.
pub fn is_whole(end: BodyEnd, declared: Option<&[u8]>, body: &[u8]) -> bool {
    let length_known = match end {
        BodyEnd::DocumentSuffices => is_object_or_array(body),
        BodyEnd::LengthChecked => {
            let length = declared
                .and_then(|value| std::str::from_utf8(value).ok())
                .and_then(|value| value.trim().parse::<usize>().ok());
            length == Some(body.len())
        }
    };
    length_known && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

/// Whether the first byte that is not JSON whitespace opens an object or an array.
fn is_object_or_array(body: &[u8]) -> bool {
    let first = body
        .iter()
        .find(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'));
    matches!(first, Some(b'{' | b'['))
}

/// The request's head checked before its body is read: a `POST` (405
/// otherwise) with content type `application/json` (415 otherwise).
pub fn check_head(method: &Method, content_type: Option<&[u8]>) -> Result<(), ApiError> {
    if !matches!(method, Method::Post) {
        return Err(ApiError::new(
            405,
            "method_not_allowed",
            format!(
                "{} is not allowed here; use POST with a JSON body",
                method_name(method)
            ),
        ));
    }
    if !crate::is_json_media_type(content_type) {
        let shown = content_type.map_or("none".to_string(), |value| {
            format!("{:?}", String::from_utf8_lossy(value))
        });
        return Err(ApiError::new(
            415,
            "unsupported_media_type",
            format!("content-type {shown} is not supported; send application/json"),
        ));
    }
    Ok(())
}

/// A method's name as a request line spells it (through the `http`
/// crate's `Method`, which spin-sdk's bindings convert to).
pub fn method_name(method: &Method) -> String {
    http::Method::try_from(method.clone())
        .map_or_else(|_| "an invalid method".to_string(), |m| m.to_string())
}

/// A body read a chunk at a time that refuses to grow past its limit:
/// each read is offered at most the room left under the limit plus one
/// byte, so a body one byte too long is a 413 without reading the rest.
pub struct BodyLimit {
    bytes: Vec<u8>,
    limit: usize,
}

impl BodyLimit {
    pub fn new(limit: usize) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
        }
    }

    /// How many bytes the next read may bring: at most one chunk, and never
    /// more than one byte past the limit.
    pub fn next_read_size(&self) -> usize {
        let room = (self.limit + 1).saturating_sub(self.bytes.len());
        room.min(READ_CHUNK)
    }

    /// An empty buffer of [`Self::next_read_size`] for the next read.
    pub fn next_chunk(&self) -> Vec<u8> {
        Vec::with_capacity(self.next_read_size())
    }

    /// Appends what a read put in its chunk; `413 body_too_large` once the
    /// body is longer than the limit.
    pub fn append(&mut self, chunk: Vec<u8>) -> Result<(), ApiError> {
        if self.bytes.is_empty() {
            self.bytes = chunk;
        } else {
            self.bytes.extend_from_slice(&chunk);
        }
        if self.bytes.len() > self.limit {
            return Err(ApiError::new(
                413,
                "body_too_large",
                format!("the request body exceeds {} bytes", self.limit),
            ));
        }
        Ok(())
    }

    pub fn into_bytes(self) -> Bytes {
        Bytes::from(self.bytes)
    }
}

/// The `wasi:http` response of a JSON answer: its fields in one call, the
/// status only when it is not 200, and the body written in one piece after
/// the handler returns (the host reads it then). The trailers future
/// resolves to "none" when its writer is dropped after the body.
pub fn into_wasi_response(response: JsonResponse) -> Result<Response, ErrorCode> {
    let (head, body) = response.into_parts();
    let fields: Vec<(String, Vec<u8>)> = head
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
        .collect();
    let fields = Fields::from_list(&fields)
        .map_err(|err| ErrorCode::InternalError(Some(format!("response headers: {err:?}"))))?;
    let (mut body_writer, body_reader) = wit_stream::new();
    let (trailers_writer, trailers_reader) = wit_future::new(|| Ok(None));
    let (wasi_response, _sent) = Response::new(fields, Some(body_reader), trailers_reader);
    if head.status != http::StatusCode::OK {
        wasi_response
            .set_status_code(head.status.as_u16())
            .map_err(|()| ErrorCode::InternalError(Some("invalid status".into())))?;
    }
    spin_sdk::wasip3::spawn(async move {
        let bytes = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        body_writer.write_all(bytes.to_vec()).await;
        drop(body_writer);
        drop(trailers_writer);
    });
    Ok(wasi_response)
}

/// Exports `$handler` (`async fn(PostRequest) -> JsonResponse`) as the
/// component's `wasi:http` handler, in place of spin-sdk's
/// `#[http_service]`.
#[macro_export]
macro_rules! json_post_service {
    ($handler:ident) => {
        mod __fbposts_json_post_service {
            use ::spin_sdk::wasip3::http::types::{ErrorCode, Request, Response};

            struct Service;
            ::spin_sdk::wasip3::http::service::export!(Service);

            impl ::spin_sdk::wasip3::exports::http::handler::Guest for Service {
                async fn handle(request: Request) -> Result<Response, ErrorCode> {
                    let request = $crate::post::PostRequest::new(request);
                    $crate::post::into_wasi_response(super::$handler(request).await)
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_json_document_of_its_declared_length_skips_the_check_of_the_stream_end() {
        let whole = |length: &str, body: &[u8]| {
            is_whole(BodyEnd::LengthChecked, Some(length.as_bytes()), body)
        };
        assert!(whole("15", br#"{"text":"Hola"}"#));
        assert!(whole("7", b" [1, 2]"));
        assert!(whole("3", b"123"), "a scalar of its declared length");
        assert!(!whole("12", br#"{"text":"Ho"#), "cut off, not JSON");
        assert!(!whole("20", br#"{"text":"Hola"}"#), "shorter than declared");
        assert!(!whole("0", b""), "empty");
        assert!(!whole("15", br#"{"a":1} {"b":2}"#), "two documents");
        assert!(
            !is_whole(BodyEnd::LengthChecked, None, br#"{"text":"Hola"}"#),
            "no length (chunked)"
        );
        assert!(!whole("x", br#"{"text":"Hola"}"#), "an unreadable length");
    }

    #[test]
    fn a_route_that_only_answers_takes_a_whole_object_or_array_without_its_length() {
        let whole = |body: &[u8]| is_whole(BodyEnd::DocumentSuffices, None, body);
        assert!(whole(br#"{"text":"Hola"}"#));
        assert!(whole(b" \r\n\t[1, 2] "));
        assert!(!whole(br#"{"text":"Ho"#), "cut off, not JSON");
        assert!(!whole(b"12"), "a number may be the start of a longer one");
        assert!(!whole(br#""Hola""#), "a scalar");
        assert!(!whole(br#"{"a":1} {"b":2}"#), "two documents");
        assert!(!whole(b""), "empty");
        assert!(!whole(b"   "), "only whitespace");
    }

    fn refusal(method: Method, content_type: Option<&str>) -> Option<(u16, &'static str)> {
        check_head(&method, content_type.map(str::as_bytes))
            .err()
            .map(|err| (err.status, err.code))
    }

    #[test]
    fn a_json_post_passes_the_head_checks() {
        assert_eq!(refusal(Method::Post, Some("application/json")), None);
        assert_eq!(
            refusal(Method::Post, Some("application/json; charset=utf-8")),
            None
        );
    }

    #[test]
    fn any_other_method_is_a_405_naming_it() {
        assert_eq!(
            refusal(Method::Get, Some("application/json")),
            Some((405, "method_not_allowed"))
        );
        let err = check_head(&Method::Other("BREW".into()), None).unwrap_err();
        assert_eq!(
            err.message,
            "BREW is not allowed here; use POST with a JSON body"
        );
    }

    #[test]
    fn a_post_without_json_is_a_415_quoting_its_type() {
        assert_eq!(
            refusal(Method::Post, None),
            Some((415, "unsupported_media_type"))
        );
        let err = check_head(&Method::Post, Some(b"text/plain")).unwrap_err();
        assert_eq!(
            err.message,
            "content-type \"text/plain\" is not supported; send application/json"
        );
    }

    /// Feeds `body` to a `BodyLimit` the way a stream does: each read fills
    /// at most the spare capacity it was offered.
    fn read_through(body: &[u8], limit: usize) -> Result<Bytes, ApiError> {
        let mut reader = BodyLimit::new(limit);
        let mut rest = body;
        while !rest.is_empty() {
            let mut chunk = reader.next_chunk();
            let room = reader.next_read_size();
            assert!(room > 0 && chunk.capacity() >= room);
            let taken = room.min(rest.len());
            chunk.extend_from_slice(&rest[..taken]);
            rest = &rest[taken..];
            reader.append(chunk)?;
        }
        Ok(reader.into_bytes())
    }

    #[test]
    fn a_body_up_to_the_limit_is_read_whole_across_reads() {
        let body: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(read_through(&body, 50_000).unwrap(), body);
        assert_eq!(read_through(b"", 10).unwrap(), Bytes::new());
    }

    #[test]
    fn one_byte_past_the_limit_is_a_413_without_reading_further() {
        let err = read_through(&vec![b'x'; 40_001], 40_000).unwrap_err();
        assert_eq!((err.status, err.code), (413, "body_too_large"));
        let mut reader = BodyLimit::new(10);
        reader.append(b"123456".to_vec()).unwrap();
        assert_eq!(reader.next_read_size(), 5, "the room left plus one byte");
    }
}
