//! The one filter grammar of list methods (a subset of AIP-160) and the one `order_by`
//! grammar (AIP-132), each read through a table of the resource's fields.
//!
//! A filter is terms joined by ` AND `: `field = value`, `field != value`, and, for
//! fields that hold sets, `field:value`; `NOT ` before a term negates it. Values may be
//! quoted. A resource lists its fields as [`Field`]s, each with a function that turns a
//! value into the resource's condition type; unknown fields are refused naming the
//! known ones.

/// Longest filter accepted, in bytes.
pub const MAX_FILTER_BYTES: usize = 1000;

/// A filterable field of a resource, producing conditions of type `C`.
#[derive(Debug, Clone, Copy)]
pub struct Field<C> {
    /// The field's name in filters.
    pub name: &'static str,
    /// Whether the field holds a set (`field:value`) rather than one value (`=`, `!=`).
    pub set: bool,
    /// The condition for `value`; `positive` is false for `!=` and negated terms.
    pub condition: fn(positive: bool, value: &str) -> Result<C, String>,
}

impl<C> Field<C> {
    /// A field compared with `=` and `!=`.
    pub const fn value(name: &'static str, condition: fn(bool, &str) -> Result<C, String>) -> Self {
        Self { name, set: false, condition }
    }

    /// A field that holds a set, tested with `field:value`.
    pub const fn set(name: &'static str, condition: fn(bool, &str) -> Result<C, String>) -> Self {
        Self { name, set: true, condition }
    }
}

/// Parses `filter` with the resource's `fields`; an empty filter has no conditions.
pub fn parse<C>(filter: &str, fields: &[Field<C>]) -> Result<Vec<C>, String> {
    let filter = filter.trim();
    if filter.is_empty() {
        return Ok(Vec::new());
    }
    if filter.len() > MAX_FILTER_BYTES {
        return Err(format!("is longer than {MAX_FILTER_BYTES} characters"));
    }
    filter.split(" AND ").map(|term| term_condition(term.trim(), fields)).collect()
}

fn term_condition<C>(term: &str, fields: &[Field<C>]) -> Result<C, String> {
    let (negated, term) = match term.strip_prefix("NOT ") {
        Some(rest) => (true, rest.trim()),
        None => (false, term),
    };
    let (name, positive, value, set) = if let Some((f, v)) = term.split_once("!=") {
        (f.trim(), false, v.trim(), false)
    } else if let Some((f, v)) = term.split_once('=') {
        (f.trim(), true, v.trim(), false)
    } else if let Some((f, v)) = term.split_once(':') {
        (f.trim(), true, v.trim(), true)
    } else {
        return Err(format!(
            "cannot read {}; expected `field = value`, `field != value` or `field:value`",
            crate::error::quote(term)
        ));
    };
    let field = fields.iter().find(|f| f.name == name).ok_or_else(|| {
        let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
        format!("unknown field {}; filterable fields are {}", crate::error::quote(name), known.join(", "))
    })?;
    match (field.set, set) {
        (true, false) => return Err(format!("`{name}` holds a set; test it with `{name}:<value>`")),
        (false, true) => return Err(format!("`{name}` does not support `:`; compare it with `=` or `!=`")),
        _ => {}
    }
    let value = unquote(value);
    if value.is_empty() {
        return Err(format!("`{name}` needs a value"));
    }
    (field.condition)(positive != negated, value)
}

fn unquote(value: &str) -> &str {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value)
}

/// Parses `order_by`: one of `keys`, optionally followed by `asc` or `desc`; empty is
/// `default` ascending. Returns the key and whether it is descending.
pub fn order<K: Copy>(order_by: &str, keys: &[(&str, K)], default: K) -> Result<(K, bool), String> {
    let names: Vec<&str> = keys.iter().map(|(n, _)| *n).collect();
    let words: Vec<&str> = order_by.split_whitespace().collect();
    let (field, direction) = match words.as_slice() {
        [] => return Ok((default, false)),
        [field] => (*field, "asc"),
        [field, direction] => (*field, *direction),
        _ => {
            return Err(format!(
                "cannot read {}; expected one of {}, optionally `desc`",
                crate::error::quote(order_by),
                names.join(", ")
            ));
        }
    };
    let key = keys.iter().find(|(n, _)| *n == field).map(|(_, k)| *k).ok_or_else(|| {
        format!("cannot order by {}; expected one of {}", crate::error::quote(field), names.join(", "))
    })?;
    match direction {
        "asc" => Ok((key, false)),
        "desc" => Ok((key, true)),
        other => Err(format!("unknown direction {}; expected `asc` or `desc`", crate::error::quote(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Cond {
        Leader(bool),
        Tag(bool, String),
    }

    const FIELDS: &[Field<Cond>] = &[
        Field::value("leader", |positive, value| match value {
            "true" => Ok(Cond::Leader(positive)),
            "false" => Ok(Cond::Leader(!positive)),
            other => Err(format!("`{other}` is not true or false")),
        }),
        Field::set("tags", |positive, value| Ok(Cond::Tag(positive, value.to_owned()))),
    ];

    #[test]
    fn terms_read_through_the_field_table() {
        assert_eq!(parse("", FIELDS), Ok(vec![]));
        assert_eq!(
            parse(r#"leader = true AND NOT tags:"poor" AND leader != false"#, FIELDS),
            Ok(vec![Cond::Leader(true), Cond::Tag(false, "poor".into()), Cond::Leader(true)])
        );
        assert!(parse("grade = 3", FIELDS).unwrap_err().contains("leader, tags"));
        assert!(parse("tags = x", FIELDS).unwrap_err().contains("holds a set"));
        assert!(parse("leader:true", FIELDS).unwrap_err().contains("does not support"));
        assert!(parse("leader", FIELDS).is_err());
        assert!(parse(&"leader = true AND ".repeat(100), FIELDS).unwrap_err().contains("longer"));
    }

    #[test]
    fn order_by_takes_a_known_key_and_a_direction() {
        let keys = [("name", 0), ("full_name", 1)];
        assert_eq!(order("", &keys, 0), Ok((0, false)));
        assert_eq!(order("full_name desc", &keys, 0), Ok((1, true)));
        assert!(order("age", &keys, 0).is_err());
        assert!(order("name sideways", &keys, 0).is_err());
        assert!(order("a b c", &keys, 0).is_err());
    }
}
