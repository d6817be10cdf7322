//! LocalityService's messages to and from the feature's types. Each request is taken
//! apart field by field (no `..`), so a field added to the proto does not compile
//! until it is handled here.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::rules::{
    Code, Condition, Kind, Link, LocalityOrder, LocalityRecord, SuccessionKind, Tier, Version, check_tags,
    check_versions, shown_on,
};
use crate::{
    domain::{
        date::today,
        text::{fold, normalize_name},
    },
    edge::{
        Violations,
        enums::Table as _,
        etag::etag,
        filter::{self, Field},
        page::Page,
        request::{date, optional_date, request_key, timestamp, to_date, update_paths},
    },
    error::{Error, Result},
    grpc::pb,
    uow::RequestKey,
};

/// The fields UpdateLocality may change.
pub const UPDATABLE: &[&str] = &["tags", "versions"];

/// The filterable fields of locality lists.
const FILTER: &[Field<Condition>] = &[
    Field::value("tier", |equal, v| Ok(Condition::Tier { equal, tier: Tier::from_filter(v)? })),
    Field::value("kind", |equal, v| Ok(Condition::Kind { equal, kind: Kind::from_filter(v)? })),
    Field::set("tags", |has, v| Ok(Condition::Tag { has, tag: v.to_owned() })),
];

/// The sort keys of ListLocalities.
const ORDER: &[(&str, LocalityOrder)] = &[("code", LocalityOrder::Code), ("display_name", LocalityOrder::DisplayName)];

/// Parses a locality filter: `tier = COMMUNE AND kind != WARD AND tags:poor_district`.
pub fn parse_filter(text: &str) -> Result<Vec<Condition>, String> {
    filter::parse(text, FILTER)
}

/// Parses a locality order: `code` or `display_name`, optionally `desc`.
pub fn parse_order(text: &str) -> Result<(LocalityOrder, bool), String> {
    filter::order(text, ORDER, LocalityOrder::Code)
}

/// An optional locality name: empty is `None`.
pub fn optional_locality(name: &str) -> Result<Option<Code>, String> {
    if name.is_empty() { Ok(None) } else { Code::from_name(name).map(Some) }
}

/// A required display name, stored in NFC.
pub fn display_name(value: &str) -> Result<String, String> {
    let name = normalize_name(value);
    if name.is_empty() { Err("is required".to_owned()) } else { Ok(name) }
}

/// The date of a read: `as_of`, today when absent (a bad one is recorded).
fn as_of(v: &mut Violations, value: Option<&pb::Date>) -> NaiveDate {
    v.check("as_of", optional_date(value)).flatten().unwrap_or_else(today)
}

/// A version from the wire, field by field, its violations recorded under `path`.
fn version(v: &mut Violations, value: &pb::LocalityVersion, path: &str) -> Option<Version> {
    let pb::LocalityVersion { valid_from, valid_until, display_name: name, kind, parent } = value;
    let at = |field: &str| format!("{path}.{field}");
    let valid_from = v.check(at("valid_from"), date(valid_from.as_ref()));
    let valid_until = v.check(at("valid_until"), optional_date(valid_until.as_ref()));
    let display_name = v.check(at("display_name"), display_name(name));
    let kind = v.check(at("kind"), Kind::required(*kind));
    let parent = v.check(at("parent"), optional_locality(parent));
    Some(Version {
        valid_from: valid_from?,
        valid_until: valid_until?,
        display_name: display_name?,
        kind: kind?,
        parent: parent?,
    })
}

/// A history from the wire, checked against the rules that need no database.
fn versions(v: &mut Violations, code: Option<&Code>, values: &[pb::LocalityVersion], path: &str) -> Vec<Version> {
    let mut out = Vec::with_capacity(values.len());
    let mut complete = true;
    for (i, value) in values.iter().enumerate() {
        match version(v, value, &format!("{path}[{i}]")) {
            Some(version) => out.push(version),
            None => complete = false,
        }
    }
    if let Some(code) = code {
        if complete {
            v.extend(check_versions(code, &out, path));
        } else if values.is_empty() {
            v.add(path, "at least one version is required");
        }
    }
    out
}

fn version_to_pb(value: &Version) -> pb::LocalityVersion {
    pb::LocalityVersion {
        valid_from: Some(to_date(value.valid_from)),
        valid_until: value.valid_until.map(to_date),
        display_name: value.display_name.clone(),
        kind: value.kind.wire(),
        parent: value.parent.as_ref().map(Code::name).unwrap_or_default(),
    }
}

fn link_to_pb(value: &Link) -> pb::LocalityLink {
    pb::LocalityLink {
        locality: value.other.name(),
        kind: value.kind.wire(),
        effective_date: Some(to_date(value.effective_date)),
        display_name: value.other_name.clone().unwrap_or_default(),
    }
}

/// The wire form of a locality as of `as_of`.
pub fn locality_to_pb(record: &LocalityRecord, as_of: NaiveDate) -> pb::Locality {
    let (state, shown) = shown_on(&record.versions, as_of);
    pb::Locality {
        name: record.code.name(),
        code: record.code.as_str().to_owned(),
        tier: record.tier.wire(),
        display_name: shown.map(|v| v.display_name.clone()).unwrap_or_default(),
        kind: shown.map_or(pb::LocalityKind::Unspecified.into(), |v| v.kind.wire()),
        parent: shown.and_then(|v| v.parent.as_ref()).map(Code::name).unwrap_or_default(),
        tags: record.tags.clone(),
        versions: record.versions.iter().map(version_to_pb).collect(),
        state: state.into(),
        as_of: Some(to_date(as_of)),
        successors: record.successors.iter().map(link_to_pb).collect(),
        predecessors: record.predecessors.iter().map(link_to_pb).collect(),
        etag: etag(record.revision),
        create_time: Some(timestamp(record.create_time)),
        update_time: Some(timestamp(record.update_time)),
    }
}

/// A locality to create.
#[derive(Debug, Clone)]
pub struct NewLocality {
    /// Its code.
    pub code: Code,
    /// Its tier (matches the code).
    pub tier: Tier,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its history, checked by [`check_versions`].
    pub versions: Vec<Version>,
}

/// A checked CreateLocality request.
#[derive(Debug, Clone)]
pub struct CreateLocality {
    /// The locality.
    pub new: NewLocality,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
    /// Check only.
    pub validate_only: bool,
}

impl TryFrom<pb::CreateLocalityRequest> for CreateLocality {
    type Error = Error;

    fn try_from(request: pb::CreateLocalityRequest) -> Result<Self> {
        let mut v = Violations::new();
        let code = v.check("locality_id", Code::parse(&request.locality_id));
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateLocalityRequest { locality_id: _, locality, request_id: _, validate_only } = request;
        let Some(locality) = locality else {
            v.add("locality", "is required");
            return Err(v.into_error());
        };
        // Output-only fields, and the fields a version carries, are ignored on create.
        let pb::Locality {
            name: _,
            code: _,
            tier,
            display_name: _,
            kind: _,
            parent: _,
            tags,
            versions: history,
            state: _,
            as_of: _,
            successors: _,
            predecessors: _,
            etag: _,
            create_time: _,
            update_time: _,
        } = locality;
        let tier = v.check("locality.tier", Tier::required(tier));
        if let (Some(code), Some(tier)) = (&code, tier)
            && code.tier() != tier
        {
            v.add(
                "locality_id",
                format!(
                    "a {} code has {} digits; `{code}` has {}",
                    tier.as_str(),
                    tier.code_len(),
                    code.as_str().len()
                ),
            );
        }
        let versions = versions(&mut v, code.as_ref(), &history, "locality.versions");
        v.extend(check_tags(&tags, "locality.tags"));
        v.into_result(|| {
            Some(Self { new: NewLocality { code: code?, tier: tier?, tags, versions }, key, validate_only })
        })
    }
}

/// A checked GetLocality (or ListAncestors) request: a locality on a date.
#[derive(Debug, Clone)]
pub struct GetLocality {
    /// The locality.
    pub code: Code,
    /// The date.
    pub as_of: NaiveDate,
}

impl TryFrom<pb::GetLocalityRequest> for GetLocality {
    type Error = Error;

    fn try_from(request: pb::GetLocalityRequest) -> Result<Self> {
        let pb::GetLocalityRequest { name, as_of: date } = request;
        let mut v = Violations::new();
        let code = v.check("name", Code::from_name(&name));
        let as_of = as_of(&mut v, date.as_ref());
        v.into_result(|| Some(Self { code: code?, as_of }))
    }
}

impl TryFrom<pb::ListAncestorsRequest> for GetLocality {
    type Error = Error;

    fn try_from(request: pb::ListAncestorsRequest) -> Result<Self> {
        let pb::ListAncestorsRequest { name, as_of } = request;
        Self::try_from(pb::GetLocalityRequest { name, as_of })
    }
}

/// A checked list of localities (ListLocalities, ListDescendants, SearchLocalities).
#[derive(Debug, Clone)]
pub struct ListLocalities {
    /// ListLocalities: only children of this locality.
    pub parent: Option<Code>,
    /// ListDescendants: only descendants of this locality.
    pub descendants_of: Option<Code>,
    /// SearchLocalities: only names holding every one of these folded words.
    pub words: Vec<String>,
    /// The date of the tree.
    pub as_of: NaiveDate,
    /// The filter's conditions.
    pub conditions: Vec<Condition>,
    /// The order, and whether descending.
    pub order: (LocalityOrder, bool),
    /// The page asked for.
    pub page: Page,
}

impl TryFrom<pb::ListLocalitiesRequest> for ListLocalities {
    type Error = Error;

    fn try_from(request: pb::ListLocalitiesRequest) -> Result<Self> {
        let pb::ListLocalitiesRequest { parent: parent_name, as_of: date, page_size, page_token, filter, order_by } =
            request;
        let mut v = Violations::new();
        let parent = v.check("parent", optional_locality(&parent_name)).flatten();
        let as_of = as_of(&mut v, date.as_ref());
        let conditions = v.check("filter", parse_filter(&filter));
        let order = v.check("order_by", parse_order(&order_by));
        let day = as_of.to_string();
        let page = Page::parse(&mut v, page_size, &page_token, &[&parent_name, &day, &filter, &order_by]);
        v.into_result(|| {
            Some(Self {
                parent,
                descendants_of: None,
                words: Vec::new(),
                as_of,
                conditions: conditions?,
                order: order?,
                page: page?,
            })
        })
    }
}

impl TryFrom<pb::ListDescendantsRequest> for ListLocalities {
    type Error = Error;

    fn try_from(request: pb::ListDescendantsRequest) -> Result<Self> {
        let pb::ListDescendantsRequest { name, as_of: date, page_size, page_token, filter } = request;
        let mut v = Violations::new();
        let code = v.check("name", Code::from_name(&name));
        let as_of = as_of(&mut v, date.as_ref());
        let conditions = v.check("filter", parse_filter(&filter));
        let day = as_of.to_string();
        let page = Page::parse(&mut v, page_size, &page_token, &[&name, &day, &filter]);
        v.into_result(|| {
            Some(Self {
                parent: None,
                descendants_of: Some(code?),
                words: Vec::new(),
                as_of,
                conditions: conditions?,
                order: (LocalityOrder::Code, false),
                page: page?,
            })
        })
    }
}

impl TryFrom<pb::SearchLocalitiesRequest> for ListLocalities {
    type Error = Error;

    fn try_from(request: pb::SearchLocalitiesRequest) -> Result<Self> {
        let pb::SearchLocalitiesRequest { query, as_of: date, page_size, page_token, filter } = request;
        let mut v = Violations::new();
        let words: Vec<String> = fold(&query).split_whitespace().map(str::to_owned).collect();
        if words.is_empty() {
            v.add("query", "is required");
        } else if query.chars().count() > 200 {
            v.add("query", "is longer than 200 characters");
        }
        let as_of = as_of(&mut v, date.as_ref());
        let conditions = v.check("filter", parse_filter(&filter));
        let day = as_of.to_string();
        let page = Page::parse(&mut v, page_size, &page_token, &[&query, &day, &filter]);
        v.into_result(|| {
            Some(Self {
                parent: None,
                descendants_of: None,
                words,
                as_of,
                conditions: conditions?,
                order: (LocalityOrder::Code, false),
                page: page?,
            })
        })
    }
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct LocalityChanges {
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// New history (checked by [`check_versions`]).
    pub versions: Option<Vec<Version>>,
}

/// A checked UpdateLocality request.
#[derive(Debug, Clone)]
pub struct UpdateLocality {
    /// The locality.
    pub code: Code,
    /// The etag the caller read, if any.
    pub etag: String,
    /// What changes.
    pub changes: LocalityChanges,
}

impl TryFrom<pb::UpdateLocalityRequest> for UpdateLocality {
    type Error = Error;

    fn try_from(request: pb::UpdateLocalityRequest) -> Result<Self> {
        let pb::UpdateLocalityRequest { locality, update_mask } = request;
        let Some(locality) = locality else { return Err(Error::invalid("locality", "is required")) };
        // Only tags and versions can change; the rest is output only or fixed.
        let pb::Locality {
            name,
            code: _,
            tier: _,
            display_name: _,
            kind: _,
            parent: _,
            tags,
            versions: history,
            state: _,
            as_of: _,
            successors: _,
            predecessors: _,
            etag,
            create_time: _,
            update_time: _,
        } = locality;
        let mut v = Violations::new();
        let code = v.check("locality.name", Code::from_name(&name));
        let mut changes = LocalityChanges::default();
        for path in update_paths(&mut v, update_mask.as_ref(), UPDATABLE) {
            match path.as_str() {
                "versions" => changes.versions = Some(versions(&mut v, code.as_ref(), &history, "locality.versions")),
                "tags" => {
                    v.extend(check_tags(&tags, "locality.tags"));
                    changes.tags = Some(tags.clone());
                }
                _ => {}
            }
        }
        v.into_result(|| Some(Self { code: code?, etag, changes }))
    }
}

/// A checked DeleteLocality request.
#[derive(Debug, Clone)]
pub struct DeleteLocality {
    /// The locality.
    pub code: Code,
    /// The etag the caller read, if any.
    pub etag: String,
}

impl TryFrom<pb::DeleteLocalityRequest> for DeleteLocality {
    type Error = Error;

    fn try_from(request: pb::DeleteLocalityRequest) -> Result<Self> {
        let pb::DeleteLocalityRequest { name, etag } = request;
        let mut v = Violations::new();
        let code = v.check("name", Code::from_name(&name));
        v.into_result(|| Some(Self { code: code?, etag }))
    }
}

/// A locality begun by a reorganisation.
#[derive(Debug, Clone)]
pub struct Creation {
    /// Its code (new, or an ended code taken up again).
    pub code: Code,
    /// Its tier.
    pub tier: Tier,
    /// Its name.
    pub display_name: String,
    /// Its kind.
    pub kind: Kind,
    /// Its parent.
    pub parent: Option<Code>,
    /// Its tags.
    pub tags: Vec<String>,
}

/// A locality continuing with changes after a reorganisation.
#[derive(Debug, Clone)]
pub struct Amendment {
    /// Its code.
    pub code: Code,
    /// New name, if it changes.
    pub display_name: Option<String>,
    /// New kind, if it changes.
    pub kind: Option<Kind>,
    /// New parent, if it changes.
    pub parent: Option<Code>,
}

/// A reorganisation effective on one date.
#[derive(Debug, Clone)]
pub struct Reorganization {
    /// First day of the new organisation.
    pub effective_date: NaiveDate,
    /// Legal basis, for the audit log.
    pub legal_basis: String,
    /// Localities that end.
    pub endings: Vec<Code>,
    /// Localities that begin.
    pub creations: Vec<Creation>,
    /// Localities that continue with changes.
    pub amendments: Vec<Amendment>,
    /// Succession links (predecessor, successor, kind).
    pub links: Vec<(Code, Code, SuccessionKind)>,
}

impl Reorganization {
    /// Every locality whose versions the reorganisation changes.
    pub fn touched(&self) -> BTreeSet<Code> {
        self.endings
            .iter()
            .chain(self.creations.iter().map(|c| &c.code))
            .chain(self.amendments.iter().map(|a| &a.code))
            .cloned()
            .collect()
    }
}

/// A checked Reorganize request.
#[derive(Debug, Clone)]
pub struct Reorganize {
    /// The reorganisation.
    pub reorg: Reorganization,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
    /// Check only.
    pub validate_only: bool,
}

impl TryFrom<pb::ReorganizeRequest> for Reorganize {
    type Error = Error;

    fn try_from(request: pb::ReorganizeRequest) -> Result<Self> {
        let mut v = Violations::new();
        let effective_date = v.check("effective_date", date(request.effective_date.as_ref()));
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::ReorganizeRequest {
            effective_date: _,
            legal_basis,
            endings: ending_names,
            creations: wanted,
            amendments: changes,
            links: wire_links,
            request_id: _,
            validate_only,
        } = request;
        let legal_basis = normalize_name(&legal_basis);
        if legal_basis.chars().count() > 500 {
            v.add("legal_basis", "is longer than 500 characters");
        }
        let mut seen: BTreeSet<Code> = BTreeSet::new();
        let mut once = |v: &mut Violations, field: String, code: &Code| {
            if !seen.insert(code.clone()) {
                v.add(field, format!("{} appears more than once among endings, creations and amendments", code.name()));
            }
        };
        let mut endings = Vec::new();
        for (i, name) in ending_names.iter().enumerate() {
            if let Some(code) = v.check(format!("endings[{i}]"), Code::from_name(name)) {
                once(&mut v, format!("endings[{i}]"), &code);
                endings.push(code);
            }
        }
        let mut creations = Vec::new();
        for (i, c) in wanted.iter().enumerate() {
            let pb::LocalityCreation { locality_id, tier, display_name: name, kind, parent, tags } = c;
            let at = |f: &str| format!("creations[{i}].{f}");
            let code = v.check(at("locality_id"), Code::parse(locality_id));
            let tier = v.check(at("tier"), Tier::required(*tier));
            let display_name = v.check(at("display_name"), display_name(name));
            let kind = v.check(at("kind"), Kind::required(*kind));
            let parent = v.check(at("parent"), optional_locality(parent));
            v.extend(check_tags(tags, &at("tags")));
            if let (Some(code), Some(tier), Some(display_name), Some(kind), Some(parent)) =
                (code, tier, display_name, kind, parent)
            {
                if code.tier() != tier {
                    v.add(at("locality_id"), format!("a {} code has {} digits", tier.as_str(), tier.code_len()));
                }
                once(&mut v, at("locality_id"), &code);
                let version = Version { valid_from: NaiveDate::MIN, valid_until: None, display_name, kind, parent };
                for violation in check_versions(&code, std::slice::from_ref(&version), "creations") {
                    v.add(at(violation.field.rsplit('.').next().unwrap_or("parent")), violation.description);
                }
                creations.push(Creation {
                    code,
                    tier,
                    display_name: version.display_name,
                    kind: version.kind,
                    parent: version.parent,
                    tags: tags.clone(),
                });
            }
        }
        let mut amendments = Vec::new();
        for (i, a) in changes.iter().enumerate() {
            let pb::LocalityAmendment { locality, display_name: name, kind, parent } = a;
            let at = |f: &str| format!("amendments[{i}].{f}");
            let code = v.check(at("locality"), Code::from_name(locality));
            let display_name = if name.is_empty() { None } else { v.check(at("display_name"), display_name(name)) };
            let kind = v.check(at("kind"), Kind::optional(*kind)).flatten();
            let parent = v.check(at("parent"), optional_locality(parent)).flatten();
            if let Some(code) = code {
                once(&mut v, at("locality"), &code);
                if display_name.is_none() && kind.is_none() && parent.is_none() {
                    v.add(at("locality"), "an amendment must change the display name, the kind or the parent");
                }
                if let Some(kind) = kind.filter(|k| k.tier() != code.tier()) {
                    v.add(at("kind"), format!("{} is not a kind of the {} tier", kind.as_str(), code.tier().as_str()));
                }
                if let Some(parent) = &parent {
                    if parent == &code {
                        v.add(at("parent"), "a locality cannot be its own parent (cycle)");
                    } else if parent.tier() >= code.tier() {
                        v.add(
                            at("parent"),
                            format!("the parent must be of a higher tier than {}", code.tier().as_str()),
                        );
                    }
                }
                amendments.push(Amendment { code, display_name, kind, parent });
            }
        }
        let mut links = Vec::new();
        for (i, l) in wire_links.iter().enumerate() {
            let pb::SuccessionLink { predecessor, successor, kind } = l;
            let at = |f: &str| format!("links[{i}].{f}");
            let predecessor = v.check(at("predecessor"), Code::from_name(predecessor));
            let successor = v.check(at("successor"), Code::from_name(successor));
            let kind = v.check(at("kind"), SuccessionKind::required(*kind));
            if let (Some(p), Some(s), Some(k)) = (predecessor, successor, kind) {
                if p == s {
                    v.add(at("successor"), "a locality cannot succeed itself");
                }
                if links.iter().any(|(p2, s2, _)| p2 == &p && s2 == &s) {
                    v.add(format!("links[{i}]"), format!("repeats the link from {} to {}", p.name(), s.name()));
                }
                links.push((p, s, k));
            }
        }
        if ending_names.is_empty() && wanted.is_empty() && changes.is_empty() && wire_links.is_empty() {
            v.add("endings", "a reorganisation needs at least one ending, creation, amendment or link");
        }
        v.into_result(|| {
            let reorg =
                Reorganization { effective_date: effective_date?, legal_basis, endings, creations, amendments, links };
            Some(Self { reorg, key, validate_only })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conjunctions_of_tier_kind_and_tags_parse() {
        let parsed = parse_filter("tier = district AND kind != LOCALITY_KIND_TOWN AND tags:border_area");
        assert_eq!(
            parsed,
            Ok(vec![
                Condition::Tier { equal: true, tier: Tier::District },
                Condition::Kind { equal: false, kind: Kind::Town },
                Condition::Tag { has: true, tag: "border_area".to_owned() },
            ])
        );
        assert_eq!(
            parse_filter(r#"NOT tags:"poor_district""#),
            Ok(vec![Condition::Tag { has: false, tag: "poor_district".to_owned() }])
        );
        assert_eq!(parse_filter("  "), Ok(vec![]));
    }

    #[test]
    fn unknown_fields_and_values_are_errors() {
        assert!(parse_filter("population > 3").is_err());
        assert!(parse_filter("tier = HAMLET").is_err());
        assert!(parse_filter("kind:ward").is_err());
        assert!(parse_filter("tier").is_err());
    }

    #[test]
    fn order_by_accepts_code_and_display_name() {
        assert_eq!(parse_order(""), Ok((LocalityOrder::Code, false)));
        assert_eq!(parse_order("display_name desc"), Ok((LocalityOrder::DisplayName, true)));
        assert!(parse_order("population").is_err());
        assert!(parse_order("code sideways").is_err());
    }

    #[test]
    fn a_create_request_reports_every_bad_field_at_once() {
        let request = pb::CreateLocalityRequest {
            locality_id: "0646".into(),
            locality: Some(pb::Locality {
                tier: pb::LocalityTier::Commune.into(),
                tags: vec!["Bad Tag".into()],
                versions: vec![pb::LocalityVersion { kind: 99, ..Default::default() }],
                ..Default::default()
            }),
            request_id: "bad id".into(),
            validate_only: false,
        };
        let Err(Error::InvalidArgument(violations)) = CreateLocality::try_from(request) else {
            panic!("expected INVALID_ARGUMENT")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "locality_id",
                "request_id",
                "locality.versions[0].valid_from",
                "locality.versions[0].display_name",
                "locality.versions[0].kind",
                "locality.tags[0]"
            ]
        );
    }
}
