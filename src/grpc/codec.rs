//! The one codec of every hrplan service: prost encoding, and a request decoder that
//! answers bad input as the caller's mistake.
//!
//! The generated servers and clients use [`Codec`] (build.rs sets it with
//! `codec_path`). Decoding a request (a message that is the input of a method in the
//! descriptor set) differs from prost's own codec in two ways:
//!
//! - a body that is not a valid message answers INVALID_ARGUMENT ("the request body is
//!   not a valid hrplan.v1.X message"), not INTERNAL: it is the caller's mistake, so it
//!   is logged as a rate-limited WARN at most, never as a server failure;
//! - a decoded request is walked against the descriptor set ([`super::inspect`]), which
//!   rejects control characters in strings and oversized repeated fields on every RPC
//!   alike, before any handler or database sees them.
//!
//! Any other message (a response, decoded by a client) is decoded as prost's codec does.

use std::{
    marker::PhantomData,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use prost::bytes::Buf as _;
use prost::{Message, Name};
use tonic::{
    Status,
    codec::{BufferSettings, DecodeBuf, Decoder, EncodeBuf, Encoder},
};

use super::inspect;
use crate::error::Error;

/// The codec of every hrplan service (see the module documentation).
#[derive(Debug, Clone)]
pub struct Codec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> tonic::codec::Codec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Name + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = MessageEncoder<T>;
    type Decoder = RequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        MessageEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder(PhantomData)
    }
}

/// Encodes `T` as prost's encoder does, with the buffer grown once to the message's
/// length first: a report of a few hundred kilobytes is otherwise written through a
/// dozen reallocations and copies of the buffer.
#[derive(Debug, Clone)]
pub struct MessageEncoder<T>(PhantomData<T>);

impl<T: Message> Encoder for MessageEncoder<T> {
    type Item = T;
    type Error = Status;

    fn encode(&mut self, item: T, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        buf.reserve(item.encoded_len());
        item.encode(buf).map_err(|err| Status::internal(format!("encoding a message failed: {err}")))
    }
}

/// Decodes `U`, checking it as a request when it is the input of a method.
#[derive(Debug, Clone)]
pub struct RequestDecoder<U>(PhantomData<U>);

impl<U: Message + Name + Default> Decoder for RequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let len = buf.remaining();
        // The body of one message is contiguous in tonic's buffer; decoding from the
        // slice keeps it for the walk without a copy.
        if buf.chunk().len() >= len {
            let result = decode_request::<U>(&buf.chunk()[..len]);
            buf.advance(len);
            result.map(Some)
        } else {
            let bytes = buf.copy_to_bytes(len);
            decode_request::<U>(&bytes).map(Some)
        }
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// Decodes `bytes` as `U`; when `U` is a request, answers what a server answers a bad
/// body: INVALID_ARGUMENT, with a field violation per bad field.
pub fn decode_request<U: Message + Name + Default>(bytes: &[u8]) -> Result<U, Status> {
    let request = inspect::Index::get().request(U::PACKAGE, U::NAME);
    match U::decode(bytes) {
        Ok(message) => match request {
            Some(plan) => match inspect::check(plan, bytes) {
                Ok(()) => Ok(message),
                Err(violations) => Err(Error::InvalidArgument(violations).into()),
            },
            None => Ok(message),
        },
        Err(error) if request.is_some() => {
            warn_rarely(&error);
            Err(Status::invalid_argument(format!("the request body is not a valid {}.{} message", U::PACKAGE, U::NAME)))
        }
        // A client decoding a response: the server broke the contract.
        Err(error) => Err(Status::internal(error.to_string())),
    }
}

/// Seconds since the epoch before which no further undecodable body is logged.
static QUIET_UNTIL: AtomicU64 = AtomicU64::new(0);
/// Undecodable bodies not logged since the last warning.
static UNLOGGED: AtomicU64 = AtomicU64::new(0);
const WARN_INTERVAL: Duration = Duration::from_secs(60);

/// Logs an undecodable request body at most once a minute: anyone can send them, so
/// one line each would let a caller flood the log.
fn warn_rarely(error: &prost::DecodeError) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let quiet_until = QUIET_UNTIL.load(Ordering::Relaxed);
    if now < quiet_until
        || QUIET_UNTIL
            .compare_exchange(quiet_until, now + WARN_INTERVAL.as_secs(), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        UNLOGGED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let unlogged = UNLOGGED.swap(0, Ordering::Relaxed);
    tracing::warn!(%error, unlogged, "undecodable request body answered INVALID_ARGUMENT (logged at most once a minute)");
}

/// The message tonic answers when a request is longer than the server's limit
/// (`max_decoding_message_size`), which tonic checks before any codec sees the body.
const TONIC_OVERSIZE: &str = "Error, decoded message length too large";

/// Answers an oversize request RESOURCE_EXHAUSTED, as the gRPC specification says,
/// instead of the OUT_OF_RANGE tonic answers. A response mapper for
/// `tower::util::MapResponseLayer`, inside the gRPC-Web layer so that both protocols
/// get it. Only tonic's own oversize answer (a trailers-only response) is changed.
pub fn oversize_is_resource_exhausted<B>(mut response: http::Response<B>) -> http::Response<B> {
    let Some(status) = Status::from_header_map(response.headers()) else { return response };
    if status.code() != tonic::Code::OutOfRange || !status.message().starts_with(TONIC_OVERSIZE) {
        return response;
    }
    let detail = status.message().split_once(": ").map_or("", |(_, detail)| detail);
    let replacement = Status::resource_exhausted(format!("the request message is too large: {detail}"));
    let headers = response.headers_mut();
    headers.remove("grpc-message");
    headers.remove("grpc-status-details-bin");
    if replacement.add_header(headers).is_err() {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
    response
}
