//! What the person facts are: the periods over which everything a report counts
//! about a person stays the same, derived from their records (pure, tested in place).

use std::collections::BTreeMap;

use chrono::NaiveDate;

/// The `valid_until` of a period still open: a date, not NULL, so that the periods in
/// force on a day are one range of the locality index (`valid_until > day`).
/// (9999-12-31 sorts after every real date as text too, as SQLite compares it.)
pub const OPEN_END: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(day) => day,
    None => NaiveDate::MAX,
};

/// Opens, closes and separates the entries of a person's ratings: `,2023=good,2024=excellent,`.
pub const RATINGS_SEPARATOR: &str = ",";

/// The entry of one year's rating in a person's ratings, followed by the separator: a
/// `LIKE '%,2024=good,%'` finds the people rated so that year.
pub fn rating_entry(year: i32, rating: &str) -> String {
    format!("{year}={rating}{RATINGS_SEPARATOR}")
}

/// What a report counts about a person that does not depend on the date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonBasics {
    /// First day employed.
    pub employed_from: NaiveDate,
    /// First day no longer employed.
    pub employed_until: Option<NaiveDate>,
}

/// A placement with what a report counts about its post and unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// First day.
    pub valid_from: NaiveDate,
    /// First day no longer in force.
    pub valid_until: Option<NaiveDate>,
}

/// A qualification: a level of a scale, with its rank, held from a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The scale's code.
    pub scale: String,
    /// The level's code.
    pub level: String,
    /// The level's rank on its scale.
    pub rank: i32,
    /// Day awarded.
    pub awarded_on: NaiveDate,
}

/// A period over which a person's facts do not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// Index of the placement in force, in the `posts` given.
    pub post: usize,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day of the next period, if any.
    pub valid_until: Option<NaiveDate>,
    /// The highest level held on each scale, as a levels key (see [`levels_key`]).
    pub levels: String,
}

/// Separates the scale from the level in a levels key.
const PAIR: char = '=';
/// Separates the scales in a levels key.
const LIST: char = ',';

/// The levels key of the highest levels per scale: `scale=level` pairs ordered by
/// scale, joined with `,`; empty when no level is held. Codes are lower-case ASCII
/// words, so the separators never occur in them.
pub fn levels_key<'a>(highest: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let ordered: BTreeMap<&str, &str> = highest.into_iter().collect();
    let mut key = String::new();
    for (scale, level) in ordered {
        if !key.is_empty() {
            key.push(LIST);
        }
        key.push_str(scale);
        key.push(PAIR);
        key.push_str(level);
    }
    key
}

/// The `(scale, level)` pairs of a levels key.
pub fn parse_levels_key(key: &str) -> impl Iterator<Item = (&str, &str)> {
    key.split(LIST).filter_map(|pair| pair.split_once(PAIR))
}

/// The highest level per scale among `held` awarded on or before `day`: the highest
/// rank, then the greatest level code among equal ranks (equivalent levels), so that
/// the choice is deterministic.
fn highest_on(held: &[Held], day: NaiveDate) -> BTreeMap<&str, (&str, i32)> {
    let mut highest: BTreeMap<&str, (&str, i32)> = BTreeMap::new();
    for h in held.iter().filter(|h| h.awarded_on <= day) {
        let better =
            highest.get(h.scale.as_str()).is_none_or(|&(level, rank)| (h.rank, h.level.as_str()) > (rank, level));
        if better {
            highest.insert(&h.scale, (&h.level, h.rank));
        }
    }
    highest
}

/// The periods of a person's facts: for each placement, the part of it within the
/// employment, cut on every day a qualification changes the highest level of a
/// scale. Placements never overlap, so neither do the periods.
pub fn episodes(person: &PersonBasics, posts: &[Post], held: &[Held]) -> Vec<Episode> {
    let mut awards: Vec<NaiveDate> = held.iter().map(|h| h.awarded_on).collect();
    awards.sort_unstable();
    awards.dedup();
    let mut out: Vec<Episode> = Vec::new();
    for (index, post) in posts.iter().enumerate() {
        let from = post.valid_from.max(person.employed_from);
        let until = match (post.valid_until, person.employed_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if until.is_some_and(|u| u <= from) {
            continue;
        }
        let cuts = awards.iter().copied().filter(|d| *d > from && until.is_none_or(|u| *d < u));
        let starts: Vec<NaiveDate> = std::iter::once(from).chain(cuts).collect();
        let first = out.len();
        for (i, start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().or(until);
            let levels = levels_key(highest_on(held, *start).into_iter().map(|(scale, (level, _))| (scale, level)));
            let len = out.len();
            match out.last_mut() {
                Some(last) if len > first && last.levels == levels => last.valid_until = end,
                _ => out.push(Episode { post: index, valid_from: *start, valid_until: end, levels }),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn held(scale: &str, level: &str, rank: i32, awarded_on: NaiveDate) -> Held {
        Held { scale: scale.into(), level: level.into(), rank, awarded_on }
    }

    #[test]
    fn a_rating_entry_is_closed_by_the_separator() {
        assert_eq!(format!("{RATINGS_SEPARATOR}{}", rating_entry(2024, "good")), ",2024=good,");
    }

    #[test]
    fn a_key_orders_scales_and_parses_back() {
        let key = levels_key([("professional", "master"), ("it", "basic")]);
        assert_eq!(key, "it=basic,professional=master");
        assert_eq!(parse_levels_key(&key).collect::<Vec<_>>(), [("it", "basic"), ("professional", "master")]);
        assert_eq!(levels_key([]), "");
        assert_eq!(parse_levels_key("").count(), 0);
    }

    #[test]
    fn periods_are_cut_where_the_highest_level_changes_and_clipped_to_employment() {
        let person = PersonBasics { employed_from: day(2010, 1, 1), employed_until: Some(day(2030, 1, 1)) };
        let posts = [
            Post { valid_from: day(2005, 1, 1), valid_until: Some(day(2020, 1, 1)) },
            Post { valid_from: day(2020, 1, 1), valid_until: None },
        ];
        let quals = [
            held("professional", "university", 4, day(2008, 6, 1)),
            held("professional", "master", 5, day(2015, 3, 1)),
            // Lower than the master's degree: changes nothing.
            held("professional", "college", 3, day(2016, 3, 1)),
            held("political_theory", "advanced", 3, day(2022, 5, 1)),
        ];
        let got = episodes(&person, &posts, &quals);
        let want = [
            (0, day(2010, 1, 1), Some(day(2015, 3, 1)), "professional=university"),
            (0, day(2015, 3, 1), Some(day(2020, 1, 1)), "professional=master"),
            (1, day(2020, 1, 1), Some(day(2022, 5, 1)), "professional=master"),
            (1, day(2022, 5, 1), Some(day(2030, 1, 1)), "political_theory=advanced,professional=master"),
        ];
        let got: Vec<_> = got.iter().map(|e| (e.post, e.valid_from, e.valid_until, e.levels.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn placements_outside_the_employment_give_no_period() {
        let person = PersonBasics { employed_from: day(2010, 1, 1), employed_until: Some(day(2012, 1, 1)) };
        let posts = [Post { valid_from: day(2012, 1, 1), valid_until: None }];
        assert!(episodes(&person, &posts, &[]).is_empty());
    }

    #[test]
    fn equal_ranks_pick_one_level_deterministically() {
        let person = PersonBasics { employed_from: day(2010, 1, 1), employed_until: None };
        let posts = [Post { valid_from: day(2010, 1, 1), valid_until: None }];
        let a = [held("it", "basic", 1, day(2009, 1, 1)), held("it", "certificate_a", 1, day(2009, 1, 1))];
        let b = [a[1].clone(), a[0].clone()];
        assert_eq!(episodes(&person, &posts, &a), episodes(&person, &posts, &b));
        assert_eq!(episodes(&person, &posts, &a)[0].levels, "it=certificate_a");
    }
}
