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
        report::{AGE_BANDS, CellValue, ordered_cells},
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
    db: DatabaseConnection,
    suppression_threshold: i64,
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

fn cell_to_pb(cell: &CellValue) -> pb::Cell {
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
}

#[tonic::async_trait]
impl ReportService for ReportApi {
    async fn get_workforce_profile(
        &self,
        request: Request<pb::GetWorkforceProfileRequest>,
    ) -> Result<Response<pb::GetWorkforceProfileResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let population = population(&mut v, req.scope.as_ref());
        v.finish()?;
        let mut population = required(population, "scope")?;
        authorize(&self.db, &ctx.principal, &population.root, Access::Read).await?;
        let root = localities::load_one(&self.db, &population.root)
            .await?
            .ok_or_else(|| crate::error::Error::NotFound(population.root.name()))?;
        population.root_tagged = self.root_tagged(&population).await?;

        let groups = reports::workforce_counts(&self.db, &population).await?;
        let levels = reports::scale_levels(&self.db).await?;
        let threshold = (!ctx.principal.has_role(Role::PersonalDataReader)).then_some(self.suppression_threshold);
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
        Ok(Response::new(pb::GetWorkforceProfileResponse {
            as_of: Some(convert::to_date(population.as_of)),
            total: Some(total_profile),
            children,
        }))
    }
}
