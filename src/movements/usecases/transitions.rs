//! Starting, completing and cancelling a movement, and what each does to the person's
//! placements, in the transaction that changes the movement's status.
//!
//! Each locks the movement (`FOR UPDATE` on PostgreSQL), so that two concurrent
//! transitions of one movement run one after the other and the second sees the status
//! the first wrote; and locks the person, so that its check that the person's
//! placements never overlap reads what a concurrent movement wrote. A placement
//! opened in a unit locks that unit `FOR SHARE`, as every placement write does, so
//! that the unit's period cannot shrink past it meanwhile. SQLite needs none of these
//! locks: its writers are serialised (`BEGIN IMMEDIATE`).

use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{Use, load, rotation_for};
use crate::{
    context::RequestContext,
    edge::{etag, names::PlacementName},
    error::{Error, Result},
    movements::{
        queries::{self, Completion, Started},
        rules::{Rotation, Status, no_overlap, return_end, source_placement},
        wire::{CompleteRotation, Named},
    },
    people::rules::person::PlacementFields,
    units::queries::{self as units, Lock},
    uow::{self, Done, Write},
};

fn changed_concurrently(name: impl std::fmt::Display) -> Error {
    Error::Aborted(format!("{name} changed concurrently; read it again"))
}

/// Starts a planned movement: closes the person's placement at the source on the start
/// date and opens one at the destination until the planned end.
pub async fn start(db: &DatabaseConnection, ctx: &RequestContext, request: Named) -> Result<Rotation> {
    let Named { name, etag: given } = request;
    let write = Write::new("StartRotation");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let row = rotation_for(tx.conn(), tx.principal(), name, Use::Write).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if !row.status.can_become(Status::Active) {
            return Err(row.wrong_stage("started"));
        }
        let (r, person) = (&row.fields, row.fields.person());
        queries::lock_person(tx.conn(), person.id()).await?;
        units::lock(tx.conn(), r.destination_unit_id, Lock::Share).await?;
        let source = source_placement(&queries::placements_of(tx.conn(), person).await?, r)?;
        if !queries::end_placement(tx.conn(), source.id, Some(r.start_date)).await? {
            return Err(changed_concurrently(PlacementName { parent: person.id(), id: source.id }));
        }
        let destination = PlacementFields {
            unit_id: r.destination_unit_id,
            post_title: r.destination_post.clone(),
            leader: r.destination_leader,
            key_post: false,
            valid_from: r.start_date,
            valid_until: r.planned_end_date,
        };
        let destination_id = queries::open_placement(tx.conn(), person, &destination).await?;
        no_overlap(person, &queries::placements_of(tx.conn(), person).await?)?;
        let started = Started {
            source_placement_id: source.id,
            source_placement_until: source.valid_until,
            destination_placement_id: destination_id,
        };
        if !queries::mark_started(tx.conn(), name.id(), row.revision, started).await? {
            return Err(changed_concurrently(name));
        }
        let detail = json!({
            "person": person.to_string(),
            "closed": PlacementName { parent: person.id(), id: source.id }.to_string(),
            "opened": PlacementName { parent: person.id(), id: destination_id }.to_string(),
        });
        let rotation = load(tx.conn(), name).await?;
        tx.commit(Done::new(rotation, name.to_string()).detail(detail)).await
    })
    .await
}

/// Completes an active movement on its actual end date: with a return, ends the
/// destination placement then and opens a placement back at the source (until the old
/// placement's own end, the source unit's or the employment's, whichever comes first).
pub async fn complete(db: &DatabaseConnection, ctx: &RequestContext, request: CompleteRotation) -> Result<Rotation> {
    let CompleteRotation { name, etag: given, actual_end_date, rating, promoted, post_after_return } = request;
    let write = Write::new("CompleteRotation");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let row = rotation_for(tx.conn(), tx.principal(), name, Use::Write).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if actual_end_date <= row.fields.start_date {
            return Err(Error::invalid(
                "actual_end_date",
                format!("must be after the start date {}", row.fields.start_date),
            ));
        }
        if !row.status.can_become(Status::Completed) {
            return Err(row.wrong_stage("completed"));
        }
        let (r, person) = (&row.fields, row.fields.person());
        let mut return_placement_id = None;
        if r.kind.returns() {
            queries::lock_person(tx.conn(), person.id()).await?;
            if let Some(id) = row.destination_placement_id {
                queries::end_placement(tx.conn(), id, Some(actual_end_date)).await?;
            }
            // The return ends where the unit or the employment ends, if earlier; a unit
            // or an employment that has ended by the return leaves no placement to
            // return to.
            units::lock(tx.conn(), r.source_unit_id, Lock::Share).await?;
            let unit = queries::unit_periods(tx.conn(), &[r.source_unit_id]).await?;
            let unit_until = unit.first().and_then(|u| u.valid_until);
            let employed_until = queries::employed_until(tx.conn(), person).await?.flatten();
            let until = return_end(actual_end_date, row.source_placement_until, [unit_until, employed_until]);
            if until.is_none_or(|u| u > actual_end_date) {
                let placement = PlacementFields {
                    unit_id: r.source_unit_id,
                    post_title: post_after_return.clone().unwrap_or_else(|| r.source_post.clone()),
                    leader: false,
                    key_post: false,
                    valid_from: actual_end_date,
                    valid_until: until,
                };
                return_placement_id = Some(queries::open_placement(tx.conn(), person, &placement).await?);
            }
            no_overlap(person, &queries::placements_of(tx.conn(), person).await?)?;
        }
        let completion = Completion {
            actual_end_date,
            rating,
            promoted,
            post_after_return: post_after_return.clone(),
            return_placement_id,
        };
        if !queries::mark_completed(tx.conn(), name.id(), row.revision, &completion).await? {
            return Err(changed_concurrently(name));
        }
        let detail = json!({
            "person": person.to_string(),
            "actual_end_date": actual_end_date,
            "returned": return_placement_id.map(|id| PlacementName { parent: person.id(), id }.to_string()),
        });
        let rotation = load(tx.conn(), name).await?;
        tx.commit(Done::new(rotation, name.to_string()).detail(detail)).await
    })
    .await
}

/// Cancels a planned or active movement; an active one is undone: the placements it
/// opened are removed and the one it closed gets its old end back.
pub async fn cancel(db: &DatabaseConnection, ctx: &RequestContext, request: Named) -> Result<Rotation> {
    let Named { name, etag: given } = request;
    let write = Write::new("CancelRotation");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let row = rotation_for(tx.conn(), tx.principal(), name, Use::Write).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if !row.status.can_become(Status::Cancelled) {
            return Err(row.wrong_stage("cancelled"));
        }
        let person = row.fields.person();
        let undone = row.status == Status::Active;
        if undone {
            queries::lock_person(tx.conn(), person.id()).await?;
            for id in [row.destination_placement_id, row.return_placement_id].into_iter().flatten() {
                queries::remove_placement(tx.conn(), id).await?;
            }
            if let Some(id) = row.source_placement_id {
                queries::end_placement(tx.conn(), id, row.source_placement_until).await?;
            }
            no_overlap(person, &queries::placements_of(tx.conn(), person).await?)?;
        }
        if !queries::mark_cancelled(tx.conn(), name.id(), row.revision, undone).await? {
            return Err(changed_concurrently(name));
        }
        let detail = json!({ "person": person.to_string(), "undone": undone });
        let rotation = load(tx.conn(), name).await?;
        tx.commit(Done::new(rotation, name.to_string()).detail(detail)).await
    })
    .await
}
