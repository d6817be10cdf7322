//! Person facts (`person_facts`): for each person, the periods over which everything a
//! report counts about them stays the same. Reports count the one period in force on
//! their date instead of recomputing highest levels from every qualification.
//!
//! Triggers on people, placements, qualifications, evaluations, units and scale levels
//! mark the people a write may change in `person_facts_pending`. The unit of work's
//! commit ([`flush`]) rebuilds their facts from their records in the writing
//! transaction, so committed facts are in step with committed records. People marked
//! by writes around the server (a migration, SQL by hand) are rebuilt by [`catch_up`]
//! after migrating and by the server's background task ([`keep_up`]); never by a
//! read, so that a read RPC writes nothing.
//!
//! - [`rules`]: the periods of a person's facts (pure);
//! - [`queries`]: flush, catch-up and the check that the facts are in step, typed;
//! - [`changes`]: the change log (a version and the people of each) that in-memory
//!   copies of the facts follow.

pub mod changes;
pub mod queries;
pub mod rules;

use std::time::Duration;

use sea_orm::DatabaseConnection;

pub use queries::{any_pending, catch_up, flush, stored_and_derived};

/// Catches up, every `interval`, the facts of people marked by writes around the
/// server; runs until the task is dropped. A failure (the database away, or a role
/// that may only read) is logged and tried again at the next tick.
pub async fn keep_up(db: DatabaseConnection, interval: Duration) {
    // The first tick one interval from now, not at once: start-up has just caught up
    // (at migrate), and an immediate tick would race what the server writes first.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = changes::prune(&db).await {
            tracing::debug!(error = %err, "pruning the change log of the person facts failed");
        }
        // A cheap read first: most ticks find nothing, and take no write lock.
        match any_pending(&db).await {
            Ok(false) => continue,
            Ok(true) => {}
            Err(err) => {
                tracing::debug!(error = %err, "checking for pending person facts failed");
                continue;
            }
        }
        match catch_up(&db).await {
            Ok(n) => tracing::info!(people = n, "caught up the person facts of records written around the server"),
            Err(err) => tracing::warn!(error = %err, "catching up the person facts failed; trying again later"),
        }
    }
}
