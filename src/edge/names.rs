//! Resource names (AIP-122) as types: parsed once at the edge, printed one way.
//!
//! `UnitName::parse("units/42")` checks the collection and a positive integer id
//! (no sign, no leading zero), with an error a field violation can carry; `Display`
//! prints the name back. Child names (`people/7/placements/3`) carry both ids.

use std::fmt;

/// Parses the positive integer id of `{collection}/{id}`.
pub fn parse_id(name: &str, collection: &str) -> Result<i64, String> {
    if name.is_empty() {
        return Err("is required".to_owned());
    }
    name.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(positive)
        .ok_or_else(|| format!("`{name}` is not a name of the form `{collection}/{{id}}` with a positive integer id"))
}

/// Parses `{parent}/{parent_id}/{collection}/{id}` into both ids.
pub fn parse_child_id(name: &str, parent: &str, collection: &str) -> Result<(i64, i64), String> {
    if name.is_empty() {
        return Err("is required".to_owned());
    }
    let parsed = name.strip_prefix(parent).and_then(|rest| rest.strip_prefix('/')).and_then(|rest| {
        let (parent_id, rest) = rest.split_once('/')?;
        let id = rest.strip_prefix(collection)?.strip_prefix('/')?;
        Some((positive(parent_id)?, positive(id)?))
    });
    parsed.ok_or_else(|| {
        format!("`{name}` is not a name of the form `{parent}/{{id}}/{collection}/{{id}}` with positive integer ids")
    })
}

fn positive(id: &str) -> Option<i64> {
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0'))
        .then(|| id.parse::<i64>().ok())
        .flatten()
        .filter(|id| *id > 0)
}

macro_rules! id_name {
    ($(#[$meta:meta])* $name:ident, $collection:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl $name {
            /// The collection segment of these names.
            pub const COLLECTION: &'static str = $collection;

            /// Parses a name of this collection.
            pub fn parse(name: &str) -> Result<Self, String> {
                parse_id(name, $collection).map(Self)
            }

            /// The id.
            pub fn id(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}/{}", $collection, self.0)
            }
        }
    };
}

macro_rules! child_name {
    ($(#[$meta:meta])* $name:ident, $parent:literal, $collection:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            /// The parent's id.
            pub parent: i64,
            /// The resource's own id.
            pub id: i64,
        }

        impl $name {
            /// Parses a name of this collection.
            pub fn parse(name: &str) -> Result<Self, String> {
                parse_child_id(name, $parent, $collection).map(|(parent, id)| Self { parent, id })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}/{}/{}/{}", $parent, self.parent, $collection, self.id)
            }
        }
    };
}

id_name!(
    /// `units/{id}`.
    UnitName,
    "units"
);
id_name!(
    /// `people/{id}`.
    PersonName,
    "people"
);
id_name!(
    /// `trainingPlans/{id}`.
    TrainingPlanName,
    "trainingPlans"
);
id_name!(
    /// `rotations/{id}`.
    RotationName,
    "rotations"
);
id_name!(
    /// `successionPools/{id}`.
    SuccessionPoolName,
    "successionPools"
);
id_name!(
    /// `standards/{id}`.
    StandardName,
    "standards"
);
id_name!(
    /// `staffingQuotas/{id}`.
    StaffingQuotaName,
    "staffingQuotas"
);
child_name!(
    /// `people/{person}/placements/{id}`.
    PlacementName,
    "people",
    "placements"
);
child_name!(
    /// `people/{person}/qualifications/{id}`.
    QualificationName,
    "people",
    "qualifications"
);
child_name!(
    /// `people/{person}/disciplines/{id}`.
    DisciplineName,
    "people",
    "disciplines"
);
child_name!(
    /// `trainingPlans/{plan}/enrollments/{id}`.
    EnrollmentName,
    "trainingPlans",
    "enrollments"
);
child_name!(
    /// `trainingPlans/{plan}/courses/{id}`.
    CourseName,
    "trainingPlans",
    "courses"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_integers_under_their_collection() {
        assert_eq!(UnitName::parse("units/42"), Ok(UnitName(42)));
        assert_eq!(UnitName(42).to_string(), "units/42");
        for bad in ["units/0", "units/-1", "units/x", "people/42", "units42", "units/+5", "units/007", "", "units/"] {
            assert!(UnitName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(UnitName::parse("").unwrap_err(), "is required");
    }

    #[test]
    fn child_names_carry_both_ids() {
        let name = PlacementName::parse("people/7/placements/3");
        assert_eq!(name, Ok(PlacementName { parent: 7, id: 3 }));
        assert_eq!(PlacementName { parent: 7, id: 3 }.to_string(), "people/7/placements/3");
        for bad in ["people/7/placements/0", "people/0/placements/3", "people/7/qualifications/3", "people/7", ""] {
            assert!(PlacementName::parse(bad).is_err(), "{bad}");
        }
    }
}
