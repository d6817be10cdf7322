//! ReportService.GetStandardCompliance: who meets the standard of their post, per tier
//! and category, and which minimum is missed most.

use hrplan::{
    auth::Role,
    grpc::pb::{self, person_service_client::PersonServiceClient, standard_service_client::StandardServiceClient},
};
use tonic::Code;

use crate::clients::Caller;
use crate::helpers::{TestApp, bearer, code_of, committee_unit, date, spawn_app, token};

const UNIVERSITY: &str = "scales/professional/levels/university";
const COLLEGE: &str = "scales/professional/levels/college";
const MASTER: &str = "scales/professional/levels/master";
const POLITICAL: &str = "scales/political_theory/levels/intermediate";

/// Fifteen people of Thành phố Lạng Sơn (a district-tier locality) on 2024-06-01,
/// under two standards for district civil servants (university and intermediate
/// political theory; master's for leaders):
/// - 4 non-leaders with university and political theory: meet;
/// - 3 non-leaders with college and political theory: miss university (one of them
///   earns a university degree on 2024-09-01);
/// - 2 non-leaders with university only: miss political theory;
/// - 1 non-leader with college only: misses both;
/// - 2 leaders with a master's: meet; 1 leader with university: misses the master's;
/// - 2 public employees: no standard applies.
async fn fixture(app: &TestApp) {
    /// How many people, their category, whether leaders, and their levels with the day awarded.
    type Group<'a> = (usize, pb::PersonCategory, bool, &'a [(&'a str, pb::Date)]);
    app.load_demo().await;
    let admin = || bearer(Some(token(&["*"], &[Role::Admin])));
    let unit =
        committee_unit(app, "localities/178", "Ủy ban nhân dân thành phố Lạng Sơn", Some(date(2025, 7, 1))).await.name;
    let mut standards = StandardServiceClient::with_interceptor(app.channel.clone(), admin());
    for (name, leadership, minimums) in [
        ("Công chức cấp huyện", pb::Leadership::Unspecified, vec![UNIVERSITY, POLITICAL]),
        ("Lãnh đạo cấp huyện", pb::Leadership::Leaders, vec![MASTER]),
    ] {
        standards
            .create_standard(pb::CreateStandardRequest {
                standard: Some(pb::Standard {
                    display_name: name.into(),
                    tier: pb::LocalityTier::District.into(),
                    category: pb::PersonCategory::CivilServant.into(),
                    leadership: leadership.into(),
                    effective_from: Some(date(2020, 1, 1)),
                    minimum_levels: minimums.into_iter().map(str::to_owned).collect(),
                    legal_basis: "Quy định thử".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("standard");
    }
    let groups: [Group<'_>; 8] = [
        (4, pb::PersonCategory::CivilServant, false, &[(UNIVERSITY, date(2010, 6, 1)), (POLITICAL, date(2015, 6, 1))]),
        (2, pb::PersonCategory::CivilServant, false, &[(COLLEGE, date(2010, 6, 1)), (POLITICAL, date(2015, 6, 1))]),
        (
            1,
            pb::PersonCategory::CivilServant,
            false,
            &[(COLLEGE, date(2010, 6, 1)), (POLITICAL, date(2015, 6, 1)), (UNIVERSITY, date(2024, 9, 1))],
        ),
        (2, pb::PersonCategory::CivilServant, false, &[(UNIVERSITY, date(2010, 6, 1))]),
        (1, pb::PersonCategory::CivilServant, false, &[(COLLEGE, date(2010, 6, 1))]),
        (2, pb::PersonCategory::CivilServant, true, &[(MASTER, date(2012, 6, 1))]),
        (1, pb::PersonCategory::CivilServant, true, &[(UNIVERSITY, date(2010, 6, 1))]),
        (2, pb::PersonCategory::PublicEmployee, false, &[(UNIVERSITY, date(2010, 6, 1))]),
    ];
    let mut people = PersonServiceClient::with_interceptor(app.channel.clone(), admin());
    let mut n = 0;
    for (count, category, leader, held) in groups {
        for _ in 0..count {
            n += 1;
            people
                .create_person(pb::CreatePersonRequest {
                    record: Some(pb::PersonRecord {
                        person: Some(pb::Person {
                            full_name: format!("Công chức {n}"),
                            birth_date: Some(date(1985, 1, 1)),
                            gender: pb::Gender::Male.into(),
                            ethnicity: "Nùng".into(),
                            category: category.into(),
                            employed_from: Some(date(2010, 1, 1)),
                            ..Default::default()
                        }),
                        placements: vec![pb::Placement {
                            unit: unit.clone(),
                            post_title: if leader { "Trưởng phòng" } else { "Chuyên viên" }.into(),
                            leader,
                            valid_from: Some(date(2020, 1, 1)),
                            valid_until: Some(date(2025, 7, 1)),
                            ..Default::default()
                        }],
                        qualifications: held
                            .iter()
                            .map(|(level, on)| pb::Qualification {
                                level: (*level).into(),
                                field_of_study: "Hành chính".into(),
                                institution: "Học viện Hành chính".into(),
                                awarded_on: Some(*on),
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .expect("person");
        }
    }
}

async fn compliance(app: &TestApp, roles: &[Role], as_of: pb::Date) -> pb::GetStandardComplianceResponse {
    app.as_(Caller::of(&["20"], roles))
        .reports()
        .get_standard_compliance(pb::GetStandardComplianceRequest {
            scope: Some(pb::ReportScope {
                locality: "localities/20".into(),
                as_of: Some(as_of),
                breakdown_by_child: true,
                ..Default::default()
            }),
        })
        .await
        .expect("compliance")
        .into_inner()
}

fn counts(cell: Option<&pb::Cell>) -> (i64, i64, bool) {
    cell.map(|c| (c.count, c.denominator, c.suppressed)).unwrap_or_default()
}

#[tokio::test]
async fn compliance_counts_who_meets_the_standard_of_their_post_and_the_minimums_missed_most() {
    let app = spawn_app().await;
    fixture(&app).await;
    let answer = compliance(&app, &[Role::PersonalDataReader], date(2024, 6, 1)).await;
    let total = answer.total.expect("total");
    assert_eq!(total.locality, "localities/20");
    assert_eq!(total.headcount, 15);
    assert_eq!(counts(total.with_standard.as_ref()), (13, 15, false));
    assert_eq!(counts(total.meeting.as_ref()), (6, 13, false));
    let missed: Vec<(&str, i64, i64)> =
        total.missed_minimums.iter().map(|c| (c.key.as_str(), c.count, c.denominator)).collect();
    assert_eq!(missed, [(UNIVERSITY, 4, 13), (POLITICAL, 3, 13), (MASTER, 1, 13)]);
    let breakdown: Vec<(i32, i32, i64, i64, i64)> = total
        .breakdown
        .iter()
        .map(|b| {
            let with = b.with_standard.as_ref().map(|c| c.count).unwrap_or_default();
            let meeting = b.meeting.as_ref().map(|c| c.count).unwrap_or_default();
            (b.tier, b.category, b.headcount, with, meeting)
        })
        .collect();
    let district = pb::LocalityTier::District as i32;
    assert_eq!(
        breakdown,
        [
            (district, pb::PersonCategory::CivilServant as i32, 13, 13, 6),
            (district, pb::PersonCategory::PublicEmployee as i32, 2, 0, 0)
        ]
    );
    // Everyone is in Thành phố Lạng Sơn, a child of the province.
    let city = answer.children.iter().find(|c| c.locality == "localities/178").expect("the city");
    assert_eq!((city.headcount, counts(city.meeting.as_ref())), (15, (6, 13, false)));
    assert_eq!(answer.own_units.map(|o| o.headcount), Some(0));

    // A degree awarded later counts from its day.
    let later = compliance(&app, &[Role::PersonalDataReader], date(2024, 10, 1)).await.total.expect("total");
    assert_eq!(counts(later.meeting.as_ref()), (7, 13, false));
    // Ties are ordered by level name.
    let missed: Vec<(&str, i64)> = later.missed_minimums.iter().map(|c| (c.key.as_str(), c.count)).collect();
    assert_eq!(missed, [(POLITICAL, 3), (UNIVERSITY, 3), (MASTER, 1)]);
}

#[tokio::test]
async fn compliance_hides_small_cells_from_aggregate_readers_and_keeps_to_the_callers_scope() {
    let app = spawn_app().await;
    fixture(&app).await;
    let hidden = compliance(&app, &[Role::AggregateReader], date(2024, 6, 1)).await.total.expect("total");
    let master = hidden.missed_minimums.iter().find(|c| c.key == MASTER).expect("master");
    assert_eq!((master.count, master.suppressed), (0, true));
    assert_eq!(counts(hidden.meeting.as_ref()), (6, 13, false));

    let outside = app
        .as_(Caller::of(&["11"], &[Role::PersonalDataReader]))
        .reports()
        .get_standard_compliance(pb::GetStandardComplianceRequest {
            scope: Some(pb::ReportScope { locality: "localities/20".into(), ..Default::default() }),
        })
        .await;
    assert_eq!(code_of(outside), Code::PermissionDenied);
    let invalid = app
        .as_(Caller::of(&["*"], &[Role::PersonalDataReader]))
        .reports()
        .get_standard_compliance(pb::GetStandardComplianceRequest { scope: None })
        .await;
    assert_eq!(code_of(invalid), Code::InvalidArgument);
}
