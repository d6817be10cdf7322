//! Point reads and imports at the database's pace: GetPerson reads a person, their
//! placements and (for a scoped caller) their scope in one statement; ImportPeople
//! writes PostgreSQL's rows as one JSON document per table and thousands of rows; read
//! audit records may commit without waiting for the disk. Each keeps what the slower
//! path answered.

use hrplan::{auth::Role, grpc::pb};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

use crate::{
    clients::{Caller, PersonClient},
    helpers::{TestApp, committee_unit, date, spawn_app, spawn_app_with},
};

/// A national editor who reads personal data.
fn national(app: &TestApp) -> PersonClient {
    app.as_(Caller::of(&["*"], &[Role::Editor, Role::PersonalDataReader])).people()
}

/// A person with text that JSON must escape (quotes, a backslash, braces, letters
/// beyond ASCII), no end of employment, identifiers only when `identified`.
fn awkward(unit: &str, i: i32, identified: bool) -> pb::PersonRecord {
    pb::PersonRecord {
        person: Some(pb::Person {
            full_name: format!("Ka'Sor H'Hen Ồ {i}"),
            birth_date: Some(date(1980 + i, 2, 28)),
            gender: pb::Gender::Female.into(),
            ethnicity: "Ê Đê".into(),
            category: pb::PersonCategory::CivilServant.into(),
            employed_from: Some(date(2010, 1, 1)),
            staff_code: if identified { format!("DL-{i:03}") } else { String::new() },
            ..Default::default()
        }),
        placements: vec![
            pb::Placement {
                unit: unit.into(),
                post_title: "Phó \"trưởng\" phòng \\ kiêm thủ quỹ".into(),
                leader: true,
                valid_from: Some(date(2020, 1, 1)),
                valid_until: Some(date(2022, 1, 1)),
                ..Default::default()
            },
            pb::Placement {
                unit: unit.into(),
                post_title: "Chuyên viên chính".into(),
                key_post: true,
                valid_from: Some(date(2022, 1, 1)),
                ..Default::default()
            },
        ],
        qualifications: vec![pb::Qualification {
            level: "scales/professional/levels/university".into(),
            field_of_study: "Luật {kinh tế} [\"quốc tế\"]".into(),
            institution: "Đại học Luật \\ TP.HCM 😀".into(),
            awarded_on: Some(date(2008, 6, 30)),
            ..Default::default()
        }],
        evaluations: vec![pb::Evaluation { year: 2023, rating: pb::Rating::Excellent.into(), ..Default::default() }],
    }
}

async fn import(client: &mut PersonClient, records: Vec<pb::PersonRecord>) -> pb::ImportPeopleResponse {
    let requests = records
        .into_iter()
        .map(|record| pb::ImportPeopleRequest {
            record: Some(record),
            mode: pb::ImportMode::Create.into(),
            validate_only: false,
        })
        .collect::<Vec<_>>();
    client.import_people(tokio_stream::iter(requests)).await.expect("import").into_inner()
}

async fn get(client: &mut PersonClient, name: &str, as_of: Option<pb::Date>) -> Result<pb::Person, tonic::Status> {
    client
        .get_person(pb::GetPersonRequest { name: name.into(), as_of })
        .await
        .map(|r| r.into_inner().person.expect("a person"))
}

#[tokio::test]
async fn imported_people_read_back_exactly_as_sent_text_dates_flags_and_nulls_alike() {
    let app = spawn_app().await;
    app.load_demo().await;
    let unit = committee_unit(&app, "localities/20", "Ủy ban nhân dân tỉnh Lạng Sơn", None).await.name;
    let mut client = national(&app);
    let records: Vec<pb::PersonRecord> = (0..3).map(|i| awkward(&unit, i, i != 1)).collect();
    let answer = import(&mut client, records.clone()).await;
    assert_eq!(answer.imported_count, 3, "{:?}", answer.rejected);
    for (name, sent) in answer.people.iter().zip(&records) {
        let person = get(&mut client, name, Some(date(2021, 6, 1))).await.expect("the imported person");
        let expected = sent.person.clone().expect("sent");
        assert_eq!(
            (&person.full_name, &person.birth_date, &person.ethnicity, &person.staff_code, &person.employed_until),
            (&expected.full_name, &expected.birth_date, &expected.ethnicity, &expected.staff_code, &None)
        );
        let placement = person.placement.expect("in force in 2021");
        assert_eq!(
            (placement.post_title.as_str(), placement.leader, placement.key_post, placement.valid_until),
            ("Phó \"trưởng\" phòng \\ kiêm thủ quỹ", true, false, Some(date(2022, 1, 1)))
        );
        let now = get(&mut client, name, None).await.expect("today").placement.expect("in force today");
        assert_eq!((now.post_title.as_str(), now.key_post, now.valid_until), ("Chuyên viên chính", true, None));
        let qualifications = client
            .list_qualifications(pb::ListQualificationsRequest { parent: name.clone(), ..Default::default() })
            .await
            .expect("qualifications")
            .into_inner()
            .qualifications;
        let sent_q = &sent.qualifications[0];
        assert_eq!(
            qualifications.iter().map(|q| (&q.field_of_study, &q.institution, &q.awarded_on)).collect::<Vec<_>>(),
            vec![(&sent_q.field_of_study, &sent_q.institution, &sent_q.awarded_on)]
        );
    }
}

#[tokio::test]
async fn a_scoped_reader_gets_a_person_only_where_they_are_placed_on_the_day_asked() {
    let app = spawn_app().await;
    app.load_demo().await;
    let dien_bien = committee_unit(&app, "localities/11", "Ủy ban nhân dân tỉnh Điện Biên", None).await.name;
    let lang_son = committee_unit(&app, "localities/20", "Ủy ban nhân dân tỉnh Lạng Sơn", None).await.name;
    let mut record = awkward(&dien_bien, 7, true);
    // Điện Biên until 2022, then Lạng Sơn.
    record.placements[1].unit = lang_son;
    let name = import(&mut national(&app), vec![record]).await.people.remove(0);
    let mut dien_bien_reader = app.as_(Caller::of(&["11"], &[Role::PersonalDataReader])).people();
    let mut lang_son_reader = app.as_(Caller::of(&["20"], &[Role::PersonalDataReader])).people();

    let then = get(&mut dien_bien_reader, &name, Some(date(2021, 6, 1))).await.expect("placed in 11 in 2021");
    assert_eq!(then.placement.expect("placement").locality, "localities/11");
    let refused = get(&mut dien_bien_reader, &name, None).await.expect_err("placed in 20 today");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(refused.message().contains("outside the caller's locality scope"), "{}", refused.message());
    let now = get(&mut lang_son_reader, &name, None).await.expect("placed in 20 today");
    assert_eq!(now.placement.expect("placement").locality, "localities/20");
    assert!(!now.staff_code.is_empty(), "a personal data reader sees the identifiers");
    let before = get(&mut lang_son_reader, &name, Some(date(2021, 6, 1))).await;
    assert_eq!(before.expect_err("placed in 11 in 2021").code(), Code::PermissionDenied);

    // Nobody and somebody elsewhere are refused alike to a scoped reader; a national
    // one learns that nobody is there.
    let nobody = get(&mut lang_son_reader, "people/999999", None).await.expect_err("nobody");
    assert_eq!(nobody.code(), Code::PermissionDenied);
    assert_eq!(nobody.message(), refused.message().replace(&name, "people/999999"));
    let missing = get(&mut national(&app), "people/999999", None).await.expect_err("nobody");
    assert_eq!(missing.code(), Code::NotFound);
    let no_role = get(&mut app.as_(Caller::of(&["20"], &[Role::Editor])).people(), &name, None).await;
    assert_eq!(no_role.expect_err("not a personal data reader").code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_read_audited_with_an_asynchronous_commit_has_its_record_when_the_answer_arrives() {
    let app = spawn_app_with(|config| config.audit_reads_async_commit = true).await;
    app.load_demo().await;
    let unit = committee_unit(&app, "localities/20", "Ủy ban nhân dân tỉnh Lạng Sơn", None).await.name;
    let mut client = national(&app);
    let name = import(&mut client, vec![awkward(&unit, 1, true)]).await.people.remove(0);
    for round in 1..=3 {
        get(&mut client, &name, None).await.expect("read");
        let sql = format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE kind = 'read' AND method = 'GetPerson' AND resource = '{name}'"
        );
        let row = app
            .db
            .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
            .await
            .expect("count")
            .expect("a row");
        assert_eq!(row.try_get::<i64>("", "n").expect("n"), round);
    }
}

/// The foreign keys of the schema, as `table(columns)`, and those with no index whose
/// leading columns are theirs, on the backend of `app`.
async fn foreign_keys_without_index(app: &TestApp) -> (usize, Vec<String>) {
    use std::collections::BTreeMap;

    let backend = app.db.get_database_backend();
    let query = |sql: &str| app.db.query_all_raw(Statement::from_string(backend, sql.to_owned()));
    // (table, key or index) -> its columns in order.
    type Columns = BTreeMap<(String, String), Vec<String>>;
    let (mut keys, mut indexes) = (Columns::new(), Columns::new());
    let (key_sql, index_sql) = match backend {
        sea_orm::DbBackend::Postgres => (
            "SELECT c.conrelid::regclass::text AS tbl, c.conname AS id, a.attname::text AS col \
             FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, n) \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
             WHERE c.contype = 'f' ORDER BY 1, 2, k.n",
            "SELECT i.indrelid::regclass::text AS tbl, i.indexrelid::regclass::text AS id, a.attname::text AS col \
             FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY 1, 2, k.n",
        ),
        _ => (
            "SELECT m.name AS tbl, CAST(f.id AS TEXT) AS id, f.\"from\" AS col \
             FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' ORDER BY 1, 2, f.seq",
            "SELECT m.name AS tbl, l.name AS id, i.name AS col FROM sqlite_master m, pragma_index_list(m.name) l, \
             pragma_index_info(l.name) i WHERE m.type = 'table' ORDER BY 1, 2, i.seqno",
        ),
    };
    for (sql, into) in [(key_sql, &mut keys), (index_sql, &mut indexes)] {
        for row in query(sql).await.expect("the catalogue") {
            let (table, id, column): (String, String, String) = (
                row.try_get("", "tbl").expect("tbl"),
                row.try_get("", "id").expect("id"),
                row.try_get("", "col").expect("col"),
            );
            into.entry((table, id)).or_default().push(column);
        }
    }
    let unindexed = keys
        .iter()
        .filter(|((table, _), columns)| {
            !indexes.iter().any(|((t, _), indexed)| {
                t == table && indexed.len() >= columns.len() && {
                    let mut lead = indexed[..columns.len()].to_vec();
                    let mut wanted = (*columns).clone();
                    lead.sort();
                    wanted.sort();
                    lead == wanted
                }
            })
        })
        .map(|((table, _), columns)| format!("{table}({})", columns.join(", ")))
        .collect();
    (keys.len(), unindexed)
}

#[tokio::test]
async fn every_foreign_key_is_backed_by_an_index_so_that_deleting_a_referenced_row_reads_no_whole_table() {
    let app = spawn_app().await;
    let (keys, unindexed) = foreign_keys_without_index(&app).await;
    assert!(keys > 20, "the catalogue lists the schema's foreign keys ({keys})");
    assert!(unindexed.is_empty(), "foreign keys with no index leading with their columns: {unindexed:?}");
}
