//! A person's qualifications, annual evaluations and disciplinary decisions.

use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{Reference, changed, paginate, person_for};
use crate::{
    context::{PersonAccess, RequestContext},
    domain::date::today,
    edge::{
        Violations, etag,
        names::{DisciplineName, PersonName, QualificationName},
    },
    error::{Error, Result},
    people::{
        queries::{self, DisciplineRow, EvaluationRow, PersonRow, QualificationRow, Record},
        rules::person::{DisciplineFields, QualificationFields, Rating, check_evaluation_year, check_qualification},
        wire::records::{
            Create, DisciplinePatch, EvaluationFields, EvaluationKey, List, Named, QualificationPatch, Update,
        },
    },
    store::audit,
    uow::{self, Begun, Done, Tx, Write},
};

/// The person a write changes, authorised.
async fn writable(tx: &Tx<'_>, person: PersonName) -> Result<PersonRow> {
    person_for(tx.conn(), tx.principal(), person, today(), PersonAccess::Write).await
}

async fn readable(db: &DatabaseConnection, ctx: &RequestContext, person: PersonName) -> Result<PersonRow> {
    person_for(db, &ctx.principal, person, today(), PersonAccess::ReadPersonal).await
}

// ---- qualifications ------------------------------------------------------------------

async fn qualification(conn: &impl ConnectionTrait, name: QualificationName) -> Result<QualificationRow> {
    queries::qualification(conn, name.parent, name.id).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

async fn check_qualification_of(
    conn: &impl ConnectionTrait,
    person: &PersonRow,
    q: &QualificationFields,
) -> Result<()> {
    Violations::from(check_qualification(q, person.fields.birth_date, "qualification", today())).finish()?;
    match Reference::levels(conn).await?.check_level(q, "qualification") {
        Some(violation) => Err(Error::InvalidArgument(vec![violation])),
        None => Ok(()),
    }
}

/// Records a qualification of a level of a scale.
pub async fn create_qualification(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Create<QualificationFields>,
) -> Result<QualificationRow> {
    let Create { person, fields, key } = request;
    let write = Write::new("CreateQualification").idempotent(key);
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            Begun::Replay(tx, resource) => {
                let found = async {
                    writable(&tx, person).await?;
                    qualification(tx.conn(), QualificationName::parse(&resource).map_err(Error::internal)?).await
                }
                .await;
                return tx.replay(found).await;
            }
            Begun::Fresh(tx) => tx,
        };
        let row = writable(&tx, person).await?;
        check_qualification_of(tx.conn(), &row, &fields).await?;
        let id = queries::insert_qualification(tx.conn(), row.id, &fields).await?;
        let name = QualificationName { parent: row.id, id };
        let created = qualification(tx.conn(), name).await?;
        tx.commit(Done::new(created, name.to_string())).await
    })
    .await
}

/// Gets a qualification.
pub async fn get_qualification(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Named<QualificationName>,
) -> Result<QualificationRow> {
    readable(db, ctx, PersonName(request.name.parent)).await?;
    let record = qualification(db, request.name).await?;
    audit::read_one(db, ctx, "GetQualification", request.name).await?;
    Ok(record)
}

/// Lists a person's qualifications by id.
pub async fn list_qualifications(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: List,
) -> Result<(Vec<QualificationRow>, String)> {
    let person = readable(db, ctx, request.person).await?;
    let page = paginate(&request.page, queries::qualifications_of(db, &[person.id]).await?, |r| r.id)?;
    audit::read_many(db, ctx, "ListQualifications", request.person, &audit::query(&request), Some(page.0.len()))
        .await?;
    Ok(page)
}

/// Changes a qualification.
pub async fn update_qualification(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Update<QualificationName, QualificationPatch>,
) -> Result<QualificationRow> {
    let Update { name, etag: given, patch } = request;
    let write = Write::new("UpdateQualification");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        let person = writable(&tx, PersonName(name.parent)).await?;
        let row = qualification(tx.conn(), name).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        let fields = patch.apply(&row.fields);
        check_qualification_of(tx.conn(), &person, &fields).await?;
        if !queries::update_qualification(tx.conn(), name.id, row.revision, &fields).await? {
            return Err(changed(name));
        }
        let updated = qualification(tx.conn(), name).await?;
        tx.commit(Done::new(updated, name.to_string())).await
    })
    .await
}

/// Deletes a qualification.
pub async fn delete_qualification(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Named<QualificationName>,
) -> Result<()> {
    let Named { name, etag: given } = request;
    let write = Write::new("DeleteQualification");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        writable(&tx, PersonName(name.parent)).await?;
        let row = qualification(tx.conn(), name).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if !queries::delete(tx.conn(), Record::Qualification(name.id), row.revision).await? {
            return Err(changed(name));
        }
        tx.commit(Done::new((), name.to_string())).await
    })
    .await
}

// ---- evaluations ---------------------------------------------------------------------

async fn evaluation(conn: &impl ConnectionTrait, key: EvaluationKey) -> Result<EvaluationRow> {
    queries::evaluation(conn, key.person.id(), key.year).await?.ok_or_else(|| Error::NotFound(key.to_string()))
}

/// Rates a person for a year (one evaluation per year: a second is ALREADY_EXISTS,
/// which the table's primary key holds too).
pub async fn create_evaluation(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Create<EvaluationFields>,
) -> Result<EvaluationRow> {
    let Create { person, fields: EvaluationFields { year, rating }, key } = request;
    let write = Write::new("CreateEvaluation").idempotent(key);
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            Begun::Replay(tx, resource) => {
                let found = async {
                    writable(&tx, person).await?;
                    let (person, year) = crate::people::wire::parse_evaluation(&resource).map_err(Error::internal)?;
                    evaluation(tx.conn(), EvaluationKey { person, year }).await
                }
                .await;
                return tx.replay(found).await;
            }
            Begun::Fresh(tx) => tx,
        };
        let row = writable(&tx, person).await?;
        Violations::from(check_evaluation_year(year, row.fields.birth_date, "evaluation", today())).finish()?;
        let key = EvaluationKey { person, year };
        if queries::evaluation(tx.conn(), row.id, year).await?.is_some() {
            return Err(Error::AlreadyExists(key.to_string()));
        }
        queries::insert_evaluation(tx.conn(), row.id, year, rating).await?;
        let created = evaluation(tx.conn(), key).await?;
        tx.commit(Done::new(created, key.to_string())).await
    })
    .await
}

/// Gets an evaluation.
pub async fn get_evaluation(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Named<EvaluationKey>,
) -> Result<EvaluationRow> {
    readable(db, ctx, request.name.person).await?;
    let record = evaluation(db, request.name).await?;
    audit::read_one(db, ctx, "GetEvaluation", request.name).await?;
    Ok(record)
}

/// Lists a person's evaluations by year.
pub async fn list_evaluations(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: List,
) -> Result<(Vec<EvaluationRow>, String)> {
    let person = readable(db, ctx, request.person).await?;
    let page = paginate(&request.page, queries::evaluations_of(db, &[person.id]).await?, |r| i64::from(r.year))?;
    audit::read_many(db, ctx, "ListEvaluations", request.person, &audit::query(&request), Some(page.0.len())).await?;
    Ok(page)
}

/// Changes the rating of an evaluation.
pub async fn update_evaluation(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Update<EvaluationKey, Rating>,
) -> Result<EvaluationRow> {
    let Update { name, etag: given, patch: rating } = request;
    let write = Write::new("UpdateEvaluation");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        writable(&tx, name.person).await?;
        let row = evaluation(tx.conn(), name).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if !queries::update_evaluation(tx.conn(), name.person.id(), name.year, row.revision, rating).await? {
            return Err(changed(name));
        }
        let updated = evaluation(tx.conn(), name).await?;
        tx.commit(Done::new(updated, name.to_string())).await
    })
    .await
}

/// Deletes an evaluation.
pub async fn delete_evaluation(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Named<EvaluationKey>,
) -> Result<()> {
    let Named { name, etag: given } = request;
    let write = Write::new("DeleteEvaluation");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        writable(&tx, name.person).await?;
        let row = evaluation(tx.conn(), name).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if !queries::delete(tx.conn(), Record::Evaluation(name.person.id(), name.year), row.revision).await? {
            return Err(changed(name));
        }
        tx.commit(Done::new((), name.to_string())).await
    })
    .await
}

// ---- disciplines ---------------------------------------------------------------------

async fn discipline(conn: &impl ConnectionTrait, name: DisciplineName) -> Result<DisciplineRow> {
    queries::discipline(conn, name.parent, name.id).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// Records a disciplinary decision.
pub async fn create_discipline(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Create<DisciplineFields>,
) -> Result<DisciplineRow> {
    let Create { person, fields, key } = request;
    let write = Write::new("CreateDiscipline").idempotent(key);
    uow::retrying(|| async {
        let tx = match write.begin(db, ctx).await? {
            Begun::Replay(tx, resource) => {
                let found = async {
                    writable(&tx, person).await?;
                    discipline(tx.conn(), DisciplineName::parse(&resource).map_err(Error::internal)?).await
                }
                .await;
                return tx.replay(found).await;
            }
            Begun::Fresh(tx) => tx,
        };
        let row = writable(&tx, person).await?;
        let id = queries::insert_discipline(tx.conn(), row.id, &fields).await?;
        let name = DisciplineName { parent: row.id, id };
        let created = discipline(tx.conn(), name).await?;
        tx.commit(Done::new(created, name.to_string())).await
    })
    .await
}

/// Gets a disciplinary decision.
pub async fn get_discipline(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Named<DisciplineName>,
) -> Result<DisciplineRow> {
    readable(db, ctx, PersonName(request.name.parent)).await?;
    let record = discipline(db, request.name).await?;
    audit::read_one(db, ctx, "GetDiscipline", request.name).await?;
    Ok(record)
}

/// Lists a person's disciplinary decisions by id.
pub async fn list_disciplines(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: List,
) -> Result<(Vec<DisciplineRow>, String)> {
    let person = readable(db, ctx, request.person).await?;
    let page = paginate(&request.page, queries::disciplines_of(db, person.id).await?, |r| r.id)?;
    audit::read_many(db, ctx, "ListDisciplines", request.person, &audit::query(&request), Some(page.0.len())).await?;
    Ok(page)
}

/// Changes a disciplinary decision.
pub async fn update_discipline(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Update<DisciplineName, DisciplinePatch>,
) -> Result<DisciplineRow> {
    let Update { name, etag: given, patch } = request;
    let write = Write::new("UpdateDiscipline");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        writable(&tx, PersonName(name.parent)).await?;
        let row = discipline(tx.conn(), name).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        let fields = patch.apply(&row.fields());
        if !queries::update_discipline(tx.conn(), name.id, row.revision, &fields).await? {
            return Err(changed(name));
        }
        let updated = discipline(tx.conn(), name).await?;
        tx.commit(Done::new(updated, name.to_string())).await
    })
    .await
}

/// Deletes a disciplinary decision.
pub async fn delete_discipline(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    request: Named<DisciplineName>,
) -> Result<()> {
    let Named { name, etag: given } = request;
    let write = Write::new("DeleteDiscipline");
    uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        writable(&tx, PersonName(name.parent)).await?;
        let row = discipline(tx.conn(), name).await?;
        etag::check(&given, row.revision, &name.to_string())?;
        if !queries::delete(tx.conn(), Record::Discipline(name.id), row.revision).await? {
            return Err(changed(name));
        }
        tx.commit(Done::new((), name.to_string())).await
    })
    .await
}
