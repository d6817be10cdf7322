//! Person facts: for every person, the periods over which everything a report counts
//! about them (their placement's locality and sector, their post, their category and
//! demographics, their highest level on every qualification scale, and their ratings)
//! stays the same.
//!
//! The table is derived from people, placements, units, qualifications, evaluations
//! and scale levels. Triggers on those tables mark the people whose facts a write may change in
//! `person_facts_pending`; the server rebuilds their facts in the same transaction,
//! before it commits, so that committed facts are always in step with the records.
//! The existing people are marked here and rebuilt by the server after migrating.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersonFacts {
    Table,
    PersonId,
    ValidFrom,
    ValidUntil,
    LocalityCode,
    UnitId,
    Sector,
    Category,
    IsLeader,
    IsKeyPost,
    PostTitleFolded,
    BirthDate,
    Gender,
    Ethnicity,
    Levels,
    Ratings,
}

#[derive(DeriveIden)]
enum PersonFactsPending {
    Table,
    PersonId,
}

/// The triggers that mark the people whose facts a row change may change.
const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER person_facts_people_insert AFTER INSERT ON people BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (NEW.id); END",
    "CREATE TRIGGER person_facts_people_update AFTER UPDATE ON people BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (NEW.id); END",
    "CREATE TRIGGER person_facts_people_delete AFTER DELETE ON people BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (OLD.id); END",
    "CREATE TRIGGER person_facts_placements_insert AFTER INSERT ON placements BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (NEW.person_id); END",
    "CREATE TRIGGER person_facts_placements_update AFTER UPDATE ON placements BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (OLD.person_id); \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (NEW.person_id); END",
    "CREATE TRIGGER person_facts_placements_delete AFTER DELETE ON placements BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (OLD.person_id); END",
    "CREATE TRIGGER person_facts_qualifications_insert AFTER INSERT ON qualifications BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (NEW.person_id); END",
    "CREATE TRIGGER person_facts_qualifications_update AFTER UPDATE ON qualifications BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (OLD.person_id); \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (NEW.person_id); END",
    "CREATE TRIGGER person_facts_qualifications_delete AFTER DELETE ON qualifications BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (OLD.person_id); END",
    "CREATE TRIGGER person_facts_evaluations_insert AFTER INSERT ON evaluations BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (NEW.person_id); END",
    "CREATE TRIGGER person_facts_evaluations_update AFTER UPDATE ON evaluations BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (OLD.person_id); \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (NEW.person_id); END",
    "CREATE TRIGGER person_facts_evaluations_delete AFTER DELETE ON evaluations BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) VALUES (OLD.person_id); END",
    "CREATE TRIGGER person_facts_units_update AFTER UPDATE OF locality_code, sector ON units BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) \
     SELECT DISTINCT person_id FROM placements WHERE unit_id = NEW.id; END",
    "CREATE TRIGGER person_facts_scale_levels_update AFTER UPDATE OF rank ON scale_levels BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) \
     SELECT DISTINCT person_id FROM qualifications WHERE scale_code = NEW.scale_code; END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION person_facts_mark_person() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     IF TG_OP <> 'INSERT' THEN \
       INSERT INTO person_facts_pending (person_id) VALUES (OLD.id) ON CONFLICT DO NOTHING; END IF; \
     IF TG_OP <> 'DELETE' THEN \
       INSERT INTO person_facts_pending (person_id) VALUES (NEW.id) ON CONFLICT DO NOTHING; END IF; \
     RETURN NULL; END $$",
    "CREATE FUNCTION person_facts_mark_record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     IF TG_OP <> 'INSERT' THEN \
       INSERT INTO person_facts_pending (person_id) VALUES (OLD.person_id) ON CONFLICT DO NOTHING; END IF; \
     IF TG_OP <> 'DELETE' THEN \
       INSERT INTO person_facts_pending (person_id) VALUES (NEW.person_id) ON CONFLICT DO NOTHING; END IF; \
     RETURN NULL; END $$",
    "CREATE FUNCTION person_facts_mark_unit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     INSERT INTO person_facts_pending (person_id) \
       SELECT DISTINCT person_id FROM placements WHERE unit_id = NEW.id ON CONFLICT DO NOTHING; \
     RETURN NULL; END $$",
    "CREATE FUNCTION person_facts_mark_scale() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     INSERT INTO person_facts_pending (person_id) \
       SELECT DISTINCT person_id FROM qualifications WHERE scale_code = NEW.scale_code ON CONFLICT DO NOTHING; \
     RETURN NULL; END $$",
    "CREATE TRIGGER person_facts_people AFTER INSERT OR UPDATE OR DELETE ON people \
     FOR EACH ROW EXECUTE FUNCTION person_facts_mark_person()",
    "CREATE TRIGGER person_facts_placements AFTER INSERT OR UPDATE OR DELETE ON placements \
     FOR EACH ROW EXECUTE FUNCTION person_facts_mark_record()",
    "CREATE TRIGGER person_facts_qualifications AFTER INSERT OR UPDATE OR DELETE ON qualifications \
     FOR EACH ROW EXECUTE FUNCTION person_facts_mark_record()",
    "CREATE TRIGGER person_facts_evaluations AFTER INSERT OR UPDATE OR DELETE ON evaluations \
     FOR EACH ROW EXECUTE FUNCTION person_facts_mark_record()",
    "CREATE TRIGGER person_facts_units AFTER UPDATE OF locality_code, sector ON units \
     FOR EACH ROW EXECUTE FUNCTION person_facts_mark_unit()",
    "CREATE TRIGGER person_facts_scale_levels AFTER UPDATE OF rank ON scale_levels \
     FOR EACH ROW EXECUTE FUNCTION person_facts_mark_scale()",
];

const SQLITE_DROPS: &[&str] = &[
    "DROP TRIGGER IF EXISTS person_facts_people_insert",
    "DROP TRIGGER IF EXISTS person_facts_people_update",
    "DROP TRIGGER IF EXISTS person_facts_people_delete",
    "DROP TRIGGER IF EXISTS person_facts_placements_insert",
    "DROP TRIGGER IF EXISTS person_facts_placements_update",
    "DROP TRIGGER IF EXISTS person_facts_placements_delete",
    "DROP TRIGGER IF EXISTS person_facts_qualifications_insert",
    "DROP TRIGGER IF EXISTS person_facts_qualifications_update",
    "DROP TRIGGER IF EXISTS person_facts_qualifications_delete",
    "DROP TRIGGER IF EXISTS person_facts_evaluations_insert",
    "DROP TRIGGER IF EXISTS person_facts_evaluations_update",
    "DROP TRIGGER IF EXISTS person_facts_evaluations_delete",
    "DROP TRIGGER IF EXISTS person_facts_units_update",
    "DROP TRIGGER IF EXISTS person_facts_scale_levels_update",
];

const POSTGRES_DROPS: &[&str] = &[
    "DROP TRIGGER IF EXISTS person_facts_people ON people",
    "DROP TRIGGER IF EXISTS person_facts_placements ON placements",
    "DROP TRIGGER IF EXISTS person_facts_qualifications ON qualifications",
    "DROP TRIGGER IF EXISTS person_facts_evaluations ON evaluations",
    "DROP TRIGGER IF EXISTS person_facts_units ON units",
    "DROP TRIGGER IF EXISTS person_facts_scale_levels ON scale_levels",
    "DROP FUNCTION IF EXISTS person_facts_mark_person()",
    "DROP FUNCTION IF EXISTS person_facts_mark_record()",
    "DROP FUNCTION IF EXISTS person_facts_mark_unit()",
    "DROP FUNCTION IF EXISTS person_facts_mark_scale()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PersonFacts::Table)
                    .col(ColumnDef::new(PersonFacts::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(PersonFacts::ValidFrom).date().not_null())
                    // 9999-12-31 for a period still open, so that "in force on a day" is
                    // one range on the locality index.
                    .col(ColumnDef::new(PersonFacts::ValidUntil).date().not_null())
                    .col(ColumnDef::new(PersonFacts::LocalityCode).string_len(5).not_null())
                    .col(ColumnDef::new(PersonFacts::UnitId).big_integer().not_null())
                    .col(ColumnDef::new(PersonFacts::Sector).string_len(32).not_null())
                    .col(ColumnDef::new(PersonFacts::Category).string_len(32).not_null())
                    .col(ColumnDef::new(PersonFacts::IsLeader).boolean().not_null())
                    .col(ColumnDef::new(PersonFacts::IsKeyPost).boolean().not_null())
                    .col(ColumnDef::new(PersonFacts::PostTitleFolded).string_len(200).not_null())
                    .col(ColumnDef::new(PersonFacts::BirthDate).date().not_null())
                    .col(ColumnDef::new(PersonFacts::Gender).string_len(16).not_null())
                    .col(ColumnDef::new(PersonFacts::Ethnicity).string_len(64).not_null())
                    // `scale=level` of the highest level held on each scale, by scale code,
                    // joined with `,`; empty when none.
                    .col(ColumnDef::new(PersonFacts::Levels).text().not_null())
                    // `,year=rating,` for every evaluation of the person, by year; `,`
                    // when none (the same on every period of the person).
                    .col(ColumnDef::new(PersonFacts::Ratings).text().not_null())
                    .primary_key(Index::create().col(PersonFacts::PersonId).col(PersonFacts::ValidFrom))
                    .to_owned(),
            )
            .await?;
        // Reports read the facts of a subtree's localities in force on a date: an index
        // that covers every column they read lets them skip the table (PostgreSQL
        // includes the non-key columns; SQLite covers with key columns).
        let db = manager.get_connection();
        db.execute_unprepared(match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "CREATE INDEX ix_person_facts_locality ON person_facts (locality_code, valid_until) INCLUDE \
                 (valid_from, person_id, category, sector, is_leader, is_key_post, birth_date, gender, ethnicity, \
                 levels, post_title_folded, ratings)"
            }
            _ => {
                "CREATE INDEX ix_person_facts_locality ON person_facts (locality_code, valid_until, valid_from, \
                 person_id, category, sector, is_leader, is_key_post, birth_date, gender, ethnicity, levels, \
                 post_title_folded, ratings)"
            }
        })
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(PersonFactsPending::Table)
                    .col(ColumnDef::new(PersonFactsPending::PersonId).big_integer().not_null().primary_key())
                    .to_owned(),
            )
            .await?;
        let triggers = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => POSTGRES_TRIGGERS,
            _ => SQLITE_TRIGGERS,
        };
        for sql in triggers {
            db.execute_unprepared(sql).await?;
        }
        // Everybody already recorded gets their facts built by the server.
        db.execute_unprepared("INSERT INTO person_facts_pending (person_id) SELECT id FROM people").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let drops = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => POSTGRES_DROPS,
            _ => SQLITE_DROPS,
        };
        for sql in drops {
            db.execute_unprepared(sql).await?;
        }
        manager.drop_table(Table::drop().table(PersonFactsPending::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(PersonFacts::Table).to_owned()).await
    }
}
