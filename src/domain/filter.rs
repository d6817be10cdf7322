//! The filter and order_by languages of list methods: a small subset of AIP-160 and AIP-132.

use super::locality::{Kind, Tier};

/// One condition of a locality filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `tier = X` (`equal`) or `tier != X`.
    Tier {
        /// Whether the tier must equal (true) or differ (false).
        equal: bool,
        /// The tier compared with.
        tier: Tier,
    },
    /// `kind = X` or `kind != X`.
    Kind {
        /// Whether the kind must equal (true) or differ (false).
        equal: bool,
        /// The kind compared with.
        kind: Kind,
    },
    /// `tags:x` (`has`) or `NOT tags:x`.
    Tag {
        /// Whether the tag must be present (true) or absent (false).
        has: bool,
        /// The tag.
        tag: String,
    },
}

/// Parses `tier = COMMUNE AND kind != WARD AND tags:poor_district AND NOT tags:border_area`.
///
/// Enum values are accepted in short (`COMMUNE`) or full (`LOCALITY_TIER_COMMUNE`) form,
/// in any case. An empty filter has no conditions.
pub fn parse_locality_filter(filter: &str) -> Result<Vec<Condition>, String> {
    let filter = filter.trim();
    if filter.is_empty() {
        return Ok(Vec::new());
    }
    if filter.len() > 1000 {
        return Err("is longer than 1000 characters".to_owned());
    }
    filter.split(" AND ").map(|term| parse_term(term.trim())).collect()
}

fn parse_term(term: &str) -> Result<Condition, String> {
    let (negated, term) = match term.strip_prefix("NOT ") {
        Some(rest) => (true, rest.trim()),
        None => (false, term),
    };
    if let Some((field, value)) = term.split_once(':') {
        let field = field.trim();
        if field != "tags" {
            return Err(format!("`{field}` does not support `:`; only `tags:<tag>` does"));
        }
        let tag = unquote(value.trim());
        if tag.is_empty() {
            return Err("`tags:` needs a tag".to_owned());
        }
        return Ok(Condition::Tag { has: !negated, tag: tag.to_owned() });
    }
    let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
        (f.trim(), false, unquote(v.trim()))
    } else if let Some((f, v)) = term.split_once('=') {
        (f.trim(), true, unquote(v.trim()))
    } else {
        return Err(format!("cannot read `{term}`; expected `field = value`, `field != value` or `tags:<tag>`"));
    };
    let equal = equal != negated;
    match field {
        "tier" => parse_enum(
            value,
            "LOCALITY_TIER_",
            &[("PROVINCE", Tier::Province), ("DISTRICT", Tier::District), ("COMMUNE", Tier::Commune)],
        )
        .map(|tier| Condition::Tier { equal, tier }),
        "kind" => {
            let names: Vec<(String, Kind)> = Kind::ALL.iter().map(|k| (k.as_str().to_uppercase(), *k)).collect();
            let refs: Vec<(&str, Kind)> = names.iter().map(|(n, k)| (n.as_str(), *k)).collect();
            parse_enum(value, "LOCALITY_KIND_", &refs).map(|kind| Condition::Kind { equal, kind })
        }
        other => Err(format!("unknown field `{other}`; filterable fields are tier, kind and tags")),
    }
}

fn unquote(value: &str) -> &str {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value)
}

fn parse_enum<T: Copy>(value: &str, prefix: &str, names: &[(&str, T)]) -> Result<T, String> {
    let upper = value.to_uppercase();
    let short = upper.strip_prefix(prefix).unwrap_or(&upper);
    names.iter().find(|(name, _)| *name == short).map(|(_, v)| *v).ok_or_else(|| {
        let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        format!("unknown value `{value}`; expected one of {}", known.join(", "))
    })
}

/// The sort keys of locality lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalityOrder {
    /// By code.
    Code,
    /// By display name on the as-of date, then code.
    DisplayName,
}

/// Parses `code`, `display_name`, each optionally followed by `desc` or `asc`.
/// Returns the key and whether it is descending; empty means code ascending.
pub fn parse_locality_order(order_by: &str) -> Result<(LocalityOrder, bool), String> {
    let words: Vec<&str> = order_by.split_whitespace().collect();
    let (field, direction) = match words.as_slice() {
        [] => return Ok((LocalityOrder::Code, false)),
        [field] => (*field, "asc"),
        [field, direction] => (*field, *direction),
        _ => return Err(format!("cannot read `{order_by}`; expected `code` or `display_name`, optionally `desc`")),
    };
    let key = match field {
        "code" => LocalityOrder::Code,
        "display_name" => LocalityOrder::DisplayName,
        other => return Err(format!("cannot order by `{other}`; expected `code` or `display_name`")),
    };
    match direction {
        "asc" => Ok((key, false)),
        "desc" => Ok((key, true)),
        other => Err(format!("unknown direction `{other}`; expected `asc` or `desc`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conjunctions_of_tier_kind_and_tags_parse() {
        let parsed = parse_locality_filter("tier = district AND kind != LOCALITY_KIND_TOWN AND tags:border_area");
        assert_eq!(
            parsed,
            Ok(vec![
                Condition::Tier { equal: true, tier: Tier::District },
                Condition::Kind { equal: false, kind: Kind::Town },
                Condition::Tag { has: true, tag: "border_area".to_owned() },
            ])
        );
        assert_eq!(
            parse_locality_filter(r#"NOT tags:"poor_district""#),
            Ok(vec![Condition::Tag { has: false, tag: "poor_district".to_owned() }])
        );
        assert_eq!(parse_locality_filter("  "), Ok(vec![]));
    }

    #[test]
    fn unknown_fields_and_values_are_errors() {
        assert!(parse_locality_filter("population > 3").is_err());
        assert!(parse_locality_filter("tier = HAMLET").is_err());
        assert!(parse_locality_filter("kind:ward").is_err());
        assert!(parse_locality_filter("tier").is_err());
    }

    #[test]
    fn order_by_accepts_code_and_display_name() {
        assert_eq!(parse_locality_order(""), Ok((LocalityOrder::Code, false)));
        assert_eq!(parse_locality_order("display_name desc"), Ok((LocalityOrder::DisplayName, true)));
        assert!(parse_locality_order("population").is_err());
        assert!(parse_locality_order("code sideways").is_err());
    }
}
