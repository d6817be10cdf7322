//! The reference data the report engine keeps in memory — the locality tree with its
//! names, tags and succession links, and the scales' levels — against the SQL it stands
//! for: after every change, made through either of two servers over one database or
//! around both in plain SQL, a server reading it from memory answers reports exactly
//! as a server reading it in SQL, and shows the change at once.

use hrplan::{auth::Role, config::ReportEngine, grpc::pb};
use sea_orm::ConnectionTrait;

use crate::{
    clients::{Caller, Clients},
    helpers::{TestApp, create_request, date, spawn_app_on, spawn_app_with},
};

/// A scope over `locality` on `(y, m, d)`.
fn scope(locality: &str, (y, m, d): (i32, i32, i32), by_child: bool, tags: &[&str]) -> pb::ReportScope {
    pb::ReportScope {
        locality: format!("localities/{locality}"),
        as_of: Some(date(y, m, d)),
        locality_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        breakdown_by_child: by_child,
        ..Default::default()
    }
}

const BEFORE: (i32, i32, i32) = (2024, 12, 31);
const AFTER: (i32, i32, i32) = (2025, 7, 1);

fn outcome<T: std::fmt::Debug>(result: Result<tonic::Response<T>, tonic::Status>) -> String {
    match result {
        Ok(response) => format!("{:?}", response.into_inner()),
        Err(status) => format!("error {:?}: {}", status.code(), status.message()),
    }
}

/// The two servers and the callers that ask them.
struct Pair {
    memory: TestApp,
    sql: TestApp,
}

impl Pair {
    fn clients(&self, caller: &Caller) -> (Clients, Clients) {
        (self.memory.as_(caller.clone()), self.sql.as_(caller.clone()))
    }

    /// A profile as `caller` asks both servers: the in-memory server's answer, once
    /// checked equal to the SQL server's.
    async fn profile(&self, caller: &Caller, scope: pb::ReportScope) -> String {
        let (memory, sql) = self.clients(caller);
        let request = pb::GetWorkforceProfileRequest { scope: Some(scope) };
        let a = outcome(memory.reports().get_workforce_profile(request.clone()).await);
        let b = outcome(sql.reports().get_workforce_profile(request.clone()).await);
        assert_eq!(a, b, "{request:?}: the in-memory reference data and the SQL disagree");
        a
    }

    /// The headcount of a profile (both servers agreeing), failing on an error.
    async fn headcount(&self, scope: pb::ReportScope) -> i64 {
        let (memory, _) = self.clients(&Caller::admin());
        let answer = self.profile(&Caller::admin(), scope.clone()).await;
        assert!(!answer.starts_with("error"), "{scope:?}: {answer}");
        let request = pb::GetWorkforceProfileRequest { scope: Some(scope) };
        let profile = memory.reports().get_workforce_profile(request).await.expect("a profile").into_inner();
        profile.total.expect("a total").headcount
    }

    /// Every report of a few scopes, for an admin and for a caller scoped to a
    /// province, compared between the servers.
    async fn compare_all(&self) {
        let callers = [Caller::admin(), Caller::of(&["11"], &[Role::AggregateReader])];
        for caller in &callers {
            let (memory, sql) = self.clients(caller);
            for day in [BEFORE, AFTER] {
                for (locality, by_child, tags) in
                    [("-", true, &[][..]), ("11", true, &[]), ("11", false, &["border_area"]), ("094", true, &[])]
                {
                    self.profile(caller, scope(locality, day, by_child, tags)).await;
                    let s = Some(scope(locality, day, by_child, tags));
                    let request = pb::GetStandardComplianceRequest { scope: s.clone() };
                    let a = outcome(memory.reports().get_standard_compliance(request.clone()).await);
                    let b = outcome(sql.reports().get_standard_compliance(request).await);
                    assert_eq!(a, b, "compliance over {locality} on {day:?}");
                    let request = pb::CompareWorkforceProfilesRequest { scope: s, other_date: Some(date(2020, 6, 30)) };
                    let a = outcome(memory.reports().compare_workforce_profiles(request.clone()).await);
                    let b = outcome(sql.reports().compare_workforce_profiles(request).await);
                    assert_eq!(a, b, "comparison over {locality} on {day:?}");
                }
            }
        }
    }

    /// A change made around both servers, as SQL by hand would.
    async fn around(&self, statement: &str) {
        self.memory.db.execute_unprepared(statement).await.expect("a change around the servers");
        hrplan::facts::catch_up(&self.memory.db).await.expect("catching the facts up");
    }
}

#[tokio::test]
async fn reports_follow_the_tree_its_tags_and_links_and_the_levels_whoever_changes_them() {
    let memory = spawn_app_with(|config| config.demo = true).await;
    let sql = spawn_app_on(memory.url.clone(), None, |config| config.report_engine = ReportEngine::Sql).await;
    memory.assert_facts_in_step().await;
    let pair = Pair { memory, sql };
    let admin = Caller::admin();
    pair.compare_all().await;

    // A name changed around the servers is the name of the group at once.
    pair.around("UPDATE locality_versions SET name = 'Tỉnh Thử Nghiệm' WHERE code = '11'").await;
    let answer = pair.profile(&admin, scope("-", BEFORE, true, &[])).await;
    assert!(answer.contains("Tỉnh Thử Nghiệm"), "the renamed province is named anew: {answer}");

    // Tags: none, then the province's, which tags its whole tree.
    let all = pair.headcount(scope("11", BEFORE, false, &[])).await;
    assert!(all > 0, "the demo has people in province 11");
    pair.around("DELETE FROM locality_tags").await;
    assert_eq!(pair.headcount(scope("11", BEFORE, false, &["border_area"])).await, 0);
    pair.around("INSERT INTO locality_tags (code, tag) VALUES ('11', 'border_area')").await;
    assert_eq!(pair.headcount(scope("11", BEFORE, false, &["border_area"])).await, all);
    pair.compare_all().await;

    // A level's label changed around the servers labels the cells at once.
    pair.around(
        "UPDATE scale_levels SET name = 'Thạc sĩ (nhãn mới)' WHERE scale_code = 'professional' AND code = 'master'",
    )
    .await;
    let answer = pair.profile(&admin, scope("11", BEFORE, false, &[])).await;
    assert!(answer.contains("Thạc sĩ (nhãn mới)"), "the relabelled level: {answer}");

    // A district created through the SQL server is a group of the in-memory server's
    // report right after, and within the scope of its province's callers.
    let mut localities = pair.sql.as_admin().localities();
    localities
        .create_locality(create_request(
            "999",
            pb::LocalityTier::District,
            "Huyện Thử Nghiệm",
            pb::LocalityKind::RuralDistrict,
            "localities/11",
        ))
        .await
        .expect("creating a district through the SQL server");
    let answer = pair.profile(&admin, scope("11", BEFORE, true, &[])).await;
    assert!(answer.contains("localities/999"), "the new district is a group: {answer}");
    let provincial = Caller::of(&["11"], &[Role::AggregateReader]);
    let answer = pair.profile(&provincial, scope("999", BEFORE, false, &[])).await;
    assert!(!answer.starts_with("error"), "the province's caller reads its new district: {answer}");

    // A merge recorded around the servers puts the predecessor within the successor's
    // scope; before it, the successor's caller is refused.
    let district = Caller::of(&["999"], &[Role::AggregateReader]);
    let refused = pair.profile(&district, scope("094", BEFORE, false, &[])).await;
    assert!(refused.starts_with("error PermissionDenied"), "outside the new district's scope: {refused}");
    pair.around(
        "INSERT INTO locality_links (predecessor_code, successor_code, kind, effective_date) \
         VALUES ('094', '999', 'merge', '2025-07-01')",
    )
    .await;
    let answer = pair.profile(&district, scope("094", BEFORE, false, &[])).await;
    assert!(!answer.starts_with("error"), "a merge's successor reads its predecessor: {answer}");
    // A locality that does not exist is NOT_FOUND from memory as in SQL.
    let missing = pair.profile(&admin, scope("98", BEFORE, false, &[])).await;
    assert!(missing.starts_with("error NotFound"), "{missing}");
    pair.compare_all().await;

    // The in-memory server read the reference data from memory: it holds the version
    // of the last change.
    let engine = pair.memory.engine.as_ref().expect("the default configuration aggregates in memory");
    assert!(engine.reference_loads() >= 5, "each change was loaded once: {}", engine.reference_loads());
}
