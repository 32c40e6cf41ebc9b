//! nginx's cached clock and its time formats.
//!
//! Like nginx, reading the time never makes a syscall: [`now`], [`time`] and the
//! formatted strings come from a per-thread cache that only [`update_time`] refreshes.
//! The server is expected to call [`update_time`] once per event-loop iteration (nginx
//! does it after every `epoll_wait`); the cache fills itself on first use in a thread.
//!
//! Formatted strings that change once per second (the `Date` header, log timestamps) are
//! rebuilt only when the second changes and handed out as cheap `Rc<str>` clones, so the
//! hot path neither allocates nor holds a borrow while the caller runs.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Broken-down calendar time (`ngx_tm_t` with human-friendly ranges).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tm {
    pub year: i32,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub mday: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// 0 = Sunday
    pub wday: u32,
}

const WEEK: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The last day nginx can format: 9999-12-31 (days since the epoch).
const MAX_DAYS: i64 = 2_932_896;

/// UTC breakdown with `ngx_gmtime`'s clamping: negative times become the epoch and
/// anything past 9999-12-31 23:59:59 is pinned there, so the year always has 4 digits.
pub fn gmtime(secs: i64) -> Tm {
    let t = secs.max(0);
    let (mut days, mut sod) = (t / 86_400, t % 86_400);
    if days > MAX_DAYS {
        days = MAX_DAYS;
        sod = 86_399;
    }
    let (year, month, mday) = civil_from_days(days);
    // Both values are bounded by the clamps above, so the narrowing cannot fail.
    let sod = u32::try_from(sod).unwrap_or(0);
    Tm {
        year,
        month,
        mday,
        hour: sod / 3600,
        min: sod / 60 % 60,
        sec: sod % 60,
        // 1970-01-01 was a Thursday.
        wday: u32::try_from((4 + days) % 7).unwrap_or(0),
    }
}

/// Proleptic Gregorian date for a non-negative day count since 1970-01-01
/// (era-based conversion: 400-year eras starting on March 1st).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let mday = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u32::try_from(month).unwrap_or(1),
        u32::try_from(mday).unwrap_or(1),
    )
}

/// Local breakdown of `secs` from the C library, plus the UTC offset in minutes
/// (`tm_gmtoff / 60`, as nginx caches it). Falls back to UTC if libc cannot convert.
pub fn local_tm(secs: i64) -> (Tm, i64) {
    libc_localtime(secs).unwrap_or_else(|| (gmtime(secs), 0))
}

// `time_t` and `c_long` are `i64` on LP64 targets only; the conversions are real elsewhere.
#[allow(clippy::useless_conversion)]
fn libc_localtime(secs: i64) -> Option<(Tm, i64)> {
    let t: libc::time_t = secs.try_into().ok()?;
    // SAFETY: `libc::tm` is plain old data; all-zero (including a null `tm_zone`) is a
    // valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers refer to live locals for the duration of the call, and
    // `localtime_r` (unlike `localtime`) writes only into the buffer we pass.
    let res = unsafe { libc::localtime_r(&t, &mut tm) };
    if res.is_null() {
        return None;
    }
    let field = |v: libc::c_int| u32::try_from(v).ok();
    Some((
        Tm {
            year: tm.tm_year.checked_add(1900)?,
            month: field(tm.tm_mon)? + 1,
            mday: field(tm.tm_mday)?,
            hour: field(tm.tm_hour)?,
            min: field(tm.tm_min)?,
            sec: field(tm.tm_sec)?,
            wday: field(tm.tm_wday)?,
        },
        i64::from(tm.tm_gmtoff) / 60,
    ))
}

/// `ngx.http_time` / `ngx_http_time`: `Thu, 18 Nov 2010 11:27:35 GMT`.
pub fn http_time(secs: i64) -> String {
    format_http_time(&gmtime(secs))
}

fn format_http_time(tm: &Tm) -> String {
    format!(
        "{}, {:02} {} {:4} {:02}:{:02}:{:02} GMT",
        WEEK[tm.wday as usize % 7],
        tm.mday,
        MONTHS[(tm.month as usize + 11) % 12],
        tm.year,
        tm.hour,
        tm.min,
        tm.sec
    )
}

/// `ngx.cookie_time` / `ngx_http_cookie_time`: `Thu, 18-Nov-10 11:27:35 GMT`. The year
/// has two digits up to 2037 and four digits after that (old Netscape compatibility).
pub fn cookie_time(secs: i64) -> String {
    let tm = gmtime(secs);
    let year = if tm.year > 2037 {
        format!("{}", tm.year)
    } else {
        format!("{:02}", tm.year % 100)
    };
    format!(
        "{}, {:02}-{}-{} {:02}:{:02}:{:02} GMT",
        WEEK[tm.wday as usize % 7],
        tm.mday,
        MONTHS[(tm.month as usize + 11) % 12],
        year,
        tm.hour,
        tm.min,
        tm.sec
    )
}

/// `yyyy-mm-dd hh:mm:ss`, the format of `ngx.localtime()` and `ngx.utctime()`.
pub fn format_ymd_hms(tm: &Tm) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.year, tm.month, tm.mday, tm.hour, tm.min, tm.sec
    )
}

/// `yyyy-mm-dd`, the format of `ngx.today()`.
pub fn format_ymd(tm: &Tm) -> String {
    format!("{:04}-{:02}-{:02}", tm.year, tm.month, tm.mday)
}

/// The error-log timestamp: `2026/11/22 04:29:00`.
pub fn format_err_log_time(tm: &Tm) -> String {
    format!(
        "{:4}/{:02}/{:02} {:02}:{:02}:{:02}",
        tm.year, tm.month, tm.mday, tm.hour, tm.min, tm.sec
    )
}

fn offset_parts(gmtoff_minutes: i64) -> (char, i64, i64) {
    let sign = if gmtoff_minutes < 0 { '-' } else { '+' };
    (
        sign,
        (gmtoff_minutes / 60).abs(),
        (gmtoff_minutes % 60).abs(),
    )
}

/// `$time_local` / access-log time: `22/Nov/2026:04:29:00 +0000`.
pub fn format_time_local(tm: &Tm, gmtoff_minutes: i64) -> String {
    let (sign, h, m) = offset_parts(gmtoff_minutes);
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} {}{:02}{:02}",
        tm.mday,
        MONTHS[(tm.month as usize + 11) % 12],
        tm.year,
        tm.hour,
        tm.min,
        tm.sec,
        sign,
        h,
        m
    )
}

/// `$time_iso8601`: `2026-11-22T04:29:00+00:00`.
pub fn format_iso8601(tm: &Tm, gmtoff_minutes: i64) -> String {
    let (sign, h, m) = offset_parts(gmtoff_minutes);
    format!(
        "{:4}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}",
        tm.year, tm.month, tm.mday, tm.hour, tm.min, tm.sec, sign, h, m
    )
}

const MDAY: [u64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// `ngx.parse_http_time` / `ngx_parse_http_time`: accepts RFC 1123
/// (`Thu, 18 Nov 2010 11:27:35 GMT`), RFC 850 (`Thursday, 18-Nov-10 11:27:35 GMT`) and
/// asctime (`Thu Nov 18 11:27:35 2010`). Like nginx it ignores the weekday name and
/// whatever follows the time (the zone is assumed to be GMT), checks field ranges and
/// February 29th, and reports -1 as failure, so a date that lands on -1 is `None` too.
pub fn parse_http_time(value: &[u8]) -> Option<i64> {
    #[derive(PartialEq, Eq)]
    enum Fmt {
        Unknown,
        Rfc822,
        Rfc850,
        Isoc,
    }

    let end = value.len();
    // nginx reads a few bytes past what it length-checked; treating those as NUL makes
    // every such read fail the digit/letter test it is used for.
    let at = |i: usize| value.get(i).copied().unwrap_or(0);
    let two = |i: usize| -> Option<u64> {
        let (a, b) = (at(i), at(i + 1));
        (a.is_ascii_digit() && b.is_ascii_digit())
            .then(|| u64::from(a - b'0') * 10 + u64::from(b - b'0'))
    };
    let four = |i: usize| -> Option<u64> { Some(two(i)? * 100 + two(i + 2)?) };
    let remaining = |p: usize| end.saturating_sub(p);

    let mut fmt = Fmt::Unknown;
    let mut p = 0;
    while p < end {
        match value[p] {
            b',' => break,
            b' ' => {
                fmt = Fmt::Isoc;
                break;
            }
            _ => p += 1,
        }
    }
    p += 1;
    while p < end && value[p] == b' ' {
        p += 1;
    }
    if p > end || remaining(p) < 18 {
        return None;
    }

    let mut day = 0u64;
    if fmt != Fmt::Isoc {
        day = two(p)?;
        p += 2;
        match at(p) {
            b' ' => {
                if remaining(p) < 18 {
                    return None;
                }
                fmt = Fmt::Rfc822;
            }
            b'-' => fmt = Fmt::Rfc850,
            _ => return None,
        }
        p += 1;
    }

    let month: usize = match at(p) {
        b'J' if at(p + 1) == b'a' => 0,
        b'J' if at(p + 2) == b'n' => 5,
        b'J' => 6,
        b'F' => 1,
        b'M' if at(p + 2) == b'r' => 2,
        b'M' => 4,
        b'A' if at(p + 1) == b'p' => 3,
        b'A' => 7,
        b'S' => 8,
        b'O' => 9,
        b'N' => 10,
        b'D' => 11,
        _ => return None,
    };
    p += 3;
    if (fmt == Fmt::Rfc822 && at(p) != b' ') || (fmt == Fmt::Rfc850 && at(p) != b'-') {
        return None;
    }
    p += 1;

    let mut year = 0u64;
    match fmt {
        Fmt::Rfc822 => {
            year = four(p)?;
            p += 4;
        }
        Fmt::Rfc850 => {
            year = two(p)?;
            year += if year < 70 { 2000 } else { 1900 };
            p += 2;
        }
        Fmt::Isoc => {
            if at(p) == b' ' {
                p += 1;
            }
            if !at(p).is_ascii_digit() {
                return None;
            }
            day = u64::from(at(p) - b'0');
            p += 1;
            if at(p) != b' ' {
                if !at(p).is_ascii_digit() {
                    return None;
                }
                day = day * 10 + u64::from(at(p) - b'0');
                p += 1;
            }
            if remaining(p) < 14 {
                return None;
            }
        }
        Fmt::Unknown => {}
    }

    if at(p) != b' ' {
        return None;
    }
    p += 1;
    let hour = two(p)?;
    p += 2;
    if at(p) != b':' {
        return None;
    }
    p += 1;
    let min = two(p)?;
    p += 2;
    if at(p) != b':' {
        return None;
    }
    p += 1;
    let sec = two(p)?;
    if fmt == Fmt::Isoc {
        p += 2;
        if at(p) != b' ' {
            return None;
        }
        p += 1;
        year = four(p)?;
    }

    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    if day == 29 && month == 1 {
        if year & 3 != 0 || (year % 100 == 0 && year % 400 != 0) {
            return None;
        }
    } else if day > MDAY[month] {
        return None;
    }

    // Gauss' day count with March as month 1. nginx does this in unsigned arithmetic;
    // wrapping reproduces its results for odd inputs such as day 0 or year 0000.
    let (mut m, mut y) = (month as u64, year);
    if m == 0 {
        m = 11;
        y = y.wrapping_sub(1);
    } else if m == 1 {
        m = 12;
        y = y.wrapping_sub(1);
    } else {
        m -= 1;
    }
    let days = (365u64.wrapping_mul(y))
        .wrapping_add(y / 4)
        .wrapping_sub(y / 100)
        .wrapping_add(y / 400)
        .wrapping_add(367 * m / 12 - 30)
        .wrapping_add(day)
        .wrapping_sub(1)
        .wrapping_sub(719_527 - 31 - 28);
    let t = days
        .wrapping_mul(86_400)
        .wrapping_add(hour * 3600 + min * 60 + sec) as i64;
    (t != -1).then_some(t)
}

/// A snapshot of the cached clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedTime {
    /// Seconds since the epoch.
    pub sec: i64,
    /// Milliseconds within the second.
    pub msec: u32,
    /// Local UTC offset in minutes at `sec`.
    pub gmtoff: i64,
}

struct Strings {
    http_date: Rc<str>,
    err_log: Rc<str>,
    time_local: Rc<str>,
    iso8601: Rc<str>,
}

struct Clock {
    sec: Cell<i64>,
    msec: Cell<u32>,
    gmtoff: Cell<i64>,
    strings: RefCell<Strings>,
}

fn wall_clock() -> (i64, u32) {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_millis(),
        ),
        Err(_) => (0, 0),
    }
}

fn build_strings(sec: i64) -> (Strings, i64) {
    let (ltm, gmtoff) = local_tm(sec);
    let strings = Strings {
        http_date: format_http_time(&gmtime(sec)).into(),
        err_log: format_err_log_time(&ltm).into(),
        time_local: format_time_local(&ltm, gmtoff).into(),
        iso8601: format_iso8601(&ltm, gmtoff).into(),
    };
    (strings, gmtoff)
}

impl Clock {
    fn new() -> Clock {
        let (sec, msec) = wall_clock();
        let (strings, gmtoff) = build_strings(sec);
        Clock {
            sec: Cell::new(sec),
            msec: Cell::new(msec),
            gmtoff: Cell::new(gmtoff),
            strings: RefCell::new(strings),
        }
    }
}

thread_local! {
    static CLOCK: Clock = Clock::new();
}

/// Refreshes this thread's cached clock (`ngx_time_update`). Cheap when the second has
/// not changed; otherwise the per-second strings and the UTC offset are recomputed.
pub fn update_time() {
    let (sec, msec) = wall_clock();
    CLOCK.with(|c| {
        c.msec.set(msec);
        if c.sec.get() != sec {
            let (strings, gmtoff) = build_strings(sec);
            c.sec.set(sec);
            c.gmtoff.set(gmtoff);
            *c.strings.borrow_mut() = strings;
        }
    });
}

/// The cached clock.
pub fn cached_time() -> CachedTime {
    CLOCK.with(|c| CachedTime {
        sec: c.sec.get(),
        msec: c.msec.get(),
        gmtoff: c.gmtoff.get(),
    })
}

/// `ngx.now()`: cached seconds with millisecond precision.
pub fn now() -> f64 {
    let t = cached_time();
    t.sec as f64 + f64::from(t.msec) / 1000.0
}

/// `ngx.time()`: cached whole seconds.
pub fn time() -> i64 {
    CLOCK.with(|c| c.sec.get())
}

/// `ngx.utctime()`: `yyyy-mm-dd hh:mm:ss` in UTC.
pub fn utctime() -> String {
    format_ymd_hms(&gmtime(time()))
}

fn cached_local_tm() -> Tm {
    let t = cached_time();
    gmtime(t.sec.saturating_add(t.gmtoff * 60))
}

/// `ngx.localtime()`: `yyyy-mm-dd hh:mm:ss` in local time (UTC shifted by the cached
/// offset, as lua-nginx-module computes it).
pub fn localtime() -> String {
    format_ymd_hms(&cached_local_tm())
}

/// `ngx.today()`: `yyyy-mm-dd` in local time.
pub fn today() -> String {
    format_ymd(&cached_local_tm())
}

fn cached_string(pick: fn(&Strings) -> &Rc<str>) -> Rc<str> {
    CLOCK.with(|c| Rc::clone(pick(&c.strings.borrow())))
}

/// The cached HTTP `Date` value (`Thu, 18 Nov 2010 11:27:35 GMT`).
pub fn http_date_now() -> Rc<str> {
    cached_string(|s| &s.http_date)
}

/// Runs `f` on the cached HTTP `Date` value without allocating.
pub fn with_http_date<R>(f: impl FnOnce(&str) -> R) -> R {
    f(&http_date_now())
}

/// The cached error-log timestamp (`2026/11/22 04:29:00`, local time).
pub fn err_log_time() -> Rc<str> {
    cached_string(|s| &s.err_log)
}

/// Runs `f` on the cached error-log timestamp.
pub fn with_err_log_time<R>(f: impl FnOnce(&str) -> R) -> R {
    f(&err_log_time())
}

/// The cached `$time_local` (`22/Nov/2026:04:29:00 +0000`).
pub fn time_local() -> Rc<str> {
    cached_string(|s| &s.time_local)
}

/// Runs `f` on the cached `$time_local`.
pub fn with_time_local<R>(f: impl FnOnce(&str) -> R) -> R {
    f(&time_local())
}

/// The cached `$time_iso8601` (`2026-11-22T04:29:00+00:00`).
pub fn time_iso8601() -> Rc<str> {
    cached_string(|s| &s.iso8601)
}

/// Runs `f` on the cached `$time_iso8601`.
pub fn with_time_iso8601<R>(f: impl FnOnce(&str) -> R) -> R {
    f(&time_iso8601())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH_2010: i64 = 1_290_079_655;

    #[test]
    fn gmtime_known_dates() {
        let tm = gmtime(EPOCH_2010);
        assert_eq!(
            tm,
            Tm {
                year: 2010,
                month: 11,
                mday: 18,
                hour: 11,
                min: 27,
                sec: 35,
                wday: 4
            }
        );
        assert_eq!(
            gmtime(951_782_400),
            Tm {
                year: 2000,
                month: 2,
                mday: 29,
                hour: 0,
                min: 0,
                sec: 0,
                wday: 2
            }
        );
        assert_eq!(gmtime(4_107_542_400).month, 3);
        assert_eq!(gmtime(-5), gmtime(0));
        assert_eq!(gmtime(i64::MAX), gmtime(253_402_300_799));
        assert_eq!(http_time(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn http_and_cookie_time() {
        assert_eq!(http_time(EPOCH_2010), "Thu, 18 Nov 2010 11:27:35 GMT");
        assert_eq!(http_time(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_time(-100), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_time(2_147_483_647), "Tue, 19 Jan 2038 03:14:07 GMT");
        assert_eq!(cookie_time(EPOCH_2010), "Thu, 18-Nov-10 11:27:35 GMT");
        assert_eq!(cookie_time(0), "Thu, 01-Jan-70 00:00:00 GMT");
        assert_eq!(cookie_time(2_145_916_799), "Thu, 31-Dec-37 23:59:59 GMT");
        assert_eq!(cookie_time(2_147_483_647), "Tue, 19-Jan-2038 03:14:07 GMT");
        assert_eq!(cookie_time(2_169_266_400), "Tue, 28-Sep-2038 06:00:00 GMT");
    }

    #[test]
    fn plain_formats() {
        let tm = gmtime(EPOCH_2010);
        assert_eq!(format_ymd_hms(&tm), "2010-11-18 11:27:35");
        assert_eq!(format_ymd(&tm), "2010-11-18");
        assert_eq!(format_err_log_time(&tm), "2010/11/18 11:27:35");
        assert_eq!(format_time_local(&tm, 0), "18/Nov/2010:11:27:35 +0000");
        assert_eq!(format_time_local(&tm, 330), "18/Nov/2010:11:27:35 +0530");
        assert_eq!(format_time_local(&tm, -90), "18/Nov/2010:11:27:35 -0130");
        assert_eq!(format_iso8601(&tm, 0), "2010-11-18T11:27:35+00:00");
        assert_eq!(format_iso8601(&tm, -300), "2010-11-18T11:27:35-05:00");
    }

    #[test]
    fn parse_three_formats() {
        assert_eq!(
            parse_http_time(b"Thu, 18 Nov 2010 11:27:35 GMT"),
            Some(EPOCH_2010)
        );
        assert_eq!(
            parse_http_time(b"Thursday, 18-Nov-10 11:27:35 GMT"),
            Some(EPOCH_2010)
        );
        assert_eq!(
            parse_http_time(b"Thu Nov 18 11:27:35 2010"),
            Some(EPOCH_2010)
        );
        assert_eq!(
            parse_http_time(b"Mon Nov  8 11:27:35 2010"),
            Some(1_289_215_655)
        );
        assert_eq!(
            parse_http_time(b"Mon Nov 8 11:27:35 2010"),
            Some(1_289_215_655)
        );
        assert_eq!(
            parse_http_time(b"Thu, 18 Nov 2010 11:27:35"),
            Some(EPOCH_2010)
        );
        assert_eq!(
            parse_http_time(b"Thu,   18 Nov 2010 11:27:35 whatever"),
            Some(EPOCH_2010)
        );
        assert_eq!(parse_http_time(b"Xyz, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_time(b"Sunday, 31-Dec-69 23:59:59 GMT"),
            Some(3_155_759_999)
        );
        assert_eq!(
            parse_http_time(b"Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
        // Only as many letters of the month are looked at as needed to tell them apart.
        assert_eq!(
            parse_http_time(b"Thu, 18 Foo 2010 11:27:35 GMT"),
            Some(1_266_492_455)
        );
        assert_eq!(
            parse_http_time(b"Thu, 18 Dxx 2010 11:27:35 GMT"),
            Some(1_292_671_655)
        );
    }

    #[test]
    fn parse_rejects() {
        for bad in [
            &b""[..],
            b"garbage",
            b"Thu, 18 Nov 2010",
            b"Thu, 18 Xyz 2010 11:27:35 GMT",
            b"Thu, 18 Nov 10 11:27:35 GMT",
            b"Thu, 18-Nov-2010 11:27:35 GMT",
            b"Thu, 31 Nov 2010 11:27:35 GMT",
            b"Mon, 29 Feb 1900 00:00:00 GMT",
            b"Thu, 18 Nov 2010 24:00:00 GMT",
            b"Thu, 18 Nov 2010 11:60:00 GMT",
            b"Thu, 18 Nov 2010 11:27:60 GMT",
            b"Thu, 18 Nov 2010 11-27-35 GMT",
            b"Thu Nov 18 11:27:35 10",
            // -1 is nginx's error value, so the second before the epoch cannot be parsed.
            b"Wed, 31 Dec 1969 23:59:59 GMT",
        ] {
            assert_eq!(
                parse_http_time(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn parse_round_trips_http_time() {
        for t in [
            0,
            1,
            86_399,
            86_400,
            951_782_400,
            EPOCH_2010,
            2_147_483_648,
            253_402_300_799,
        ] {
            assert_eq!(parse_http_time(http_time(t).as_bytes()), Some(t));
        }
    }

    #[test]
    fn cached_clock_is_consistent() {
        update_time();
        let t = cached_time();
        assert!(t.msec < 1000);
        assert_eq!(time(), t.sec);
        assert_eq!(now(), t.sec as f64 + f64::from(t.msec) / 1000.0);
        assert_eq!(&*http_date_now(), http_time(t.sec));
        assert_eq!(with_http_date(|s| s.len()), 29);
        assert_eq!(utctime(), format_ymd_hms(&gmtime(t.sec)));
        let (ltm, off) = local_tm(t.sec);
        assert_eq!(off, t.gmtoff);
        assert_eq!(&*err_log_time(), format_err_log_time(&ltm));
        assert_eq!(&*time_local(), format_time_local(&ltm, off));
        assert_eq!(with_time_iso8601(str::to_owned), format_iso8601(&ltm, off));
        assert_eq!(localtime(), format_ymd_hms(&gmtime(t.sec + off * 60)));
        assert_eq!(today(), format_ymd(&gmtime(t.sec + off * 60)));
        assert!(t.sec > 1_600_000_000);
    }

    #[test]
    fn local_tm_matches_offset() {
        let (ltm, off) = local_tm(EPOCH_2010);
        let shifted = gmtime(EPOCH_2010 + off * 60);
        assert_eq!(
            (ltm.year, ltm.month, ltm.mday),
            (shifted.year, shifted.month, shifted.mday)
        );
        assert_eq!(
            (ltm.hour, ltm.min, ltm.sec),
            (shifted.hour, shifted.min, shifted.sec)
        );
    }
}
