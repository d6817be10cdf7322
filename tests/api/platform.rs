//! The platform around the services: health, reflection, gRPC-Web, authentication.

use std::time::Duration;

use hrplan::grpc::pb;
use prost::Message as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::clients::Caller;
use crate::helpers::{code_of, spawn_app, token};

#[tokio::test]
async fn health_reports_serving_overall_and_for_the_locality_service() {
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in ["", "hrplan.v1.LocalityService"] {
        let mut status = ServingStatus::Unknown;
        // The probe sets the per-service status right after start.
        for _ in 0..50 {
            let response = health.check(HealthCheckRequest { service: service.to_owned() }).await;
            status = response.map(|r| r.into_inner().status()).unwrap_or(ServingStatus::Unknown);
            if status == ServingStatus::Serving {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, ServingStatus::Serving, "service `{service}`");
    }
}

#[tokio::test]
async fn health_reports_not_serving_while_the_database_is_unreachable() {
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel.clone());
    app.server_db.clone().close().await.expect("closing the server's pool");
    let mut status = ServingStatus::Serving;
    for _ in 0..100 {
        status = health
            .check(HealthCheckRequest { service: "hrplan.v1.LocalityService".to_owned() })
            .await
            .expect("health answers")
            .into_inner()
            .status();
        if status == ServingStatus::NotServing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, ServingStatus::NotServing);
    let overall = health.check(HealthCheckRequest { service: String::new() }).await.expect("health answers");
    assert_eq!(overall.into_inner().status(), ServingStatus::NotServing);

    let result = app
        .as_admin()
        .localities()
        .get_locality(pb::GetLocalityRequest { name: "localities/01".into(), as_of: None })
        .await;
    assert_eq!(code_of(result), Code::Unavailable);
}

async fn reflected_services_v1(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream =
        client.server_reflection_info(tokio_stream::iter([request])).await.expect("reflection").into_inner();
    let response = stream.message().await.expect("reflection answer").expect("one message");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => list.service.into_iter().map(|s| s.name).collect(),
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

async fn reflected_services_v1alpha(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream =
        client.server_reflection_info(tokio_stream::iter([request])).await.expect("reflection").into_inner();
    let response = stream.message().await.expect("reflection answer").expect("one message");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => list.service.into_iter().map(|s| s.name).collect(),
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_the_services_without_a_token() {
    let app = spawn_app().await;
    for services in
        [reflected_services_v1(app.channel.clone()).await, reflected_services_v1alpha(app.channel.clone()).await]
    {
        for expected in ["hrplan.v1.LocalityService", "grpc.health.v1.Health"] {
            assert!(services.iter().any(|s| s == expected), "{expected} missing from {services:?}");
        }
        assert!(services.iter().any(|s| s.starts_with("grpc.reflection.")), "{services:?}");
    }
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let app = spawn_app().await;
    app.load_demo().await;
    let request = || pb::GetLocalityRequest { name: "localities/11".into(), as_of: None };
    assert_eq!(
        code_of(app.as_(Caller::with_token(None)).localities().get_locality(request()).await),
        Code::Unauthenticated
    );
    assert_eq!(
        code_of(app.as_(Caller::with_token(Some("not.a.jwt".into()))).localities().get_locality(request()).await),
        Code::Unauthenticated
    );
    let forged = hrplan::auth::mint_hs256(
        b"some-other-secret-0123456789abcdef",
        "mallory",
        &["*".to_owned()],
        &[hrplan::auth::Role::Admin],
        Duration::from_secs(60),
    )
    .expect("token");
    assert_eq!(
        code_of(app.as_(Caller::with_token(Some(forged))).localities().get_locality(request()).await),
        Code::Unauthenticated
    );
    let ok = app
        .as_(Caller::with_token(Some(token(&["11"], &[hrplan::auth::Role::AggregateReader]))))
        .localities()
        .get_locality(request())
        .await;
    assert_eq!(
        ok.expect("a valid token is accepted").into_inner().locality.expect("locality").display_name,
        "Tỉnh Điện Biên"
    );
}

#[tokio::test]
async fn grpc_web_over_http1_answers_a_call() {
    let app = spawn_app().await;
    app.load_demo().await;
    let body = pb::GetLocalityRequest { name: "localities/20".into(), as_of: None }.encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&u32::try_from(body.len()).expect("small").to_be_bytes());
    frame.extend_from_slice(&body);
    let bearer = token(&["20"], &[hrplan::auth::Role::AggregateReader]);
    let head = format!(
        "POST /hrplan.v1.LocalityService/GetLocality HTTP/1.1\r\nHost: {}\r\nContent-Type: application/grpc-web+proto\r\n\
         X-Grpc-Web: 1\r\nAuthorization: Bearer {bearer}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.addr,
        frame.len()
    );
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(&frame).await.expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.to_lowercase().contains("content-type: application/grpc-web"), "{text}");
    assert!(text.contains("grpc-status:0"), "trailers frame missing: {text}");
    assert!(text.contains("Tỉnh Lạng Sơn"), "{text}");
}
