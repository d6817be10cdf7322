//! RotationService: movements of cadres and their effects on placements.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sea_orm::{DatabaseConnection, DatabaseTransaction, Value};
use tonic::{Request, Response, Status};

use super::{
    Violations, check_etag, convert, idempotency, parse_id,
    pb::{self, rotation_service_server::RotationService},
    remember, replayed, request_id, required, update_paths,
};
use crate::{
    auth::{Access, PersonAccess, Principal, RequestContext, Role, Scope, authorize, authorize_person, require_access},
    domain::{
        date::period_contains,
        etag,
        locality::Code,
        page,
        person::{PlacementFields, Rating, first_overlap},
        rotation::{self as rules, Direction, Kind, RotationFields, Status as Stage, check_rotation, direction},
        text::normalize_name,
    },
    error::{Error, Result},
    store::{
        person::{self as people, PlacementRow},
        rotation::{self as rotations, Condition, ListQuery, RotationRow},
        scope,
    },
};

/// The RotationService implementation.
#[derive(Debug, Clone)]
pub struct RotationApi {
    db: DatabaseConnection,
}

impl RotationApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

const COLLECTION: &str = "rotations";

/// Fields an update may change.
const UPDATABLE: &[&str] = &[
    "kind",
    "source_unit",
    "source_post",
    "destination_unit",
    "destination_post",
    "destination_leader",
    "start_date",
    "planned_end_date",
    "decision",
    "programme",
];

fn rotation_name(id: i64) -> String {
    format!("{COLLECTION}/{id}")
}

// ---- enums -------------------------------------------------------------------------

fn kind(value: i32) -> Result<Kind, String> {
    use pb::RotationKind as K;
    match K::try_from(value).map_err(|_| format!("{value} is not a RotationKind"))? {
        K::Unspecified => Err("is required".to_owned()),
        K::Rotation => Ok(Kind::Rotation),
        K::Transfer => Ok(Kind::Transfer),
        K::Reinforcement => Ok(Kind::Reinforcement),
        K::Secondment => Ok(Kind::Secondment),
    }
}

fn kind_to_pb(value: Kind) -> pb::RotationKind {
    match value {
        Kind::Rotation => pb::RotationKind::Rotation,
        Kind::Transfer => pb::RotationKind::Transfer,
        Kind::Reinforcement => pb::RotationKind::Reinforcement,
        Kind::Secondment => pb::RotationKind::Secondment,
    }
}

fn status_to_pb(value: Stage) -> pb::RotationStatus {
    match value {
        Stage::Planned => pb::RotationStatus::Planned,
        Stage::Active => pb::RotationStatus::Active,
        Stage::Completed => pb::RotationStatus::Completed,
        Stage::Cancelled => pb::RotationStatus::Cancelled,
    }
}

fn direction_to_pb(value: Direction) -> pb::RotationDirection {
    match value {
        Direction::Downward => pb::RotationDirection::Downward,
        Direction::Upward => pb::RotationDirection::Upward,
        Direction::Lateral => pb::RotationDirection::Lateral,
    }
}

fn optional_rating(value: i32) -> Result<Option<Rating>, String> {
    match pb::Rating::try_from(value).map_err(|_| format!("{value} is not a Rating"))? {
        pb::Rating::Unspecified => Ok(None),
        pb::Rating::Excellent => Ok(Some(Rating::Excellent)),
        pb::Rating::Good => Ok(Some(Rating::Good)),
        pb::Rating::Completed => Ok(Some(Rating::Completed)),
        pb::Rating::NotCompleted => Ok(Some(Rating::NotCompleted)),
    }
}

fn rating_to_pb(value: Rating) -> pb::Rating {
    match value {
        Rating::Excellent => pb::Rating::Excellent,
        Rating::Good => pb::Rating::Good,
        Rating::Completed => pb::Rating::Completed,
        Rating::NotCompleted => pb::Rating::NotCompleted,
    }
}

// ---- wire to domain and back -------------------------------------------------------

/// Converts and checks a movement's entered fields without the database.
fn rotation_fields(v: &mut Violations, r: &pb::Rotation, path: &str) -> Option<RotationFields> {
    let at = |f: &str| format!("{path}.{f}");
    let person_id = v.check(at("person"), parse_id(&r.person, "people"));
    let kind = v.check(at("kind"), kind(r.kind));
    let source_unit_id = v.check(at("source_unit"), parse_id(&r.source_unit, "units"));
    let destination_unit_id = v.check(at("destination_unit"), parse_id(&r.destination_unit, "units"));
    let start_date = v.check(at("start_date"), convert::date(r.start_date.as_ref()));
    let planned_end_date = v.check(at("planned_end_date"), convert::optional_date(r.planned_end_date.as_ref()));
    let decision = match &r.decision {
        None => {
            v.add(at("decision"), "is required");
            None
        }
        Some(d) => v
            .check(at("decision.decided_on"), convert::date(d.decided_on.as_ref()))
            .map(|decided_on| (normalize_name(&d.number), decided_on, normalize_name(&d.issuing_body))),
    };
    let (decision_number, decided_on, issuing_body) = decision?;
    let fields = RotationFields {
        person_id: person_id?,
        kind: kind?,
        source_unit_id: source_unit_id?,
        source_post: normalize_name(&r.source_post),
        destination_unit_id: destination_unit_id?,
        destination_post: normalize_name(&r.destination_post),
        destination_leader: r.destination_leader,
        start_date: start_date?,
        planned_end_date: planned_end_date?,
        decision_number,
        decided_on,
        issuing_body,
        programme: normalize_name(&r.programme),
    };
    let violations = check_rotation(&fields, path);
    let ok = violations.is_empty();
    v.extend(violations);
    ok.then_some(fields)
}

fn timestamp(value: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: value.timestamp(),
        nanos: i32::try_from(value.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

fn rotation_to_pb(row: &RotationRow) -> pb::Rotation {
    let f = &row.fields;
    let finished = row.status == Stage::Completed;
    pb::Rotation {
        name: rotation_name(row.id),
        person: format!("people/{}", f.person_id),
        kind: kind_to_pb(f.kind).into(),
        source_unit: format!("units/{}", f.source_unit_id),
        source_post: f.source_post.clone(),
        destination_unit: format!("units/{}", f.destination_unit_id),
        destination_post: f.destination_post.clone(),
        destination_leader: f.destination_leader,
        start_date: Some(convert::to_date(f.start_date)),
        planned_end_date: f.planned_end_date.map(convert::to_date),
        actual_end_date: row.actual_end_date.map(convert::to_date),
        decision: Some(pb::RotationDecision {
            number: f.decision_number.clone(),
            decided_on: Some(convert::to_date(f.decided_on)),
            issuing_body: f.issuing_body.clone(),
        }),
        programme: f.programme.clone(),
        status: status_to_pb(row.status).into(),
        direction: direction_to_pb(direction(row.source_locality.tier(), row.destination_locality.tier())).into(),
        crosses_localities: row.source_locality != row.destination_locality,
        outcome: finished.then(|| pb::RotationOutcome {
            rating: row.outcome_rating.map_or(pb::Rating::Unspecified, rating_to_pb).into(),
            promoted: row.promoted,
            post_after_return: row.post_after_return.clone().unwrap_or_default(),
        }),
        etag: etag(row.revision),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

// ---- helpers -----------------------------------------------------------------------

fn changed_concurrently(name: &str) -> Error {
    Error::Aborted(format!("{name} changed concurrently; read it again"))
}

fn personal_reader(principal: &Principal) -> Result<()> {
    if principal.has_role(Role::PersonalDataReader) {
        Ok(())
    } else {
        Err(Error::PermissionDenied("reading personal data needs the personal_data_reader role".to_owned()))
    }
}

/// What a request does with a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Reading: personal data over the source or the destination.
    Read,
    /// Changing: editor over both the source and the destination.
    Write,
}

/// Authorises `access` to a unit's locality and returns it; a unit that does not exist
/// is outside every local scope (scope before existence) and `None` for a national one.
async fn unit_scope(
    db: &DatabaseConnection,
    principal: &Principal,
    unit_id: i64,
    access: Access,
) -> Result<Option<Code>> {
    match scope::unit_locality(db, unit_id).await? {
        Some(code) => {
            authorize(db, principal, &code, access).await?;
            Ok(Some(code))
        }
        None if matches!(principal.scope, Scope::Localities(_)) => {
            Err(Error::PermissionDenied(format!("units/{unit_id} is outside the caller's locality scope")))
        }
        None => {
            require_access(principal, access)?;
            Ok(None)
        }
    }
}

/// Resolves a movement for `use_`: role first, then scope before existence.
async fn rotation_for(db: &DatabaseConnection, principal: &Principal, id: i64, use_: Use) -> Result<RotationRow> {
    match use_ {
        Use::Read => personal_reader(principal)?,
        Use::Write => require_access(principal, Access::Write)?,
    }
    let row = rotations::load(db, id).await?;
    let roots = match &principal.scope {
        Scope::National => return row.ok_or_else(|| Error::NotFound(rotation_name(id))),
        Scope::Localities(roots) => roots,
    };
    let denied = || Error::PermissionDenied(format!("{} is outside the caller's locality scope", rotation_name(id)));
    let row = row.ok_or_else(denied)?;
    let source = scope::is_within(db, &row.source_locality, roots).await?;
    let allowed = match use_ {
        Use::Read => source || scope::is_within(db, &row.destination_locality, roots).await?,
        Use::Write => source && scope::is_within(db, &row.destination_locality, roots).await?,
    };
    if allowed { Ok(row) } else { Err(denied()) }
}

/// The placement a movement starting on `start` closes at the source: the one in force
/// on the start date, or (if none is) the one in force the day before; it must be at
/// the source unit and have begun before the start.
fn source_placement<'a>(placements: &'a [PlacementRow], r: &RotationFields) -> Result<&'a PlacementRow> {
    let on =
        |day: NaiveDate| placements.iter().find(|p| period_contains(p.fields.valid_from, p.fields.valid_until, day));
    let person = format!("people/{}", r.person_id);
    let placed = on(r.start_date).or_else(|| r.start_date.pred_opt().and_then(on));
    match placed {
        Some(p) if p.fields.unit_id == r.source_unit_id && p.fields.valid_from < r.start_date => Ok(p),
        Some(p) if p.fields.unit_id == r.source_unit_id => Err(Error::precondition(
            person,
            format!(
                "the placement at units/{} begins on the start date {}; nothing to leave",
                r.source_unit_id, r.start_date
            ),
        )),
        _ => Err(Error::precondition(
            person,
            format!("is not placed at units/{} on the start date {}", r.source_unit_id, r.start_date),
        )),
    }
}

/// FAILED_PRECONDITION if any two of a person's placements overlap.
fn no_overlap(person_id: i64, placements: &[PlacementRow]) -> Result<()> {
    for (i, p) in placements.iter().enumerate() {
        let earlier = placements[..i].iter().map(|o| (o.fields.valid_from, o.fields.valid_until));
        if let Some(j) = first_overlap((p.fields.valid_from, p.fields.valid_until), earlier) {
            let other = placements.get(j).map(|o| o.id).unwrap_or_default();
            return Err(Error::precondition(
                format!("people/{person_id}"),
                format!("the movement would make placements {other} and {} overlap; placements never overlap", p.id),
            ));
        }
    }
    Ok(())
}

fn open_rotation_error(person_id: i64, open: &[i64]) -> Error {
    let names: Vec<String> = open.iter().map(|id| rotation_name(*id)).collect();
    Error::precondition(
        format!("people/{person_id}"),
        format!("already has a planned or active movement ({}); one at a time", names.join(", ")),
    )
}

impl RotationApi {
    /// Editor scope over both units (scope before existence) and over the person on the
    /// start date; returns whether each unit exists.
    async fn authorize_planned(&self, principal: &Principal, r: &RotationFields) -> Result<(bool, bool)> {
        let source = unit_scope(&self.db, principal, r.source_unit_id, Access::Write).await?;
        let destination = unit_scope(&self.db, principal, r.destination_unit_id, Access::Write).await?;
        authorize_person(&self.db, principal, r.person_id, r.start_date, PersonAccess::Write).await?;
        Ok((source.is_some(), destination.is_some()))
    }

    /// Everything a planned movement needs beyond its own fields and the caller's scope:
    /// the person and units existing on the start date, no other open movement, and the
    /// person placed at the source on the start date.
    async fn check_planned(&self, r: &RotationFields, known: (bool, bool), except: Option<i64>) -> Result<()> {
        let (source, destination) = known;
        let mut v = Violations::new();
        if people::load_person(&self.db, r.person_id).await?.is_none() {
            v.add("rotation.person", format!("people/{} does not exist", r.person_id));
        }
        let units = people::unit_periods(&self.db, &BTreeSet::from([r.source_unit_id, r.destination_unit_id])).await?;
        for (field, id, known) in [
            ("rotation.source_unit", r.source_unit_id, source),
            ("rotation.destination_unit", r.destination_unit_id, destination),
        ] {
            match units.get(&id) {
                Some(u) if known && period_contains(u.valid_from, u.valid_until, r.start_date) => {}
                Some(_) if known => {
                    v.add(field, format!("units/{id} does not exist on the start date {}", r.start_date))
                }
                _ => v.add(field, format!("units/{id} does not exist")),
            }
        }
        v.finish()?;
        let open = rotations::open_of(&self.db, r.person_id, except).await?;
        if !open.is_empty() {
            return Err(open_rotation_error(r.person_id, &open));
        }
        let placements = people::placements_of(&self.db, &[r.person_id]).await?;
        source_placement(&placements, r)?;
        Ok(())
    }

    async fn reread(&self, id: i64) -> Result<pb::Rotation> {
        let row = rotations::load(&self.db, id).await?.ok_or_else(|| Error::NotFound(rotation_name(id)))?;
        Ok(rotation_to_pb(&row))
    }
}

/// Starts a movement inside `txn`: closes the source placement and opens the
/// destination one. Returns the columns recording what changed.
async fn start_effects(txn: &DatabaseTransaction, row: &RotationRow) -> Result<Vec<(&'static str, Value)>> {
    let r = &row.fields;
    let placements = people::placements_of(txn, &[r.person_id]).await?;
    let source = source_placement(&placements, r)?.clone();
    let key = [("id", Value::from(source.id))];
    if !people::update_row(txn, "placements", &key, None, vec![("valid_until", Some(r.start_date).into())]).await? {
        return Err(changed_concurrently(&format!("people/{}/placements/{}", r.person_id, source.id)));
    }
    let destination = PlacementFields {
        unit_id: r.destination_unit_id,
        post_title: r.destination_post.clone(),
        leader: r.destination_leader,
        key_post: false,
        valid_from: r.start_date,
        valid_until: r.planned_end_date,
    };
    let destination_id = people::insert_placement(txn, r.person_id, &destination).await?;
    no_overlap(r.person_id, &people::placements_of(txn, &[r.person_id]).await?)?;
    Ok(vec![
        ("status", Stage::Active.as_str().into()),
        ("source_placement_id", Some(source.id).into()),
        ("source_placement_until", source.fields.valid_until.into()),
        ("destination_placement_id", Some(destination_id).into()),
    ])
}

/// Completes a movement inside `txn`: with a return, ends the destination placement
/// and opens the placement after return. Returns the return placement's id.
async fn complete_effects(
    txn: &DatabaseTransaction,
    row: &RotationRow,
    actual_end: NaiveDate,
    post_after_return: Option<&str>,
) -> Result<Option<i64>> {
    let r = &row.fields;
    if !r.kind.returns() {
        return Ok(None);
    }
    if let Some(id) = row.destination_placement_id {
        people::update_row(
            txn,
            "placements",
            &[("id", id.into())],
            None,
            vec![("valid_until", Some(actual_end).into())],
        )
        .await?;
    }
    // The return ends where the unit or the employment ends, if earlier; a unit or an
    // employment that has ended by the return leaves no placement to return to.
    let mut until = rules::return_until(actual_end, row.source_placement_until);
    let unit = people::unit_periods(txn, &BTreeSet::from([r.source_unit_id])).await?;
    let person = people::load_person(txn, r.person_id).await?;
    let limits =
        [unit.get(&r.source_unit_id).and_then(|u| u.valid_until), person.and_then(|p| p.fields.employed_until)];
    for limit in limits.into_iter().flatten() {
        until = Some(until.map_or(limit, |u| u.min(limit)));
    }
    let return_id = if until.is_some_and(|u| u <= actual_end) {
        None
    } else {
        let placement = PlacementFields {
            unit_id: r.source_unit_id,
            post_title: post_after_return.map_or_else(|| r.source_post.clone(), str::to_owned),
            leader: false,
            key_post: false,
            valid_from: actual_end,
            valid_until: until,
        };
        Some(people::insert_placement(txn, r.person_id, &placement).await?)
    };
    no_overlap(r.person_id, &people::placements_of(txn, &[r.person_id]).await?)?;
    Ok(return_id)
}

/// Undoes a started movement inside `txn`: removes the placements it opened and
/// restores the end of the one it closed.
async fn cancel_effects(txn: &DatabaseTransaction, row: &RotationRow) -> Result<()> {
    for id in [row.destination_placement_id, row.return_placement_id].into_iter().flatten() {
        people::delete_row(txn, "placements", &[("id", id.into())], None).await?;
    }
    if let Some(id) = row.source_placement_id {
        people::update_row(
            txn,
            "placements",
            &[("id", id.into())],
            None,
            vec![("valid_until", row.source_placement_until.into())],
        )
        .await?;
    }
    no_overlap(row.fields.person_id, &people::placements_of(txn, &[row.fields.person_id]).await?)
}

fn parse_filter(filter: &str) -> Result<Vec<Condition>, String> {
    let filter = filter.trim();
    if filter.is_empty() {
        return Ok(Vec::new());
    }
    if filter.len() > 1000 {
        return Err("is longer than 1000 characters".to_owned());
    }
    filter
        .split(" AND ")
        .map(|term| {
            let Some((field, value)) = term.split_once('=') else {
                return Err(format!("cannot read `{}`; expected `field = value`", term.trim()));
            };
            let value = value.trim().trim_matches('"').to_uppercase();
            let short = |prefix: &str| value.strip_prefix(prefix).unwrap_or(&value).to_lowercase();
            match field.trim() {
                "kind" => Kind::from_db(&short("ROTATION_KIND_"))
                    .map(Condition::Kind)
                    .ok_or_else(|| format!("unknown kind `{value}`")),
                "status" => Stage::from_db(&short("ROTATION_STATUS_"))
                    .map(Condition::Status)
                    .ok_or_else(|| format!("unknown status `{value}`")),
                "direction" => match short("ROTATION_DIRECTION_").as_str() {
                    "downward" => Ok(Condition::Direction(Direction::Downward)),
                    "upward" => Ok(Condition::Direction(Direction::Upward)),
                    "lateral" => Ok(Condition::Direction(Direction::Lateral)),
                    _ => Err(format!("unknown direction `{value}`")),
                },
                other => Err(format!("unknown field `{other}`; filterable fields are kind, status and direction")),
            }
        })
        .collect()
}

fn wrong_stage(row: &RotationRow, action: &str) -> Error {
    Error::precondition(
        rotation_name(row.id),
        format!(
            "is {}; only a {} movement can be {action}",
            row.status.as_str(),
            match action {
                "started" | "updated" | "deleted" => "planned",
                "completed" => "active",
                _ => "planned or active",
            }
        ),
    )
}

#[tonic::async_trait]
impl RotationService for RotationApi {
    async fn create_rotation(
        &self,
        request: Request<pb::CreateRotationRequest>,
    ) -> Result<Response<pb::CreateRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let given = req.rotation.clone().unwrap_or_default();
        if req.rotation.is_none() {
            v.add("rotation", "is required");
        }
        let fields = rotation_fields(&mut v, &given, "rotation");
        let rid = v.check("request_id", request_id(&req.request_id)).flatten();
        v.finish()?;
        let fields = required(fields, "rotation")?;
        let known = self.authorize_planned(&ctx.principal, &fields).await?;
        let idem = idempotency(rid, &req, |r| r.request_id.clear());
        if let Some(name) = replayed(&self.db, "CreateRotation", idem.as_ref()).await? {
            let id = parse_id(&name, COLLECTION).map_err(Error::internal)?;
            return Ok(Response::new(pb::CreateRotationResponse { rotation: Some(self.reread(id).await?) }));
        }
        self.check_planned(&fields, known, None).await?;
        let person = format!("people/{}", fields.person_id);
        let id = write_txn!(&self.db, ctx, "CreateRotation", person, |txn| {
            // Checked again under the write lock: one open movement per person.
            let open = rotations::open_of(&txn, fields.person_id, None).await?;
            if !open.is_empty() {
                return Err(open_rotation_error(fields.person_id, &open).into());
            }
            let id = rotations::insert(&txn, &fields).await?;
            remember(&txn, "CreateRotation", idem.as_ref(), &rotation_name(id)).await?;
            id
        });
        Ok(Response::new(pb::CreateRotationResponse { rotation: Some(self.reread(id).await?) }))
    }

    async fn get_rotation(
        &self,
        request: Request<pb::GetRotationRequest>,
    ) -> Result<Response<pb::GetRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let id = parse_id(&req.name, COLLECTION).map_err(|e| Error::invalid("name", e))?;
        let row = rotation_for(&self.db, &ctx.principal, id, Use::Read).await?;
        Ok(Response::new(pb::GetRotationResponse { rotation: Some(rotation_to_pb(&row)) }))
    }

    async fn list_rotations(
        &self,
        request: Request<pb::ListRotationsRequest>,
    ) -> Result<Response<pb::ListRotationsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let locality = v.check("locality", Code::from_name(&req.locality));
        let start_from = v.check("start_from", convert::optional_date(req.start_from.as_ref())).flatten();
        let start_until = v.check("start_until", convert::optional_date(req.start_until.as_ref())).flatten();
        if let (Some(from), Some(until)) = (start_from, start_until)
            && until <= from
        {
            v.add("start_until", "must be after start_from");
        }
        let conditions = v.check("filter", parse_filter(&req.filter)).unwrap_or_default();
        let limit = v.check("page_size", page::page_size(req.page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
        let dates = format!("{start_from:?} {start_until:?}");
        let fingerprint = page::fingerprint(&[COLLECTION, &req.locality, &dates, &req.filter]);
        let after = v
            .check("page_token", page::decode(&req.page_token, &fingerprint))
            .flatten()
            .and_then(|key| key.first().and_then(|k| k.parse::<i64>().ok()));
        v.finish()?;
        let locality = required(locality, "locality")?;
        personal_reader(&ctx.principal)?;
        authorize(&self.db, &ctx.principal, &locality, Access::Read).await?;
        let query = ListQuery { locality, start_from, start_until, conditions, after, limit };
        let mut rows = rotations::list(&self.db, &query).await?;
        let keep = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_page_token = if rows.len() > keep {
            rows.truncate(keep);
            rows.last().map(|last| page::encode(&fingerprint, vec![last.id.to_string()])).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListRotationsResponse {
            rotations: rows.iter().map(rotation_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_rotation(
        &self,
        request: Request<pb::UpdateRotationRequest>,
    ) -> Result<Response<pb::UpdateRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let given = required(req.rotation.as_ref(), "rotation")?;
        let id = v.check("rotation.name", parse_id(&given.name, COLLECTION));
        let paths = update_paths(&mut v, req.update_mask.as_ref(), UPDATABLE);
        v.finish()?;
        let id = required(id, "rotation.name")?;
        let row = rotation_for(&self.db, &ctx.principal, id, Use::Write).await?;
        check_etag(&given.etag, row.revision, &given.name)?;
        if row.status != Stage::Planned {
            return Err(wrong_stage(&row, "updated").into());
        }
        let mut wire = rotation_to_pb(&row);
        for path in &paths {
            match path.as_str() {
                "kind" => wire.kind = given.kind,
                "source_unit" => wire.source_unit = given.source_unit.clone(),
                "source_post" => wire.source_post = given.source_post.clone(),
                "destination_unit" => wire.destination_unit = given.destination_unit.clone(),
                "destination_post" => wire.destination_post = given.destination_post.clone(),
                "destination_leader" => wire.destination_leader = given.destination_leader,
                "start_date" => wire.start_date = given.start_date,
                "planned_end_date" => wire.planned_end_date = given.planned_end_date,
                "decision" => wire.decision = given.decision.clone(),
                "programme" => wire.programme = given.programme.clone(),
                _ => {}
            }
        }
        let mut v = Violations::new();
        let fields = rotation_fields(&mut v, &wire, "rotation");
        v.finish()?;
        let fields = required(fields, "rotation")?;
        let known = self.authorize_planned(&ctx.principal, &fields).await?;
        self.check_planned(&fields, known, Some(id)).await?;
        let name = given.name.clone();
        write_txn!(&self.db, ctx, "UpdateRotation", name, |txn| {
            if !rotations::update(&txn, id, row.revision, rotations::field_columns(&fields)).await? {
                return Err(changed_concurrently(&name).into());
            }
        });
        Ok(Response::new(pb::UpdateRotationResponse { rotation: Some(self.reread(id).await?) }))
    }

    async fn delete_rotation(
        &self,
        request: Request<pb::DeleteRotationRequest>,
    ) -> Result<Response<pb::DeleteRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let id = parse_id(&req.name, COLLECTION).map_err(|e| Error::invalid("name", e))?;
        let row = rotation_for(&self.db, &ctx.principal, id, Use::Write).await?;
        check_etag(&req.etag, row.revision, &req.name)?;
        if row.status != Stage::Planned {
            return Err(wrong_stage(&row, "deleted").into());
        }
        let name = req.name.clone();
        write_txn!(&self.db, ctx, "DeleteRotation", name, |txn| {
            if !people::delete_row(&txn, "rotations", &[("id", id.into())], Some(row.revision)).await? {
                return Err(changed_concurrently(&name).into());
            }
        });
        Ok(Response::new(pb::DeleteRotationResponse {}))
    }

    async fn start_rotation(
        &self,
        request: Request<pb::StartRotationRequest>,
    ) -> Result<Response<pb::StartRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let id = parse_id(&req.name, COLLECTION).map_err(|e| Error::invalid("name", e))?;
        let row = rotation_for(&self.db, &ctx.principal, id, Use::Write).await?;
        check_etag(&req.etag, row.revision, &req.name)?;
        if !row.status.can_become(Stage::Active) {
            return Err(wrong_stage(&row, "started").into());
        }
        let name = req.name.clone();
        write_txn!(&self.db, ctx, "StartRotation", name, |txn| {
            let columns = start_effects(&txn, &row).await?;
            if !rotations::update(&txn, id, row.revision, columns).await? {
                return Err(changed_concurrently(&name).into());
            }
        });
        Ok(Response::new(pb::StartRotationResponse { rotation: Some(self.reread(id).await?) }))
    }

    async fn complete_rotation(
        &self,
        request: Request<pb::CompleteRotationRequest>,
    ) -> Result<Response<pb::CompleteRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, COLLECTION));
        let actual_end = v.check("actual_end_date", convert::date(req.actual_end_date.as_ref()));
        let outcome = req.outcome.clone().unwrap_or_default();
        let rating = v.check("outcome.rating", optional_rating(outcome.rating)).flatten();
        let post_after_return = normalize_name(&outcome.post_after_return);
        if post_after_return.chars().count() > 200 {
            v.add("outcome.post_after_return", "is longer than 200 characters");
        }
        v.finish()?;
        let (id, actual_end) = (required(id, "name")?, required(actual_end, "actual_end_date")?);
        let row = rotation_for(&self.db, &ctx.principal, id, Use::Write).await?;
        check_etag(&req.etag, row.revision, &req.name)?;
        if actual_end <= row.fields.start_date {
            return Err(Error::invalid(
                "actual_end_date",
                format!("must be after the start date {}", row.fields.start_date),
            )
            .into());
        }
        if !row.status.can_become(Stage::Completed) {
            return Err(wrong_stage(&row, "completed").into());
        }
        let post = Some(post_after_return).filter(|p| !p.is_empty());
        let name = req.name.clone();
        write_txn!(&self.db, ctx, "CompleteRotation", name, |txn| {
            let return_id = complete_effects(&txn, &row, actual_end, post.as_deref()).await?;
            let columns = vec![
                ("status", Stage::Completed.as_str().into()),
                ("actual_end_date", Some(actual_end).into()),
                ("outcome_rating", rating.map(|r| r.as_str().to_owned()).into()),
                ("promoted", outcome.promoted.into()),
                ("post_after_return", post.clone().into()),
                ("return_placement_id", return_id.into()),
            ];
            if !rotations::update(&txn, id, row.revision, columns).await? {
                return Err(changed_concurrently(&name).into());
            }
        });
        Ok(Response::new(pb::CompleteRotationResponse { rotation: Some(self.reread(id).await?) }))
    }

    async fn cancel_rotation(
        &self,
        request: Request<pb::CancelRotationRequest>,
    ) -> Result<Response<pb::CancelRotationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let id = parse_id(&req.name, COLLECTION).map_err(|e| Error::invalid("name", e))?;
        let row = rotation_for(&self.db, &ctx.principal, id, Use::Write).await?;
        check_etag(&req.etag, row.revision, &req.name)?;
        if !row.status.can_become(Stage::Cancelled) {
            return Err(wrong_stage(&row, "cancelled").into());
        }
        let name = req.name.clone();
        write_txn!(&self.db, ctx, "CancelRotation", name, |txn| {
            let mut columns = vec![("status", Value::from(Stage::Cancelled.as_str()))];
            if row.status == Stage::Active {
                cancel_effects(&txn, &row).await?;
                columns.push(("destination_placement_id", Option::<i64>::None.into()));
                columns.push(("return_placement_id", Option::<i64>::None.into()));
            }
            if !rotations::update(&txn, id, row.revision, columns).await? {
                return Err(changed_concurrently(&name).into());
            }
        });
        Ok(Response::new(pb::CancelRotationResponse { rotation: Some(self.reread(id).await?) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_short_and_full_enum_names() {
        assert_eq!(
            parse_filter("kind = ROTATION AND status = ROTATION_STATUS_ACTIVE AND direction = downward"),
            Ok(vec![
                Condition::Kind(Kind::Rotation),
                Condition::Status(Stage::Active),
                Condition::Direction(Direction::Downward),
            ])
        );
        assert!(parse_filter("kind = PROMOTION").is_err());
        assert!(parse_filter("person = people/1").is_err());
        assert_eq!(parse_filter(""), Ok(vec![]));
    }
}
