//! Locality codes and tiers: the value types that scopes, authorisation and every
//! feature share. The localities feature (`crate::localities`) owns the tree itself.

use crate::{edge::enums::Table as _, enum_table, grpc::pb};

/// The collection segment of locality resource names.
pub const COLLECTION: &str = "localities/";

/// The administrative tier of a locality, fixed by the length of its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// Tỉnh, thành phố trực thuộc trung ương: 2-digit codes.
    Province,
    /// Huyện, quận, thị xã, thành phố thuộc tỉnh: 3-digit codes.
    District,
    /// Xã, phường, thị trấn, đặc khu: 5-digit codes.
    Commune,
}

impl Tier {
    /// Length of the official codes of this tier.
    pub fn code_len(self) -> usize {
        match self {
            Self::Province => 2,
            Self::District => 3,
            Self::Commune => 5,
        }
    }

    /// The tier whose codes have this length.
    pub fn from_code_len(len: usize) -> Option<Self> {
        match len {
            2 => Some(Self::Province),
            3 => Some(Self::District),
            5 => Some(Self::Commune),
            _ => None,
        }
    }

    /// Stable name stored in the database (the enum table's stored name).
    pub fn as_str(self) -> &'static str {
        self.stored()
    }

    /// The tier stored under `name`.
    pub fn from_db(name: &str) -> Option<Self> {
        Self::from_stored(name)
    }
}

enum_table!(Tier, pb::LocalityTier, "LOCALITY_TIER_", {
    Province => Province = "province",
    District => District = "district",
    Commune => Commune = "commune",
});

/// An official administrative code: 2, 3 or 5 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(String);

impl From<Code> for sea_orm::Value {
    fn from(code: Code) -> Self {
        code.0.into()
    }
}

impl From<&Code> for sea_orm::Value {
    fn from(code: &Code) -> Self {
        code.0.as_str().into()
    }
}

impl Code {
    /// Parses a code, checking digits and length.
    pub fn parse(code: &str) -> Result<Self, String> {
        if code.is_empty() {
            return Err("is required".to_owned());
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{} must be digits only", crate::error::quote(code)));
        }
        if Tier::from_code_len(code.len()).is_none() {
            return Err(format!(
                "{} has {} digits; a code has 2 (province), 3 (district) or 5 (commune)",
                crate::error::quote(code),
                code.len()
            ));
        }
        Ok(Self(code.to_owned()))
    }

    /// Parses a resource name `localities/{code}`.
    pub fn from_name(name: &str) -> Result<Self, String> {
        match name.strip_prefix(COLLECTION) {
            Some(code) => Self::parse(code),
            None if name.is_empty() => Err("is required".to_owned()),
            None => Err(format!("`{name}` is not a locality name; expected `localities/{{code}}`")),
        }
    }

    /// A code read back from the database, trusted as valid.
    pub fn from_db(code: String) -> Self {
        Self(code)
    }

    /// The code's digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tier implied by the code's length.
    pub fn tier(&self) -> Tier {
        Tier::from_code_len(self.0.len()).unwrap_or(Tier::Commune)
    }

    /// The resource name, `localities/{code}`.
    pub fn name(&self) -> String {
        format!("{COLLECTION}{}", self.0)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
