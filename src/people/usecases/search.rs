//! SearchPeople and ExportPeople: people placed on a date in a locality's subtree and
//! in the caller's scope, found by words of their name and a filter. Both read
//! personal data, so both need the personal-data role.

use std::collections::BTreeSet;

use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use super::{personal_reader, sees_identifiers};
use crate::{
    context::{Access, Principal, RequestContext, Scope},
    domain::{locality::Code, text::fold},
    error::{Error, Result},
    people::{
        queries::{self, PeopleQuery},
        wire::{
            PersonView, RecordView,
            person::{ExportPeople, SearchPeople, Selection},
        },
    },
    policy::authorize,
    store::audit,
};

/// People per query of an export.
const EXPORT_BATCH: u64 = 500;

fn scope_roots(principal: &Principal) -> Option<BTreeSet<Code>> {
    match &principal.scope {
        Scope::National => None,
        Scope::Localities(roots) => Some(roots.clone()),
    }
}

/// The query of a selection, for the caller: checks the caller's access first.
async fn query(db: &DatabaseConnection, principal: &Principal, selection: Selection) -> Result<PeopleQuery> {
    personal_reader(principal)?;
    let Selection { locality, as_of, words, conditions } = selection;
    if let Some(locality) = &locality {
        authorize(db, principal, locality, Access::Read).await?;
        // A locality that does not exist is NOT_FOUND, not an empty selection.
        if crate::localities::queries::load_one(db, locality).await?.is_none() {
            return Err(Error::NotFound(locality.name()));
        }
    }
    Ok(PeopleQuery {
        as_of,
        locality,
        scope: scope_roots(principal),
        words: fold(&words).split_whitespace().map(str::to_owned).collect(),
        conditions,
        by_name: false,
        descending: false,
        after: None,
        limit: None,
    })
}

/// One page of people, with the token of the next.
pub async fn search(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: SearchPeople,
) -> Result<(Vec<PersonView>, String)> {
    let asked = audit::query(&request);
    let SearchPeople { selection, by_name, descending, page } = request;
    let mut query = query(db, &ctx.principal, selection).await?;
    query.by_name = by_name;
    query.descending = descending;
    // One more than the page, so that the page knows whether another follows.
    query.limit = Some(page.fetch());
    query.after = match page.after.as_deref() {
        None => None,
        Some([id]) => id.parse().ok().map(|id| (id, None)),
        Some([id, name]) => id.parse().ok().map(|id| (id, Some(name.clone()))),
        Some(_) => None,
    };
    if page.after.is_some() && query.after.is_none() {
        return Err(Error::invalid("page_token", "is not a page token of this search"));
    }
    let found = queries::search(db, &query).await?;
    let keys: Vec<(i64, String)> = found.ids.into_iter().zip(found.names).collect();
    let (keys, next) =
        page.cut(keys, |(id, name)| if by_name { vec![id.to_string(), name.clone()] } else { vec![id.to_string()] });
    let ids: Vec<i64> = keys.iter().map(|(id, _)| *id).collect();
    let persons = queries::load_people(db, &ids).await?;
    let mut placements = queries::by_person(&queries::placements_of(db, &ids).await?, |p| p.person_id);
    let personal = sees_identifiers(&ctx.principal);
    let people = persons
        .into_iter()
        .map(|row| {
            let placements = placements.remove(&row.id).unwrap_or_default();
            PersonView { row, placements, as_of: query.as_of, personal }
        })
        .collect::<Vec<_>>();
    audit::read_many(db, ctx, "SearchPeople", "people", &asked, Some(people.len())).await?;
    Ok((people, next))
}

/// Every person of a selection with all their records, streamed in id order a batch
/// at a time; the stream ends early with an error if a batch cannot be read.
pub async fn export(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: ExportPeople,
) -> Result<mpsc::Receiver<Result<RecordView>>> {
    let asked = audit::query(&request);
    let mut query = query(db, &ctx.principal, request.selection).await?;
    query.limit = Some(EXPORT_BATCH);
    // Recorded before the first person leaves; the count is not known yet.
    audit::read_many(db, ctx, "ExportPeople", "people", &asked, None).await?;
    let personal = sees_identifiers(&ctx.principal);
    let (tx, rx) = mpsc::channel(64);
    let db = db.clone();
    tokio::spawn(async move {
        loop {
            let batch = match queries::search(&db, &query).await {
                Ok(batch) => batch,
                Err(e) => {
                    tx.send(Err(e)).await.ok();
                    return;
                }
            };
            match records_of(&db, &batch.ids, query.as_of, personal).await {
                Ok(records) => {
                    for record in records {
                        if tx.send(Ok(record)).await.is_err() {
                            return; // the client went away
                        }
                    }
                }
                Err(e) => {
                    tx.send(Err(e)).await.ok();
                    return;
                }
            }
            match batch.next_after {
                Some(after) => query.after = Some(after),
                None => return,
            }
        }
    });
    Ok(rx)
}

async fn records_of(
    db: &DatabaseConnection,
    ids: &[i64],
    as_of: chrono::NaiveDate,
    personal: bool,
) -> Result<Vec<RecordView>> {
    let persons = queries::load_people(db, ids).await?;
    let mut placements = queries::by_person(&queries::placements_of(db, ids).await?, |p| p.person_id);
    let mut qualifications = queries::by_person(&queries::qualifications_of(db, ids).await?, |q| q.person_id);
    let mut evaluations = queries::by_person(&queries::evaluations_of(db, ids).await?, |e| e.person_id);
    Ok(persons
        .into_iter()
        .map(|row| {
            let id = row.id;
            RecordView {
                person: PersonView { row, placements: placements.remove(&id).unwrap_or_default(), as_of, personal },
                qualifications: qualifications.remove(&id).unwrap_or_default(),
                evaluations: evaluations.remove(&id).unwrap_or_default(),
            }
        })
        .collect())
}
