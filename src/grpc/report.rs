//! ReportService: the aggregate figures, computed in the database per report scope.

use std::collections::BTreeMap;

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    Violations, convert,
    pb::{self, report_service_server::ReportService},
    person::category,
    required,
    unit::sector,
};
use crate::{
    auth::{Access, RequestContext, Role, authorize},
    domain::{
        date::today,
        filter::LocalityOrder,
        locality::{Code, check_tags},
        report::{AGE_BANDS, CellValue, MAX_EVALUATION_YEARS, NOT_RATED_LABEL, RATINGS, ordered_cells},
    },
    error::Result,
    store::{
        locality::{self as localities, ListQuery},
        report::{self as reports, GroupCounts, Population},
    },
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

/// Checks a report scope and turns it into a population (tags resolved later).
fn population(v: &mut Violations, scope: Option<&pb::ReportScope>) -> Option<Population> {
    let Some(scope) = scope else {
        v.add("scope", "is required");
        return None;
    };
    let root = v.check("scope.locality", Code::from_name(&scope.locality));
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
        .filter_map(|(i, s)| v.check(format!("scope.sectors[{i}]"), sector(*s)).map(|s| s.as_str().to_owned()))
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
    fn finish(&self, mut cells: Vec<CellValue>) -> Vec<pb::Cell> {
        if let Some(threshold) = self.threshold {
            cells.iter_mut().for_each(|c| c.suppress_below(threshold));
        }
        cells.iter().map(cell_to_pb).collect()
    }

    fn profile(&self, locality: &Code, display_name: String, counts: &GroupCounts) -> pb::WorkforceProfile {
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
        pb::WorkforceProfile {
            locality: locality.name(),
            display_name,
            headcount,
            leaders: leaders.into_iter().next(),
            distributions,
        }
    }
}

impl ReportApi {
    /// Whether the root or one of its ancestors on the date carries one of the tags.
    async fn root_tagged(&self, population: &Population) -> Result<bool> {
        if population.tags.is_empty() {
            return Ok(false);
        }
        let mut chain = vec![population.root.clone()];
        let mut current = population.root.clone();
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
        authorize(&self.db, &ctx.principal, &population.root, Access::Read).await?;
        population.root_tagged = self.root_tagged(&population).await?;
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
        let root = localities::load_one(&self.db, &population.root)
            .await?
            .ok_or_else(|| crate::error::Error::NotFound(population.root.name()))?;
        let groups = reports::workforce_counts(&self.db, population).await?;
        let levels = reports::scale_levels(&self.db).await?;
        let builder = ProfileBuilder { levels: &levels, threshold };
        let mut total = GroupCounts::default();
        groups.values().for_each(|g| accumulate(&mut total, g));
        let name_on = |record: &localities::LocalityRecord| {
            record
                .versions
                .iter()
                .find(|v| v.contains(population.as_of))
                .map(|v| v.display_name.clone())
                .unwrap_or_default()
        };
        let total_profile = builder.profile(&root.code, name_on(&root), &total);

        let mut children = Vec::new();
        if population.by_child {
            let query = ListQuery {
                parent: Some(population.root.clone()),
                order: LocalityOrder::Code,
                ..ListQuery::in_force(population.as_of, None, 1000, None)
            };
            let page = localities::list(&self.db, &query).await?;
            let records = localities::load(&self.db, &page.codes).await?;
            let empty = GroupCounts::default();
            for record in &records {
                let counts = groups.get(record.code.as_str()).unwrap_or(&empty);
                children.push(builder.profile(&record.code, name_on(record), counts));
            }
        }
        Ok(pb::GetWorkforceProfileResponse {
            as_of: Some(convert::to_date(population.as_of)),
            total: Some(total_profile),
            children,
        })
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
        let (headcount, counts) =
            reports::evaluation_counts(&self.db, &population, req.first_year, req.last_year).await?;
        let finish = |mut cells: Vec<CellValue>| -> Vec<pb::Cell> {
            if let Some(threshold) = threshold {
                cells.iter_mut().for_each(|c| c.suppress_below(threshold));
            }
            cells.iter().map(cell_to_pb).collect()
        };
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
}
