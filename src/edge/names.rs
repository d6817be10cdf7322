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
    name.strip_prefix(collection).and_then(|rest| rest.strip_prefix('/')).and_then(positive).ok_or_else(|| {
        format!(
            "{} is not a name of the form `{collection}/{{id}}` with a positive integer id",
            crate::error::quote(name)
        )
    })
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
        format!(
            "{} is not a name of the form `{parent}/{{id}}/{collection}/{{id}}` with positive integer ids",
            crate::error::quote(name)
        )
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

/// A code that names a shared vocabulary entry (a scale, a level): lower snake case
/// (a-z, 0-9, _, starting with a letter), 1 to 64 characters.
pub fn snake_code(value: &str) -> Result<String, String> {
    let valid = (1..=64).contains(&value.len())
        && value.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if value.is_empty() {
        Err("is required".to_owned())
    } else if valid {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{} must be lower snake case (a-z, 0-9, _, starting with a letter), 1 to 64 characters",
            crate::error::quote(value)
        ))
    }
}

/// `scales/{scale}`: a qualification scale, named by its code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScaleName(pub String);

impl ScaleName {
    /// Parses `scales/{scale}`.
    pub fn parse(name: &str) -> Result<Self, String> {
        if name.is_empty() {
            return Err("is required".to_owned());
        }
        name.strip_prefix("scales/")
            .filter(|rest| !rest.contains('/'))
            .ok_or_else(|| format!("{} is not a scale name; expected `scales/{{scale}}`", crate::error::quote(name)))
            .and_then(snake_code)
            .map(Self)
    }
}

impl fmt::Display for ScaleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scales/{}", self.0)
    }
}

/// `scales/{scale}/levels/{level}`: a level of a scale.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LevelName {
    /// The scale's code.
    pub scale: String,
    /// The level's code.
    pub level: String,
}

impl LevelName {
    /// Parses `scales/{scale}/levels/{level}`.
    pub fn parse(name: &str) -> Result<Self, String> {
        if name.is_empty() {
            return Err("is required".to_owned());
        }
        let expected = || {
            format!("{} is not a level name; expected `scales/{{scale}}/levels/{{level}}`", crate::error::quote(name))
        };
        let rest = name.strip_prefix("scales/").ok_or_else(expected)?;
        let (scale, level) = rest.split_once("/levels/").ok_or_else(expected)?;
        if scale.contains('/') || level.contains('/') {
            return Err(expected());
        }
        Ok(Self { scale: snake_code(scale)?, level: snake_code(level)? })
    }
}

impl fmt::Display for LevelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scales/{}/levels/{}", self.scale, self.level)
    }
}

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

    #[test]
    fn codes_are_lower_snake_case_of_at_most_64_characters() {
        assert_eq!(snake_code("medical_specialist_1"), Ok("medical_specialist_1".to_owned()));
        assert!(snake_code(&"a".repeat(64)).is_ok());
        assert!(snake_code(&"a".repeat(65)).is_err());
        assert!(snake_code("Master").is_err());
        assert!(snake_code("1st").is_err());
        assert!(snake_code("có_dấu").is_err());
        assert!(snake_code("").is_err());
    }

    #[test]
    fn scale_and_level_names_have_their_collections() {
        assert_eq!(ScaleName::parse("scales/professional"), Ok(ScaleName("professional".to_owned())));
        assert!(ScaleName::parse("scales/professional/levels/master").is_err());
        assert!(ScaleName::parse("levels/professional").is_err());
        assert!(ScaleName::parse("scales/").is_err());
        assert_eq!(
            LevelName::parse("scales/professional/levels/master"),
            Ok(LevelName { scale: "professional".to_owned(), level: "master".to_owned() })
        );
        assert_eq!(LevelName { scale: "a".into(), level: "b".into() }.to_string(), "scales/a/levels/b");
        assert!(LevelName::parse("scales/professional/master").is_err());
        assert!(LevelName::parse("scales/professional/levels/master/x").is_err());
        assert!(LevelName::parse("scales/a/b/levels/c").is_err());
        assert!(LevelName::parse("").is_err());
    }
}
