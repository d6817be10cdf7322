//! Bulk loading for the national dataset: rows are encoded straight into text, never
//! into one `Value` per field, because at 2.5 million people there are some 30 million
//! rows and the per-value work is what made the report benchmark's generator slow.
//!
//! - PostgreSQL: `COPY … FROM STDIN` (text format) in one transaction per batch, with
//!   `session_replication_role = replica` for the load when the role may set it, so
//!   that the row triggers (the facts' pending marks, and foreign-key checks) do not
//!   run per row; the loader then marks every loaded person pending itself, once.
//! - SQLite: multi-row `INSERT … VALUES` statements of literal rows (a few thousand
//!   rows each) in one transaction per batch, on one connection with
//!   `synchronous = OFF` and a large page cache: settings of the load's connection
//!   only; the server opens its own connections later with its own settings.

use std::fmt::Write as _;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, sqlx};

/// Rows per SQLite statement: big enough that parsing is cheap per row, small enough
/// that a statement stays a few hundred kilobytes.
const SQLITE_ROWS_PER_STATEMENT: usize = 2_000;

/// Which text the rows are encoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PostgreSQL's COPY text format: tab-separated fields, `\N` for NULL.
    Copy,
    /// SQLite SQL literals: `(1,'a',NULL)` tuples.
    Literal,
}

/// The encoded rows of one table for one batch.
#[derive(Debug)]
pub struct Rows {
    /// `table (col, …)`.
    pub target: &'static str,
    format: Format,
    /// COPY: one buffer; literal: one buffer per statement (tuples only).
    chunks: Vec<String>,
    in_chunk: usize,
    field: usize,
    /// Rows encoded.
    pub count: usize,
}

impl Rows {
    /// Empty rows for `target` (`table (col, …)`).
    pub fn new(target: &'static str, format: Format) -> Self {
        Self { target, format, chunks: vec![String::new()], in_chunk: 0, field: 0, count: 0 }
    }

    fn buf(&mut self) -> &mut String {
        if self.chunks.is_empty() {
            self.chunks.push(String::new());
        }
        let last = self.chunks.len() - 1;
        &mut self.chunks[last]
    }

    fn sep(&mut self) {
        let first = self.field == 0;
        self.field += 1;
        match (self.format, first) {
            (Format::Copy, true) => {}
            (Format::Copy, false) => self.buf().push('\t'),
            (Format::Literal, true) => {
                let open = if self.in_chunk == 0 { "(" } else { ",(" };
                self.buf().push_str(open);
            }
            (Format::Literal, false) => self.buf().push(','),
        }
    }

    /// An integer field.
    pub fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf(), "{v}");
        self
    }

    /// A text field.
    pub fn text(&mut self, v: &str) -> &mut Self {
        self.sep();
        let format = self.format;
        let buf = self.buf();
        match format {
            Format::Copy => {
                for c in v.chars() {
                    match c {
                        '\\' => buf.push_str("\\\\"),
                        '\t' => buf.push_str("\\t"),
                        '\n' => buf.push_str("\\n"),
                        '\r' => buf.push_str("\\r"),
                        c => buf.push(c),
                    }
                }
            }
            Format::Literal => {
                buf.push('\'');
                for c in v.chars() {
                    if c == '\'' {
                        buf.push('\'');
                    }
                    buf.push(c);
                }
                buf.push('\'');
            }
        }
        self
    }

    /// An optional text field.
    pub fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// A date field (`YYYY-MM-DD` on both backends).
    pub fn date(&mut self, v: NaiveDate) -> &mut Self {
        self.sep();
        let quote = self.format == Format::Literal;
        let buf = self.buf();
        if quote {
            buf.push('\'');
        }
        let _ = write!(buf, "{}", v.format("%Y-%m-%d"));
        if quote {
            buf.push('\'');
        }
        self
    }

    /// An optional date field.
    pub fn opt_date(&mut self, v: Option<NaiveDate>) -> &mut Self {
        match v {
            Some(v) => self.date(v),
            None => self.null(),
        }
    }

    /// A boolean field (`t`/`f` for COPY, `1`/`0` as SQLite stores them).
    pub fn boolean(&mut self, v: bool) -> &mut Self {
        self.sep();
        let text = match (self.format, v) {
            (Format::Copy, true) => "t",
            (Format::Copy, false) => "f",
            (Format::Literal, true) => "1",
            (Format::Literal, false) => "0",
        };
        self.buf().push_str(text);
        self
    }

    /// A NULL field.
    pub fn null(&mut self) -> &mut Self {
        self.sep();
        let text = if self.format == Format::Copy { "\\N" } else { "NULL" };
        self.buf().push_str(text);
        self
    }

    /// Ends the row.
    pub fn end(&mut self) {
        match self.format {
            Format::Copy => self.buf().push('\n'),
            Format::Literal => self.buf().push(')'),
        }
        self.field = 0;
        self.count += 1;
        self.in_chunk += 1;
        if self.format == Format::Literal && self.in_chunk == SQLITE_ROWS_PER_STATEMENT {
            self.chunks.push(String::new());
            self.in_chunk = 0;
        }
    }
}

/// Where batches are written.
#[derive(Debug)]
pub enum Loader {
    /// PostgreSQL through COPY.
    Postgres {
        /// The pool of the load.
        pool: sqlx::PgPool,
        /// Whether triggers are off during the load (and pending marks written here).
        replica: bool,
    },
    /// SQLite through multi-row inserts.
    Sqlite(DatabaseConnection),
}

impl Loader {
    /// A loader for `db`'s database: on SQLite a connection of its own with the load's
    /// settings.
    pub async fn open(db: &DatabaseConnection, url: &str) -> anyhow::Result<Self> {
        match db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool().clone();
                let mut conn = pool.acquire().await?;
                // Only a superuser (or a role granted the setting) may turn the
                // triggers off; otherwise they run, and mark the people themselves.
                let replica = sqlx::query("SET session_replication_role = replica").execute(&mut *conn).await.is_ok()
                    && sqlx::query("RESET session_replication_role").execute(&mut *conn).await.is_ok();
                Ok(Self::Postgres { pool, replica })
            }
            _ => {
                let conn = hrplan::store::connect(url, 1).await?;
                for pragma in ["PRAGMA synchronous = OFF", "PRAGMA cache_size = -1000000", "PRAGMA temp_store = MEMORY"]
                {
                    conn.execute_unprepared(pragma).await?;
                }
                Ok(Self::Sqlite(conn))
            }
        }
    }

    /// How rows must be encoded for this loader.
    pub fn format(&self) -> Format {
        match self {
            Self::Postgres { .. } => Format::Copy,
            Self::Sqlite(_) => Format::Literal,
        }
    }

    /// Whether the loader writes the facts' pending marks itself (triggers are off).
    pub fn marks_pending(&self) -> bool {
        matches!(self, Self::Postgres { replica: true, .. })
    }

    /// Writes `tables` in order, in one transaction.
    pub async fn write(&self, tables: &[Rows]) -> anyhow::Result<()> {
        match self {
            Self::Postgres { pool, replica } => {
                let mut tx = pool.begin().await?;
                if *replica {
                    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await?;
                }
                for rows in tables.iter().filter(|r| r.count > 0) {
                    let mut copy = tx.copy_in_raw(&format!("COPY {} FROM STDIN", rows.target)).await?;
                    for chunk in &rows.chunks {
                        copy.send(chunk.as_bytes()).await?;
                    }
                    copy.finish().await?;
                }
                tx.commit().await?;
            }
            Self::Sqlite(conn) => {
                conn.execute_unprepared("BEGIN IMMEDIATE").await?;
                let mut result = Ok(());
                'tables: for rows in tables.iter().filter(|r| r.count > 0) {
                    for chunk in rows.chunks.iter().filter(|c| !c.is_empty()) {
                        let sql = format!("INSERT INTO {} VALUES {chunk}", rows.target);
                        if let Err(e) = conn.execute_unprepared(&sql).await {
                            result = Err(anyhow::anyhow!("loading {}: {e}", rows.target));
                            break 'tables;
                        }
                    }
                }
                match result {
                    Ok(()) => {
                        conn.execute_unprepared("COMMIT").await?;
                    }
                    Err(e) => {
                        conn.execute_unprepared("ROLLBACK").await.ok();
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// Closes the load's own connection.
    pub async fn close(self) -> anyhow::Result<()> {
        if let Self::Sqlite(conn) = self {
            conn.close().await?;
        }
        Ok(())
    }
}
