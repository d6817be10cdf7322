//! Typed clients per caller: `app.as_(Caller::admin()).people()` is a PersonService
//! client presenting a national admin's token. Every test reaches the server this way,
//! so a caller is named once, where it matters, and no test file builds its own clients.

use hrplan::{
    auth::Role,
    grpc::pb::{
        enrollment_service_client::EnrollmentServiceClient, locality_service_client::LocalityServiceClient,
        person_service_client::PersonServiceClient, report_service_client::ReportServiceClient,
        rotation_service_client::RotationServiceClient, scale_service_client::ScaleServiceClient,
        staffing_service_client::StaffingServiceClient, standard_service_client::StandardServiceClient,
        succession_pool_service_client::SuccessionPoolServiceClient,
        training_plan_service_client::TrainingPlanServiceClient, unit_service_client::UnitServiceClient,
    },
};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

use crate::helpers::{Bearer, TestApp, bearer, token};

/// A channel whose calls present one caller's token.
pub type Authed = InterceptedService<Channel, Bearer>;
/// A LocalityService client of one caller.
pub type LocalityClient = LocalityServiceClient<Authed>;
/// A UnitService client of one caller.
pub type UnitClient = UnitServiceClient<Authed>;
/// A ScaleService client of one caller.
pub type ScaleClient = ScaleServiceClient<Authed>;
/// A StandardService client of one caller.
pub type StandardClient = StandardServiceClient<Authed>;
/// A PersonService client of one caller.
pub type PersonClient = PersonServiceClient<Authed>;
/// A ReportService client of one caller.
pub type ReportClient = ReportServiceClient<Authed>;
/// A TrainingPlanService client of one caller.
pub type PlanClient = TrainingPlanServiceClient<Authed>;
/// An EnrollmentService client of one caller.
pub type EnrollmentClient = EnrollmentServiceClient<Authed>;
/// A RotationService client of one caller.
pub type RotationClient = RotationServiceClient<Authed>;
/// A SuccessionPoolService client of one caller.
pub type PoolClient = SuccessionPoolServiceClient<Authed>;
/// A StaffingService client of one caller.
pub type StaffingClient = StaffingServiceClient<Authed>;

/// Who makes a call: the token a client presents, or none.
#[derive(Debug, Clone)]
pub struct Caller(Option<String>);

impl Caller {
    /// A national admin.
    pub fn admin() -> Self {
        Self::of(&["*"], &[Role::Admin])
    }

    /// A caller scoped to `localities` (`["*"]` for the whole country) with `roles`.
    pub fn of(localities: &[&str], roles: &[Role]) -> Self {
        Self(Some(token(localities, roles)))
    }

    /// An editor scoped to `localities`.
    pub fn editor_of(localities: &[&str]) -> Self {
        Self::of(localities, &[Role::Editor])
    }

    /// A caller presenting `token` as it is (expired, forged, …), or no token at all.
    pub fn with_token(token: Option<String>) -> Self {
        Self(token)
    }
}

/// The clients of every service for one caller.
#[derive(Debug, Clone)]
pub struct Clients {
    channel: Channel,
    caller: Caller,
}

macro_rules! clients {
    ($($(#[$doc:meta])* $method:ident -> $client:ident = $generated:ident;)+) => {
        impl Clients {
            $(
                $(#[$doc])*
                pub fn $method(&self) -> $client {
                    $generated::with_interceptor(self.channel.clone(), bearer(self.caller.0.clone()))
                }
            )+
        }
    };
}

clients! {
    /// LocalityService.
    localities -> LocalityClient = LocalityServiceClient;
    /// UnitService.
    units -> UnitClient = UnitServiceClient;
    /// ScaleService.
    scales -> ScaleClient = ScaleServiceClient;
    /// StandardService.
    standards -> StandardClient = StandardServiceClient;
    /// PersonService.
    people -> PersonClient = PersonServiceClient;
    /// ReportService.
    reports -> ReportClient = ReportServiceClient;
    /// TrainingPlanService.
    plans -> PlanClient = TrainingPlanServiceClient;
    /// EnrollmentService.
    enrollments -> EnrollmentClient = EnrollmentServiceClient;
    /// RotationService.
    rotations -> RotationClient = RotationServiceClient;
    /// SuccessionPoolService.
    pools -> PoolClient = SuccessionPoolServiceClient;
    /// StaffingService.
    staffing -> StaffingClient = StaffingServiceClient;
}

impl TestApp {
    /// The clients of `caller`.
    pub fn as_(&self, caller: Caller) -> Clients {
        Clients { channel: self.channel.clone(), caller }
    }

    /// The clients of a national admin.
    pub fn as_admin(&self) -> Clients {
        self.as_(Caller::admin())
    }
}
