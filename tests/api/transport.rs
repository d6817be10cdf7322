//! The transport: TLS and mTLS (certificates made here, at test time), refusing
//! plaintext beyond loopback, and the limits that keep anonymous or greedy callers from
//! starving authenticated work.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use hrplan::{
    auth::{KeyConfig, Role},
    config::ServerConfig,
    grpc::pb::{self, locality_service_client::LocalityServiceClient},
    startup::Application,
    transport::TlsFiles,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use tokio::sync::oneshot;
use tonic::{
    Code,
    codegen::Bytes,
    transport::{Certificate, Channel, ClientTlsConfig, Identity},
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_types::StatusExt;

use crate::helpers::{SECRET, bearer, fresh_database, seed_dien_bien, spawn_app_with, token};

/// A certificate authority made for one test.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let pem = params.self_signed(&key).expect("self-signed CA").pem();
        Self { pem, issuer: Issuer::new(params, key) }
    }

    /// A leaf certificate for `localhost`, for a server or a client: `(cert, key)` PEM.
    fn leaf(&self, usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("signing the leaf");
        (cert.pem(), key.serialize_pem())
    }
}

/// The server's TLS files in a temporary directory.
struct ServerFiles {
    dir: tempfile::TempDir,
}

impl ServerFiles {
    fn new(ca: &Ca, client_ca: Option<&Ca>) -> Self {
        let files = Self { dir: tempfile::tempdir().expect("temp dir") };
        files.replace(ca);
        if let Some(client_ca) = client_ca {
            std::fs::write(files.path("client-ca.pem"), &client_ca.pem).expect("writing the client CA");
        }
        files
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a new server certificate signed by `ca` (key first, then the certificate,
    /// each by renaming, as a deployment tool would).
    fn replace(&self, ca: &Ca) {
        let (cert, key) = ca.leaf(ExtendedKeyUsagePurpose::ServerAuth);
        write_atomically(&self.path("server.key"), &key);
        write_atomically(&self.path("server.pem"), &cert);
    }

    fn tls(&self, with_client_ca: bool) -> TlsFiles {
        TlsFiles {
            cert_file: self.path("server.pem"),
            key_file: self.path("server.key"),
            client_ca_file: with_client_ca.then(|| self.path("client-ca.pem")),
        }
    }
}

fn write_atomically(path: &Path, contents: &str) {
    let staged = path.with_extension("new");
    std::fs::write(&staged, contents).expect("writing a TLS file");
    std::fs::rename(&staged, path).expect("renaming a TLS file");
}

/// A server configured by the test, without the plaintext channel `spawn_app` opens.
struct Served {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    sqlite_path: Option<PathBuf>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(path) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
            }
        }
    }
}

async fn serve(configure: impl FnOnce(&mut ServerConfig)) -> Served {
    let (url, sqlite_path) = fresh_database(None).await;
    let mut config = ServerConfig::new(url);
    config.keys = KeyConfig::Hs256(SECRET.to_vec());
    configure(&mut config);
    let app = Application::build(config).await.expect("building the application");
    let addr = app.local_addr();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        app.run_until(async {
            rx.await.ok();
        })
        .await
        .expect("server failed");
    });
    Served { addr, shutdown: Some(tx), sqlite_path }
}

/// A TLS channel to `addr` that trusts `ca` and presents `identity`, if any.
async fn tls_channel(addr: SocketAddr, ca: &Ca, identity: Option<(String, String)>) -> Result<Channel, String> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&ca.pem)).domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Channel::from_shared(format!("https://{addr}"))
        .expect("valid uri")
        .tls_config(tls)
        .map_err(|e| format!("{e:?}"))?
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .map_err(|e| format!("{e:?}"))
}

/// Whether an admin's ListLocalities succeeds over `channel`.
async fn admin_lists(channel: Channel) -> Result<(), tonic::Status> {
    let mut client = LocalityServiceClient::with_interceptor(channel, bearer(Some(token(&["*"], &[Role::Admin]))));
    client.list_localities(pb::ListLocalitiesRequest::default()).await.map(|_| ())
}

#[tokio::test]
async fn tls_serves_clients_that_trust_its_ca_and_plaintext_to_it_fails() {
    let ca = Ca::new("server CA");
    let files = ServerFiles::new(&ca, None);
    let server = serve(|c| c.tls = Some(files.tls(false))).await;

    let channel = tls_channel(server.addr, &ca, None).await.expect("a TLS connection");
    admin_lists(channel).await.expect("an admin call over TLS");

    let plaintext = async {
        let channel = Channel::from_shared(format!("http://{}", server.addr))
            .expect("valid uri")
            .timeout(Duration::from_secs(5))
            .connect()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        admin_lists(channel).await
    };
    assert!(plaintext.await.is_err(), "a plaintext call to the TLS port must fail");

    let other = Ca::new("another CA");
    let untrusted = match tls_channel(server.addr, &other, None).await {
        Ok(channel) => admin_lists(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(untrusted, "a client that does not trust the server's CA must not get through");
}

#[tokio::test]
async fn mtls_refuses_a_client_without_a_certificate_from_its_ca_and_serves_one_with() {
    let server_ca = Ca::new("server CA");
    let client_ca = Ca::new("client CA");
    let files = ServerFiles::new(&server_ca, Some(&client_ca));
    let server = serve(|c| c.tls = Some(files.tls(true))).await;

    let anonymous = match tls_channel(server.addr, &server_ca, None).await {
        Ok(channel) => admin_lists(channel).await.err().map(|s| s.code()),
        Err(_) => Some(Code::Unavailable),
    };
    assert!(anonymous.is_some(), "a client without a certificate must be refused");

    let stranger = Ca::new("a stranger's CA").leaf(ExtendedKeyUsagePurpose::ClientAuth);
    let foreign = match tls_channel(server.addr, &server_ca, Some(stranger)).await {
        Ok(channel) => admin_lists(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(foreign, "a client certificate from another CA must be refused");

    let identity = client_ca.leaf(ExtendedKeyUsagePurpose::ClientAuth);
    let channel = tls_channel(server.addr, &server_ca, Some(identity)).await.expect("an mTLS connection");
    admin_lists(channel).await.expect("an admin call with a client certificate");
}

#[tokio::test]
async fn a_replaced_certificate_is_served_without_a_restart() {
    let old_ca = Ca::new("old CA");
    let files = ServerFiles::new(&old_ca, None);
    let server = serve(|c| {
        c.tls = Some(files.tls(false));
        c.tls_reload_interval = Duration::from_millis(100);
    })
    .await;
    admin_lists(tls_channel(server.addr, &old_ca, None).await.expect("TLS with the old CA"))
        .await
        .expect("the old certificate is served");

    // A broken file is not taken: the old certificate stays.
    write_atomically(&files.path("server.pem"), "not a certificate");
    tokio::time::sleep(Duration::from_millis(500)).await;
    admin_lists(tls_channel(server.addr, &old_ca, None).await.expect("TLS with the old CA"))
        .await
        .expect("a bad replacement keeps the old certificate");

    let new_ca = Ca::new("new CA");
    files.replace(&new_ca);
    let started = Instant::now();
    loop {
        let served = match tls_channel(server.addr, &new_ca, None).await {
            Ok(channel) => admin_lists(channel).await.is_ok(),
            Err(_) => false,
        };
        if served {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the new certificate was not served within 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn listening_beyond_loopback_without_tls_is_refused_at_start_up() {
    let (url, sqlite_path) = fresh_database(None).await;
    let mut config = ServerConfig::new(url);
    config.keys = KeyConfig::Hs256(SECRET.to_vec());
    config.listen = SocketAddr::from(([0, 0, 0, 0], 0));
    let error = Application::build(config).await.expect_err("plaintext beyond loopback must be refused");
    assert!(format!("{error:#}").contains("without TLS"), "unexpected error: {error:#}");
    if let Some(path) = sqlite_path {
        std::fs::remove_file(path).ok();
    }
}

/// A raw HTTP/2 connection to `addr`, driven in the background.
async fn h2_connection(addr: SocketAddr) -> h2::client::SendRequest<Bytes> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connecting");
    let (client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    tokio::spawn(async move {
        connection.await.ok();
    });
    client
}

/// A health Check whose body is never sent: only the headers.
fn stalled_health_check(addr: SocketAddr) -> http::Request<()> {
    http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/grpc.health.v1.Health/Check"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request")
}

#[tokio::test]
async fn stalled_token_free_calls_do_not_delay_an_authenticated_call() {
    let app = spawn_app_with(|_| {}).await;
    let mut localities = app.as_admin().localities();
    seed_dien_bien(&mut localities).await;
    let get = || {
        let mut request = tonic::Request::new(pb::GetLocalityRequest { name: "localities/11".into(), as_of: None });
        request.set_timeout(Duration::from_secs(10));
        request
    };
    let mut unstalled = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        localities.get_locality(get()).await.expect("GetLocality without a stall");
        unstalled = unstalled.min(started.elapsed());
    }

    // 300 health checks whose bodies never arrive, over 4 connections (below the
    // per-connection stream cap), more than the shared budget of 256.
    let mut held = Vec::new();
    let mut connections = Vec::new();
    for _ in 0..4 {
        let mut client = h2_connection(app.addr).await;
        for _ in 0..75 {
            client = client.ready().await.expect("a stream");
            let (response, body) = client.send_request(stalled_health_check(app.addr), false).expect("sending");
            held.push((response, body));
        }
        connections.push(client);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    localities.get_locality(get()).await.expect("GetLocality during the stall");
    let stalled = started.elapsed();
    let bound = Duration::from_secs(2).max(unstalled * 20);
    assert!(stalled < bound, "GetLocality took {stalled:?} during the stall, {unstalled:?} without (bound {bound:?})");
    drop((held, connections));
}

#[tokio::test]
async fn a_health_check_whose_body_never_arrives_is_answered_deadline_exceeded_soon() {
    let app = spawn_app_with(|c| c.request_body_timeout = Duration::from_millis(500)).await;
    let client = h2_connection(app.addr).await;
    let mut client = client.ready().await.expect("a stream");
    let started = Instant::now();
    let (response, _body) = client.send_request(stalled_health_check(app.addr), false).expect("sending");
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("an answer well before the request timeout")
        .expect("a response");
    let status = match response.headers().get("grpc-status") {
        Some(status) => status.clone(),
        None => {
            let mut body = response.into_body();
            while body.data().await.is_some() {}
            body.trailers().await.expect("trailers").expect("trailers present")["grpc-status"].clone()
        }
    };
    assert_eq!(status, (Code::DeadlineExceeded as i32).to_string().as_str());
    assert!(started.elapsed() < Duration::from_secs(5), "answered after {:?}", started.elapsed());
}

/// The `grpc-status` of a call to `path` with one empty message and no token.
async fn raw_call_status(addr: SocketAddr, path: &str) -> String {
    let client = h2_connection(addr).await;
    let mut client = client.ready().await.expect("a stream");
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request");
    let (response, mut body) = client.send_request(request, false).expect("sending");
    body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true).expect("an empty message");
    let response =
        tokio::time::timeout(Duration::from_secs(10), response).await.expect("an answer").expect("a response");
    if let Some(status) = response.headers().get("grpc-status") {
        return status.to_str().expect("ascii").to_owned();
    }
    let mut body = response.into_body();
    while body.data().await.is_some() {}
    let trailers = body.trailers().await.expect("trailers").expect("trailers present");
    trailers["grpc-status"].to_str().expect("ascii").to_owned()
}

const REFLECTION: &str = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";

#[tokio::test]
async fn reflection_can_be_put_behind_a_token_or_turned_off() {
    let open = spawn_app_with(|_| {}).await;
    // Open reflection answers the (empty) question itself, without asking for a token.
    let answered = raw_call_status(open.addr, REFLECTION).await;
    for refusal in [Code::Unauthenticated, Code::Unimplemented] {
        assert_ne!(answered, (refusal as i32).to_string());
    }

    let token_only = spawn_app_with(|c| c.reflection = hrplan::config::Reflection::Token).await;
    assert_eq!(raw_call_status(token_only.addr, REFLECTION).await, (Code::Unauthenticated as i32).to_string());

    let off = spawn_app_with(|c| c.reflection = hrplan::config::Reflection::Off).await;
    assert_eq!(raw_call_status(off.addr, REFLECTION).await, (Code::Unimplemented as i32).to_string());
}

#[tokio::test]
async fn a_connection_without_calls_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(|c| c.idle_connection_timeout = Duration::from_millis(500)).await;
    let tcp = tokio::net::TcpStream::connect(app.addr).await.expect("connecting");
    let (client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), connection).await.expect("the server closes an idle connection").ok();
    assert!(started.elapsed() >= Duration::from_millis(400), "closed too early: {:?}", started.elapsed());
    drop(client);
}

#[tokio::test]
async fn one_connection_cannot_open_more_streams_than_the_cap() {
    let app = spawn_app_with(|c| c.max_streams_per_connection = 100).await;
    let client = h2_connection(app.addr).await;
    // The server's SETTINGS arrive with the first response.
    let mut ready = client.ready().await.expect("a stream");
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/grpc.health.v1.Health/Check", app.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request");
    let (response, mut body) = ready.send_request(request, false).expect("sending");
    body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true).expect("an empty message");
    response.await.expect("a health answer");
    // The server tells the client its cap; HTTP/2 servers reset streams past the cap
    // they announced (REFUSED_STREAM), so no client can hold more.
    assert_eq!(ready.current_max_send_streams(), 100);
}

#[tokio::test]
async fn a_caller_over_the_rate_limit_gets_resource_exhausted_with_a_retry_delay() {
    let app = spawn_app_with(|c| {
        c.rate_limit_per_second = 1;
        c.rate_limit_burst = 5;
    })
    .await;
    let mut localities = app.as_admin().localities();
    let mut refused = None;
    for _ in 0..20 {
        if let Err(status) = localities.list_localities(pb::ListLocalitiesRequest::default()).await {
            refused = Some(status);
            break;
        }
    }
    let status = refused.expect("20 calls at once exceed a burst of 5");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.get_details_retry_info().is_some_and(|r| r.retry_delay.is_some()), "{status:?}");

    // Health is token-free, so it is not counted against any caller.
    let mut health = HealthClient::new(app.channel.clone());
    health.check(HealthCheckRequest { service: String::new() }).await.expect("health still answers");
}

#[tokio::test]
async fn a_call_waits_a_bounded_time_for_a_slot_then_gets_resource_exhausted() {
    let app = spawn_app_with(|c| {
        c.max_concurrent_requests = 1;
        c.queue_timeout = Duration::from_millis(1000);
    })
    .await;
    // An authenticated call whose message never arrives holds the only slot.
    let client = h2_connection(app.addr).await;
    let mut client = client.ready().await.expect("a stream");
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/hrplan.v1.LocalityService/GetLocality", app.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", format!("Bearer {}", token(&["*"], &[Role::Admin])))
        .body(())
        .expect("request");
    let _held = client.send_request(request, false).expect("sending");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut localities = app.as_admin().localities();
    let mut request = tonic::Request::new(pb::GetLocalityRequest { name: "localities/11".into(), as_of: None });
    request.set_timeout(Duration::from_secs(10));
    let started = Instant::now();
    let status = localities.get_locality(request).await.expect_err("no slot is free");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(6), "refused only after {:?}", started.elapsed());

    // A caller whose own deadline is shorter than the queue's wait is answered
    // DEADLINE_EXCEEDED by the server (asked raw: tonic's client gives up by itself).
    let client = h2_connection(app.addr).await;
    let mut client = client.ready().await.expect("a stream");
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/hrplan.v1.LocalityService/GetLocality", app.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("grpc-timeout", "300m")
        .header("authorization", format!("Bearer {}", token(&["*"], &[Role::Admin])))
        .body(())
        .expect("request");
    let (response, mut body) = client.send_request(request, false).expect("sending");
    body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true).expect("an empty message");
    let response =
        tokio::time::timeout(Duration::from_secs(10), response).await.expect("an answer").expect("a response");
    let status = response.headers().get("grpc-status").map(|v| v.to_str().expect("ascii").to_owned());
    assert_eq!(status.as_deref(), Some("4"), "{response:?}");
}
