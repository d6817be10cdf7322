//! Position standards (tiêu chuẩn chức danh): which standard applies to a placement on
//! a date, and which of its minimums a person fails (đạt chuẩn).
//!
//! A standard narrows the placements it applies to by up to four optional criteria.
//! When several apply, the most specific wins, compared criterion by criterion in the
//! order post title, leadership, category, tier (so a standard naming the post beats
//! every standard that does not, whatever else they name); among equally specific
//! standards the one in force latest (the latest `effective_from`) wins, and the higher
//! id breaks a remaining tie so that the answer never depends on row order.
//!
//! Levels are compared by rank only: equal ranks are equivalent levels (a medical
//! specialist I, rank 60, meets a minimum of master, rank 60).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::{
    context::{Principal, Role},
    domain::{
        date::period_contains,
        text::{fold, normalize_name},
    },
    edge::{enums::Table as _, names::StandardName},
    enum_table,
    error::{Error, Result, Violation},
    grpc::pb,
    localities::rules::Tier,
    people::rules::person::Category,
    policy::require_national,
};

/// Longest display name of a standard, in characters.
pub const MAX_DISPLAY_NAME: usize = 300;
/// Longest post title of a standard, in characters.
pub const MAX_POST_TITLE: usize = 200;
/// Longest legal basis of a standard, in characters.
pub const MAX_LEGAL_BASIS: usize = 500;

/// Which placements a standard applies to by their leader flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leadership {
    /// Only leader or manager posts.
    Leaders,
    /// Only posts that are not leader posts.
    NonLeaders,
}

impl Leadership {
    /// Stable name stored in the database (the enum table's stored name).
    pub fn as_str(self) -> &'static str {
        self.stored()
    }

    /// The leadership stored under `name`.
    pub fn from_db(name: &str) -> Option<Self> {
        Self::from_stored(name)
    }

    /// Whether a post with this leader flag matches.
    pub fn matches(self, leader: bool) -> bool {
        match self {
            Self::Leaders => leader,
            Self::NonLeaders => !leader,
        }
    }
}

enum_table!(Leadership, pb::Leadership, "LEADERSHIP_", {
    Leaders => Leaders = "leaders",
    NonLeaders => NonLeaders = "non_leaders",
});

/// A level of a qualification scale: `scales/{scale}/levels/{level}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LevelRef {
    /// The scale's code, such as `professional`.
    pub scale: String,
    /// The level's code within the scale, such as `university`.
    pub level: String,
}

fn is_code(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 64
        && segment.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl LevelRef {
    /// A level from its codes, as stored.
    pub fn new(scale: impl Into<String>, level: impl Into<String>) -> Self {
        Self { scale: scale.into(), level: level.into() }
    }

    /// Parses a level resource name such as `scales/professional/levels/master`.
    pub fn from_name(name: &str) -> Result<Self, String> {
        let parts: Vec<&str> = name.split('/').collect();
        match parts.as_slice() {
            ["scales", scale, "levels", level] if is_code(scale) && is_code(level) => Ok(Self::new(*scale, *level)),
            _ => Err(format!(
                "`{name}` is not a level name of the form `scales/{{scale}}/levels/{{level}}` \
                 (codes of lower-case letters, digits and `_`)"
            )),
        }
    }

    /// The level's resource name.
    pub fn name(&self) -> String {
        format!("scales/{}/levels/{}", self.scale, self.level)
    }

    /// The resource name of the level's scale.
    pub fn scale_name(&self) -> String {
        format!("scales/{}", self.scale)
    }
}

/// A level with its rank on its scale; higher ranks are higher levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedLevel {
    /// The level.
    pub level: LevelRef,
    /// Its rank.
    pub rank: i32,
}

/// The placements a standard applies to; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applicability {
    /// Tier of the unit's locality.
    pub tier: Option<Tier>,
    /// Category of the person.
    pub category: Option<Category>,
    /// Leader or non-leader posts.
    pub leadership: Option<Leadership>,
    /// Post title, as given (NFC); matched by its folded form.
    pub post_title: Option<String>,
}

impl Applicability {
    /// How specific the standard is, ordered so that a greater value is more specific:
    /// post title, then leadership, then category, then tier.
    pub fn specificity(&self) -> (bool, bool, bool, bool) {
        (self.post_title.is_some(), self.leadership.is_some(), self.category.is_some(), self.tier.is_some())
    }

    /// Whether a placement with `facts` matches every criterion given.
    pub fn matches(&self, facts: &PostFacts) -> bool {
        self.tier.is_none_or(|t| facts.tier == Some(t))
            && self.category.is_none_or(|c| facts.category == Some(c))
            && self.leadership.is_none_or(|l| l.matches(facts.leader))
            && self.post_title.as_deref().is_none_or(|p| fold(p) == fold(&facts.post_title))
    }
}

/// What decides which standard applies to a person's placement on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFacts {
    /// Tier of the unit's locality on the date; `None` if the locality was not in force.
    pub tier: Option<Tier>,
    /// The person's category; `None` matches only standards for every category.
    pub category: Option<Category>,
    /// Whether the post is a leader post.
    pub leader: bool,
    /// The post title.
    pub post_title: String,
}

/// A standard as far as choosing one is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its id.
    pub id: i64,
    /// What it applies to.
    pub applies_to: Applicability,
    /// First day in force.
    pub effective_from: NaiveDate,
    /// First day no longer in force.
    pub effective_until: Option<NaiveDate>,
}

/// The standard that applies to `facts` on `day`: among those in force and matching,
/// the most specific, then the latest in force, then the highest id.
pub fn applicable<'a>(candidates: &'a [Candidate], facts: &PostFacts, day: NaiveDate) -> Option<&'a Candidate> {
    candidates
        .iter()
        .filter(|c| period_contains(c.effective_from, c.effective_until, day) && c.applies_to.matches(facts))
        .max_by_key(|c| (c.applies_to.specificity(), c.effective_from, c.id))
}

/// A minimum a person does not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    /// The level required.
    pub required: LevelRef,
    /// The highest level held on the scale, if any.
    pub held: Option<LevelRef>,
}

/// The minimums not met by a person whose highest level per scale (by scale code) is
/// `held`, in the order of `minimums`. A held level meets a minimum of equal rank.
pub fn unmet(minimums: &[RankedLevel], held: &BTreeMap<String, RankedLevel>) -> Vec<Unmet> {
    minimums
        .iter()
        .filter_map(|minimum| {
            let have = held.get(&minimum.level.scale);
            match have {
                Some(have) if have.rank >= minimum.rank => None,
                _ => Some(Unmet { required: minimum.level.clone(), held: have.map(|h| h.level.clone()) }),
            }
        })
        .collect()
}

/// The content of a standard that its writes check and store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardSpec {
    /// Title (NFC).
    pub display_name: String,
    /// What it applies to.
    pub applies_to: Applicability,
    /// First day in force.
    pub effective_from: NaiveDate,
    /// First day no longer in force.
    pub effective_until: Option<NaiveDate>,
    /// Minimum levels, at most one per scale.
    pub minimums: Vec<LevelRef>,
    /// Legal basis (NFC), possibly empty.
    pub legal_basis: String,
}

impl StandardSpec {
    /// The rules between fields, with field paths under `path` (such as `standard`).
    pub fn check(&self, path: &str) -> Vec<Violation> {
        let mut violations: Vec<Violation> =
            check_period(self.effective_from, self.effective_until, path).into_iter().collect();
        violations.extend(check_minimums(&self.minimums, path));
        violations
    }
}

/// A violation of `{path}.effective_until` if the period is empty.
pub fn check_period(from: NaiveDate, until: Option<NaiveDate>, path: &str) -> Option<Violation> {
    until.filter(|until| *until <= from).map(|until| {
        Violation::new(format!("{path}.effective_until"), format!("{until} must be after effective_from {from}"))
    })
}

/// Violations of a list of minimums: none at all, or a scale named twice (reported
/// at the later occurrences).
pub fn check_minimums(minimums: &[LevelRef], path: &str) -> Vec<Violation> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut violations = Vec::new();
    if minimums.is_empty() {
        violations.push(Violation::new(format!("{path}.minimum_levels"), "at least one minimum level is required"));
    }
    for (i, minimum) in minimums.iter().enumerate() {
        if let Some(first) = seen.get(minimum.scale.as_str()).copied() {
            violations.push(Violation::new(
                format!("{path}.minimum_levels[{i}]"),
                format!(
                    "names the scale `{}` again (first at minimum_levels[{first}]); give one per scale",
                    minimum.scale
                ),
            ));
        } else {
            seen.insert(&minimum.scale, i);
        }
    }
    violations
}

/// A required display name: NFC, 1 to 300 characters.
pub fn display_name(value: &str) -> Result<String, String> {
    let name = normalize_name(value);
    if name.is_empty() {
        Err("is required".to_owned())
    } else if name.chars().count() > MAX_DISPLAY_NAME {
        Err(format!("is longer than {MAX_DISPLAY_NAME} characters"))
    } else {
        Ok(name)
    }
}

/// An optional post title: NFC, at most 200 characters; empty is `None`.
pub fn post_title(value: &str) -> Result<Option<String>, String> {
    let title = normalize_name(value);
    if title.chars().count() > MAX_POST_TITLE {
        Err(format!("is longer than {MAX_POST_TITLE} characters"))
    } else {
        Ok(Some(title).filter(|t| !t.is_empty()))
    }
}

/// An optional legal basis: NFC, at most 500 characters.
pub fn legal_basis(value: &str) -> Result<String, String> {
    let basis = normalize_name(value);
    if basis.chars().count() > MAX_LEGAL_BASIS {
        Err(format!("is longer than {MAX_LEGAL_BASIS} characters"))
    } else {
        Ok(basis)
    }
}

/// Standards are national rules: changing them needs `admin` with a national scope.
pub fn require_national_admin(principal: &Principal) -> Result<()> {
    require_national(principal, "changing standards")?;
    if principal.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(Error::PermissionDenied("changing standards needs the admin role".to_owned()))
    }
}

/// A standard as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardRecord {
    /// Its id.
    pub id: i64,
    /// Its content; minimums ordered by scale code.
    pub spec: StandardSpec,
    /// Incremented on every change; the etag.
    pub revision: i64,
    /// When it was created here.
    pub create_time: DateTime<Utc>,
    /// When it last changed here.
    pub update_time: DateTime<Utc>,
}

impl StandardRecord {
    /// Its resource name.
    pub fn name(&self) -> StandardName {
        StandardName(self.id)
    }
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct StandardChanges {
    /// New title.
    pub display_name: Option<String>,
    /// New tier criterion (`Some(None)` clears it).
    pub tier: Option<Option<Tier>>,
    /// New category criterion.
    pub category: Option<Option<Category>>,
    /// New leadership criterion.
    pub leadership: Option<Option<Leadership>>,
    /// New post title criterion.
    pub post_title: Option<Option<String>>,
    /// New first day.
    pub effective_from: Option<NaiveDate>,
    /// New end (`Some(None)` makes it open-ended).
    pub effective_until: Option<Option<NaiveDate>>,
    /// New minimum levels.
    pub minimums: Option<Vec<LevelRef>>,
    /// New legal basis.
    pub legal_basis: Option<String>,
}

impl StandardChanges {
    /// `spec` with these changes.
    pub fn apply(&self, spec: &StandardSpec) -> StandardSpec {
        let mut out = spec.clone();
        let a = &mut out.applies_to;
        if let Some(v) = &self.display_name {
            out.display_name.clone_from(v);
        }
        if let Some(v) = self.tier {
            a.tier = v;
        }
        if let Some(v) = self.category {
            a.category = v;
        }
        if let Some(v) = self.leadership {
            a.leadership = v;
        }
        if let Some(v) = &self.post_title {
            a.post_title.clone_from(v);
        }
        if let Some(v) = self.effective_from {
            out.effective_from = v;
        }
        if let Some(v) = self.effective_until {
            out.effective_until = v;
        }
        if let Some(v) = &self.minimums {
            out.minimums.clone_from(v);
        }
        if let Some(v) = &self.legal_basis {
            out.legal_basis.clone_from(v);
        }
        out
    }

    /// The violations of the updated `spec`: its own rules, a period made empty by a
    /// new start blamed on the start.
    pub fn check(&self, spec: &StandardSpec) -> Vec<Violation> {
        spec.check("standard")
            .into_iter()
            .map(|v| {
                if v.field == "standard.effective_until" && self.effective_until.is_none() {
                    Violation::new(
                        "standard.effective_from",
                        format!("must be before effective_until; {}", v.description),
                    )
                } else {
                    v
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn candidate(id: i64, applies_to: Applicability, from: NaiveDate, until: Option<NaiveDate>) -> Candidate {
        Candidate { id, applies_to, effective_from: from, effective_until: until }
    }

    fn commune_civil_servant() -> Applicability {
        Applicability { tier: Some(Tier::Commune), category: Some(Category::CivilServant), ..Default::default() }
    }

    fn facts(post: &str, leader: bool) -> PostFacts {
        PostFacts {
            tier: Some(Tier::Commune),
            category: Some(Category::CivilServant),
            leader,
            post_title: post.to_owned(),
        }
    }

    fn ranked(scale: &str, level: &str, rank: i32) -> RankedLevel {
        RankedLevel { level: LevelRef::new(scale, level), rank }
    }

    #[test]
    fn the_standard_in_force_changes_on_the_decree_date() {
        let decree = day(2023, 8, 1);
        let standards = [
            candidate(1, commune_civil_servant(), day(2020, 1, 1), Some(decree)),
            candidate(2, commune_civil_servant(), decree, None),
        ];
        let post = facts("Công chức Văn phòng - Thống kê", false);
        assert_eq!(applicable(&standards, &post, day(2023, 7, 31)).map(|c| c.id), Some(1));
        assert_eq!(applicable(&standards, &post, decree).map(|c| c.id), Some(2));
        assert_eq!(applicable(&standards, &post, day(2019, 12, 31)).map(|c| c.id), None);
    }

    #[test]
    fn the_most_specific_standard_wins_post_over_leadership_over_category_over_tier() {
        let from = day(2020, 1, 1);
        let post = Applicability { post_title: Some("Chủ tịch UBND xã".into()), ..Default::default() };
        let leaders = Applicability {
            leadership: Some(Leadership::Leaders),
            tier: Some(Tier::Commune),
            category: Some(Category::CivilServant),
            ..Default::default()
        };
        let category = Applicability { category: Some(Category::CivilServant), ..Default::default() };
        let tier = Applicability { tier: Some(Tier::Commune), ..Default::default() };
        let chair = facts("CHỦ TỊCH ubnd XÃ", true);
        let all = [
            candidate(1, tier.clone(), from, None),
            candidate(2, category.clone(), from, None),
            candidate(3, leaders.clone(), from, None),
            candidate(4, post, from, None),
        ];
        assert_eq!(applicable(&all, &chair, from).map(|c| c.id), Some(4), "post titles match folded");
        assert_eq!(applicable(&all[..3], &chair, from).map(|c| c.id), Some(3));
        assert_eq!(applicable(&all[..2], &chair, from).map(|c| c.id), Some(2));
        assert_eq!(applicable(&all[..1], &chair, from).map(|c| c.id), Some(1));
        // The leader standard does not apply to a non-leader post.
        assert_eq!(applicable(&all[..3], &facts("Công chức Tư pháp", false), from).map(|c| c.id), Some(2));
    }

    #[test]
    fn among_equally_specific_standards_the_latest_in_force_wins() {
        let older = candidate(7, commune_civil_servant(), day(2020, 1, 1), None);
        let newer = candidate(3, commune_civil_servant(), day(2022, 1, 1), None);
        let both = [older, newer];
        assert_eq!(applicable(&both, &facts("x", false), day(2024, 1, 1)).map(|c| c.id), Some(3));
        assert_eq!(applicable(&both, &facts("x", false), day(2021, 1, 1)).map(|c| c.id), Some(7));
    }

    #[test]
    fn criteria_that_do_not_match_exclude_a_standard() {
        let from = day(2020, 1, 1);
        let district = Applicability { tier: Some(Tier::District), ..Default::default() };
        let employees = Applicability { category: Some(Category::PublicEmployee), ..Default::default() };
        let non_leaders = Applicability { leadership: Some(Leadership::NonLeaders), ..Default::default() };
        let other_post = Applicability { post_title: Some("Phó Chủ tịch".into()), ..Default::default() };
        let standards = [
            candidate(1, district, from, None),
            candidate(2, employees, from, None),
            candidate(3, non_leaders, from, None),
            candidate(4, other_post, from, None),
        ];
        assert_eq!(applicable(&standards, &facts("Chủ tịch", true), from), None);
        let unknown_tier = PostFacts { tier: None, ..facts("Chủ tịch", true) };
        assert!(!Applicability { tier: Some(Tier::Commune), ..Default::default() }.matches(&unknown_tier));
        assert!(Applicability::default().matches(&unknown_tier));
    }

    #[test]
    fn equal_ranks_are_equivalent_levels() {
        let minimums = [ranked("professional", "master", 60)];
        let specialist =
            BTreeMap::from([("professional".to_owned(), ranked("professional", "medical_specialist_1", 60))]);
        assert!(unmet(&minimums, &specialist).is_empty());
        let doctor = BTreeMap::from([("professional".to_owned(), ranked("professional", "doctorate", 70))]);
        assert!(unmet(&minimums, &doctor).is_empty());
    }

    #[test]
    fn every_unmet_minimum_is_named_with_the_level_held() {
        let minimums = [
            ranked("professional", "university", 50),
            ranked("political_theory", "intermediate", 30),
            ranked("it", "basic", 20),
        ];
        let held = BTreeMap::from([
            ("professional".to_owned(), ranked("professional", "college", 40)),
            ("it".to_owned(), ranked("it", "advanced", 30)),
        ]);
        assert_eq!(
            unmet(&minimums, &held),
            [
                Unmet {
                    required: LevelRef::new("professional", "university"),
                    held: Some(LevelRef::new("professional", "college")),
                },
                Unmet { required: LevelRef::new("political_theory", "intermediate"), held: None },
            ]
        );
    }

    #[test]
    fn level_names_parse_and_print() {
        let level = LevelRef::from_name("scales/professional/levels/medical_specialist_1");
        assert_eq!(level, Ok(LevelRef::new("professional", "medical_specialist_1")));
        assert_eq!(level.map(|l| (l.name(), l.scale_name())).unwrap_or_default().1, "scales/professional");
        for bad in [
            "",
            "scales/professional",
            "scales//levels/x",
            "scales/a/levels/B",
            "levels/a/scales/b",
            "scales/a/levels/b/c",
        ] {
            assert!(LevelRef::from_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_spec_needs_an_ordered_period_and_one_minimum_per_scale() {
        let spec = StandardSpec {
            display_name: "x".into(),
            applies_to: Applicability::default(),
            effective_from: day(2023, 8, 1),
            effective_until: Some(day(2023, 8, 1)),
            minimums: vec![
                LevelRef::new("professional", "university"),
                LevelRef::new("it", "basic"),
                LevelRef::new("professional", "master"),
            ],
            legal_basis: String::new(),
        };
        let fields: Vec<String> = spec.check("standard").into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["standard.effective_until", "standard.minimum_levels[2]"]);
        let empty = StandardSpec { minimums: vec![], effective_until: None, ..spec };
        let fields: Vec<String> = empty.check("standard").into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["standard.minimum_levels"]);
    }

    #[test]
    fn text_fields_are_normalised_and_bounded() {
        assert_eq!(display_name("  Công  chức xã "), Ok("Công chức xã".to_owned()));
        assert!(display_name(" ").is_err());
        assert!(display_name(&"a".repeat(301)).is_err());
        assert!(display_name(&"ă".repeat(300)).is_ok());
        assert_eq!(post_title(""), Ok(None));
        assert!(post_title(&"a".repeat(201)).is_err());
        assert!(legal_basis(&"a".repeat(501)).is_err());
        assert_eq!(legal_basis(""), Ok(String::new()));
    }

    #[test]
    fn stored_names_round_trip() {
        for leadership in [Leadership::Leaders, Leadership::NonLeaders] {
            assert_eq!(Leadership::from_db(leadership.as_str()), Some(leadership));
        }
    }
}
