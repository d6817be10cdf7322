//! ReportService: the aggregate figures, computed in the database per report scope.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    Violations, convert,
    pb::{self, report_service_server::ReportService},
    person::{category, category_to_pb},
    required,
};
use crate::{
    auth::{Access, RequestContext, Role, authorize, authorize_national},
    domain::{
        date::today,
        facts::parse_levels_key,
        filter::{Condition, LocalityOrder},
        locality::{Code, Tier, check_tags},
        person::Category,
        report::{
            AGE_BANDS, CellValue, ComplianceTally, MAX_EVALUATION_YEARS, MEETING_LABEL, NOT_RATED_LABEL, PostGroup,
            RATINGS, WHOLE_COUNTRY_LABEL, WITH_STANDARD_LABEL, ordered_cells,
        },
        standard::{Candidate, LevelRef, RankedLevel},
        text::fold,
    },
    edge::enums::Table as _,
    error::Result,
    store::{
        facts,
        locality::{self as localities, ListQuery},
        report::{self as reports, GroupCounts, Population},
        standard as standards,
    },
    units::Sector,
};

/// The ReportService implementation.
#[derive(Debug, Clone)]
pub struct ReportApi {
    pub(super) db: DatabaseConnection,
    pub(super) suppression_threshold: i64,
}

impl ReportApi {
    /// A service over `db` that hides cells smaller than `suppression_threshold` from
    /// callers without the personal-data role.
    pub fn new(db: DatabaseConnection, suppression_threshold: i64) -> Self {
        Self { db, suppression_threshold }
    }
}

/// The scope locality that stands for the whole country.
const WHOLE_COUNTRY: &str = "localities/-";

/// Checks a report scope and turns it into a population (tags resolved later).
fn population(v: &mut Violations, scope: Option<&pb::ReportScope>) -> Option<Population> {
    let Some(scope) = scope else {
        v.add("scope", "is required");
        return None;
    };
    // `localities/-` is the whole country.
    let root = if scope.locality == WHOLE_COUNTRY {
        Some(None)
    } else {
        v.check("scope.locality", Code::from_name(&scope.locality)).map(Some)
    };
    let as_of = v.check("scope.as_of", convert::optional_date(scope.as_of.as_ref())).flatten().unwrap_or_else(today);
    let tiers: Vec<_> = scope
        .tiers
        .iter()
        .enumerate()
        .filter_map(|(i, t)| v.check(format!("scope.tiers[{i}]"), convert::tier(*t)))
        .collect();
    let categories: Vec<_> = scope
        .categories
        .iter()
        .enumerate()
        .filter_map(|(i, c)| v.check(format!("scope.categories[{i}]"), category(*c)))
        .collect();
    let sectors: Vec<String> = scope
        .sectors
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            v.check(format!("scope.sectors[{i}]"), Sector::required(*s)).map(|s| s.stored().to_owned())
        })
        .collect();
    v.extend(check_tags(&scope.locality_tags, "scope.locality_tags"));
    Some(Population {
        root: root?,
        as_of,
        tiers,
        categories,
        sectors,
        leaders_only: scope.leaders_only,
        key_posts_only: scope.key_posts_only,
        tags: scope.locality_tags.clone(),
        root_tagged: false,
        by_child: scope.breakdown_by_child,
        tree: None,
    })
}

pub(super) fn cell_to_pb(cell: &CellValue) -> pb::Cell {
    pb::Cell {
        key: cell.key.clone(),
        label: cell.label.clone(),
        count: cell.count,
        denominator: cell.denominator,
        percent: cell.percent(),
        cumulative_count: cell.cumulative.unwrap_or_default(),
        cumulative_percent: cell
            .cumulative
            .map(|c| crate::domain::report::percent(c, cell.denominator))
            .unwrap_or_default(),
        suppressed: cell.suppressed,
    }
}

/// Hides the cells smaller than `threshold`, if the caller gets one, and puts them on
/// the wire.
pub(super) fn cells_out(mut cells: Vec<CellValue>, threshold: Option<i64>) -> Vec<pb::Cell> {
    if let Some(threshold) = threshold {
        cells.iter_mut().for_each(|c| c.suppress_below(threshold));
    }
    cells.iter().map(cell_to_pb).collect()
}

/// Adds `other` into `total`.
fn accumulate(total: &mut GroupCounts, other: &GroupCounts) {
    total.heads.headcount += other.heads.headcount;
    total.heads.leaders += other.heads.leaders;
    for (key, n) in &other.cells {
        *total.cells.entry(key.clone()).or_default() += n;
    }
    for (key, n) in &other.ranks {
        *total.ranks.entry(key.clone()).or_default() += n;
    }
}

struct ProfileBuilder<'a> {
    levels: &'a BTreeMap<String, Vec<(i32, String, String)>>,
    threshold: Option<i64>,
}

impl ProfileBuilder<'_> {
    fn finish(&self, cells: Vec<CellValue>) -> Vec<pb::Cell> {
        cells_out(cells, self.threshold)
    }

    fn profile(&self, locality: String, display_name: String, counts: &GroupCounts) -> pb::WorkforceProfile {
        let headcount = counts.heads.headcount;
        let mut distributions = Vec::new();
        for (scale, levels) in self.levels {
            // One cell per rank: equal ranks are equivalent levels.
            let mut by_rank: BTreeMap<i32, (String, Vec<String>)> = BTreeMap::new();
            for (rank, code, label) in levels {
                let entry =
                    by_rank.entry(*rank).or_insert_with(|| (format!("scales/{scale}/levels/{code}"), Vec::new()));
                entry.1.push(label.clone());
            }
            let ranks = by_rank
                .into_iter()
                .map(|(rank, (key, labels))| {
                    let count = counts.ranks.get(&(scale.clone(), rank)).copied().unwrap_or_default();
                    (rank, key, labels.join(" / "), count)
                })
                .collect();
            distributions.push(pb::Distribution {
                dimension: format!("scales/{scale}"),
                cells: self.finish(ordered_cells(ranks, headcount, "Chưa có trình độ ghi nhận")),
            });
        }
        let plain = |dimension: &str, keys: &[(&str, &str)]| pb::Distribution {
            dimension: dimension.to_owned(),
            cells: self.finish(
                keys.iter()
                    .map(|(key, label)| {
                        let count =
                            counts.cells.get(&(dimension.to_owned(), (*key).to_owned())).copied().unwrap_or_default();
                        CellValue::new(*key, *label, count, headcount)
                    })
                    .collect(),
            ),
        };
        distributions.push(plain("age_band", &AGE_BANDS));
        distributions.push(plain("gender", &[("female", "Nữ"), ("male", "Nam")]));
        distributions.push(plain("ethnic_minority", &[("minority", "Dân tộc thiểu số"), ("kinh", "Kinh")]));
        let leaders =
            self.finish(vec![CellValue::new("leaders", "Lãnh đạo, quản lý", counts.heads.leaders, headcount)]);
        pb::WorkforceProfile { locality, display_name, headcount, leaders: leaders.into_iter().next(), distributions }
    }
}

impl ReportApi {
    /// Whether the root or one of its ancestors on the date carries one of the tags.
    async fn root_tagged(&self, population: &Population) -> Result<bool> {
        if population.tags.is_empty() {
            return Ok(false);
        }
        let Some(root) = &population.root else { return Ok(false) };
        let mut chain = vec![root.clone()];
        let mut current = root.clone();
        while let Some(parent) =
            localities::version_at(&self.db, &current, population.as_of).await?.and_then(|v| v.parent)
        {
            chain.push(parent.clone());
            current = parent;
            if chain.len() > 3 {
                break;
            }
        }
        let records = localities::load(&self.db, &chain).await?;
        Ok(records.iter().any(|r| r.tags.iter().any(|t| population.tags.contains(t))))
    }

    /// Checks the scope, authorizes the caller over its locality and resolves its tags.
    pub(super) async fn authorized_population(
        &self,
        ctx: &RequestContext,
        mut v: Violations,
        scope: Option<&pb::ReportScope>,
    ) -> Result<Population> {
        let population = population(&mut v, scope);
        v.finish()?;
        let mut population = required(population, "scope")?;
        match &population.root {
            Some(root) => authorize(&self.db, &ctx.principal, root, Access::Read).await?,
            None => authorize_national(&ctx.principal, Access::Read)?,
        }
        // Writes that bypassed the server (SQL by hand) leave people pending: bring
        // their facts in step before counting.
        if facts::any_pending(&self.db).await? {
            facts::catch_up(&self.db).await?;
        }
        population.root_tagged = self.root_tagged(&population).await?;
        reports::resolve_tree(&self.db, &mut population).await?;
        Ok(population)
    }

    /// The suppression threshold for this caller, if any.
    pub(super) fn threshold(&self, ctx: &RequestContext) -> Option<i64> {
        (!ctx.principal.has_role(Role::PersonalDataReader)).then_some(self.suppression_threshold)
    }

    /// The workforce profile of an authorized population: the path of
    /// GetWorkforceProfile and CompareWorkforceProfiles.
    async fn workforce_profile(
        &self,
        threshold: Option<i64>,
        population: &Population,
    ) -> Result<pb::GetWorkforceProfileResponse> {
        let places = self.places(population).await?;
        let snapshot = reports::snapshot(&self.db).await?;
        let levels = reports::scale_levels(&snapshot).await?;
        let groups = reports::workforce_counts(&snapshot, population, &levels).await?;
        snapshot.rollback().await?;
        let builder = ProfileBuilder { levels: &levels, threshold };
        let mut total = GroupCounts::default();
        groups.values().for_each(|g| accumulate(&mut total, g));
        let empty = GroupCounts::default();
        let profile = |place: &Place| {
            builder.profile(place.name.clone(), place.display_name.clone(), groups.get(&place.group).unwrap_or(&empty))
        };
        Ok(pb::GetWorkforceProfileResponse {
            as_of: Some(convert::to_date(population.as_of)),
            total: Some(builder.profile(places.total.name.clone(), places.total.display_name.clone(), &total)),
            children: places.children.iter().map(profile).collect(),
            own_units: places.own_units.as_ref().map(profile),
        })
    }

    /// The places a report's groups stand for: the scope, its children on the date when
    /// broken down, and its own units.
    pub(super) async fn places(&self, population: &Population) -> Result<Places> {
        let name_on = |record: &localities::LocalityRecord| {
            record
                .versions
                .iter()
                .find(|v| v.contains(population.as_of))
                .map(|v| v.display_name.clone())
                .unwrap_or_default()
        };
        let place = |record: &localities::LocalityRecord| Place {
            name: record.code.name(),
            display_name: name_on(record),
            group: record.code.as_str().to_owned(),
        };
        let root = match &population.root {
            Some(code) => Some(
                localities::load_one(&self.db, code)
                    .await?
                    .ok_or_else(|| crate::error::Error::NotFound(code.name()))?,
            ),
            None => None,
        };
        let total = match &root {
            Some(root) => place(root),
            None => Place {
                name: WHOLE_COUNTRY.to_owned(),
                display_name: WHOLE_COUNTRY_LABEL.to_owned(),
                group: String::new(),
            },
        };
        let mut children = Vec::new();
        let mut own_units = None;
        if population.by_child {
            let query = ListQuery {
                parent: population.root.clone(),
                conditions: if population.root.is_none() {
                    vec![Condition::Tier { equal: true, tier: Tier::Province }]
                } else {
                    Vec::new()
                },
                order: LocalityOrder::Code,
                ..ListQuery::in_force(population.as_of, None, 1000, None)
            };
            let page = localities::list(&self.db, &query).await?;
            children = localities::load(&self.db, &page.codes).await?.iter().map(place).collect();
            own_units = root.as_ref().map(place);
        }
        Ok(Places { total, children, own_units })
    }
}

/// A group of a report and the locality it stands for.
pub(super) struct Place {
    /// Resource name of the locality (`localities/-` for the whole country).
    pub(super) name: String,
    /// Its name on the date.
    pub(super) display_name: String,
    /// The group key of the report queries.
    pub(super) group: String,
}

/// The groups of a report.
pub(super) struct Places {
    /// The scope.
    pub(super) total: Place,
    /// Its children on the date, when broken down.
    pub(super) children: Vec<Place>,
    /// Its own units, when broken down (not for the whole country).
    pub(super) own_units: Option<Place>,
}

/// Compliance tallies of one group: overall and per (tier, category).
#[derive(Default)]
struct GroupCompliance {
    all: ComplianceTally,
    by_post: BTreeMap<(Tier, Category), ComplianceTally>,
}

impl GroupCompliance {
    fn add(
        &mut self,
        group: &PostGroup,
        candidates: &[Candidate],
        minimums: &BTreeMap<i64, Vec<RankedLevel>>,
        day: NaiveDate,
    ) {
        self.all.add(group, candidates, minimums, day);
        if let (Some(tier), Some(category)) = (group.tier, group.category) {
            self.by_post.entry((tier, category)).or_default().add(group, candidates, minimums, day);
        }
    }
}

/// The change of a cell from `base` to `other`; hidden when either is suppressed.
fn cell_delta(base: Option<&pb::Cell>, other: Option<&pb::Cell>) -> pb::CellDelta {
    let empty = pb::Cell::default();
    let (b, o) = (base.unwrap_or(&empty), other.unwrap_or(&empty));
    let (key, label) = if base.is_some() { (&b.key, &b.label) } else { (&o.key, &o.label) };
    let suppressed = b.suppressed || o.suppressed;
    pb::CellDelta {
        key: key.clone(),
        label: label.clone(),
        count_delta: if suppressed { 0 } else { o.count - b.count },
        percentage_point_delta: if suppressed { 0.0 } else { o.percent - b.percent },
        suppressed,
    }
}

/// The changes of every distribution of the total from `base` to `other`, matched by
/// dimension and key, in the order of `base` (then what only `other` has).
fn distribution_deltas(base: &pb::WorkforceProfile, other: &pb::WorkforceProfile) -> Vec<pb::DistributionDelta> {
    let mut dimensions: Vec<&str> = base.distributions.iter().map(|d| d.dimension.as_str()).collect();
    for d in &other.distributions {
        if !dimensions.contains(&d.dimension.as_str()) {
            dimensions.push(&d.dimension);
        }
    }
    let find = |profile: &'_ pb::WorkforceProfile, dimension: &str| -> Vec<pb::Cell> {
        profile.distributions.iter().find(|d| d.dimension == dimension).map(|d| d.cells.clone()).unwrap_or_default()
    };
    dimensions
        .into_iter()
        .map(|dimension| {
            let (b, o) = (find(base, dimension), find(other, dimension));
            let mut keys: Vec<&str> = b.iter().map(|c| c.key.as_str()).collect();
            for c in &o {
                if !keys.contains(&c.key.as_str()) {
                    keys.push(&c.key);
                }
            }
            let cells = keys
                .into_iter()
                .map(|key| cell_delta(b.iter().find(|c| c.key == key), o.iter().find(|c| c.key == key)))
                .collect();
            pb::DistributionDelta { dimension: dimension.to_owned(), cells }
        })
        .collect()
}

/// The stream of ExportReport (rendered in `report_export`): every message is ready
/// before the first is sent.
pub type ExportReportStream = tokio_stream::Iter<std::vec::IntoIter<Result<pb::ExportReportResponse, Status>>>;

#[tonic::async_trait]
impl ReportService for ReportApi {
    async fn get_workforce_profile(
        &self,
        request: Request<pb::GetWorkforceProfileRequest>,
    ) -> Result<Response<pb::GetWorkforceProfileResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let population = self.authorized_population(&ctx, Violations::new(), req.scope.as_ref()).await?;
        Ok(Response::new(self.workforce_profile(self.threshold(&ctx), &population).await?))
    }

    async fn summarize_evaluations(
        &self,
        request: Request<pb::SummarizeEvaluationsRequest>,
    ) -> Result<Response<pb::SummarizeEvaluationsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        if req.first_year <= 0 {
            v.add("first_year", "is required");
        } else if req.last_year < req.first_year {
            v.add("last_year", "must not be before first_year");
        } else if req.last_year - req.first_year >= MAX_EVALUATION_YEARS {
            v.add("last_year", format!("spans more than {MAX_EVALUATION_YEARS} years"));
        }
        let population = self.authorized_population(&ctx, v, req.scope.as_ref()).await?;
        let threshold = self.threshold(&ctx);
        let snapshot = reports::snapshot(&self.db).await?;
        let (headcount, counts) =
            reports::evaluation_counts(&snapshot, &population, req.first_year, req.last_year).await?;
        snapshot.rollback().await.map_err(crate::error::Error::from)?;
        let finish = |cells: Vec<CellValue>| cells_out(cells, threshold);
        let years = (req.first_year..=req.last_year)
            .map(|year| {
                let count = |rating: &str| counts.get(&(year, rating.to_owned())).copied().unwrap_or_default();
                let rank_of = |i: usize| i32::try_from(RATINGS.len() - i).unwrap_or_default();
                let ranks = RATINGS
                    .iter()
                    .enumerate()
                    .map(|(i, (key, label))| (rank_of(i), (*key).to_owned(), (*label).to_owned(), count(key)))
                    .collect();
                let mut cells = ordered_cells(ranks, headcount, NOT_RATED_LABEL);
                if let Some(last) = cells.last_mut() {
                    last.key = "not_rated".to_owned();
                }
                let good_or_better = finish(vec![CellValue::new(
                    "good_or_better",
                    "Hoàn thành tốt nhiệm vụ trở lên",
                    count("excellent") + count("good"),
                    headcount,
                )]);
                pb::EvaluationYear { year, cells: finish(cells), good_or_better: good_or_better.into_iter().next() }
            })
            .collect();
        Ok(Response::new(pb::SummarizeEvaluationsResponse {
            as_of: Some(convert::to_date(population.as_of)),
            headcount,
            years,
        }))
    }

    async fn get_standard_compliance(
        &self,
        request: Request<pb::GetStandardComplianceRequest>,
    ) -> Result<Response<pb::GetStandardComplianceResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let population = self.authorized_population(&ctx, Violations::new(), req.scope.as_ref()).await?;
        let threshold = self.threshold(&ctx);
        let day = population.as_of;
        let places = self.places(&population).await?;

        let snapshot = reports::snapshot(&self.db).await?;
        let candidates = standards::in_force(&snapshot, day).await?;
        let mut minimums = BTreeMap::new();
        for candidate in &candidates {
            minimums.insert(candidate.id, standards::ranked_minimums(&snapshot, candidate.id).await?);
        }
        let mut titles: Vec<String> =
            candidates.iter().filter_map(|c| c.applies_to.post_title.as_deref().map(fold)).collect();
        titles.sort();
        titles.dedup();
        let rows = reports::post_rows(&snapshot, &population, &titles).await?;
        let levels = reports::scale_levels(&snapshot).await?;
        snapshot.rollback().await.map_err(crate::error::Error::from)?;

        let rank_of = reports::ranks(&levels);
        let mut total = GroupCompliance::default();
        let mut groups: BTreeMap<String, GroupCompliance> = BTreeMap::new();
        for row in &rows {
            let held = parse_levels_key(&row.levels)
                .filter_map(|(scale, level)| {
                    rank_of
                        .get(&(scale, level))
                        .map(|rank| (scale.to_owned(), RankedLevel { level: LevelRef::new(scale, level), rank: *rank }))
                })
                .collect();
            let group = PostGroup {
                tier: Tier::from_code_len(row.tier_len),
                category: Category::from_db(&row.category),
                leader: row.leader,
                title: row.title.clone(),
                held,
                people: row.people,
            };
            total.add(&group, &candidates, &minimums, day);
            groups.entry(row.grp.clone()).or_default().add(&group, &candidates, &minimums, day);
        }

        let label_of = |level: &LevelRef| {
            levels
                .get(&level.scale)
                .and_then(|ls| ls.iter().find(|(_, code, _)| *code == level.level))
                .map(|(_, _, label)| label.clone())
                .unwrap_or_default()
        };
        let finish = |cell: CellValue| cells_out(vec![cell], threshold).into_iter().next();
        let standard_cells = |t: &ComplianceTally| {
            (
                finish(CellValue::new("with_standard", WITH_STANDARD_LABEL, t.with_standard, t.headcount)),
                finish(CellValue::new("meeting", MEETING_LABEL, t.meeting, t.with_standard)),
            )
        };
        let summary = |place: &Place, g: &GroupCompliance| {
            let (with_standard, meeting) = standard_cells(&g.all);
            pb::ComplianceSummary {
                locality: place.name.clone(),
                display_name: place.display_name.clone(),
                headcount: g.all.headcount,
                with_standard,
                meeting,
                breakdown: g
                    .by_post
                    .iter()
                    .map(|((tier, category), t)| {
                        let (with_standard, meeting) = standard_cells(t);
                        pb::ComplianceBreakdown {
                            tier: convert::tier_to_pb(*tier).into(),
                            category: category_to_pb(*category).into(),
                            headcount: t.headcount,
                            with_standard,
                            meeting,
                        }
                    })
                    .collect(),
                missed_minimums: g
                    .all
                    .most_missed()
                    .into_iter()
                    .filter_map(|(level, n)| {
                        finish(CellValue::new(level.name(), label_of(level), n, g.all.with_standard))
                    })
                    .collect(),
            }
        };
        let empty = GroupCompliance::default();
        let of = |place: &Place| summary(place, groups.get(&place.group).unwrap_or(&empty));
        Ok(Response::new(pb::GetStandardComplianceResponse {
            as_of: Some(convert::to_date(day)),
            total: Some(summary(&places.total, &total)),
            children: places.children.iter().map(of).collect(),
            own_units: places.own_units.as_ref().map(of),
        }))
    }

    async fn compare_workforce_profiles(
        &self,
        request: Request<pb::CompareWorkforceProfilesRequest>,
    ) -> Result<Response<pb::CompareWorkforceProfilesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let other_date = v.check("other_date", convert::optional_date(req.other_date.as_ref())).flatten();
        if req.other_date.is_none() {
            v.add("other_date", "is required");
        }
        let population = self.authorized_population(&ctx, v, req.scope.as_ref()).await?;
        let other_date = required(other_date, "other_date")?;
        let mut other_population = Population { as_of: other_date, root_tagged: false, ..population.clone() };
        other_population.root_tagged = self.root_tagged(&other_population).await?;
        reports::resolve_tree(&self.db, &mut other_population).await?;
        let threshold = self.threshold(&ctx);
        let base = self.workforce_profile(threshold, &population).await?;
        let other = self.workforce_profile(threshold, &other_population).await?;
        let empty = pb::WorkforceProfile::default();
        let (b, o) = (base.total.as_ref().unwrap_or(&empty), other.total.as_ref().unwrap_or(&empty));
        let leaders_delta = Some(cell_delta(b.leaders.as_ref(), o.leaders.as_ref()));
        let distribution_deltas = distribution_deltas(b, o);
        let headcount_delta = o.headcount - b.headcount;
        Ok(Response::new(pb::CompareWorkforceProfilesResponse {
            base: Some(base),
            other: Some(other),
            headcount_delta,
            leaders_delta,
            distribution_deltas,
        }))
    }

    async fn summarize_training(
        &self,
        request: Request<pb::SummarizeTrainingRequest>,
    ) -> Result<Response<pb::SummarizeTrainingResponse>, Status> {
        Ok(Response::new(self.summarize_training_impl(request).await?))
    }

    async fn summarize_rotations(
        &self,
        request: Request<pb::SummarizeRotationsRequest>,
    ) -> Result<Response<pb::SummarizeRotationsResponse>, Status> {
        Ok(Response::new(self.summarize_rotations_impl(request).await?))
    }

    async fn get_staffing_summary(
        &self,
        request: Request<pb::GetStaffingSummaryRequest>,
    ) -> Result<Response<pb::GetStaffingSummaryResponse>, Status> {
        Ok(Response::new(self.get_staffing_summary_impl(request).await?))
    }

    type ExportReportStream = ExportReportStream;

    async fn export_report(
        &self,
        request: Request<pb::ExportReportRequest>,
    ) -> Result<Response<Self::ExportReportStream>, Status> {
        Ok(Response::new(self.export_report_impl(request).await?))
    }
}
