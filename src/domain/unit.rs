//! The rules of a unit's own code (mã đơn vị).

/// Longest unit code.
pub const MAX_CODE_CHARS: usize = 32;

/// A unit code as given: trimmed; empty means none. 1 to 32 characters among ASCII
/// letters, digits and `-`, `_`, `.`, `/`, the characters registers use.
pub fn parse_code(value: &str) -> Result<Option<String>, String> {
    let code = value.trim();
    if code.is_empty() {
        return Ok(None);
    }
    if code.len() > MAX_CODE_CHARS {
        return Err(format!("`{code}` is longer than {MAX_CODE_CHARS} characters"));
    }
    if let Some(bad) = code.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))) {
        return Err(format!("`{code}` holds `{bad}`; a unit code has letters, digits and - _ . / only"));
    }
    Ok(Some(code.to_owned()))
}

/// The form codes are compared and kept unique in: upper case (`ub-03334` and
/// `UB-03334` are the same code).
pub fn code_key(code: &str) -> String {
    code.to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_codes_take_register_characters_only() {
        assert_eq!(parse_code("  DB-UBND/03334.1_a "), Ok(Some("DB-UBND/03334.1_a".to_owned())));
        assert_eq!(parse_code(""), Ok(None));
        assert!(parse_code("UB 03334").is_err());
        assert!(parse_code("Ủy-ban").is_err());
        assert!(parse_code(&"A".repeat(33)).is_err());
        assert!(parse_code(&"A".repeat(32)).is_ok());
    }

    #[test]
    fn codes_compare_without_case() {
        assert_eq!(code_key("ub-03334"), code_key("UB-03334"));
    }
}
