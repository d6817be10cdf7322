//! The official tree built from the inputs: the units in force on 2025-06-30, those in
//! force from 2025-07-01, the succession links between them, and what had to be
//! inferred or resolved on the way.

use std::collections::{BTreeMap, BTreeSet};

use super::input::{Inputs, expected_prefixes, kind_and_name, padded_code, text_code};
use crate::localities::rules::{Code, Kind, SuccessionKind, Tier};

/// Which input a problem was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFile {
    /// The package's `nested-divisions.json`.
    Divisions,
    /// `splits.json`.
    Splits,
    /// `merges.json`.
    Merges,
}

/// An input that cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file the problem is in.
    pub file: InputFile,
    /// What is wrong, for a person to read.
    pub message: String,
}

impl InputError {
    fn new(file: InputFile, message: impl Into<String>) -> Self {
        Self { file, message: message.into() }
    }
}

/// A unit of the official tree on one side of the reorganisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Its code.
    pub code: Code,
    /// Its name, normalised.
    pub name: String,
    /// Its kind, from its name.
    pub kind: Kind,
    /// Its parent; `None` for provinces.
    pub parent: Option<Code>,
}

/// A commune of `splits.json` placed in a district by its code, because the package
/// does not place it (or places it in another province).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferredPlacement {
    /// The commune.
    pub commune: Code,
    /// Its name.
    pub name: String,
    /// The district it was placed in.
    pub district: Code,
    /// The district's name.
    pub district_name: String,
    /// Why that district: the neighbouring codes it was placed between.
    pub reason: String,
}

/// A commune that only the package lists: it no longer existed on 2025-06-30.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedCommune {
    /// Its code.
    pub code: Code,
    /// Its name in the package.
    pub name: String,
    /// The district the package puts it in.
    pub district: Code,
}

/// A commune whose name (and so perhaps kind) differs between the package and
/// `splits.json`; `splits.json` wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameDifference {
    /// The commune.
    pub code: Code,
    /// Name and kind in the package.
    pub package: (String, Kind),
    /// Name and kind in `splits.json`, which the tree takes.
    pub splits: (String, Kind),
}

/// The official tree before and after 2025-07-01.
#[derive(Debug, Clone, Default)]
pub struct OfficialTree {
    /// The provinces on 2025-06-30.
    pub old_provinces: Vec<Unit>,
    /// The districts on 2025-06-30.
    pub old_districts: Vec<Unit>,
    /// The communes on 2025-06-30.
    pub old_communes: Vec<Unit>,
    /// The provinces from 2025-07-01.
    pub new_provinces: Vec<Unit>,
    /// The communes from 2025-07-01 (directly under the provinces).
    pub new_communes: Vec<Unit>,
    /// Succession links of 2025-07-01: (predecessor, successor) and kind.
    pub links: BTreeMap<(Code, Code), SuccessionKind>,
    /// Communes placed in a district by their codes.
    pub inferred: Vec<InferredPlacement>,
    /// Communes of the package that no longer existed.
    pub package_only: Vec<SkippedCommune>,
    /// Communes whose names differ between the sources.
    pub differences: Vec<NameDifference>,
    /// Communes whose names differ only in spacing or the case of the unit type.
    pub cosmetic_differences: usize,
    /// Oddities of the inputs worth a look that did not stop the import.
    pub notes: Vec<String>,
}

fn unit_of(tier: Tier, code: Code, raw_name: &str, parent: Option<Code>, file: InputFile) -> Result<Unit, InputError> {
    let (kind, name) = kind_and_name(tier, raw_name).ok_or_else(|| {
        InputError::new(
            file,
            format!(
                "{} {code} \"{raw_name}\": its name opens with no unit type of its tier (expected {})",
                tier.as_str(),
                expected_prefixes(tier)
            ),
        )
    })?;
    Ok(Unit { code, name, kind, parent })
}

/// Builds the official tree from the three inputs, checking that they agree.
pub fn build(inputs: &Inputs) -> Result<OfficialTree, InputError> {
    use InputFile::{Divisions, Merges, Splits};
    let mut tree = OfficialTree::default();

    // The package: districts, and which district holds each commune.
    let mut package_provinces: BTreeSet<Code> = BTreeSet::new();
    let mut districts: BTreeMap<Code, Unit> = BTreeMap::new();
    // Per province: commune code -> (district, name).
    let mut package_communes: BTreeMap<Code, BTreeMap<Code, (Code, String)>> = BTreeMap::new();
    for province in &inputs.divisions {
        let province_code = padded_code(province.code, Tier::Province).map_err(|e| InputError::new(Divisions, e))?;
        package_provinces.insert(province_code.clone());
        for district in &province.districts {
            let code = padded_code(district.code, Tier::District).map_err(|e| InputError::new(Divisions, e))?;
            let unit = unit_of(Tier::District, code.clone(), &district.name, Some(province_code.clone()), Divisions)?;
            if districts.insert(code.clone(), unit).is_some() {
                return Err(InputError::new(Divisions, format!("district {code} is listed twice")));
            }
            for commune in &district.wards {
                let commune_code =
                    padded_code(commune.code, Tier::Commune).map_err(|e| InputError::new(Divisions, e))?;
                let previous = package_communes
                    .entry(province_code.clone())
                    .or_default()
                    .insert(commune_code.clone(), (code.clone(), commune.name.clone()));
                if previous.is_some() {
                    return Err(InputError::new(Divisions, format!("commune {commune_code} is listed twice")));
                }
            }
        }
    }
    if districts.is_empty() {
        return Err(InputError::new(Divisions, "lists no district"));
    }
    let package_province_of: BTreeMap<&Code, &Code> =
        package_communes.iter().flat_map(|(p, communes)| communes.keys().map(move |c| (c, p))).collect();

    // splits.json: the provinces and the communes on 2025-06-30.
    let mut old_provinces: BTreeMap<Code, Unit> = BTreeMap::new();
    let mut old_communes: BTreeMap<Code, Unit> = BTreeMap::new();
    let mut split_targets: BTreeMap<Code, BTreeSet<String>> = BTreeMap::new();
    for province in &inputs.splits.data {
        let code = text_code(&province.level1_id, Tier::Province).map_err(|e| InputError::new(Splits, e))?;
        if !package_provinces.contains(&code) {
            return Err(InputError::new(
                Splits,
                format!("province {code} is not in the package's code list, which must give its districts"),
            ));
        }
        let unit = unit_of(Tier::Province, code.clone(), &province.name, None, Splits)?;
        if old_provinces.insert(code.clone(), unit).is_some() {
            return Err(InputError::new(Splits, format!("province {code} is listed twice")));
        }
        let in_package = package_communes.get(&code);
        for commune in &province.level3s {
            let commune_code = text_code(&commune.level3_id, Tier::Commune).map_err(|e| InputError::new(Splits, e))?;
            let mut unit = unit_of(Tier::Commune, commune_code.clone(), &commune.name, None, Splits)?;
            let placed = in_package.and_then(|communes| communes.get(&commune_code));
            let district = match placed {
                Some((district, package_name)) => {
                    match kind_and_name(Tier::Commune, package_name) {
                        Some((kind, name)) if name != unit.name || kind != unit.kind => {
                            tree.differences.push(NameDifference {
                                code: commune_code.clone(),
                                package: (name, kind),
                                splits: (unit.name.clone(), unit.kind),
                            });
                        }
                        Some(_) if package_name != &commune.name => tree.cosmetic_differences += 1,
                        Some(_) => {}
                        None => tree.differences.push(NameDifference {
                            code: commune_code.clone(),
                            package: (package_name.clone(), unit.kind),
                            splits: (unit.name.clone(), unit.kind),
                        }),
                    }
                    district.clone()
                }
                None => {
                    let (district, reason) = infer_district(&commune_code, in_package).ok_or_else(|| {
                        InputError::new(
                            Splits,
                            format!(
                                "commune {commune_code} \"{}\" of province {code}: the package has no commune of \
                                     that province to place it by",
                                unit.name
                            ),
                        )
                    })?;
                    let elsewhere = package_province_of
                        .get(&commune_code)
                        .map(|p| format!("; the package puts it in province {p}"))
                        .unwrap_or_default();
                    tree.inferred.push(InferredPlacement {
                        commune: commune_code.clone(),
                        name: unit.name.clone(),
                        district_name: districts.get(&district).map(|d| d.name.clone()).unwrap_or_default(),
                        district: district.clone(),
                        reason: format!("{reason}{elsewhere}"),
                    });
                    district
                }
            };
            unit.parent = Some(district);
            split_targets.insert(commune_code.clone(), commune.splits.iter().map(|s| s.new_id.clone()).collect());
            if old_communes.insert(commune_code.clone(), unit).is_some() {
                return Err(InputError::new(Splits, format!("commune {commune_code} is listed twice")));
            }
        }
    }
    if old_communes.is_empty() {
        return Err(InputError::new(Splits, "lists no commune"));
    }
    for communes in package_communes.values() {
        for (code, (district, name)) in communes {
            if !old_communes.contains_key(code) {
                tree.package_only.push(SkippedCommune {
                    code: code.clone(),
                    name: crate::domain::text::normalize_name(name),
                    district: district.clone(),
                });
            }
        }
    }
    for district in districts.values() {
        if let Some(province) = &district.parent
            && !old_provinces.contains_key(province)
        {
            return Err(InputError::new(
                Divisions,
                format!("district {} lies in province {province}, which splits.json does not list", district.code),
            ));
        }
    }

    // merges.json: the new tree and where each old unit went.
    let mut new_provinces: BTreeMap<Code, Unit> = BTreeMap::new();
    let mut new_communes: BTreeMap<Code, Unit> = BTreeMap::new();
    // Old code -> the new units it went to, with the share given.
    let mut went_to: BTreeMap<Code, Vec<(Code, bool)>> = BTreeMap::new();
    // The predecessors each new unit lists.
    let mut predecessors_of: BTreeMap<Code, BTreeSet<Code>> = BTreeMap::new();
    for province in &inputs.merges.data {
        let code = text_code(&province.level1_id, Tier::Province).map_err(|e| InputError::new(Merges, e))?;
        let unit = unit_of(Tier::Province, code.clone(), &province.name, None, Merges)?;
        if new_provinces.insert(code.clone(), unit).is_some() {
            return Err(InputError::new(Merges, format!("province {code} is listed twice")));
        }
        for source in &province.merges {
            let old = text_code(&source.old_id, Tier::Province).map_err(|e| InputError::new(Merges, e))?;
            if !old_provinces.contains_key(&old) {
                return Err(InputError::new(
                    Merges,
                    format!("new province {code} lists old province {old}, which splits.json does not"),
                ));
            }
            went_to.entry(old.clone()).or_default().push((code.clone(), source.share == "full"));
            predecessors_of.entry(code.clone()).or_default().insert(old);
        }
        for commune in &province.level2s {
            let commune_code = text_code(&commune.level2_id, Tier::Commune).map_err(|e| InputError::new(Merges, e))?;
            let unit = unit_of(Tier::Commune, commune_code.clone(), &commune.name, Some(code.clone()), Merges)?;
            if new_communes.insert(commune_code.clone(), unit).is_some() {
                return Err(InputError::new(Merges, format!("commune {commune_code} is listed twice")));
            }
            let mut listed = BTreeSet::new();
            for source in &commune.merges {
                let old = Code::parse(&source.old_id).map_err(|e| InputError::new(Merges, e))?;
                let known = match old.tier() {
                    Tier::Commune => old_communes.contains_key(&old),
                    Tier::District => districts.contains_key(&old),
                    Tier::Province => false,
                };
                if !known {
                    return Err(InputError::new(
                        Merges,
                        format!(
                            "new commune {commune_code} lists old unit {old}, which is neither a commune of \
                             splits.json nor a district of the package"
                        ),
                    ));
                }
                if listed.insert(old.clone()) {
                    went_to.entry(old.clone()).or_default().push((commune_code.clone(), source.share == "full"));
                }
            }
            predecessors_of.insert(commune_code, listed);
        }
    }
    if new_provinces.is_empty() || new_communes.is_empty() {
        return Err(InputError::new(Merges, "lists no province or no commune"));
    }
    for code in old_provinces.keys().chain(old_communes.keys()) {
        if !went_to.contains_key(code) {
            return Err(InputError::new(
                Merges,
                format!("old unit {code} of splits.json goes to no new unit (it should be listed under one)"),
            ));
        }
    }
    for (code, targets) in &split_targets {
        let merged: BTreeSet<String> =
            went_to.get(code).map(|t| t.iter().map(|(c, _)| c.to_string()).collect()).unwrap_or_default();
        if !targets.is_empty() && targets != &merged {
            tree.notes.push(format!(
                "commune {code}: splits.json sends it to {}, merges.json to {}; merges.json was followed",
                targets.iter().cloned().collect::<Vec<_>>().join(", "),
                merged.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }

    tree.links = links(&went_to, &new_communes, &new_provinces, &old_communes, &districts, &mut tree.notes);
    tree.old_provinces = old_provinces.into_values().collect();
    tree.old_districts = districts.into_values().collect();
    tree.old_communes = old_communes.into_values().collect();
    tree.new_provinces = new_provinces.into_values().collect();
    tree.new_communes = new_communes.into_values().collect();
    Ok(tree)
}

/// The district of a commune that the package does not place: the district of the
/// package's communes whose codes surround its own in the same province (codes are
/// allocated in ranges per district). Between two districts, the lower neighbour's.
fn infer_district(code: &Code, communes: Option<&BTreeMap<Code, (Code, String)>>) -> Option<(Code, String)> {
    let communes = communes?;
    let below = communes.range(..code.clone()).next_back();
    let above = communes.range(code.clone()..).find(|(c, _)| *c != code);
    match (below, above) {
        (Some((b, (bd, _))), Some((a, (ad, _)))) if bd == ad => {
            Some((bd.clone(), format!("between communes {b} and {a}, both of district {bd}")))
        }
        (Some((b, (bd, _))), Some((a, (ad, _)))) => Some((
            bd.clone(),
            format!("between commune {b} of district {bd} and commune {a} of district {ad}: the lower one's"),
        )),
        (Some((b, (bd, _))), None) => {
            Some((bd.clone(), format!("after commune {b} of district {bd}, the last of its province")))
        }
        (None, Some((a, (ad, _)))) => {
            Some((ad.clone(), format!("before commune {a} of district {ad}, the first of its province")))
        }
        (None, None) => None,
    }
}

/// The succession links of 2025-07-01.
///
/// - An old unit that went to one new unit merged into it; one that went to several
///   split between them. A unit never links to itself: an old commune whose code a new
///   commune it went into reuses continues as that commune's new version.
/// - An old district links to every new commune its communes went to (a merge if that
///   is one commune, a split otherwise); five whole districts went straight into a
///   special zone.
fn links(
    went_to: &BTreeMap<Code, Vec<(Code, bool)>>,
    new_communes: &BTreeMap<Code, Unit>,
    new_provinces: &BTreeMap<Code, Unit>,
    old_communes: &BTreeMap<Code, Unit>,
    districts: &BTreeMap<Code, Unit>,
    notes: &mut Vec<String>,
) -> BTreeMap<(Code, Code), SuccessionKind> {
    let mut links = BTreeMap::new();
    let mut district_successors: BTreeMap<Code, BTreeSet<Code>> = BTreeMap::new();
    for (old, targets) in went_to {
        let whole = targets.len() == 1;
        if whole && !targets[0].1 {
            notes.push(format!("{old} went to one new unit only but is marked as partial; taken as a merge"));
        }
        if !whole && targets.iter().any(|(_, full)| *full) {
            notes.push(format!("{old} went to several new units but is marked full under one; taken as a split"));
        }
        let kind = if whole { SuccessionKind::Merge } else { SuccessionKind::Split };
        for (new, _) in targets {
            let reused = new == old && (new_communes.contains_key(new) || new_provinces.contains_key(new));
            if !reused {
                links.insert((old.clone(), new.clone()), kind);
            }
            if old.tier() == Tier::District {
                district_successors.entry(old.clone()).or_default().insert(new.clone());
            }
        }
        if let Some(district) = old_communes.get(old).and_then(|c| c.parent.clone()) {
            district_successors.entry(district).or_default().extend(targets.iter().map(|(c, _)| c.clone()));
        }
    }
    for district in districts.keys() {
        match district_successors.get(district) {
            Some(successors) => {
                let kind = if successors.len() == 1 { SuccessionKind::Merge } else { SuccessionKind::Split };
                for successor in successors {
                    links.insert((district.clone(), successor.clone()), kind);
                }
            }
            None => notes.push(format!("district {district} has no commune and goes to no new unit")),
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::{super::input::*, *};

    fn code(c: &str) -> Code {
        Code::parse(c).unwrap_or_else(|_| Code::from_db(c.to_owned()))
    }

    fn ward(code: u32, name: &str) -> PackageCommune {
        PackageCommune { code, name: name.into() }
    }

    fn source(old: &str, share: &str) -> MergeSource {
        MergeSource { old_id: old.into(), share: share.into() }
    }

    fn split_commune(code: &str, name: &str) -> SplitCommune {
        SplitCommune { level3_id: code.into(), name: name.into(), splits: vec![] }
    }

    /// A small country: province 20 with districts 178 (communes 05971, 05974, 05977)
    /// and 187 (06463, 06466, 06523), plus an island district 999 without communes;
    /// province 11 with district 094 (03124, 03127).
    fn inputs() -> Inputs {
        let divisions = vec![
            PackageProvince {
                name: "Tỉnh Lạng Sơn".into(),
                code: 20,
                districts: vec![
                    PackageDistrict {
                        name: "Thành Phố Lạng Sơn".into(),
                        code: 178,
                        wards: vec![
                            ward(5971, "Phường Hoàng Văn Thụ"),
                            ward(5974, "Phường Tam Thanh"),
                            ward(5977, "Xã Vĩnh Trại"),
                        ],
                    },
                    PackageDistrict {
                        name: "Huyện Chi Lăng".into(),
                        code: 187,
                        wards: vec![
                            ward(6463, "Thị trấn Đồng Mỏ"),
                            ward(6466, "Thị trấn Chi Lăng"),
                            ward(6523, "Xã  Chi Lăng"),
                        ],
                    },
                    PackageDistrict { name: "Huyện Đảo".into(), code: 999, wards: vec![] },
                ],
            },
            PackageProvince {
                name: "Tỉnh Điện Biên".into(),
                code: 11,
                districts: vec![PackageDistrict {
                    name: "Thành phố Điện Biên Phủ".into(),
                    code: 94,
                    wards: vec![ward(3124, "Phường Noong Bua"), ward(3127, "Phường Him Lam"), ward(3130, "Xã Cũ")],
                }],
            },
        ];
        let splits = Splits {
            data: vec![
                SplitProvince {
                    level1_id: "20".into(),
                    name: "Tỉnh Lạng Sơn".into(),
                    level3s: vec![
                        split_commune("05971", "Phường Hoàng Văn Thụ"),
                        split_commune("05974", "Phường Tam Thanh"),
                        // Only in splits.json: between 05974 and 05977, both of 178.
                        split_commune("05975", "Phường Mới"),
                        // A township in the package, a ward here.
                        split_commune("05977", "Phường Vĩnh Trại"),
                        split_commune("06463", "Thị trấn Đồng Mỏ"),
                        split_commune("06466", "Thị Trấn Chi Lăng"),
                        split_commune("06523", "Xã Chi Lăng"),
                    ],
                },
                SplitProvince {
                    level1_id: "11".into(),
                    name: "Tỉnh Điện Biên".into(),
                    // 03130 is only in the package: it no longer existed.
                    level3s: vec![split_commune("03124", "Phường Noong Bua"), split_commune("03127", "Phường Him Lam")],
                },
            ],
        };
        let merges = Merges {
            data: vec![MergeProvince {
                level1_id: "20".into(),
                name: "Tỉnh Lạng Sơn".into(),
                merges: vec![source("20", "full"), source("11", "full")],
                level2s: vec![
                    MergeCommune {
                        level2_id: "05977".into(),
                        name: "Phường Đông Kinh".into(),
                        merges: vec![source("05977", "full"), source("05974", "partial")],
                    },
                    MergeCommune {
                        level2_id: "05971".into(),
                        name: "Phường Lương Văn Tri".into(),
                        merges: vec![source("05974", "partial"), source("05975", "full")],
                    },
                    MergeCommune {
                        // Takes up code 06463, while the old 06463 went into 06500.
                        level2_id: "06463".into(),
                        name: "Xã Chi Lăng".into(),
                        merges: vec![source("06466", "full"), source("06523", "full")],
                    },
                    MergeCommune {
                        level2_id: "06500".into(),
                        name: "Xã Mới".into(),
                        merges: vec![source("06463", "full"), source("05971", "full")],
                    },
                    MergeCommune {
                        level2_id: "09999".into(),
                        name: "Đặc khu Đảo".into(),
                        merges: vec![source("999", "full")],
                    },
                    MergeCommune {
                        level2_id: "03124".into(),
                        name: "Phường Điện Biên Phủ".into(),
                        merges: vec![source("03124", "full"), source("03127", "full")],
                    },
                ],
            }],
        };
        Inputs { divisions, splits, merges }
    }

    fn link(tree: &OfficialTree, from: &str, to: &str) -> Option<SuccessionKind> {
        tree.links.get(&(code(from), code(to))).copied()
    }

    #[test]
    fn the_old_tree_takes_communes_from_splits_and_districts_from_the_package() {
        let tree = build(&inputs()).expect("valid inputs");
        assert_eq!(tree.old_provinces.len(), 2);
        assert_eq!(tree.old_districts.len(), 4);
        assert_eq!(
            tree.old_districts.iter().find(|d| d.code == code("178")).map(|d| (d.name.as_str(), d.kind)),
            Some(("Thành phố Lạng Sơn", Kind::ProvincialCity))
        );
        let codes: Vec<&str> = tree.old_communes.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["03124", "03127", "05971", "05974", "05975", "05977", "06463", "06466", "06523"]);
        let vinh_trai = tree.old_communes.iter().find(|c| c.code == code("05977")).expect("05977");
        assert_eq!((vinh_trai.name.as_str(), vinh_trai.kind), ("Phường Vĩnh Trại", Kind::Ward));
        assert_eq!(vinh_trai.parent, Some(code("178")));
    }

    #[test]
    fn a_commune_missing_from_the_package_lies_in_the_district_of_its_neighbouring_codes() {
        let tree = build(&inputs()).expect("valid inputs");
        assert_eq!(tree.inferred.len(), 1);
        let placement = &tree.inferred[0];
        assert_eq!((placement.commune.as_str(), placement.district.as_str()), ("05975", "178"));
        assert!(placement.reason.contains("05974") && placement.reason.contains("05977"), "{}", placement.reason);
        let moi = tree.old_communes.iter().find(|c| c.code == code("05975")).expect("05975");
        assert_eq!(moi.parent, Some(code("178")));
    }

    #[test]
    fn between_two_districts_the_lower_neighbour_wins_and_the_ends_take_the_nearest() {
        let communes: BTreeMap<Code, (Code, String)> =
            [(code("00010"), (code("001"), String::new())), (code("00020"), (code("002"), String::new()))]
                .into_iter()
                .collect();
        assert_eq!(infer_district(&code("00015"), Some(&communes)).map(|d| d.0), Some(code("001")));
        assert_eq!(infer_district(&code("00005"), Some(&communes)).map(|d| d.0), Some(code("001")));
        assert_eq!(infer_district(&code("00025"), Some(&communes)).map(|d| d.0), Some(code("002")));
        assert_eq!(infer_district(&code("00025"), None), None);
    }

    #[test]
    fn package_only_communes_are_skipped_and_differences_resolved_in_favour_of_splits() {
        let tree = build(&inputs()).expect("valid inputs");
        assert_eq!(tree.package_only.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), ["03130"]);
        assert_eq!(tree.differences.len(), 1);
        let difference = &tree.differences[0];
        assert_eq!(difference.code, code("05977"));
        assert_eq!(difference.package, ("Xã Vĩnh Trại".to_owned(), Kind::Commune));
        assert_eq!(difference.splits, ("Phường Vĩnh Trại".to_owned(), Kind::Ward));
        // "Xã  Chi Lăng" and "Thị Trấn Chi Lăng" differ only in spacing and case.
        assert_eq!(tree.cosmetic_differences, 2);
    }

    #[test]
    fn a_whole_passage_is_a_merge_and_a_partial_one_a_split_to_each() {
        let tree = build(&inputs()).expect("valid inputs");
        assert_eq!(link(&tree, "06466", "06463"), Some(SuccessionKind::Merge));
        assert_eq!(link(&tree, "05974", "05977"), Some(SuccessionKind::Split));
        assert_eq!(link(&tree, "05974", "05971"), Some(SuccessionKind::Split));
        assert_eq!(link(&tree, "11", "20"), Some(SuccessionKind::Merge));
    }

    #[test]
    fn a_unit_continuing_under_its_own_code_has_no_link_to_itself() {
        let tree = build(&inputs()).expect("valid inputs");
        assert_eq!(link(&tree, "05977", "05977"), None);
        assert_eq!(link(&tree, "20", "20"), None);
        assert_eq!(link(&tree, "03124", "03124"), None);
        assert!(tree.links.keys().all(|(p, s)| p != s));
    }

    #[test]
    fn a_commune_whose_code_a_unit_it_did_not_go_into_reuses_still_links_to_where_it_went() {
        let tree = build(&inputs()).expect("valid inputs");
        // 06463 went into 06500, while the new 06463 is made of 06466 and 06523.
        assert_eq!(link(&tree, "06463", "06500"), Some(SuccessionKind::Merge));
        assert_eq!(link(&tree, "06466", "06463"), Some(SuccessionKind::Merge));
    }

    #[test]
    fn an_old_district_links_to_every_commune_that_took_its_territory() {
        let tree = build(&inputs()).expect("valid inputs");
        // 187's communes went to 06463 (new) and 06500.
        assert_eq!(link(&tree, "187", "06463"), Some(SuccessionKind::Split));
        assert_eq!(link(&tree, "187", "06500"), Some(SuccessionKind::Split));
        // 094's two communes both went to 03124.
        assert_eq!(link(&tree, "094", "03124"), Some(SuccessionKind::Merge));
        // A whole island district became a special zone.
        assert_eq!(link(&tree, "999", "09999"), Some(SuccessionKind::Merge));
        let zone = tree.new_communes.iter().find(|c| c.code == code("09999")).expect("09999");
        assert_eq!(zone.kind, Kind::SpecialZone);
    }

    #[test]
    fn the_new_tree_has_communes_directly_under_provinces() {
        let tree = build(&inputs()).expect("valid inputs");
        assert_eq!(tree.new_provinces.len(), 1);
        assert!(tree.new_communes.iter().all(|c| c.parent == Some(code("20"))));
    }

    #[test]
    fn inputs_that_disagree_are_refused_naming_the_file() {
        let mut unknown = inputs();
        unknown.merges.data[0].level2s[0].merges.push(source("07777", "full"));
        let error = build(&unknown).expect_err("unknown old commune");
        assert_eq!(error.file, InputFile::Merges);
        assert!(error.message.contains("07777"), "{}", error.message);

        let mut orphan = inputs();
        orphan.merges.data[0].level2s.retain(|c| c.level2_id != "06500");
        let error = build(&orphan).expect_err("an old commune going nowhere");
        assert_eq!(error.file, InputFile::Merges);

        let mut untyped = inputs();
        untyped.splits.data[0].level3s[0].name = "Làng Cổ".into();
        let error = build(&untyped).expect_err("a name without a unit type");
        assert_eq!(error.file, InputFile::Splits);
        assert!(error.message.contains("Phường"), "{}", error.message);
    }
}
