//! `X-Amz-Date` (`yyyymmddThhmmssZ`) to and from ms since the epoch, over a proleptic Gregorian
//! UTC calendar (also used by SRP's `TIMESTAMP`).

use super::{MS_PER_SECOND, SECONDS_PER_DAY};

/// Format a time in ms since the Unix epoch as an X-Amz-Date string (yyyymmddThhmmssZ).
///
/// Years past 9999 print with more digits rather than failing.
pub fn format_amz_date(ms: u64) -> String {
    let secs = ms.checked_div(MS_PER_SECOND).unwrap_or_default();
    let days = secs.checked_div(SECONDS_PER_DAY).unwrap_or_default();
    let sod = secs.checked_rem(SECONDS_PER_DAY).unwrap_or_default();
    let (year, month, day) = civil_from_days(days);
    let hour = sod.checked_div(3600).unwrap_or_default();
    let minute = sod
        .checked_rem(3600)
        .and_then(|s| s.checked_div(60))
        .unwrap_or_default();
    let second = sod.checked_rem(60).unwrap_or_default();
    format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z")
}

/// Parse an X-Amz-Date string (yyyymmddThhmmssZ) back to ms since the Unix epoch.
///
/// None if malformed, not a real calendar time, or before 1970.
pub fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u64> {
        s.get(from..to)?.bytes().try_fold(0u64, |acc, c| {
            let digit = u64::from(c.checked_sub(b'0').filter(|d| *d <= 9)?);
            acc.checked_mul(10)?.checked_add(digit)
        })
    };
    let year = num(0, 4)?;
    let month = num(4, 6)?;
    let day = num(6, 8)?;
    let hour = num(9, 11)?;
    let minute = num(11, 13)?;
    let second = num(13, 15)?;
    if year < 1970
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    days.checked_mul(SECONDS_PER_DAY)?
        .checked_add(hour.checked_mul(3600)?)?
        .checked_add(minute.checked_mul(60)?)?
        .checked_add(second)?
        .checked_mul(MS_PER_SECOND)
}

// ---------------------------------------------------------------------------------------
// Calendar (proleptic Gregorian, UTC), after Howard Hinnant's `days_from_civil`.

fn is_leap(year: u64) -> bool {
    year.checked_rem(4) == Some(0)
        && (year.checked_rem(100) != Some(0) || year.checked_rem(400) == Some(0))
}

pub(crate) fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a date with year >= 1970 (checked arithmetic throughout).
pub(crate) fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    // Shift the year to start in March so the leap day is last.
    let y = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = y.checked_div(400)?;
    let yoe = y.checked_rem(400)?;
    let mp = if month > 2 {
        month.checked_sub(3)?
    } else {
        month.checked_add(9)?
    };
    let doy = mp
        .checked_mul(153)?
        .checked_add(2)?
        .checked_div(5)?
        .checked_add(day)?
        .checked_sub(1)?;
    let doe = yoe
        .checked_mul(365)?
        .checked_add(yoe.checked_div(4)?)?
        .checked_sub(yoe.checked_div(100)?)?
        .checked_add(doy)?;
    era.checked_mul(146_097)?
        .checked_add(doe)?
        .checked_sub(719_468)
}

/// (year, month, day) for a count of days since 1970-01-01.
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // `days` is at most u64::MAX / 86_400_000 (about 2.1e11), so none of these saturate;
    // saturating ops only keep the function total.
    let z = days.saturating_add(719_468);
    let era = z.checked_div(146_097).unwrap_or_default();
    let doe = z.checked_rem(146_097).unwrap_or_default();
    let yoe = doe
        .saturating_sub(doe.checked_div(1_460).unwrap_or_default())
        .saturating_add(doe.checked_div(36_524).unwrap_or_default())
        .saturating_sub(doe.checked_div(146_096).unwrap_or_default())
        .checked_div(365)
        .unwrap_or_default();
    let doy = doe.saturating_sub(
        yoe.saturating_mul(365)
            .saturating_add(yoe.checked_div(4).unwrap_or_default())
            .saturating_sub(yoe.checked_div(100).unwrap_or_default()),
    );
    let mp = doy
        .saturating_mul(5)
        .saturating_add(2)
        .checked_div(153)
        .unwrap_or_default();
    let day = doy
        .saturating_sub(
            mp.saturating_mul(153)
                .saturating_add(2)
                .checked_div(5)
                .unwrap_or_default(),
        )
        .saturating_add(1);
    let month = if mp < 10 {
        mp.saturating_add(3)
    } else {
        mp.saturating_sub(9)
    };
    let year = era
        .saturating_mul(400)
        .saturating_add(yoe)
        .saturating_add(u64::from(month <= 2));
    (year, month, day)
}
