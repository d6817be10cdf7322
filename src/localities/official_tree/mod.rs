//! The official administrative tree of the whole country, before and after the
//! reorganisation of 2025-07-01: reading the published lists ([`input`]), building the
//! tree and its succession links ([`tree`]), and planning what to write so that the
//! stored tree holds it ([`reconcile`]), all pure; and writing the plan in bulk, in one
//! transaction ([`import`]).

pub mod import;
pub mod input;
pub mod reconcile;
pub mod tree;

use std::{fmt, time::Duration};

use chrono::NaiveDate;
use serde_json::json;

use crate::localities::rules::{Code, Kind, SuccessionKind};
use tree::{InferredPlacement, NameDifference, OfficialTree, SkippedCommune};

/// The day the reorganisation took effect: districts abolished, provinces and
/// communes merged.
pub const EFFECTIVE_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2025, 7, 1) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

/// Where the old tree starts when nothing older is stored: the start of the demo's
/// history and of the 2020-2025 term. The lists only describe 2025-06-30.
pub const DEFAULT_OLD_TREE_FROM: NaiveDate = match NaiveDate::from_ymd_opt(2020, 1, 1) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

/// Counts of localities per tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TierCounts {
    /// Provinces.
    pub provinces: usize,
    /// Districts.
    pub districts: usize,
    /// Communes.
    pub communes: usize,
}

impl TierCounts {
    fn total(&self) -> usize {
        self.provinces + self.districts + self.communes
    }
}

/// A stored version whose name, kind or parent the import corrected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The locality.
    pub code: Code,
    /// The start of the corrected version.
    pub valid_from: NaiveDate,
    /// Name, kind and parent as stored.
    pub before: (String, Kind, Option<Code>),
    /// Name, kind and parent as the lists have them.
    pub after: (String, Kind, Option<Code>),
}

/// A stored locality in force on a day when the lists do not have it; kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlisted {
    /// The locality.
    pub code: Code,
    /// Its stored name on that day.
    pub name: String,
    /// The day (the day before the reorganisation, or its first day).
    pub day: NaiveDate,
}

/// What an import found and did, for the operator and the audit log.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The reorganisation day.
    pub effective_date: NaiveDate,
    /// Where the old tree starts when nothing older is stored.
    pub old_tree_from: NaiveDate,
    /// The official tree before the reorganisation.
    pub official_before: TierCounts,
    /// The official tree from the reorganisation.
    pub official_after: TierCounts,
    /// The official merge links.
    pub official_merges: usize,
    /// The official split links.
    pub official_splits: usize,
    /// Localities created that begin before the reorganisation.
    pub created_before: TierCounts,
    /// Localities created that begin on it.
    pub created_after: TierCounts,
    /// Versions added for the tree before the reorganisation.
    pub versions_added_before: usize,
    /// Versions added for the tree from the reorganisation.
    pub versions_added_after: usize,
    /// Stored versions ended on the reorganisation day.
    pub versions_ended: usize,
    /// Stored versions extended over the reorganisation (the unit did not change).
    pub versions_extended: usize,
    /// Stored versions corrected (see `corrections`).
    pub versions_corrected: usize,
    /// Merge links added.
    pub links_added_merge: usize,
    /// Split links added.
    pub links_added_split: usize,
    /// Rename links added.
    pub links_added_rename: usize,
    /// Stored links whose kind was corrected: predecessor, successor, stored and new kind.
    pub links_corrected: Vec<(Code, Code, SuccessionKind, SuccessionKind)>,
    /// Stored versions corrected.
    pub corrections: Vec<Correction>,
    /// Stored links of the reorganisation day that the lists lack; kept.
    pub unlisted_links: Vec<(Code, Code, SuccessionKind)>,
    /// Stored localities in force around the reorganisation that the lists lack; kept.
    pub unlisted: Vec<Unlisted>,
    /// Stored localities whose revision (etag) went up.
    pub revisions_bumped: usize,
    /// Communes placed in a district by their codes.
    pub inferred: Vec<InferredPlacement>,
    /// Communes of the package that no longer existed, skipped.
    pub package_only: Vec<SkippedCommune>,
    /// Name and kind differences between the package and `splits.json`.
    pub differences: Vec<NameDifference>,
    /// Names that differ only in spacing or the case of the unit type.
    pub cosmetic_differences: usize,
    /// Oddities of the inputs.
    pub notes: Vec<String>,
    /// A dry run: computed, nothing written.
    pub dry_run: bool,
    /// How long the import took, files read included.
    pub elapsed: Option<Duration>,
}

impl Summary {
    /// Copies what the inputs say from the tree.
    pub fn fill_from_tree(&mut self, tree: &OfficialTree) {
        self.official_before = TierCounts {
            provinces: tree.old_provinces.len(),
            districts: tree.old_districts.len(),
            communes: tree.old_communes.len(),
        };
        self.official_after =
            TierCounts { provinces: tree.new_provinces.len(), districts: 0, communes: tree.new_communes.len() };
        self.official_merges = tree.links.values().filter(|k| **k == SuccessionKind::Merge).count();
        self.official_splits = tree.links.values().filter(|k| **k == SuccessionKind::Split).count();
        self.inferred = tree.inferred.clone();
        self.package_only = tree.package_only.clone();
        self.differences = tree.differences.clone();
        self.cosmetic_differences = tree.cosmetic_differences;
        self.notes = tree.notes.clone();
    }

    /// Whether the import changes (or, in a dry run, would change) the stored tree.
    pub fn changed(&self) -> bool {
        self.created_before.total() + self.created_after.total() > 0
            || self.versions_added_before
                + self.versions_added_after
                + self.versions_ended
                + self.versions_extended
                + self.versions_corrected
                + self.links_added_merge
                + self.links_added_split
                + self.links_added_rename
                + self.links_corrected.len()
                > 0
    }

    /// The audit record's detail: the counts, and the codes of what was resolved.
    pub fn audit_detail(&self) -> serde_json::Value {
        let tiers =
            |t: &TierCounts| json!({"provinces": t.provinces, "districts": t.districts, "communes": t.communes});
        json!({
            "effective_date": self.effective_date.to_string(),
            "old_tree_from": self.old_tree_from.to_string(),
            "created_before": tiers(&self.created_before),
            "created_after": tiers(&self.created_after),
            "versions_added_before": self.versions_added_before,
            "versions_added_after": self.versions_added_after,
            "versions_ended": self.versions_ended,
            "versions_extended": self.versions_extended,
            "versions_corrected": self.corrections.iter().map(|c| c.code.name()).collect::<Vec<_>>(),
            "links_added": {"merge": self.links_added_merge, "split": self.links_added_split, "rename": self.links_added_rename},
            "links_corrected": self.links_corrected.iter().map(|(p, s, _, _)| format!("{p}>{s}")).collect::<Vec<_>>(),
            "inferred_placements": self.inferred.iter().map(|i| format!("{}<{}", i.commune, i.district)).collect::<Vec<_>>(),
            "package_only_skipped": self.package_only.iter().map(|c| c.code.to_string()).collect::<Vec<_>>(),
            "name_differences": self.differences.iter().map(|d| d.code.to_string()).collect::<Vec<_>>(),
            "revisions_bumped": self.revisions_bumped,
        })
    }
}

/// `10047` as `10,047`.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn tiers(counts: &TierCounts, with_districts: bool) -> String {
    let mut parts = vec![format!("{} provinces", grouped(counts.provinces))];
    if with_districts {
        parts.push(format!("{} districts", grouped(counts.districts)));
    }
    parts.push(format!("{} communes", grouped(counts.communes)));
    parts.join(", ")
}

fn describe(state: &(String, Kind, Option<Code>)) -> String {
    match &state.2 {
        Some(parent) => format!("\"{}\" ({}, in {})", state.0, state.1.as_str(), parent.name()),
        None => format!("\"{}\" ({})", state.0, state.1.as_str()),
    }
}

fn section<T>(f: &mut fmt::Formatter<'_>, title: &str, items: &[T], line: impl Fn(&T) -> String) -> fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(f, "{title} ({}):", grouped(items.len()))?;
    for item in items {
        writeln!(f, "  {}", line(item))?;
    }
    Ok(())
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = self.effective_date;
        let before = self.effective_date.pred_opt().unwrap_or(self.effective_date);
        writeln!(f, "Official locality tree, reorganisation of {day}")?;
        writeln!(
            f,
            "  official lists: {} on {before}; {} from {day}; {} merge and {} split links",
            tiers(&self.official_before, true),
            tiers(&self.official_after, false),
            grouped(self.official_merges),
            grouped(self.official_splits),
        )?;
        if self.changed() {
            writeln!(
                f,
                "  localities created: {} before {day} (from {} unless stored history is later); {} from {day}",
                tiers(&self.created_before, true),
                self.old_tree_from,
                tiers(&self.created_after, false),
            )?;
            writeln!(
                f,
                "  versions: {} added before {day}, {} added from {day}, {} ended on {day}, {} extended over it, {} corrected",
                grouped(self.versions_added_before),
                grouped(self.versions_added_after),
                grouped(self.versions_ended),
                grouped(self.versions_extended),
                grouped(self.versions_corrected),
            )?;
            let renames = if self.links_added_rename > 0 {
                format!(", {} rename", grouped(self.links_added_rename))
            } else {
                String::new()
            };
            writeln!(
                f,
                "  links added: {} merge, {} split{renames}; {} corrected",
                grouped(self.links_added_merge),
                grouped(self.links_added_split),
                grouped(self.links_corrected.len()),
            )?;
            writeln!(f, "  stored localities changed (revision and etag bumped): {}", grouped(self.revisions_bumped))?;
        }
        section(f, "Districts inferred for communes the package does not place", &self.inferred, |i| {
            format!("{} {} -> {} {} ({})", i.commune.name(), i.name, i.district.name(), i.district_name, i.reason)
        })?;
        section(
            f,
            &format!("Communes only in the package, skipped (they no longer existed on {before})"),
            &self.package_only,
            |c| format!("{} {} (in {})", c.code.name(), c.name, c.district.name()),
        )?;
        section(
            f,
            "Names that differ between the package and splits.json (splits.json taken)",
            &self.differences,
            |d| {
                format!(
                    "{}: \"{}\" ({}) in the package, \"{}\" ({}) in splits.json",
                    d.code.name(),
                    d.package.0,
                    d.package.1.as_str(),
                    d.splits.0,
                    d.splits.1.as_str()
                )
            },
        )?;
        if self.cosmetic_differences > 0 {
            writeln!(
                f,
                "  and {} more names that differ only in spacing or in the case of the unit type",
                grouped(self.cosmetic_differences)
            )?;
        }
        section(f, "Stored versions corrected to the official lists", &self.corrections, |c| {
            format!("{} from {}: {} -> {}", c.code.name(), c.valid_from, describe(&c.before), describe(&c.after))
        })?;
        section(f, "Stored link kinds corrected", &self.links_corrected, |(p, s, old, new)| {
            format!("{} -> {}: {} -> {}", p.name(), s.name(), old.as_str(), new.as_str())
        })?;
        section(f, "Stored links the official lists lack (kept)", &self.unlisted_links, |(p, s, k)| {
            format!("{} -> {} ({})", p.name(), s.name(), k.as_str())
        })?;
        section(f, "Stored localities the official lists lack (kept)", &self.unlisted, |u| {
            format!("{} {} on {}", u.code.name(), u.name, u.day)
        })?;
        section(f, "Notes on the inputs", &self.notes, Clone::clone)?;
        let took = self.elapsed.map(|d| format!(" in {:.1} s", d.as_secs_f64())).unwrap_or_default();
        if !self.changed() {
            write!(f, "The tree already matches the official lists: nothing changed{took}.")
        } else if self.dry_run {
            write!(f, "Dry run{took}: nothing was written.")
        } else {
            write!(f, "Imported{took}, in one transaction.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(696), "696");
        assert_eq!(grouped(10047), "10,047");
        assert_eq!(grouped(1234567), "1,234,567");
    }

    #[test]
    fn an_empty_summary_says_nothing_changed() {
        let summary = Summary { effective_date: EFFECTIVE_DATE, ..Default::default() };
        assert!(!summary.changed());
        assert!(summary.to_string().contains("The tree already matches the official lists"));
    }

    #[test]
    fn a_dry_run_says_nothing_was_written() {
        let summary = Summary { links_added_merge: 1, dry_run: true, ..Default::default() };
        assert!(summary.changed());
        assert!(summary.to_string().ends_with("nothing was written."));
    }

    #[test]
    fn the_reorganisation_day_is_the_first_of_july_2025() {
        assert_eq!(EFFECTIVE_DATE.to_string(), "2025-07-01");
        assert_eq!(DEFAULT_OLD_TREE_FROM.to_string(), "2020-01-01");
    }
}
