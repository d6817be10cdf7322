//! Calendar dates: the wire `Date` to `NaiveDate` and back, and "today" in Vietnam.

use chrono::{Datelike, FixedOffset, NaiveDate, Utc};

/// Today in Vietnam's time zone (UTC+7), the default as-of date.
pub fn today() -> NaiveDate {
    let now = Utc::now();
    FixedOffset::east_opt(7 * 3600).map_or_else(|| now.date_naive(), |tz| now.with_timezone(&tz).date_naive())
}

/// A date from its parts, if they make a real calendar date (year 1 to 9999).
pub fn from_ymd(year: i32, month: i32, day: i32) -> Option<NaiveDate> {
    if !(1..=9999).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The parts of a date: year, month, day.
pub fn to_ymd(date: NaiveDate) -> (i32, i32, i32) {
    // Month and day are at most 31, so the conversions cannot truncate.
    (date.year(), date.month() as i32, date.day() as i32)
}

/// Whether the half-open period `[from, until)` contains `day`; `until = None` is open-ended.
pub fn period_contains(from: NaiveDate, until: Option<NaiveDate>, day: NaiveDate) -> bool {
    from <= day && until.is_none_or(|u| day < u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_dates_are_rejected() {
        assert!(from_ymd(2025, 2, 29).is_none());
        assert!(from_ymd(2024, 2, 29).is_some());
        assert!(from_ymd(0, 1, 1).is_none());
        assert!(from_ymd(2025, 13, 1).is_none());
        assert!(from_ymd(2025, -1, 1).is_none());
    }

    #[test]
    fn periods_are_half_open() {
        let from = from_ymd(2020, 1, 1).unwrap_or_default();
        let until = from_ymd(2025, 7, 1);
        let last_day = from_ymd(2025, 6, 30).unwrap_or_default();
        let end = from_ymd(2025, 7, 1).unwrap_or_default();
        assert!(period_contains(from, until, from));
        assert!(period_contains(from, until, last_day));
        assert!(!period_contains(from, until, end));
        assert!(period_contains(from, None, end));
    }
}
