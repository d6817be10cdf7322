//! The three input files as they are published, and the kinds read from unit names.
//!
//! - the statistics office's three-tier code list as shipped by the PyPI package
//!   `vietnam-provinces` 0.6.0 (`vietnam_provinces/data/nested-divisions.json`):
//!   provinces, districts and communes, codes as integers;
//! - `splits.json` of the 2025 reorganisation: the old provinces and the communes that
//!   existed on 2025-06-30, with the new units each went to;
//! - `merges.json`: the new provinces and communes, each with the old units merged into it.

use serde::Deserialize;

use crate::{
    domain::text::normalize_name,
    localities::rules::{Code, Kind, Tier},
};

/// A province of the package's code list.
#[derive(Debug, Clone, Deserialize)]
pub struct PackageProvince {
    /// Name as published ("Thành phố Hà Nội").
    pub name: String,
    /// Code as an integer (1 for "01").
    pub code: u32,
    /// Its districts.
    pub districts: Vec<PackageDistrict>,
}

/// A district of the package's code list.
#[derive(Debug, Clone, Deserialize)]
pub struct PackageDistrict {
    /// Name as published ("Quận Ba Đình").
    pub name: String,
    /// Code as an integer (1 for "001").
    pub code: u32,
    /// Its communes.
    pub wards: Vec<PackageCommune>,
}

/// A commune of the package's code list.
#[derive(Debug, Clone, Deserialize)]
pub struct PackageCommune {
    /// Name as published ("Phường Phúc Xá").
    pub name: String,
    /// Code as an integer (1 for "00001").
    pub code: u32,
}

/// `splits.json`: the old tree seen from the 2025 reorganisation.
#[derive(Debug, Clone, Deserialize)]
pub struct Splits {
    /// The 63 old provinces.
    pub data: Vec<SplitProvince>,
}

/// An old province of `splits.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SplitProvince {
    /// Its 2-digit code.
    pub level1_id: String,
    /// Its name on 2025-06-30.
    pub name: String,
    /// The communes it held on 2025-06-30.
    pub level3s: Vec<SplitCommune>,
}

/// An old commune of `splits.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SplitCommune {
    /// Its 5-digit code.
    pub level3_id: String,
    /// Its name on 2025-06-30.
    pub name: String,
    /// The new units it went to.
    #[serde(default)]
    pub splits: Vec<SplitTarget>,
}

/// A new unit an old commune went to, in `splits.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SplitTarget {
    /// The new unit's code.
    pub new_id: String,
}

/// `merges.json`: the new tree from 2025-07-01.
#[derive(Debug, Clone, Deserialize)]
pub struct Merges {
    /// The 34 new provinces.
    pub data: Vec<MergeProvince>,
}

/// A new province of `merges.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct MergeProvince {
    /// Its 2-digit code (the code of one of the old provinces).
    pub level1_id: String,
    /// Its name from 2025-07-01.
    pub name: String,
    /// The old provinces merged into it.
    pub merges: Vec<MergeSource>,
    /// Its communes from 2025-07-01.
    pub level2s: Vec<MergeCommune>,
}

/// A new commune of `merges.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct MergeCommune {
    /// Its 5-digit code.
    pub level2_id: String,
    /// Its name from 2025-07-01.
    pub name: String,
    /// The old units (communes, or five whole districts) that went into it.
    pub merges: Vec<MergeSource>,
}

/// An old unit that went (wholly or in part) into a new one.
#[derive(Debug, Clone, Deserialize)]
pub struct MergeSource {
    /// The old unit's code: 2 digits (province), 3 (a whole district) or 5 (commune).
    pub old_id: String,
    /// `full` when the whole old unit went there, `partial` when only part of it did.
    #[serde(rename = "type")]
    pub share: String,
}

/// The three inputs, parsed.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The package's code list.
    pub divisions: Vec<PackageProvince>,
    /// `splits.json`.
    pub splits: Splits,
    /// `merges.json`.
    pub merges: Merges,
}

/// Parses the package's `nested-divisions.json`.
pub fn parse_divisions(json: &[u8]) -> Result<Vec<PackageProvince>, String> {
    serde_json::from_slice(json).map_err(|e| format!("is not the package's nested-divisions.json: {e}"))
}

/// Parses `splits.json`.
pub fn parse_splits(json: &[u8]) -> Result<Splits, String> {
    serde_json::from_slice(json).map_err(|e| format!("is not the reorganisation's splits.json: {e}"))
}

/// Parses `merges.json`.
pub fn parse_merges(json: &[u8]) -> Result<Merges, String> {
    serde_json::from_slice(json).map_err(|e| format!("is not the reorganisation's merges.json: {e}"))
}

/// The unit-type words that open the names of each tier, with the kind each means.
/// Matched without regard to case; the stored name takes the spelling given here.
fn prefixes(tier: Tier) -> &'static [(&'static str, Kind)] {
    match tier {
        Tier::Province => &[("Tỉnh", Kind::Province), ("Thành phố", Kind::CentralCity)],
        Tier::District => &[
            ("Quận", Kind::UrbanDistrict),
            ("Huyện", Kind::RuralDistrict),
            ("Thị xã", Kind::Town),
            ("Thành phố", Kind::ProvincialCity),
        ],
        Tier::Commune => &[
            ("Phường", Kind::Ward),
            ("Xã", Kind::Commune),
            ("Thị trấn", Kind::Township),
            ("Đặc khu", Kind::SpecialZone),
        ],
    }
}

/// The kind of a unit of `tier` named `raw`, and its name as stored: NFC, whitespace
/// collapsed, the unit-type word in its usual spelling ("Thị Trấn  Mường Chà" is the
/// township "Thị trấn Mường Chà"). `None` when the name opens with no unit type of
/// the tier.
pub fn kind_and_name(tier: Tier, raw: &str) -> Option<(Kind, String)> {
    let name = normalize_name(raw);
    for (prefix, kind) in prefixes(tier) {
        let words = prefix.chars().count();
        let head: String = name.chars().take(words).collect();
        let rest: String = name.chars().skip(words).collect();
        if head.to_lowercase() == prefix.to_lowercase() && rest.starts_with(' ') && rest.trim() != "" {
            return Some((*kind, format!("{prefix}{rest}")));
        }
    }
    None
}

/// The unit types a name of `tier` may open with, for error messages.
pub fn expected_prefixes(tier: Tier) -> String {
    prefixes(tier).iter().map(|(p, _)| format!("\"{p}\"")).collect::<Vec<_>>().join(", ")
}

/// The code of an integer of the package's list, padded to the tier's length.
pub fn padded_code(value: u32, tier: Tier) -> Result<Code, String> {
    let text = format!("{value:0width$}", width = tier.code_len());
    if text.len() != tier.code_len() {
        return Err(format!("code {value} has more than {} digits for a {}", tier.code_len(), tier.as_str()));
    }
    Code::parse(&text)
}

/// A textual code of the reorganisation's files, which must be of `tier`.
pub fn text_code(value: &str, tier: Tier) -> Result<Code, String> {
    let code = Code::parse(value)?;
    if code.tier() != tier {
        return Err(format!("code `{value}` is not a {} code ({} digits)", tier.as_str(), tier.code_len()));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(tier: Tier, name: &str) -> Option<(Kind, String)> {
        kind_and_name(tier, name)
    }

    #[test]
    fn province_kinds_come_from_the_name() {
        assert_eq!(kind(Tier::Province, "Tỉnh Điện Biên"), Some((Kind::Province, "Tỉnh Điện Biên".into())));
        assert_eq!(kind(Tier::Province, "Thành phố Hà Nội"), Some((Kind::CentralCity, "Thành phố Hà Nội".into())));
    }

    #[test]
    fn district_kinds_come_from_the_name() {
        assert_eq!(kind(Tier::District, "Quận Ba Đình").map(|k| k.0), Some(Kind::UrbanDistrict));
        assert_eq!(kind(Tier::District, "Huyện Chi Lăng").map(|k| k.0), Some(Kind::RuralDistrict));
        assert_eq!(kind(Tier::District, "Thị xã Mường Lay").map(|k| k.0), Some(Kind::Town));
        assert_eq!(kind(Tier::District, "Thành phố Lạng Sơn").map(|k| k.0), Some(Kind::ProvincialCity));
    }

    #[test]
    fn commune_kinds_come_from_the_name() {
        assert_eq!(kind(Tier::Commune, "Phường 14").map(|k| k.0), Some(Kind::Ward));
        assert_eq!(kind(Tier::Commune, "Xã Chi Lăng").map(|k| k.0), Some(Kind::Commune));
        assert_eq!(kind(Tier::Commune, "Thị trấn Đồng Mỏ").map(|k| k.0), Some(Kind::Township));
        assert_eq!(kind(Tier::Commune, "Đặc khu Côn Đảo").map(|k| k.0), Some(Kind::SpecialZone));
    }

    #[test]
    fn prefixes_match_in_any_case_and_take_their_usual_spelling() {
        assert_eq!(kind(Tier::District, "Thành Phố Bắc Kạn"), Some((Kind::ProvincialCity, "Thành phố Bắc Kạn".into())));
        assert_eq!(kind(Tier::Commune, "Thị Trấn Mường Chà"), Some((Kind::Township, "Thị trấn Mường Chà".into())));
        assert_eq!(kind(Tier::Commune, "THỊ TRẤN Mường Chà"), Some((Kind::Township, "Thị trấn Mường Chà".into())));
    }

    #[test]
    fn names_are_normalised_before_matching() {
        assert_eq!(kind(Tier::Commune, "Xã  Hoàng Văn Thụ"), Some((Kind::Commune, "Xã Hoàng Văn Thụ".into())));
        assert_eq!(kind(Tier::Commune, "Xã Ngư Thủy "), Some((Kind::Commune, "Xã Ngư Thủy".into())));
        // Decomposed input (combining marks) is stored composed.
        assert_eq!(kind(Tier::Commune, "Xa\u{0303} Tư"), Some((Kind::Commune, "Xã Tư".into())));
    }

    #[test]
    fn a_name_without_a_unit_type_of_its_tier_has_no_kind() {
        assert_eq!(kind(Tier::Commune, "Quận Ba Đình"), None);
        assert_eq!(kind(Tier::Province, "Huyện Chi Lăng"), None);
        assert_eq!(kind(Tier::Commune, "Xã"), None);
        assert_eq!(kind(Tier::Commune, "Xãm Tư"), None);
        assert_eq!(kind(Tier::District, "Thị trấn Đồng Mỏ"), None);
    }

    #[test]
    fn integer_codes_are_padded_to_their_tier() {
        assert_eq!(padded_code(1, Tier::Province).map(|c| c.to_string()), Ok("01".into()));
        assert_eq!(padded_code(1, Tier::District).map(|c| c.to_string()), Ok("001".into()));
        assert_eq!(padded_code(97, Tier::Commune).map(|c| c.to_string()), Ok("00097".into()));
        assert!(padded_code(100, Tier::Province).is_err());
    }

    #[test]
    fn textual_codes_must_be_of_the_expected_tier() {
        assert!(text_code("01", Tier::Province).is_ok());
        assert!(text_code("001", Tier::Province).is_err());
        assert!(text_code("0a", Tier::Province).is_err());
    }

    #[test]
    fn malformed_files_are_reported_with_what_was_expected() {
        let error = parse_splits(b"{\"data\": 3}").unwrap_err();
        assert!(error.contains("splits.json"), "{error}");
        assert!(parse_merges(b"[]").is_err());
        assert!(parse_divisions(b"{}").is_err());
        assert!(parse_divisions(b"[]").is_ok());
    }
}
