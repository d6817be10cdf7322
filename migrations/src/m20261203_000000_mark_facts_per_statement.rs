//! On PostgreSQL, the people whose facts a change to `people`, `placements`,
//! `qualifications` or `evaluations` may change are marked once per statement, from the
//! statement's transition tables, instead of once per row.
//!
//! A row trigger runs a PL/pgSQL function and an `INSERT … ON CONFLICT` for every row:
//! an import of 20,000 people with a placement, a qualification and an evaluation each
//! ran 80,000 of them, which cost more than writing the rows. A statement trigger runs
//! one `INSERT … SELECT DISTINCT` over the rows the statement changed. Both run at the
//! end of the statement (PostgreSQL queues after-row triggers to then), in the writing
//! transaction, so the marks and the rules that read them (see
//! `m20261201_600000_narrow_person_facts_marks`: a mark carries the id of the
//! transaction that made it, and a write takes over the mark of one already committed)
//! are unchanged. A trigger with transition tables names one event, so each table has
//! three. SQLite has only row triggers; it keeps them.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows mark people, with the column that names the person.
const TABLES: &[(&str, &str)] =
    &[("people", "id"), ("placements", "person_id"), ("qualifications", "person_id"), ("evaluations", "person_id")];

/// Marks the people of `rows`, or takes over the marks of transactions already committed
/// (as `m20261201_600000_narrow_person_facts_marks` does, one row at a time).
fn mark(rows: &str) -> String {
    format!(
        "INSERT INTO person_facts_pending (person_id) SELECT DISTINCT person_id FROM ({rows}) AS changed \
         WHERE person_id IS NOT NULL \
         ON CONFLICT (person_id) DO UPDATE SET txid = EXCLUDED.txid WHERE person_facts_pending.txid <> EXCLUDED.txid;"
    )
}

/// The function of the statement triggers of a table whose rows name the person in
/// `column`: the rows inserted (`new_rows`), updated (both `old_rows` and `new_rows`) or
/// deleted (`old_rows`).
fn function(table: &str, column: &str) -> String {
    let inserted = mark(&format!("SELECT {column} AS person_id FROM new_rows"));
    let updated = mark(&format!(
        "SELECT {column} AS person_id FROM old_rows UNION ALL SELECT {column} AS person_id FROM new_rows"
    ));
    let deleted = mark(&format!("SELECT {column} AS person_id FROM old_rows"));
    format!(
        "CREATE FUNCTION person_facts_mark_{table}_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF TG_OP = 'INSERT' THEN {inserted} \
         ELSIF TG_OP = 'UPDATE' THEN {updated} \
         ELSE {deleted} END IF; \
         RETURN NULL; END $$"
    )
}

fn triggers(table: &str) -> [String; 3] {
    let create = |op: &str, referencing: &str| {
        format!(
            "CREATE TRIGGER person_facts_{table}_{} AFTER {op} ON {table} REFERENCING {referencing} \
             FOR EACH STATEMENT EXECUTE FUNCTION person_facts_mark_{table}_rows()",
            op.to_lowercase()
        )
    };
    [
        create("INSERT", "NEW TABLE AS new_rows"),
        create("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        create("DELETE", "OLD TABLE AS old_rows"),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, column) in TABLES {
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS person_facts_{table} ON {table}")).await?;
            db.execute_unprepared(&function(table, column)).await?;
            for trigger in triggers(table) {
                db.execute_unprepared(&trigger).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, _) in TABLES {
            for op in ["insert", "update", "delete"] {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS person_facts_{table}_{op} ON {table}")).await?;
            }
            db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS person_facts_mark_{table}_rows()")).await?;
            let function = if *table == "people" { "person_facts_mark_person" } else { "person_facts_mark_record" };
            db.execute_unprepared(&format!(
                "CREATE TRIGGER person_facts_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION {function}()"
            ))
            .await?;
        }
        Ok(())
    }
}
