//! Quoting what a caller sent in an error message: a short prefix, never the whole
//! value, so that a megabyte of bad input does not come back as a megabyte of trailers.

use std::fmt;

/// The most characters of a value an error message quotes.
pub const QUOTE_CHARS: usize = 40;

/// A value quoted in backticks, cut to [`QUOTE_CHARS`] characters and `…`.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(&'a str);

/// Quotes `value` for an error message: `` `value` ``, or its first [`QUOTE_CHARS`]
/// characters and `…`.
pub fn quote(value: &str) -> Quoted<'_> {
    Quoted(value)
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(QUOTE_CHARS) {
            Some((end, _)) => write!(f, "`{}…`", &self.0[..end]),
            None => write!(f, "`{}`", self.0),
        }
    }
}

/// Cuts `text` to at most `max_bytes` bytes on a character boundary, ending it with
/// `…` when cut: the last guard on what an answer carries.
pub fn cap(mut text: String, max_bytes: usize) -> String {
    const ELLIPSIS: &str = "…";
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes.saturating_sub(ELLIPSIS.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(ELLIPSIS);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_value_is_quoted_whole_and_a_long_one_by_its_prefix() {
        assert_eq!(quote("units/7").to_string(), "`units/7`");
        let long = "ư".repeat(1_000_000);
        let quoted = quote(&long).to_string();
        assert_eq!(quoted, format!("`{}…`", "ư".repeat(QUOTE_CHARS)));
    }

    #[test]
    fn capping_cuts_on_a_character_boundary() {
        assert_eq!(cap("short".to_owned(), 10), "short");
        let capped = cap("ắ".repeat(100), 10);
        assert!(capped.len() <= 10, "{capped}");
        assert!(capped.ends_with('…'));
        assert!(capped.starts_with("ắ"));
    }
}
