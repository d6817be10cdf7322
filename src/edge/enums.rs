//! One table per enum: each value's domain variant, wire (proto) variant, stored name
//! and filter name, written once with [`enum_table!`](crate::enum_table), so that no
//! feature writes the same `match` three times.
//!
//! ```ignore
//! enum_table!(Sector, pb::Sector, "SECTOR_", {
//!     Party => Party = "party",
//!     Health => Health = "health",
//! });
//! ```
//! The stored name is what the database holds; the filter name is the stored name in
//! upper case (`HEALTH`), which is also the proto name without its prefix
//! (`SECTOR_HEALTH`), so filters accept either.

/// The conversions of an enum, implemented by [`enum_table!`](crate::enum_table).
pub trait Table: Sized + Copy + PartialEq + 'static {
    /// The generated proto enum.
    type Wire: Copy + Into<i32> + TryFrom<i32>;
    /// Every value, in table order.
    const ALL: &'static [Self];
    /// The proto names' prefix, e.g. `SECTOR_`.
    const WIRE_PREFIX: &'static str;
    /// The proto enum's path, for messages, e.g. `pb::Sector`.
    const WIRE_NAME: &'static str;

    /// The name stored in the database.
    fn stored(self) -> &'static str;
    /// The wire value.
    fn to_wire(self) -> Self::Wire;
    /// The domain value of a wire value; `None` for the UNSPECIFIED value.
    fn from_wire(value: Self::Wire) -> Option<Self>;

    /// The value stored under `name`.
    fn from_stored(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.stored() == name)
    }

    /// The wire value as the `i32` a message field holds.
    fn wire(self) -> i32 {
        self.to_wire().into()
    }

    /// A required enum field: UNSPECIFIED is "is required", an unknown number says so.
    fn required(value: i32) -> Result<Self, String> {
        Self::optional(value)?.ok_or_else(|| "is required".to_owned())
    }

    /// An optional enum field: UNSPECIFIED is `None`.
    fn optional(value: i32) -> Result<Option<Self>, String> {
        let name = Self::WIRE_NAME.rsplit("::").next().unwrap_or(Self::WIRE_NAME).trim();
        let wire = Self::Wire::try_from(value).map_err(|_| format!("{value} is not a {name}"))?;
        Ok(Self::from_wire(wire))
    }

    /// The value a filter names, in short (`HEALTH`) or full (`SECTOR_HEALTH`) form,
    /// in any case.
    fn from_filter(text: &str) -> Result<Self, String> {
        let upper = text.to_uppercase();
        let short = upper.strip_prefix(Self::WIRE_PREFIX).unwrap_or(&upper);
        Self::ALL.iter().copied().find(|v| v.stored().eq_ignore_ascii_case(short)).ok_or_else(|| {
            let known: Vec<String> = Self::ALL.iter().map(|v| v.stored().to_uppercase()).collect();
            format!("unknown value {}; expected one of {}", crate::error::quote(text), known.join(", "))
        })
    }
}

/// Implements [`Table`] for a domain enum from one table of its values:
/// `enum_table!(Domain, pb::Wire, "PREFIX_", { Variant => WireVariant = "stored", … })`.
#[macro_export]
macro_rules! enum_table {
    ($domain:ident, $wire:ty, $prefix:literal, { $($variant:ident => $wire_variant:ident = $stored:literal),+ $(,)? }) => {
        const _: () = {
            type WireEnum = $wire;

            impl $crate::edge::enums::Table for $domain {
                type Wire = WireEnum;
                const ALL: &'static [Self] = &[$($domain::$variant),+];
                const WIRE_PREFIX: &'static str = $prefix;
                const WIRE_NAME: &'static str = stringify!($wire);

                fn stored(self) -> &'static str {
                    match self {
                        $($domain::$variant => $stored),+
                    }
                }

                fn to_wire(self) -> WireEnum {
                    match self {
                        $($domain::$variant => WireEnum::$wire_variant),+
                    }
                }

                fn from_wire(value: WireEnum) -> Option<Self> {
                    match value {
                        $(WireEnum::$wire_variant => Some($domain::$variant),)+
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        };
    };
}

#[cfg(test)]
mod tests {
    use super::Table;
    use crate::grpc::pb;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Gender {
        Male,
        Female,
    }

    crate::enum_table!(Gender, pb::Gender, "GENDER_", {
        Male => Male = "male",
        Female => Female = "female",
    });

    #[test]
    fn one_table_converts_every_way() {
        assert_eq!(Gender::Female.stored(), "female");
        assert_eq!(Gender::from_stored("male"), Some(Gender::Male));
        assert_eq!(Gender::Female.wire(), i32::from(pb::Gender::Female));
        assert_eq!(Gender::required(pb::Gender::Male.into()), Ok(Gender::Male));
        assert_eq!(Gender::required(0), Err("is required".to_owned()));
        assert_eq!(Gender::optional(0), Ok(None));
        assert_eq!(Gender::required(99), Err("99 is not a Gender".to_owned()));
        assert_eq!(Gender::from_filter("gender_female"), Ok(Gender::Female));
        assert_eq!(Gender::from_filter("MALE"), Ok(Gender::Male));
        assert!(Gender::from_filter("other").unwrap_err().contains("MALE, FEMALE"));
    }
}
