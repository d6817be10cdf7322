//! Server assembly: database, services, layers, listener, health probe and shutdown.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use http::{HeaderName, Method};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tonic::{
    server::NamedService,
    service::{RoutesBuilder, interceptor::InterceptedService},
    transport::Server,
};
use tonic_health::{ServingStatus, server::HealthReporter};
use tower::util::option_layer;
use tower_http::{
    classify::{GrpcCode, GrpcErrorsAsFailures, SharedClassifier},
    cors::{AllowOrigin, Any, CorsLayer},
    trace::TraceLayer,
};
use tracing::{Span, info_span, warn};

use crate::{
    auth::{Authenticator, ContextInterceptor},
    config::{Reflection, ReportEngine, ServerConfig},
    demo,
    grpc::{
        FILE_DESCRIPTOR_SET, pb::enrollment_service_server::EnrollmentServiceServer,
        pb::locality_service_server::LocalityServiceServer, pb::person_service_server::PersonServiceServer,
        pb::report_service_server::ReportServiceServer, pb::rotation_service_server::RotationServiceServer,
        pb::scale_service_server::ScaleServiceServer, pb::staffing_service_server::StaffingServiceServer,
        pb::standard_service_server::StandardServiceServer,
        pb::succession_pool_service_server::SuccessionPoolServiceServer,
        pb::training_plan_service_server::TrainingPlanServiceServer, pb::unit_service_server::UnitServiceServer,
    },
    localities::LocalityApi,
    movements::RotationApi,
    people::PersonApi,
    reports::{ReportApi, engine::Engine, usecases::Reports},
    scales::ScaleApi,
    staffing::StaffingApi,
    standards::StandardApi,
    store,
    succession::SuccessionPoolApi,
    training::{EnrollmentApi, TrainingPlanApi},
    transport::{self, AcceptOptions, Connections, LimitOptions, LimitsLayer, RateLimiter, TlsReloader},
    units::UnitApi,
};

/// A server with its database ready and its port bound, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    tls: Option<(TlsReloader, tokio::task::JoinHandle<()>)>,
    local_addr: SocketAddr,
    db: DatabaseConnection,
    /// Where reads and refusals are audited, when not in `db`.
    audit_db: Option<DatabaseConnection>,
    authenticator: Authenticator,
    /// The report engine, when reports are aggregated in memory.
    engine: Option<Engine>,
    config: ServerConfig,
}

impl Application {
    /// Connects and migrates the database, loads the demo data if asked, and binds the
    /// listener.
    pub async fn build(config: ServerConfig) -> anyhow::Result<Self> {
        let authenticator =
            Authenticator::new(&config.keys, config.jwt_issuer.as_deref(), config.jwt_audience.as_deref())?
                .with_max_lifetime(config.jwt_max_lifetime);
        if authenticator.is_development() {
            anyhow::ensure!(
                config.listen.ip().is_loopback(),
                "refusing to listen on {} without a JWT key: development mode serves loopback only \
                 (configure HRPLAN_JWT_HS256_SECRET, --jwt-hs256-secret-file, --jwt-public-key-file \
                 or --jwt-jwks-file)",
                config.listen
            );
            warn!(
                "DEVELOPMENT MODE: no JWT key is configured, so every caller acts as a national admin; \
                 never run like this with real data"
            );
        }
        anyhow::ensure!(
            config.listen.ip().is_loopback() || config.tls.is_some() || config.tls_terminated_by_proxy,
            "refusing to listen on {} without TLS: tokens and personal data would cross the network in \
             clear (configure --tls-cert-file and --tls-key-file, or --tls-terminated-by-proxy when a proxy \
             in front terminates TLS)",
            config.listen
        );
        // Bad TLS files stop start-up here; later replacements that do not load are
        // logged and the previous certificate kept.
        let tls = config
            .tls
            .clone()
            .map(|files| TlsReloader::start(files, config.tls_reload_interval))
            .transpose()
            .context("loading the TLS certificate")?;
        let db = store::connect(&config.database_url, config.database_max_connections)
            .await
            .context("connecting to the database")?;
        if config.migrate {
            store::migrate(&db).await.context("migrating the database")?;
        }
        let async_audit = config.audit_reads_async_commit;
        let audit_db = match &config.audit_database_url {
            // Its schema is the primary's business: never migrated from here.
            Some(url) => {
                Some(store::connect_audit(url, 4, async_audit).await.context("connecting to the audit database")?)
            }
            // Reads audited without waiting for the disk: their own pool, so that writes
            // keep committing durably.
            None if async_audit && config.database_url.starts_with("postgres") => Some(
                store::connect_audit(&config.database_url, 0, true)
                    .await
                    .context("connecting to the database for audit records")?,
            ),
            None => None,
        };
        if config.demo && demo::load(&db).await.context("loading the demo data")? {
            tracing::info!("loaded the demo locality tree");
        }
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        let engine = (config.report_engine == ReportEngine::Memory).then(Engine::new);
        Ok(Self { listener, tls, local_addr, db, audit_db, authenticator, engine, config })
    }

    /// The bound address (the real port when the configured port was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The database the server uses.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The report engine, if reports are aggregated in memory (it loads once serving).
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let Self { listener, tls, local_addr, db, audit_db, authenticator, engine, config } = self;
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        // Records written around the server get their facts here, never in a read.
        let facts = tokio::spawn(crate::facts::keep_up(db.clone(), config.facts_catch_up_interval));
        // The engine loads while the server already serves (reports from SQL meanwhile).
        let engine_task =
            engine.clone().map(|engine| tokio::spawn(engine.run(db.clone(), config.report_engine_interval)));

        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;

        // Keys of a JWKS file rotate without a restart; refusals are recorded off the
        // request path (see store::audit).
        let keys = tokio::spawn(authenticator.clone().watch(config.jwt_jwks_refresh_interval));
        let (refusals, refusal_writer) =
            store::audit::refusal_queue(audit_db.clone().unwrap_or_else(|| db.clone()), config.audit_refusal_queue);
        let refusal_writer = tokio::spawn(refusal_writer.run());
        let interceptor = ContextInterceptor::new(authenticator)
            .trust_forwarded_for(config.trust_forwarded_for)
            .audit_to(audit_db.clone());
        let mut services = services(&db, engine.clone(), &config, interceptor);
        match config.reflection {
            Reflection::On => {
                services.routes.add_service(reflection_v1).add_service(reflection_v1alpha);
            }
            Reflection::Token => {
                let interceptor = services.interceptor.clone();
                services
                    .routes
                    .add_service(InterceptedService::new(reflection_v1, interceptor.clone()))
                    .add_service(InterceptedService::new(reflection_v1alpha, interceptor));
            }
            Reflection::Off => {}
        }
        let probe = tokio::spawn(probe_health(
            db.clone(),
            engine,
            health_reporter,
            services.names,
            config.health_probe_interval,
        ));

        let cors = cors_layer(&config.cors_allowed_origins);
        let trace = TraceLayer::new(SharedClassifier::new(client_errors_are_not_failures()))
            .make_span_with(|request: &http::Request<_>| {
                info_span!("rpc", method = %request.uri().path(), caller = tracing::field::Empty)
            });

        let connections = Arc::new(Connections::default());
        let limits = LimitsLayer::new(
            LimitOptions {
                max_concurrent_requests: config.max_concurrent_requests,
                max_concurrent_token_free: config.max_concurrent_token_free,
                queue_timeout: config.queue_timeout,
                request_body_timeout: config.request_body_timeout,
                stream_idle_timeout: config.stream_idle_timeout,
                reflection_token_free: config.reflection == Reflection::On,
            },
            RateLimiter::new(config.rate_limit_per_second, config.rate_limit_burst),
            connections.clone(),
        );
        let (tls, tls_task) = tls.unzip();
        tracing::info!(
            address = %local_addr,
            tls = tls.is_some(),
            "serving gRPC and gRPC-Web{}",
            if tls.is_some() { " over TLS" } else { "" }
        );
        let incoming = transport::incoming::accept(
            listener,
            AcceptOptions {
                max_connections: config.max_connections,
                handshake_timeout: config.tls_handshake_timeout,
                idle_timeout: config.idle_connection_timeout,
                tls,
            },
            connections,
        );
        let result = Server::builder()
            .accept_http1(true)
            .timeout(config.request_timeout)
            .max_concurrent_streams(config.max_streams_per_connection)
            .http2_keepalive_interval(config.keepalive_interval)
            .http2_keepalive_timeout(Some(config.keepalive_timeout))
            .layer(trace)
            .layer(limits)
            .layer(option_layer(cors))
            .layer(tonic_web::GrpcWebLayer::new())
            .layer(tower::util::MapResponseLayer::new(crate::grpc::codec::oversize_is_resource_exhausted))
            .layer(store::audit::AuditLayer::new(refusals))
            .add_routes(services.routes.routes().add_service(health_service))
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await;
        if let Some(task) = tls_task {
            task.abort();
        }
        probe.abort();
        facts.abort();
        if let Some(task) = engine_task {
            task.abort();
        }
        keys.abort();
        // The server and with it every sink are gone: the writer ends once the refusals
        // still queued are written (given a few seconds, should a connection linger).
        if tokio::time::timeout(std::time::Duration::from_secs(5), refusal_writer).await.is_err() {
            warn!("stopped before every queued refusal was recorded");
        }
        db.close().await.ok();
        if let Some(audit_db) = audit_db {
            audit_db.close().await.ok();
        }
        tracing::info!("server stopped");
        Ok(result?)
    }
}

/// Serves each server behind the context interceptor, with the message size limit, and
/// records its name. (A macro, because the generated servers share no trait that names their response body.)
macro_rules! serve {
    ($services:ident, $limit:ident; $($server:expr),+ $(,)?) => {
        $(
            let server = $server.max_decoding_message_size($limit);
            $services.names.push(name_of(&server));
            $services.routes.add_service(InterceptedService::new(server, $services.interceptor.clone()));
        )+
    };
}
/// The services hrplan serves, in one list: each joins the routes behind the caller's
/// context interceptor (authentication, scope) and the message size limit, and is
/// reported by the health service. A new service is one line here.
fn services(
    db: &DatabaseConnection,
    engine: Option<Engine>,
    config: &ServerConfig,
    interceptor: ContextInterceptor,
) -> Services {
    let limit = config.max_message_bytes;
    // The reports' database, engine and threshold, shared by ReportService and by
    // StaffingService's GetHeadcount.
    let reports = Reports { db: db.clone(), engine, suppression_threshold: config.report_suppression_threshold };
    let mut services = Services { routes: RoutesBuilder::default(), names: Vec::new(), interceptor };
    serve!(services, limit;
        LocalityServiceServer::new(LocalityApi::new(db.clone())),
        UnitServiceServer::new(UnitApi::new(db.clone())),
        ScaleServiceServer::new(ScaleApi::new(db.clone())),
        StandardServiceServer::new(StandardApi::new(db.clone())),
        ReportServiceServer::new(ReportApi::new(reports.clone())),
        PersonServiceServer::new(PersonApi::new(db.clone())),
        TrainingPlanServiceServer::new(TrainingPlanApi::new(db.clone())),
        EnrollmentServiceServer::new(EnrollmentApi::new(db.clone())),
        SuccessionPoolServiceServer::new(SuccessionPoolApi::new(db.clone())),
        StaffingServiceServer::new(StaffingApi::new(reports)),
        RotationServiceServer::new(RotationApi::new(db.clone())),
    );
    services
}

/// The routes of the served services and their names (for health).
struct Services {
    routes: RoutesBuilder,
    names: Vec<&'static str>,
    interceptor: ContextInterceptor,
}

fn name_of<S: NamedService>(_: &S) -> &'static str {
    S::NAME
}

/// Logs as failures (at ERROR) only the codes that say the server failed; a caller's
/// mistake or a refusal is an answer, logged with the response at DEBUG.
fn client_errors_are_not_failures() -> GrpcErrorsAsFailures {
    [
        GrpcCode::Cancelled,
        GrpcCode::InvalidArgument,
        GrpcCode::NotFound,
        GrpcCode::AlreadyExists,
        GrpcCode::PermissionDenied,
        GrpcCode::FailedPrecondition,
        GrpcCode::Aborted,
        GrpcCode::OutOfRange,
        GrpcCode::Unauthenticated,
        GrpcCode::DeadlineExceeded,
        GrpcCode::ResourceExhausted,
    ]
    .into_iter()
    .fold(GrpcErrorsAsFailures::new(), GrpcErrorsAsFailures::with_success)
}

fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| o.parse().ok()))
    };
    let exposed = ["grpc-status", "grpc-message", "grpc-status-details-bin"].map(HeaderName::from_static);
    Some(CorsLayer::new().allow_origin(allow).allow_methods([Method::POST]).allow_headers(Any).expose_headers(exposed))
}

/// Reports NOT_SERVING, overall and per service, while the database does not answer;
/// and for ReportService also until the report engine (if any) has loaded.
async fn probe_health(
    db: DatabaseConnection,
    engine: Option<Engine>,
    reporter: HealthReporter,
    services: Vec<&'static str>,
    interval: std::time::Duration,
) {
    let reports = <ReportServiceServer<ReportApi> as NamedService>::NAME;
    let mut last: Option<(ServingStatus, ServingStatus)> = None;
    loop {
        let database = if store::ping(&db).await { ServingStatus::Serving } else { ServingStatus::NotServing };
        let engine_ready = engine.as_ref().is_none_or(Engine::is_loaded);
        let report =
            if database == ServingStatus::Serving && engine_ready { database } else { ServingStatus::NotServing };
        if last != Some((database, report)) {
            if database == ServingStatus::NotServing {
                warn!("database unreachable: reporting NOT_SERVING");
            }
            for service in std::iter::once("").chain(services.iter().copied()) {
                let status = if service == reports { report } else { database };
                reporter.set_service_status(service, status).await;
            }
            last = Some((database, report));
        }
        tokio::time::sleep(interval).await;
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    Span::current().in_scope(|| tracing::info!("shutdown signal received; finishing requests in flight"));
}
