//! Person-fact upkeep that scales with the dataset, not with its size:
//!
//! - On PostgreSQL every mark in `person_facts_pending` carries the id of the
//!   transaction that made it (`txid`, indexed), so that the unit of work's flush
//!   claims its own marks through the index instead of a `DELETE` over the whole table
//!   (which, after a mass rebuild, is millions of dead rows until vacuum). A write that
//!   marks a person already marked by a write around the server takes the mark over
//!   (`ON CONFLICT … DO UPDATE`), so that it still rebuilds that person before it
//!   commits; the row lock it takes is what serialises two rebuilds of one person.
//! - A rank change marks only the people whose highest level it can change: those who
//!   hold the changed level and another level of the same scale whose order against
//!   it (rank, then code) differs before and after. Someone holding only the changed
//!   level on that scale keeps it as their highest level.
//! - A unit marks its people only when its locality or sector really changes.
//! - Qualifications get an index by level, which the rank trigger reads.
//!
//! ## Several ranks changed by one statement
//!
//! PostgreSQL runs the rank trigger once per statement over its transition tables
//! (`old_levels`, `new_levels`): every pair of levels is compared with both ranks
//! before and both after, so the rule is exact however many levels one `UPDATE`
//! reorders. (A row trigger would not do: PostgreSQL queues row triggers to the end of
//! the statement, when each sees only the other levels' new ranks, and a swap such as
//! 2→10 with 3→1 would escape both.) SQLite has only row triggers, but runs each right
//! after its row is changed, over the table as it then is: one statement is a sequence
//! of one-row changes, each checked exactly against the other levels' ranks at that
//! moment, and a pair whose order differs at the end changed order at some step.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Marks a person, or takes over the mark of a transaction already committed.
const POSTGRES_MARK: &str = "ON CONFLICT (person_id) DO UPDATE SET txid = EXCLUDED.txid \
    WHERE person_facts_pending.txid <> EXCLUDED.txid";

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE person_facts_pending ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id()",
    "CREATE INDEX ix_person_facts_pending_txid ON person_facts_pending (txid)",
    "DROP TRIGGER IF EXISTS person_facts_units ON units",
    "DROP TRIGGER IF EXISTS person_facts_scale_levels ON scale_levels",
    "DROP FUNCTION IF EXISTS person_facts_mark_scale()",
];

fn postgres_functions() -> Vec<String> {
    vec![
        format!(
            "CREATE OR REPLACE FUNCTION person_facts_mark_person() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF TG_OP <> 'INSERT' THEN \
               INSERT INTO person_facts_pending (person_id) VALUES (OLD.id) {POSTGRES_MARK}; END IF; \
             IF TG_OP <> 'DELETE' THEN \
               INSERT INTO person_facts_pending (person_id) VALUES (NEW.id) {POSTGRES_MARK}; END IF; \
             RETURN NULL; END $$"
        ),
        format!(
            "CREATE OR REPLACE FUNCTION person_facts_mark_record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF TG_OP <> 'INSERT' THEN \
               INSERT INTO person_facts_pending (person_id) VALUES (OLD.person_id) {POSTGRES_MARK}; END IF; \
             IF TG_OP <> 'DELETE' THEN \
               INSERT INTO person_facts_pending (person_id) VALUES (NEW.person_id) {POSTGRES_MARK}; END IF; \
             RETURN NULL; END $$"
        ),
        format!(
            "CREATE OR REPLACE FUNCTION person_facts_mark_unit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             INSERT INTO person_facts_pending (person_id) \
               SELECT DISTINCT person_id FROM placements WHERE unit_id = NEW.id {POSTGRES_MARK}; \
             RETURN NULL; END $$"
        ),
        "CREATE TRIGGER person_facts_units AFTER UPDATE OF locality_code, sector ON units FOR EACH ROW \
         WHEN (OLD.locality_code IS DISTINCT FROM NEW.locality_code OR OLD.sector IS DISTINCT FROM NEW.sector) \
         EXECUTE FUNCTION person_facts_mark_unit()"
            .to_owned(),
        // `changed`: the levels whose rank the statement changed, with both ranks;
        // `other`: every other level of their scales with its rank before (from
        // `old_levels` if the statement touched it) and after; a holder of both levels
        // of a pair whose order flipped is marked.
        format!(
            "CREATE FUNCTION person_facts_mark_ranks() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             INSERT INTO person_facts_pending (person_id) \
             SELECT DISTINCT a.person_id \
             FROM (SELECT n.scale_code, n.code, o.rank AS old_rank, n.rank AS new_rank \
                   FROM new_levels n JOIN old_levels o ON o.scale_code = n.scale_code AND o.code = n.code \
                   WHERE o.rank <> n.rank) changed \
             JOIN (SELECT l.scale_code, l.code, COALESCE(o.rank, l.rank) AS old_rank, l.rank AS new_rank \
                   FROM scale_levels l LEFT JOIN old_levels o ON o.scale_code = l.scale_code AND o.code = l.code) other \
               ON other.scale_code = changed.scale_code AND other.code <> changed.code \
              AND ((changed.old_rank, changed.code) > (other.old_rank, other.code)) \
               <> ((changed.new_rank, changed.code) > (other.new_rank, other.code)) \
             JOIN qualifications a ON a.scale_code = changed.scale_code AND a.level_code = changed.code \
             WHERE EXISTS (SELECT 1 FROM qualifications b WHERE b.person_id = a.person_id \
               AND b.scale_code = other.scale_code AND b.level_code = other.code) \
             {POSTGRES_MARK}; \
             RETURN NULL; END $$"
        ),
        "CREATE TRIGGER person_facts_scale_levels AFTER UPDATE ON scale_levels \
         REFERENCING OLD TABLE AS old_levels NEW TABLE AS new_levels \
         FOR EACH STATEMENT EXECUTE FUNCTION person_facts_mark_ranks()"
            .to_owned(),
    ]
}

const POSTGRES_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS person_facts_scale_levels ON scale_levels",
    "DROP FUNCTION IF EXISTS person_facts_mark_ranks()",
    "DROP TRIGGER IF EXISTS person_facts_units ON units",
    "CREATE OR REPLACE FUNCTION person_facts_mark_person() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     IF TG_OP <> 'INSERT' THEN \
       INSERT INTO person_facts_pending (person_id) VALUES (OLD.id) ON CONFLICT DO NOTHING; END IF; \
     IF TG_OP <> 'DELETE' THEN \
       INSERT INTO person_facts_pending (person_id) VALUES (NEW.id) ON CONFLICT DO NOTHING; END IF; \
     RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION person_facts_mark_record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     IF TG_OP <> 'INSERT' THEN \
       INSERT INTO person_facts_pending (person_id) VALUES (OLD.person_id) ON CONFLICT DO NOTHING; END IF; \
     IF TG_OP <> 'DELETE' THEN \
       INSERT INTO person_facts_pending (person_id) VALUES (NEW.person_id) ON CONFLICT DO NOTHING; END IF; \
     RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION person_facts_mark_unit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     INSERT INTO person_facts_pending (person_id) \
       SELECT DISTINCT person_id FROM placements WHERE unit_id = NEW.id ON CONFLICT DO NOTHING; \
     RETURN NULL; END $$",
    "CREATE FUNCTION person_facts_mark_scale() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     INSERT INTO person_facts_pending (person_id) \
       SELECT DISTINCT person_id FROM qualifications WHERE scale_code = NEW.scale_code ON CONFLICT DO NOTHING; \
     RETURN NULL; END $$",
    "CREATE TRIGGER person_facts_units AFTER UPDATE OF locality_code, sector ON units \
     FOR EACH ROW EXECUTE FUNCTION person_facts_mark_unit()",
    "CREATE TRIGGER person_facts_scale_levels AFTER UPDATE OF rank ON scale_levels \
     FOR EACH ROW EXECUTE FUNCTION person_facts_mark_scale()",
    "DROP INDEX IF EXISTS ix_person_facts_pending_txid",
    "ALTER TABLE person_facts_pending DROP COLUMN txid",
];

// SQLite's writers are serialised and every server write flushes before it commits, so
// `person_facts_pending` holds only the marks of the writing transaction and of writes
// around the server: no transaction id is needed, and a B-tree delete leaves no dead
// rows behind.
const SQLITE_UP: &[&str] = &[
    "DROP TRIGGER IF EXISTS person_facts_units_update",
    "DROP TRIGGER IF EXISTS person_facts_scale_levels_update",
    "CREATE TRIGGER person_facts_units_update AFTER UPDATE OF locality_code, sector ON units \
     WHEN OLD.locality_code IS NOT NEW.locality_code OR OLD.sector IS NOT NEW.sector BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) \
     SELECT DISTINCT person_id FROM placements WHERE unit_id = NEW.id; END",
    "CREATE TRIGGER person_facts_scale_levels_update AFTER UPDATE OF rank ON scale_levels \
     WHEN OLD.rank IS NOT NEW.rank BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) \
     SELECT DISTINCT a.person_id FROM scale_levels other \
     JOIN qualifications a ON a.scale_code = NEW.scale_code AND a.level_code = NEW.code \
     WHERE other.scale_code = NEW.scale_code AND other.code <> NEW.code \
       AND ((OLD.rank, NEW.code) > (other.rank, other.code)) <> ((NEW.rank, NEW.code) > (other.rank, other.code)) \
       AND EXISTS (SELECT 1 FROM qualifications b WHERE b.person_id = a.person_id \
         AND b.scale_code = other.scale_code AND b.level_code = other.code); END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS person_facts_units_update",
    "DROP TRIGGER IF EXISTS person_facts_scale_levels_update",
    "CREATE TRIGGER person_facts_units_update AFTER UPDATE OF locality_code, sector ON units BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) \
     SELECT DISTINCT person_id FROM placements WHERE unit_id = NEW.id; END",
    "CREATE TRIGGER person_facts_scale_levels_update AFTER UPDATE OF rank ON scale_levels BEGIN \
     INSERT OR IGNORE INTO person_facts_pending (person_id) \
     SELECT DISTINCT person_id FROM qualifications WHERE scale_code = NEW.scale_code; END",
];

const LEVEL_INDEX: &str = "ix_qualifications_level";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(LEVEL_INDEX)
                    .table(Alias::new("qualifications"))
                    .col(Alias::new("scale_code"))
                    .col(Alias::new("level_code"))
                    .col(Alias::new("person_id"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            for sql in POSTGRES_UP {
                db.execute_unprepared(sql).await?;
            }
            for sql in postgres_functions() {
                db.execute_unprepared(&sql).await?;
            }
        } else {
            // One call, so one connection of the pool: SQLite runs migrations outside a
            // transaction, and another connection may still see the old triggers.
            db.execute_unprepared(&SQLITE_UP.join(";\n")).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            for sql in POSTGRES_DOWN {
                db.execute_unprepared(sql).await?;
            }
        } else {
            db.execute_unprepared(&SQLITE_DOWN.join(";\n")).await?;
        }
        manager.drop_index(Index::drop().name(LEVEL_INDEX).table(Alias::new("qualifications")).to_owned()).await
    }
}
