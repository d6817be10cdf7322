//! What the server knows that a sheet names: scales and levels, units, localities.

use super::*;

/// A level of a scale as the sheet may name it.
#[derive(Debug, Clone)]
pub struct LevelRef {
    /// Resource name: `scales/professional/levels/master`.
    pub name: String,
    /// Vietnamese label.
    pub display_name: String,
    /// English label.
    pub english_name: String,
}

/// A scale as the sheet may name it.
#[derive(Debug, Clone)]
pub struct ScaleRef {
    /// The scale's id: `professional`.
    pub id: String,
    /// Vietnamese name: the header of its column.
    pub display_name: String,
    /// English name.
    pub english_name: String,
    /// The levels, highest first.
    pub levels: Vec<LevelRef>,
    /// Folded level names (Vietnamese, English, id, the part in parentheses) to the
    /// indexes of the levels they name.
    pub(super) index: HashMap<String, Vec<usize>>,
}

/// A unit the sheet may name.
#[derive(Debug, Clone)]
pub struct UnitRef {
    /// Resource name: `units/42`.
    pub name: String,
    /// Vietnamese name.
    pub display_name: String,
    /// The unit's unique code, if it has one.
    pub code: String,
    /// Code of its locality: `06463`.
    pub locality: String,
    /// First day it exists.
    pub valid_from: NaiveDate,
}

/// A locality the sheet may name in its "Địa bàn" column.
#[derive(Debug, Clone)]
pub struct LocalityRef {
    /// Official code.
    pub code: String,
    /// Vietnamese name.
    pub display_name: String,
    /// Code of the parent, empty for a province.
    pub parent: String,
}

/// What the server knows that the sheet names: scales and their levels, the units
/// and localities of the caller's scope.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// The scales, in the server's order.
    pub scales: Vec<ScaleRef>,
    /// The units of the caller's scope.
    pub units: Vec<UnitRef>,
    /// The localities of the caller's scope, by code.
    pub localities: HashMap<String, LocalityRef>,
    /// Folded unit names and folded codes to unit indexes.
    pub(super) unit_index: HashMap<String, Vec<usize>>,
    /// Folded locality names (also without their kind: "xa thanh xuong" and
    /// "thanh xuong") to codes.
    pub(super) locality_index: HashMap<String, Vec<String>>,
}

/// The part of a name in parentheses: "Bậc 3 (B1)" → "B1".
pub(super) fn parenthesised(name: &str) -> Option<&str> {
    let open = name.find('(')?;
    let close = name[open..].find(')')? + open;
    Some(name[open + 1..close].trim()).filter(|s| !s.is_empty())
}

/// Kinds that open locality names, folded, longest first.
pub(super) const LOCALITY_KINDS: &[&str] =
    &["thanh pho", "thi tran", "thi xa", "dac khu", "phuong", "huyen", "quan", "tinh", "xa"];

impl Reference {
    /// Builds the reference from the server's answers.
    pub fn new(scales: &[pb::Scale], units: &[pb::Unit], localities: &[pb::Locality]) -> Self {
        let scales = scales
            .iter()
            .map(|s| {
                let levels: Vec<LevelRef> = s
                    .levels
                    .iter()
                    .map(|l| LevelRef {
                        name: l.name.clone(),
                        display_name: l.display_name.clone(),
                        english_name: l.english_name.clone(),
                    })
                    .collect();
                let mut index: HashMap<String, Vec<usize>> = HashMap::new();
                for (i, level) in levels.iter().enumerate() {
                    let id = level.name.rsplit('/').next().unwrap_or_default();
                    let mut keys: HashSet<String> =
                        [value_key(&level.display_name), value_key(&level.english_name), value_key(id)].into();
                    for label in [&level.display_name, &level.english_name] {
                        if let Some(inner) = parenthesised(label) {
                            keys.insert(value_key(inner));
                        }
                        keys.insert(value_key(label.split('(').next().unwrap_or_default()));
                    }
                    for key in keys.into_iter().filter(|k| !k.is_empty()) {
                        index.entry(key).or_default().push(i);
                    }
                }
                ScaleRef {
                    id: s.name.strip_prefix("scales/").unwrap_or(&s.name).to_owned(),
                    display_name: s.display_name.clone(),
                    english_name: s.english_name.clone(),
                    levels,
                    index,
                }
            })
            .collect();
        let units: Vec<UnitRef> = units
            .iter()
            .map(|u| UnitRef {
                name: u.name.clone(),
                display_name: u.display_name.clone(),
                code: u.code.clone(),
                locality: u.locality.strip_prefix("localities/").unwrap_or(&u.locality).to_owned(),
                valid_from: u
                    .valid_from
                    .as_ref()
                    .and_then(|d| crate::domain::date::from_ymd(d.year, d.month, d.day))
                    .unwrap_or(NaiveDate::MIN),
            })
            .collect();
        let mut unit_index: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, unit) in units.iter().enumerate() {
            unit_index.entry(fold(&unit.display_name)).or_default().push(i);
            if !unit.code.is_empty() {
                let entry = unit_index.entry(fold(&unit.code)).or_default();
                if !entry.contains(&i) {
                    entry.push(i);
                }
            }
        }
        let localities: HashMap<String, LocalityRef> = localities
            .iter()
            .map(|l| {
                let code = if l.code.is_empty() {
                    l.name.strip_prefix("localities/").unwrap_or(&l.name).to_owned()
                } else {
                    l.code.clone()
                };
                let parent = l.parent.strip_prefix("localities/").unwrap_or(&l.parent).to_owned();
                (code.clone(), LocalityRef { code, display_name: l.display_name.clone(), parent })
            })
            .collect();
        let mut locality_index: HashMap<String, Vec<String>> = HashMap::new();
        for locality in localities.values() {
            let folded = fold(&locality.display_name);
            let mut keys = vec![folded.clone()];
            if let Some(bare) =
                LOCALITY_KINDS.iter().find_map(|k| folded.strip_prefix(k).and_then(|r| r.strip_prefix(' ')))
            {
                keys.push(bare.to_owned());
            }
            for key in keys {
                locality_index.entry(key).or_default().push(locality.code.clone());
            }
        }
        for codes in locality_index.values_mut() {
            codes.sort();
        }
        Self { scales, units, localities, unit_index, locality_index }
    }

    /// The name of a locality for messages: "Xã Thanh Xương (03334)".
    pub(super) fn locality_label(&self, code: &str) -> String {
        match self.localities.get(code) {
            Some(l) => format!("{} ({code})", l.display_name),
            None => format!("localities/{code}"),
        }
    }

    /// Whether `ancestor` is `code` or one of its ancestors.
    pub(super) fn within(&self, code: &str, ancestor: &str) -> bool {
        let mut current = code;
        for _ in 0..8 {
            if current == ancestor {
                return true;
            }
            match self.localities.get(current) {
                Some(l) if !l.parent.is_empty() => current = &l.parent,
                _ => return false,
            }
        }
        false
    }

    /// The localities a cell of the "Địa bàn" column names: a code, or a name with or
    /// without its kind ("Xã Thanh Xương", "thanh xuong").
    pub(super) fn find_localities(&self, value: &str) -> Result<Vec<String>, String> {
        let trimmed = value.trim();
        if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit()) {
            return if self.localities.contains_key(trimmed) {
                Ok(vec![trimmed.to_owned()])
            } else {
                Err(format!("no locality with code `{trimmed}` in your scope"))
            };
        }
        self.locality_index
            .get(&fold(trimmed))
            .cloned()
            .ok_or_else(|| format!("no locality named `{trimmed}` in your scope"))
    }

    /// The unit a row names, by name or code, within the localities of its "Địa bàn"
    /// cell if the sheet has one.
    pub(super) fn find_unit(&self, value: &str, locality: Option<&str>) -> Result<usize, String> {
        let key = fold(value);
        let mut candidates: Vec<usize> = self.unit_index.get(&key).cloned().unwrap_or_default();
        let mut place = String::new();
        if let Some(locality) = locality.filter(|l| !l.trim().is_empty()) {
            let codes = self.find_localities(locality)?;
            candidates.retain(|&i| codes.iter().any(|c| self.within(&self.units[i].locality, c)));
            place = format!(" in {}", codes.iter().map(|c| self.locality_label(c)).collect::<Vec<_>>().join(" or "));
        }
        match candidates.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!("no unit named `{}`{place} in your scope", value.trim())),
            many => {
                let mut names: Vec<String> = many
                    .iter()
                    .map(|&i| {
                        let u = &self.units[i];
                        let code = if u.code.is_empty() { String::new() } else { format!(", code {}", u.code) };
                        format!("{} ({}{code}) in {}", u.display_name, u.name, self.locality_label(&u.locality))
                    })
                    .collect();
                names.sort();
                let total = names.len();
                names.truncate(10);
                let more = if total > 10 { format!(" and {} more", total - 10) } else { String::new() };
                // A locality tells them apart only if they lie in different ones;
                // otherwise only a unit code can.
                let localities: HashSet<&str> = many.iter().map(|&i| self.units[i].locality.as_str()).collect();
                let all_coded = many.iter().all(|&i| !self.units[i].code.is_empty());
                let remedy = match (localities.len() == many.len() && locality.is_none(), all_coded) {
                    (true, true) => {
                        "add a column \"Địa bàn\" with the locality's code or name, or give the unit's code"
                    }
                    (true, false) => "add a column \"Địa bàn\" with the locality's code or name",
                    (false, true) => "give the unit's code",
                    (false, false) => "an administrator gives the units codes (UpdateUnit), then give the unit's code",
                };
                Err(format!(
                    "`{}`{place} is ambiguous: {total} units have that name ({}{more}); {remedy}",
                    value.trim(),
                    names.join("; ")
                ))
            }
        }
    }
}
