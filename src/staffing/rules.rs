//! What a staffing quota (biên chế) is and how headcount compares with it, free of
//! I/O: a quota is for a unit or for a locality as a whole, per year and category, and
//! quotas are additive.

use std::collections::BTreeMap;

use crate::{
    edge::names::{StaffingQuotaName, UnitName},
    localities::rules::Code,
    people::rules::person::Category,
};

/// Earliest and latest quota years accepted.
pub const YEARS: std::ops::RangeInclusive<i32> = 1950..=2100;

/// What a quota or a headcount is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One unit.
    Unit(i64),
    /// A locality (for a quota, the locality as a whole; for a headcount, its subtree).
    Locality(Code),
}

impl Target {
    /// The resource name of what the target names (`units/4`, `localities/20`).
    pub fn name(&self) -> String {
        match self {
            Target::Unit(id) => UnitName(*id).to_string(),
            Target::Locality(code) => code.name(),
        }
    }
}

/// A quota as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaRecord {
    /// Its id.
    pub id: i64,
    /// What it is for.
    pub target: Target,
    /// The year.
    pub year: i32,
    /// The category counted.
    pub category: Category,
    /// The number of posts.
    pub quota: i32,
    /// Incremented on every change; the etag.
    pub revision: i64,
}

impl QuotaRecord {
    /// Its resource name.
    pub fn name(&self) -> StaffingQuotaName {
        StaffingQuotaName(self.id)
    }
}

/// A quota to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuota {
    /// What it is for.
    pub target: Target,
    /// The year.
    pub year: i32,
    /// The category.
    pub category: Category,
    /// The number of posts.
    pub quota: i32,
}

/// A quota year.
pub fn year(value: i32) -> Result<i32, String> {
    if YEARS.contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not a year from {} to {}", YEARS.start(), YEARS.end()))
    }
}

/// A number of posts.
pub fn quota(value: i32) -> Result<i32, String> {
    if value < 0 { Err(format!("{value} must be 0 or more")) } else { Ok(value) }
}

/// Headcount against quota for one category, or in total (`category: None`).
#[derive(Debug, Clone, PartialEq)]
pub struct HeadcountRow {
    /// The category; `None` for the total.
    pub category: Option<Category>,
    /// People employed and placed.
    pub headcount: i64,
    /// The sum of the quotas that apply.
    pub quota: i64,
    /// headcount / quota × 100; 0 without a quota.
    pub percent_of_quota: f64,
}

/// headcount / quota × 100, unrounded; 0 when there is no quota.
pub fn percent(headcount: i64, quota: i64) -> f64 {
    if quota == 0 { 0.0 } else { headcount as f64 * 100.0 / quota as f64 }
}

/// One row per category with people or a quota, in category order, and the total.
pub fn headcount_rows(
    headcounts: &BTreeMap<&'static str, i64>,
    quotas: &BTreeMap<&'static str, i64>,
) -> (Vec<HeadcountRow>, HeadcountRow) {
    let mut rows = Vec::new();
    let (mut total_headcount, mut total_quota) = (0, 0);
    for category in Category::ALL {
        let headcount = headcounts.get(category.as_str()).copied();
        let quota = quotas.get(category.as_str()).copied();
        if headcount.is_none() && quota.is_none() {
            continue;
        }
        let (headcount, quota) = (headcount.unwrap_or(0), quota.unwrap_or(0));
        total_headcount += headcount;
        total_quota += quota;
        rows.push(HeadcountRow {
            category: Some(*category),
            headcount,
            quota,
            percent_of_quota: percent(headcount, quota),
        });
    }
    let total = HeadcountRow {
        category: None,
        headcount: total_headcount,
        quota: total_quota,
        percent_of_quota: percent(total_headcount, total_quota),
    };
    (rows, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_of_quota_is_unrounded_and_zero_without_a_quota() {
        assert!((percent(2813, 3050) - 92.229_508_196_721_3).abs() < 1e-9);
        assert!(percent(5, 0).abs() < f64::EPSILON);
        assert!((percent(3, 2) - 150.0).abs() < 1e-9);
    }

    #[test]
    fn rows_cover_categories_with_people_or_a_quota_in_category_order() {
        let headcounts: BTreeMap<&'static str, i64> = [("public_employee", 7), ("civil_servant", 2813)].into();
        let quotas: BTreeMap<&'static str, i64> = [("civil_servant", 3050), ("cadre", 10)].into();
        let (rows, total) = headcount_rows(&headcounts, &quotas);
        let categories: Vec<Option<Category>> = rows.iter().map(|r| r.category).collect();
        assert_eq!(categories, [Some(Category::Cadre), Some(Category::CivilServant), Some(Category::PublicEmployee)]);
        assert_eq!((rows[0].headcount, rows[0].quota), (0, 10));
        assert_eq!((rows[2].headcount, rows[2].quota), (7, 0));
        assert!(rows[2].percent_of_quota.abs() < f64::EPSILON);
        assert_eq!((total.category, total.headcount, total.quota), (None, 2820, 3060));
    }

    #[test]
    fn years_and_quotas_are_checked() {
        assert!(year(1949).is_err());
        assert_eq!(year(2100), Ok(2100));
        assert!(quota(-1).is_err());
        assert_eq!(quota(0), Ok(0));
    }
}
