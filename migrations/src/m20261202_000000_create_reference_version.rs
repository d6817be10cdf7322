//! The version of the reference data the report engine holds in memory beside the
//! person facts: the locality tree (`localities`, `locality_versions`, `locality_tags`,
//! `locality_links`) and the qualification scales' levels (`scale_levels`).
//!
//! `reference_version` holds one row, bumped once by every transaction that changes one
//! of those tables, by triggers, so that writes made around the server bump it too. A
//! report reads the version in its snapshot: the same number always stands for the same
//! committed reference data, so a copy loaded at that version answers exactly what the
//! SQL would read in that snapshot, and a copy of another version is loaded again.
//!
//! On PostgreSQL the bump is a deferred constraint trigger: it runs at commit, once per
//! transaction (a transaction-local setting remembers it bumped), so the row lock on
//! `reference_version` is taken last and held only until the commit that follows. Taken
//! at the first statement, it would be held across the rest of the transaction, and two
//! reorganisations touching the same localities in opposite orders could deadlock on
//! it. SQLite serialises its writers and bumps per row, which costs a page write.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows the engine's reference data copies.
const TABLES: &[&str] = &["localities", "locality_versions", "locality_tags", "locality_links", "scale_levels"];

#[derive(DeriveIden)]
enum ReferenceVersion {
    Table,
    Id,
    Seq,
}

const POSTGRES_BUMP: &str = "CREATE FUNCTION reference_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ \
    BEGIN \
      IF current_setting('hrplan.reference_bumped', true) IS DISTINCT FROM pg_current_xact_id()::text THEN \
        UPDATE reference_version SET seq = seq + 1 WHERE id = 1; \
        PERFORM set_config('hrplan.reference_bumped', pg_current_xact_id()::text, true); \
      END IF; \
      RETURN NULL; \
    END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReferenceVersion::Table)
                    .col(
                        ColumnDef::new(ReferenceVersion::Id)
                            .integer()
                            .not_null()
                            .primary_key()
                            .check(Expr::col(ReferenceVersion::Id).eq(1)),
                    )
                    .col(ColumnDef::new(ReferenceVersion::Seq).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("INSERT INTO reference_version (id, seq) VALUES (1, 1)").await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(POSTGRES_BUMP).await?;
            for table in TABLES {
                db.execute_unprepared(&format!(
                    "CREATE CONSTRAINT TRIGGER reference_version_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} \
                     DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION reference_version_bump()"
                ))
                .await?;
            }
        } else {
            for table in TABLES {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER reference_version_{table}_{} AFTER {op} ON {table} \
                         BEGIN UPDATE reference_version SET seq = seq + 1 WHERE id = 1; END",
                        op.to_lowercase()
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            for table in TABLES {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS reference_version_{table} ON {table}")).await?;
            }
            db.execute_unprepared("DROP FUNCTION IF EXISTS reference_version_bump()").await?;
        } else {
            for table in TABLES {
                for op in ["insert", "update", "delete"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS reference_version_{table}_{op}")).await?;
                }
            }
        }
        manager.drop_table(Table::drop().table(ReferenceVersion::Table).to_owned()).await
    }
}
