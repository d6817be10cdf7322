//! Vietnamese text: NFC storage and the folded form that search matches on.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// The text in Unicode NFC, trimmed, with runs of whitespace collapsed to one space.
pub fn normalize_name(text: &str) -> String {
    text.nfc().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lower case, without diacritics, `đ` as `d`, whitespace collapsed: "Thị trấn Đồng Mỏ"
/// folds to "thi tran dong mo".
pub fn fold(text: &str) -> String {
    let stripped: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .collect();
    stripped.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Escapes `%`, `_` and the escape character `\` for a SQL LIKE pattern with `ESCAPE '\'`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_diacritics_and_case() {
        assert_eq!(fold("Thị trấn Đồng Mỏ"), "thi tran dong mo");
        assert_eq!(fold("Tỉnh  ĐIỆN BIÊN"), "tinh dien bien");
        assert_eq!(fold("Phường Văn Miếu - Quốc Tử Giám"), "phuong van mieu - quoc tu giam");
    }

    #[test]
    fn decomposed_input_is_stored_composed() {
        let decomposed = "Đo\u{0302}\u{0300}ng Mo\u{0309}";
        let normalized = normalize_name(decomposed);
        assert_eq!(normalized, "Đồng Mỏ");
        assert_eq!(normalized.chars().count(), 7);
    }

    #[test]
    fn names_are_trimmed_and_spaces_collapsed() {
        assert_eq!(normalize_name("  Xã   Chi Lăng "), "Xã Chi Lăng");
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
