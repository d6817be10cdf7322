//! ReportService: the public worked example of DOMAIN.md, reproduced from person-level
//! records, and the suppression of small cells.

use hrplan::{
    auth::Role,
    grpc::pb::{self, person_service_client::PersonServiceClient},
};
use tonic::Code;

use crate::clients::Caller;
use crate::helpers::{TestApp, bearer, code_of, committee_unit, date, spawn_app, token};

/// "A provincial city has 244 leaders and managers among its 2,886 cadres, civil
/// servants, public employees and workers. By professional qualification: 1 doctorate,
/// 41 master's, 198 university, 3 college, 1 intermediate. By political theory: 85
/// advanced, 157 intermediate." Loaded as people of Thành phố Lạng Sơn (178) in 2024.
async fn load_worked_example(app: &TestApp) {
    app.load_demo().await;
    let admin = bearer(Some(token(&["*"], &[Role::Admin])));
    let unit =
        committee_unit(app, "localities/178", "Ủy ban nhân dân thành phố Lạng Sơn", Some(date(2025, 7, 1))).await.name;
    let professional = [("doctorate", 1), ("master", 41), ("university", 198), ("college", 3), ("intermediate", 1)];
    let political = [("advanced", 85), ("intermediate", 157), ("", 2)];
    let mut leader_professional = professional.iter().flat_map(|(level, n)| std::iter::repeat_n(*level, *n));
    let mut leader_political = political.iter().flat_map(|(level, n)| std::iter::repeat_n(*level, *n));
    let records: Vec<pb::ImportPeopleRequest> = (0..2886)
        .map(|i| {
            let leader = i < 244;
            let mut qualifications = Vec::new();
            let professional_level =
                if leader { leader_professional.next().unwrap_or("university") } else { "university" };
            qualifications.push(pb::Qualification {
                level: format!("scales/professional/levels/{professional_level}"),
                awarded_on: Some(date(2005, 6, 30)),
                ..Default::default()
            });
            let political_level = if leader { leader_political.next().unwrap_or("") } else { "elementary" };
            if !political_level.is_empty() {
                qualifications.push(pb::Qualification {
                    level: format!("scales/political_theory/levels/{political_level}"),
                    awarded_on: Some(date(2012, 6, 30)),
                    ..Default::default()
                });
            }
            pb::ImportPeopleRequest {
                record: Some(pb::PersonRecord {
                    person: Some(pb::Person {
                        full_name: format!("Cán bộ {i}"),
                        birth_date: Some(date(1965 + (i % 20), 1, 1)),
                        gender: if i % 3 == 0 { pb::Gender::Female } else { pb::Gender::Male }.into(),
                        ethnicity: if i % 4 == 0 { "Tày" } else { "Kinh" }.into(),
                        category: pb::PersonCategory::CivilServant.into(),
                        employed_from: Some(date(2006, 1, 1)),
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
                    qualifications,
                    evaluations: vec![],
                }),
                ..Default::default()
            }
        })
        .collect();
    let answer = PersonServiceClient::with_interceptor(app.channel.clone(), admin)
        .import_people(tokio_stream::iter(records))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(answer.imported_count, 2886, "{:?}", answer.rejected.first());
}

fn scope(locality: &str, leaders_only: bool) -> pb::ReportScope {
    pb::ReportScope { locality: locality.into(), as_of: Some(date(2024, 1, 1)), leaders_only, ..Default::default() }
}

fn cells<'a>(profile: &'a pb::WorkforceProfile, dimension: &str) -> &'a [pb::Cell] {
    &profile.distributions.iter().find(|d| d.dimension == dimension).expect(dimension).cells
}

fn counts(cells: &[pb::Cell]) -> Vec<i64> {
    cells.iter().map(|c| c.count).collect()
}

#[tokio::test]
async fn the_public_worked_example_is_reproduced_from_person_level_records() {
    let app = spawn_app().await;
    load_worked_example(&app).await;
    let mut reports = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).reports();

    let everyone = reports
        .get_workforce_profile(pb::GetWorkforceProfileRequest { scope: Some(scope("localities/178", false)) })
        .await
        .expect("profile")
        .into_inner()
        .total
        .expect("total");
    assert_eq!(everyone.headcount, 2886);
    let leaders = everyone.leaders.expect("leaders");
    assert_eq!((leaders.count, leaders.denominator), (244, 2886));
    assert!((leaders.percent - 8.45).abs() < 0.005, "{}", leaders.percent);

    let managers = reports
        .get_workforce_profile(pb::GetWorkforceProfileRequest { scope: Some(scope("localities/178", true)) })
        .await
        .expect("profile")
        .into_inner()
        .total
        .expect("total");
    assert_eq!(managers.headcount, 244);
    let professional = cells(&managers, "scales/professional");
    // Doctorate (with specialist II), master (with specialist I), university, college,
    // intermediate, elementary, untrained, none.
    assert_eq!(counts(professional), [1, 41, 198, 3, 1, 0, 0, 0]);
    let university = &professional[2];
    assert_eq!(university.key, "scales/professional/levels/university");
    assert_eq!(university.cumulative_count, 240);
    assert!((university.cumulative_percent - 98.36).abs() < 0.005, "{}", university.cumulative_percent);
    assert!(professional.iter().all(|c| c.denominator == 244));
    let political = cells(&managers, "scales/political_theory");
    assert_eq!(counts(political), [85, 157, 0, 0, 2]);
    assert_eq!(political[1].cumulative_count, 242);
}

#[tokio::test]
async fn small_cells_are_hidden_from_aggregate_readers_only() {
    let app = spawn_app().await;
    load_worked_example(&app).await;
    let request = || pb::GetWorkforceProfileRequest { scope: Some(scope("localities/178", true)) };

    let exact = app
        .as_(Caller::of(&["20"], &[Role::PersonalDataReader]))
        .reports()
        .get_workforce_profile(request())
        .await
        .expect("profile")
        .into_inner()
        .total
        .expect("total");
    let hidden = app
        .as_(Caller::of(&["20"], &[Role::AggregateReader]))
        .reports()
        .get_workforce_profile(request())
        .await
        .expect("profile")
        .into_inner()
        .total
        .expect("total");

    let doctorate_exact = &cells(&exact, "scales/professional")[0];
    let doctorate_hidden = &cells(&hidden, "scales/professional")[0];
    assert_eq!((doctorate_exact.count, doctorate_exact.suppressed), (1, false));
    assert_eq!((doctorate_hidden.count, doctorate_hidden.suppressed), (0, true));
    // Master's 41 and its cumulative 42 would give the doctorate away: hidden too,
    // while university's 198 (cumulative 240) is shown.
    let master_hidden = &cells(&hidden, "scales/professional")[1];
    assert_eq!((master_hidden.count, master_hidden.cumulative_count, master_hidden.suppressed), (0, 0, true));
    let university_hidden = &cells(&hidden, "scales/professional")[2];
    assert_eq!((university_hidden.count, university_hidden.suppressed), (198, false));
    // An empty cell discloses nobody and stays visible.
    let untrained = &cells(&hidden, "scales/professional")[6];
    assert_eq!((untrained.count, untrained.suppressed), (0, false));
}

#[tokio::test]
async fn a_province_report_breaks_down_by_the_children_of_its_date() {
    let app = spawn_app().await;
    load_worked_example(&app).await;
    let mut reports = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).reports();
    let request = |year, month, day| pb::GetWorkforceProfileRequest {
        scope: Some(pb::ReportScope {
            locality: "localities/20".into(),
            as_of: Some(date(year, month, day)),
            breakdown_by_child: true,
            ..Default::default()
        }),
    };

    let before = reports.get_workforce_profile(request(2025, 6, 30)).await.expect("profile").into_inner();
    assert_eq!(before.total.as_ref().map(|t| t.headcount), Some(2886));
    let children: Vec<(&str, i64)> = before.children.iter().map(|c| (c.locality.as_str(), c.headcount)).collect();
    assert_eq!(children, [("localities/178", 2886), ("localities/187", 0)]);

    // The unit and its placements end with the district on 2025-07-01.
    let after = reports.get_workforce_profile(request(2025, 7, 1)).await.expect("profile").into_inner();
    assert_eq!(after.total.as_ref().map(|t| t.headcount), Some(0));
    assert!(after.children.iter().all(|c| c.locality.len() == "localities/00000".len()), "communes only after 2025");

    let outside =
        app.as_(Caller::of(&["11"], &[Role::Admin])).reports().get_workforce_profile(request(2024, 1, 1)).await;
    assert_eq!(code_of(outside), Code::PermissionDenied);
}

/// Ten civil servants of Thành phố Lạng Sơn (178, until the 2025 reorganisation) with
/// their evaluations: in 2024,
/// 2 excellent, 5 good and 3 completed; in 2023, 4 good, 5 completed and one not
/// rated; nobody rated in 2025.
async fn load_evaluated_people(app: &TestApp) {
    app.load_demo().await;
    let admin = bearer(Some(token(&["*"], &[Role::Admin])));
    let unit =
        committee_unit(app, "localities/178", "Văn phòng Ủy ban nhân dân thành phố Lạng Sơn", Some(date(2025, 7, 1)))
            .await
            .name;
    let records: Vec<pb::ImportPeopleRequest> = (0..10)
        .map(|i| {
            let rating_2024 = match i {
                0..2 => pb::Rating::Excellent,
                2..7 => pb::Rating::Good,
                _ => pb::Rating::Completed,
            };
            let mut evaluations = vec![pb::Evaluation { year: 2024, rating: rating_2024.into(), ..Default::default() }];
            if i < 9 {
                let rating_2023 = if i < 4 { pb::Rating::Good } else { pb::Rating::Completed };
                evaluations.push(pb::Evaluation { year: 2023, rating: rating_2023.into(), ..Default::default() });
            }
            pb::ImportPeopleRequest {
                record: Some(pb::PersonRecord {
                    person: Some(pb::Person {
                        full_name: format!("Công chức {i}"),
                        birth_date: Some(date(1980 + i, 1, 1)),
                        gender: pb::Gender::Female.into(),
                        ethnicity: "Kinh".into(),
                        category: pb::PersonCategory::CivilServant.into(),
                        employed_from: Some(date(2010, 1, 1)),
                        ..Default::default()
                    }),
                    placements: vec![pb::Placement {
                        unit: unit.clone(),
                        post_title: "Chuyên viên".into(),
                        valid_from: Some(date(2020, 1, 1)),
                        valid_until: Some(date(2025, 7, 1)),
                        ..Default::default()
                    }],
                    qualifications: vec![],
                    evaluations,
                }),
                ..Default::default()
            }
        })
        .collect();
    let answer = PersonServiceClient::with_interceptor(app.channel.clone(), admin)
        .import_people(tokio_stream::iter(records))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(answer.imported_count, 10, "{:?}", answer.rejected.first());
}

fn evaluations_request(first_year: i32, last_year: i32) -> pb::SummarizeEvaluationsRequest {
    pb::SummarizeEvaluationsRequest {
        scope: Some(pb::ReportScope {
            locality: "localities/20".into(),
            as_of: Some(date(2025, 1, 1)),
            ..Default::default()
        }),
        first_year,
        last_year,
    }
}

#[tokio::test]
async fn evaluations_are_summarized_per_year_with_good_or_better() {
    let app = spawn_app().await;
    load_evaluated_people(&app).await;
    let mut reports = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).reports();

    let summary = reports.summarize_evaluations(evaluations_request(2023, 2025)).await.expect("summary").into_inner();
    assert_eq!(summary.headcount, 10);
    assert_eq!(summary.years.iter().map(|y| y.year).collect::<Vec<_>>(), [2023, 2024, 2025]);

    let y2024 = &summary.years[1];
    let keys: Vec<&str> = y2024.cells.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["excellent", "good", "completed", "not_completed", "not_rated"]);
    assert_eq!(y2024.cells[0].label, "Hoàn thành xuất sắc nhiệm vụ");
    assert_eq!(counts(&y2024.cells), [2, 5, 3, 0, 0]);
    assert!(y2024.cells.iter().all(|c| c.denominator == 10));
    let good = &y2024.cells[1];
    assert_eq!(good.cumulative_count, 7);
    assert!((good.cumulative_percent - 70.0).abs() < 1e-9, "{}", good.cumulative_percent);
    let good_or_better = y2024.good_or_better.as_ref().expect("good or better");
    assert_eq!((good_or_better.count, good_or_better.denominator), (7, 10));
    assert!((good_or_better.percent - 70.0).abs() < 1e-9);

    let y2023 = &summary.years[0];
    assert_eq!(counts(&y2023.cells), [0, 4, 5, 0, 1]);
    assert_eq!(y2023.good_or_better.as_ref().map(|c| c.count), Some(4));
    assert_eq!(counts(&summary.years[2].cells), [0, 0, 0, 0, 10]);

    // An aggregate reader does not see the two excellent people of 2024.
    let hidden = app
        .as_(Caller::of(&["20"], &[Role::AggregateReader]))
        .reports()
        .summarize_evaluations(evaluations_request(2024, 2024))
        .await
        .expect("summary")
        .into_inner();
    let excellent = &hidden.years[0].cells[0];
    assert_eq!((excellent.count, excellent.suppressed), (0, true));
    // Good's cumulative 7 minus its 5 would give the two away: good is hidden with it.
    assert_eq!((hidden.years[0].cells[1].count, hidden.years[0].cells[1].suppressed), (0, true));

    let too_long = reports.summarize_evaluations(evaluations_request(2000, 2020)).await;
    assert_eq!(code_of(too_long), Code::InvalidArgument);
    let backwards = reports.summarize_evaluations(evaluations_request(2024, 2023)).await;
    assert_eq!(code_of(backwards), Code::InvalidArgument);
    assert!(reports.summarize_evaluations(evaluations_request(2005, 2024)).await.is_ok(), "20 years are fine");
}

#[tokio::test]
async fn profiles_are_compared_between_two_dates() {
    let app = spawn_app().await;
    load_worked_example(&app).await;
    let mut reports = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).reports();

    let comparison = reports
        .compare_workforce_profiles(pb::CompareWorkforceProfilesRequest {
            scope: Some(scope("localities/178", false)),
            other_date: Some(date(2025, 7, 1)),
        })
        .await
        .expect("comparison")
        .into_inner();
    let base = comparison.base.as_ref().and_then(|b| b.total.as_ref()).expect("base");
    let other = comparison.other.as_ref().and_then(|o| o.total.as_ref()).expect("other");
    assert_eq!((base.headcount, other.headcount), (2886, 0));
    assert_eq!(comparison.headcount_delta, -2886);
    assert_eq!(comparison.other.as_ref().and_then(|o| o.as_of), Some(date(2025, 7, 1)));

    let leaders = comparison.leaders_delta.as_ref().expect("leaders");
    assert_eq!(leaders.count_delta, -244);
    assert!((leaders.percentage_point_delta + 244.0 * 100.0 / 2886.0).abs() < 1e-9);

    let dimensions: Vec<&str> = comparison.distribution_deltas.iter().map(|d| d.dimension.as_str()).collect();
    let profile_dimensions: Vec<&str> = base.distributions.iter().map(|d| d.dimension.as_str()).collect();
    assert_eq!(dimensions, profile_dimensions);
    let professional =
        comparison.distribution_deltas.iter().find(|d| d.dimension == "scales/professional").expect("professional");
    let university =
        professional.cells.iter().find(|c| c.key == "scales/professional/levels/university").expect("university");
    // 198 leaders and all 2,642 others hold a university degree.
    assert_eq!(university.count_delta, -(198 + 2642));
    assert!((university.percentage_point_delta + 2840.0 * 100.0 / 2886.0).abs() < 1e-9);
    assert!(comparison.distribution_deltas.iter().flat_map(|d| &d.cells).all(|c| c.count_delta <= 0 && !c.suppressed));

    let missing = reports
        .compare_workforce_profiles(pb::CompareWorkforceProfilesRequest {
            scope: Some(scope("localities/178", false)),
            other_date: None,
        })
        .await;
    assert_eq!(code_of(missing), Code::InvalidArgument);
}

/// Every person found in `locality`'s subtree on `as_of` by SearchPeople, which reads
/// placements and the tree directly rather than the facts reports count.
async fn placed_people(app: &TestApp, locality: &str, as_of: pb::Date) -> std::collections::BTreeSet<String> {
    let mut people = app.as_(Caller::of(&["*"], &[Role::PersonalDataReader])).people();
    let mut found = std::collections::BTreeSet::new();
    let mut page_token = String::new();
    loop {
        let page = people
            .search_people(pb::SearchPeopleRequest {
                locality: locality.into(),
                as_of: Some(as_of),
                page_size: 1000,
                page_token,
                ..Default::default()
            })
            .await
            .expect("search")
            .into_inner();
        found.extend(page.people.into_iter().map(|p| p.name));
        if page.next_page_token.is_empty() {
            return found;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn the_same_people_roll_up_along_the_tree_of_each_date_before_and_after_the_reorganisation() {
    let app = spawn_app().await;
    assert!(hrplan::demo::load(&app.db).await.expect("loading the whole demo"));
    let mut reports = app.as_(Caller::of(&["*"], &[Role::PersonalDataReader])).reports();
    let profile = |locality: &str, as_of: pb::Date| pb::GetWorkforceProfileRequest {
        scope: Some(pb::ReportScope {
            locality: locality.into(),
            as_of: Some(as_of),
            breakdown_by_child: true,
            ..Default::default()
        }),
    };
    let mut everyone = Vec::new();
    for (day, child_code_len) in [(date(2025, 6, 30), 3), (date(2025, 7, 1), 5)] {
        let country = reports.get_workforce_profile(profile("localities/-", day)).await.expect("country").into_inner();
        let country_total = country.total.expect("total");
        assert_eq!(country_total.locality, "localities/-");
        let provinces: Vec<&str> = country.children.iter().map(|c| c.locality.as_str()).collect();
        assert_eq!(provinces, ["localities/01", "localities/11", "localities/20"]);
        let mut found_in_country = std::collections::BTreeSet::new();
        for province in &country.children {
            let placed = placed_people(&app, &province.locality, day).await;
            assert!(!placed.is_empty());
            // Counted where placed that day, by a query that does not read the facts.
            assert_eq!(province.headcount, i64::try_from(placed.len()).unwrap_or_default(), "{}", province.locality);
            let detail =
                reports.get_workforce_profile(profile(&province.locality, day)).await.expect("province").into_inner();
            assert_eq!(detail.total.as_ref().map(|t| t.headcount), Some(province.headcount));
            // Along the tree of the day: districts before, communes after; nobody
            // counted in two children or in none.
            assert!(detail.children.iter().all(|c| c.locality.len() == "localities/".len() + child_code_len));
            let own = detail.own_units.as_ref().map(|o| o.headcount).unwrap_or_default();
            assert_eq!(detail.own_units.as_ref().map(|o| o.locality.as_str()), Some(province.locality.as_str()));
            let mut by_child = own;
            for child in &detail.children {
                let in_child = placed_people(&app, &child.locality, day).await;
                assert_eq!(child.headcount, i64::try_from(in_child.len()).unwrap_or_default(), "{}", child.locality);
                assert!(in_child.is_subset(&placed));
                by_child += child.headcount;
            }
            assert_eq!(by_child, province.headcount, "{} on {day:?}", province.locality);
            found_in_country.extend(placed);
        }
        assert_eq!(country_total.headcount, i64::try_from(found_in_country.len()).unwrap_or_default());
        everyone.push(found_in_country);
    }
    // Nobody lost in the move: whoever is counted on one day only has no placement
    // in force on the other (the demo hires some people into the new communes).
    let gone: Vec<(&String, pb::Date)> = everyone[0].difference(&everyone[1]).map(|n| (n, date(2025, 7, 1))).collect();
    let came: Vec<(&String, pb::Date)> = everyone[1].difference(&everyone[0]).map(|n| (n, date(2025, 6, 30))).collect();
    assert!(gone.len() + came.len() < everyone[0].len() / 10, "{} gone, {} came", gone.len(), came.len());
    let mut people = app.as_(Caller::of(&["*"], &[Role::PersonalDataReader])).people();
    let key = |d: &pb::Date| (d.year, d.month, d.day);
    for (name, missing_on) in gone.into_iter().chain(came) {
        let placements = people
            .list_placements(pb::ListPlacementsRequest { parent: name.clone(), page_size: 100, ..Default::default() })
            .await
            .expect("placements")
            .into_inner()
            .placements;
        let in_force = placements.iter().any(|p| {
            p.valid_from.as_ref().is_some_and(|f| key(f) <= key(&missing_on))
                && p.valid_until.as_ref().is_none_or(|u| key(u) > key(&missing_on))
        });
        assert!(!in_force, "{name} has a placement on {missing_on:?} but is not counted that day");
    }

    let provincial = app
        .as_(Caller::of(&["20"], &[Role::Admin]))
        .reports()
        .get_workforce_profile(profile("localities/-", date(2025, 7, 1)))
        .await;
    assert_eq!(code_of(provincial), Code::PermissionDenied);
}
