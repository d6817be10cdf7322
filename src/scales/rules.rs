//! What a scale and a level are and the rules of their labels and of who changes them,
//! free of I/O.

use std::cmp::Reverse;

use crate::{
    context::{Principal, Role},
    domain::text::normalize_name,
    edge::names::{LevelName, ScaleName},
    error::{Error, Result},
    policy::require_national,
};

/// Longest accepted level label, in characters.
pub const MAX_LABEL_CHARS: usize = 200;

/// A level of a scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRecord {
    /// The scale's code, such as `professional`.
    pub scale: String,
    /// The level's code, such as `master`.
    pub code: String,
    /// Higher is better; equal ranks are equivalent.
    pub rank: i32,
    /// Vietnamese label, in NFC.
    pub display_name: String,
    /// English label, in NFC.
    pub english_name: String,
}

impl LevelRecord {
    /// The resource name, `scales/{scale}/levels/{level}`.
    pub fn name(&self) -> String {
        LevelName { scale: self.scale.clone(), level: self.code.clone() }.to_string()
    }
}

/// A scale with its levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleRecord {
    /// The scale's code, such as `professional`.
    pub code: String,
    /// Vietnamese name.
    pub display_name: String,
    /// English name.
    pub english_name: String,
    /// The levels, highest rank first, then by code.
    pub levels: Vec<LevelRecord>,
}

/// The resource name of a scale, `scales/{scale}`.
pub fn scale_name(code: &str) -> String {
    ScaleName(code.to_owned()).to_string()
}

/// Orders levels highest rank first and equal ranks by code, byte-wise, so that the
/// order is the same whatever the database's collation.
pub fn order_levels(levels: &mut [LevelRecord]) {
    levels.sort_by(|a, b| (Reverse(a.rank), a.code.as_bytes()).cmp(&(Reverse(b.rank), b.code.as_bytes())));
}

/// A required label, stored in NFC, at most [`MAX_LABEL_CHARS`] characters.
pub fn label(value: &str) -> Result<String, String> {
    let label = normalize_name(value);
    if label.is_empty() {
        Err("is required".to_owned())
    } else if label.chars().count() > MAX_LABEL_CHARS {
        Err(format!("is longer than {MAX_LABEL_CHARS} characters"))
    } else {
        Ok(label)
    }
}

/// Changing a scale needs the admin role and a national scope: scales are shared by
/// the whole country.
pub fn require_scale_admin(principal: &Principal) -> Result<()> {
    require_national(principal, "changing a qualification scale")?;
    if principal.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(Error::PermissionDenied("changing a qualification scale needs the admin role".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Scope;

    fn level(code: &str, rank: i32) -> LevelRecord {
        LevelRecord {
            scale: "professional".to_owned(),
            code: code.to_owned(),
            rank,
            display_name: code.to_owned(),
            english_name: code.to_owned(),
        }
    }

    #[test]
    fn levels_are_ordered_by_rank_descending_then_code() {
        let mut levels = vec![
            level("university", 50),
            level("medical_specialist_1", 60),
            level("doctorate", 70),
            level("master", 60),
        ];
        order_levels(&mut levels);
        let codes: Vec<&str> = levels.iter().map(|l| l.code.as_str()).collect();
        assert_eq!(codes, ["doctorate", "master", "medical_specialist_1", "university"]);
    }

    #[test]
    fn level_names_nest_under_their_scale() {
        assert_eq!(level("master", 60).name(), "scales/professional/levels/master");
    }

    #[test]
    fn labels_are_required_nfc_and_at_most_200_characters() {
        assert_eq!(label("Tha\u{0323}c si\u{0303}"), Ok("Thạc sĩ".to_owned()));
        assert!(label(" ").is_err());
        assert!(label(&"đ".repeat(200)).is_ok());
        assert!(label(&"đ".repeat(201)).is_err());
    }

    #[test]
    fn only_a_national_admin_changes_scales() {
        let mut principal = Principal::development();
        assert!(require_scale_admin(&principal).is_ok());
        principal.roles = [Role::Editor].into_iter().collect();
        assert!(matches!(require_scale_admin(&principal), Err(Error::PermissionDenied(_))));
        principal.roles = [Role::Admin].into_iter().collect();
        principal.scope = Scope::Localities(Default::default());
        assert!(matches!(require_scale_admin(&principal), Err(Error::PermissionDenied(_))));
    }
}
