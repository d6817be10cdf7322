//! A version table: one row, `seq`, bumped once by every transaction that changes one
//! of a set of tables, by triggers, so that writes made around the server bump it too.
//! A reader reads the version in its snapshot: the same number always stands for the
//! same committed contents of those tables, so a copy loaded at that version answers
//! exactly what SQL would read in that snapshot, and a copy of another version is
//! loaded again.
//!
//! On PostgreSQL the bump is a deferred constraint trigger: it runs at commit, once per
//! transaction (a transaction-local setting remembers it bumped), so the row lock on the
//! version row is taken last and held only until the commit that follows. Taken at the
//! first statement, it would be held across the rest of the transaction, and two writers
//! touching the same rows in opposite orders could deadlock on it. A second writer
//! waits for the first's commit to bump, so versions are handed out in commit order.
//! SQLite serialises its writers and bumps per row, which costs a page write.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

/// What bumps a version: every change to a table, or only updates that change some of
/// its columns (for a table whose inserts and deletes cannot matter to the copy: its rows
/// are read only through rows of another watched table, whose foreign keys refuse or
/// cascade their deletion).
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    /// The table.
    pub table: &'static str,
    /// The columns whose change bumps the version; empty: every change.
    pub columns: &'static [&'static str],
}

impl Watch {
    /// Every change to `table`.
    pub const fn all(table: &'static str) -> Self {
        Self { table, columns: &[] }
    }

    /// Updates changing one of `columns` of `table`.
    pub const fn columns(table: &'static str, columns: &'static [&'static str]) -> Self {
        Self { table, columns }
    }

    /// The event, and the condition on the row (on PostgreSQL or on SQLite).
    fn event(&self, postgres: bool) -> (String, String) {
        if self.columns.is_empty() {
            return ("INSERT OR UPDATE OR DELETE".to_owned(), String::new());
        }
        let distinct = if postgres { "IS DISTINCT FROM" } else { "IS NOT" };
        let changed: Vec<String> = self.columns.iter().map(|c| format!("OLD.{c} {distinct} NEW.{c}")).collect();
        (format!("UPDATE OF {}", self.columns.join(", ")), format!(" WHEN ({})", changed.join(" OR ")))
    }
}

/// Creates the version table `name` (starting at 1) and the triggers that bump it on
/// every change `watches` lists.
pub async fn create(manager: &SchemaManager<'_>, name: &str, watches: &[Watch]) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Alias::new(name))
                .col(
                    ColumnDef::new(Alias::new("id"))
                        .integer()
                        .not_null()
                        .primary_key()
                        .check(Expr::col(Alias::new("id")).eq(1)),
                )
                .col(ColumnDef::new(Alias::new("seq")).big_integer().not_null())
                .to_owned(),
        )
        .await?;
    let db = manager.get_connection();
    db.execute_unprepared(&format!("INSERT INTO {name} (id, seq) VALUES (1, 1)")).await?;
    if manager.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "CREATE FUNCTION {name}_bump() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
               IF current_setting('hrplan.{name}_bumped', true) IS DISTINCT FROM pg_current_xact_id()::text THEN \
                 UPDATE {name} SET seq = seq + 1 WHERE id = 1; \
                 PERFORM set_config('hrplan.{name}_bumped', pg_current_xact_id()::text, true); \
               END IF; \
               RETURN NULL; \
             END $$"
        ))
        .await?;
        for watch in watches {
            let (event, when) = watch.event(true);
            db.execute_unprepared(&format!(
                "CREATE CONSTRAINT TRIGGER {name}_{table} AFTER {event} ON {table} \
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{when} EXECUTE FUNCTION {name}_bump()",
                table = watch.table
            ))
            .await?;
        }
    } else {
        for watch in watches {
            let table = watch.table;
            if watch.columns.is_empty() {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name}_{table}_{} AFTER {op} ON {table} \
                         BEGIN UPDATE {name} SET seq = seq + 1 WHERE id = 1; END",
                        op.to_lowercase()
                    ))
                    .await?;
                }
            } else {
                let (event, when) = watch.event(false);
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {name}_{table}_update AFTER {event} ON {table}{when} \
                     BEGIN UPDATE {name} SET seq = seq + 1 WHERE id = 1; END"
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// Drops what [`create`] created.
pub async fn drop(manager: &SchemaManager<'_>, name: &str, watches: &[Watch]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if manager.get_database_backend() == DbBackend::Postgres {
        for Watch { table, .. } in watches {
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}_{table} ON {table}")).await?;
        }
        db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {name}_bump()")).await?;
    } else {
        for Watch { table, .. } in watches {
            for op in ["insert", "update", "delete"] {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}_{table}_{op}")).await?;
            }
        }
    }
    manager.drop_table(Table::drop().table(Alias::new(name)).to_owned()).await
}
