//! Input hygiene at the edge: bad bytes, control characters, oversized repeated fields,
//! huge values and oversize messages get a clear answer from every RPC, generated from
//! the descriptor set, and change nothing.

use std::collections::HashMap;

use hrplan::{auth::Role, grpc::FILE_DESCRIPTOR_SET, grpc::pb};
use prost::{Message as _, bytes::Bytes};
use prost_types::{DescriptorProto, FileDescriptorSet, field_descriptor_proto::Type};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic::{
    Code, Request, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    metadata::MetadataValue,
};

use crate::helpers::{TestApp, create_request, field_violations, invalid, spawn_app, spawn_app_with, token};

/// Sends and receives message bodies as they are, so that a test can send what no
/// generated client would.
#[derive(Debug, Clone, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        use prost::bytes::BufMut as _;
        buf.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        use prost::bytes::Buf as _;
        Ok(Some(buf.copy_to_bytes(buf.remaining())))
    }
}

/// Calls `path` (`/hrplan.v1.X/Method`) as an admin with one raw message, whatever the
/// method's streaming, and returns the status it fails with.
async fn call_raw(app: &TestApp, path: &str, body: Vec<u8>) -> Status {
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready().await.expect("channel ready");
    let mut request = Request::new(tokio_stream::iter(vec![Bytes::from(body)]));
    let bearer = format!("Bearer {}", token(&[], &[Role::Admin]));
    request.metadata_mut().insert("authorization", MetadataValue::try_from(bearer).expect("ascii"));
    let path = path.parse().expect("a method path");
    match grpc.streaming(request, path, RawCodec).await {
        Err(status) => status,
        Ok(response) => {
            let mut stream = response.into_inner();
            loop {
                match stream.message().await {
                    Err(status) => return status,
                    Ok(Some(_)) => {}
                    Ok(None) => return Status::ok("answered"),
                }
            }
        }
    }
}

/// Every method of the descriptor set as (`/package.Service/Method`, input type).
fn methods(set: &FileDescriptorSet) -> Vec<(String, String)> {
    let mut methods = Vec::new();
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                methods.push((path, method.input_type().trim_start_matches('.').to_owned()));
            }
        }
    }
    methods
}

fn messages(set: &FileDescriptorSet) -> HashMap<String, DescriptorProto> {
    fn collect(prefix: &str, message: &DescriptorProto, out: &mut HashMap<String, DescriptorProto>) {
        let name = format!("{prefix}.{}", message.name());
        for nested in &message.nested_type {
            collect(&name, nested, out);
        }
        out.insert(name, message.clone());
    }
    let mut out = HashMap::new();
    for file in &set.file {
        for message in &file.message_type {
            collect(file.package(), message, &mut out);
        }
    }
    out
}

fn key(number: i32, wire_type: u64, out: &mut Vec<u8>) {
    prost::encoding::encode_varint((u64::try_from(number).expect("positive") << 3) | wire_type, out);
}

/// A message of type `name` whose first string field (searched depth first through
/// message fields) holds `text`: its encoding and the field's path, or `None` when the
/// message has no string field.
fn with_string(
    all: &HashMap<String, DescriptorProto>,
    name: &str,
    text: &str,
    depth: usize,
) -> Option<(Vec<u8>, String)> {
    let message = all.get(name)?;
    if let Some(field) = message.field.iter().find(|f| f.r#type() == Type::String) {
        let mut out = Vec::new();
        key(field.number(), 2, &mut out);
        prost::encoding::encode_varint(text.len() as u64, &mut out);
        out.extend_from_slice(text.as_bytes());
        return Some((out, field.name().to_owned()));
    }
    if depth >= 6 {
        return None;
    }
    message.field.iter().filter(|f| f.r#type() == Type::Message).find_map(|field| {
        let (inner, path) = with_string(all, field.type_name().trim_start_matches('.'), text, depth + 1)?;
        let mut out = Vec::new();
        key(field.number(), 2, &mut out);
        prost::encoding::encode_varint(inner.len() as u64, &mut out);
        out.extend_from_slice(&inner);
        Some((out, format!("{}.{path}", field.name())))
    })
}

fn descriptor_set() -> FileDescriptorSet {
    FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("the descriptor set decodes")
}

#[tokio::test]
async fn a_nul_in_any_string_of_any_request_is_invalid_argument_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    app.load_demo().await;
    let before = app.snapshot().await;
    let set = descriptor_set();
    let all = messages(&set);
    let mut tried = 0;
    for (path, input) in methods(&set) {
        let Some((body, field)) = with_string(&all, &input, "Nguyễn\0Văn", 0) else { continue };
        let status = call_raw(&app, &path, body).await;
        assert_eq!(status.code(), Code::InvalidArgument, "{path}: {status:?}");
        let fields: Vec<String> = field_violations(&status).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{path}: {status:?}");
        tried += 1;
    }
    assert!(tried > 80, "only {tried} RPCs have a string field");
    assert_eq!(app.snapshot().await, before, "a rejected request changed the database");
}

#[tokio::test]
async fn a_valid_create_with_a_control_character_is_refused_on_every_backend() {
    let app = spawn_app().await;
    let before = app.snapshot().await;
    for bad in ["Tỉnh\0Điện Biên", "Tỉnh \u{1b}[31mĐiện Biên", "Tỉnh\u{7f}", "Tỉnh\u{85}Điện Biên"]
    {
        let request = create_request("11", pb::LocalityTier::Province, bad, pb::LocalityKind::Province, "");
        let status = invalid(app.as_admin().localities().create_locality(request).await);
        let fields: Vec<String> = field_violations(&status).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["locality.versions[0].display_name"], "{bad:?}");
    }
    assert_eq!(app.snapshot().await, before);
    // Tabs and line breaks are text.
    let request = create_request("11", pb::LocalityTier::Province, "Tỉnh\tĐiện Biên", pb::LocalityKind::Province, "");
    app.as_admin().localities().create_locality(request).await.expect("a tab is allowed");
}

#[tokio::test]
async fn an_undecodable_body_is_invalid_argument_for_every_rpc() {
    let app = spawn_app().await;
    for (path, input) in methods(&descriptor_set()) {
        // A length-delimited field whose length runs past the end of the body.
        let status = call_raw(&app, &path, vec![0x0a, 0x7f, 0x01]).await;
        assert_eq!(status.code(), Code::InvalidArgument, "{path}: {status:?}");
        assert_eq!(status.message(), format!("the request body is not a valid {input} message"), "{path}");
    }
}

#[tokio::test]
async fn a_report_filter_of_100000_entries_is_invalid_argument() {
    let app = spawn_app().await;
    app.load_demo().await;
    let request = pb::GetWorkforceProfileRequest {
        scope: Some(pb::ReportScope {
            locality: "localities/20".into(),
            locality_tags: (0..100_000).map(|i| format!("t{i}")).collect(),
            ..Default::default()
        }),
    };
    let status = invalid(app.as_admin().reports().get_workforce_profile(request).await);
    let fields: Vec<String> = field_violations(&status).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["scope.locality_tags"], "{status:?}");
}

#[tokio::test]
async fn a_megabyte_of_bad_value_gets_a_short_answer() {
    let app = spawn_app().await;
    let huge = "x".repeat(1 << 20);
    let status = invalid(
        app.as_admin().localities().get_locality(pb::GetLocalityRequest { name: huge.clone(), as_of: None }).await,
    );
    assert!(status.message().len() <= 1024, "{} bytes of message", status.message().len());
    for (field, description) in field_violations(&status) {
        assert!(description.len() <= 256, "{field}: {} bytes", description.len());
    }
    let filter = pb::ListUnitsRequest { filter: format!("{huge} = 1"), ..Default::default() };
    let status = invalid(app.as_admin().units().list_units(filter).await);
    assert!(status.message().len() <= 1024, "{} bytes of message", status.message().len());
}

#[tokio::test]
async fn an_oversize_message_is_resource_exhausted_over_grpc_and_grpc_web() {
    let app = spawn_app_with(|config| config.max_message_bytes = 1024).await;
    let request = pb::GetLocalityRequest { name: "y".repeat(4096), as_of: None };
    let status = app.as_admin().localities().get_locality(request.clone()).await.expect_err("oversize");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");

    let body = request.encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&u32::try_from(body.len()).expect("small").to_be_bytes());
    frame.extend_from_slice(&body);
    let head = format!(
        "POST /hrplan.v1.LocalityService/GetLocality HTTP/1.1\r\nHost: {}\r\nContent-Type: application/grpc-web+proto\r\n\
         X-Grpc-Web: 1\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.addr,
        token(&[], &[Role::Admin]),
        frame.len()
    );
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(&frame).await.expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).to_lowercase();
    assert!(text.contains("grpc-status: 8") || text.contains("grpc-status:8"), "{text}");
}
