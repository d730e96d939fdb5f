//! Date and time functions: the clock (GETDATE, SYSDATETIME …, from the environment), the
//! date-part functions (DATEADD, DATEDIFF, DATEPART, DATENAME, DATETRUNC), YEAR/MONTH/DAY,
//! EOMONTH, the *FROMPARTS constructors and ISDATE.

use crate::ast::Expr;
use crate::messages::SqlMessage;
use crate::value::convert::{self, base_name};
use crate::value::datetime::{
    self, DatePart, DateTime, TICKS_PER_DAY, date_add, date_diff, date_name, date_part, day_number,
    days_in_month, round_datetime,
};
use crate::value::{SqlType, Value};

use super::{arity, date_arg, int_arg};
use crate::eval::{Evaluator, RowScope, Typed, errors};

/// 289
fn cannot_construct(ty: &str) -> SqlMessage {
    SqlMessage::new(
        289,
        16,
        1,
        0,
        format!(
            "Cannot construct data type {ty}, some of the arguments have values which are not valid."
        ),
    )
}

fn date_value(ty: SqlType, dt: Option<DateTime>) -> Typed {
    (ty, dt.map_or(Value::Null, Value::DateTime))
}

/// Whether a type has a date part / a time part.
fn has_date(ty: SqlType) -> bool {
    !matches!(ty, SqlType::Time(_))
}

fn has_time(ty: SqlType) -> bool {
    ty != SqlType::Date
}

fn is_time_part(part: DatePart) -> bool {
    matches!(
        part,
        DatePart::Hour
            | DatePart::Minute
            | DatePart::Second
            | DatePart::Millisecond
            | DatePart::Microsecond
            | DatePart::Nanosecond
    )
}

/// 9810 when the part does not exist in the type (hour of a date, day of a time).
fn check_part(part: DatePart, ty: SqlType, function: &str) -> Result<(), SqlMessage> {
    let ok = if is_time_part(part) {
        has_time(ty)
    } else if part == DatePart::TzOffset {
        matches!(ty, SqlType::DateTimeOffset(_))
    } else {
        has_date(ty)
    };
    if ok {
        Ok(())
    } else {
        Err(errors::datepart_not_supported(
            part.name(),
            function,
            base_name(ty),
        ))
    }
}

fn part_of(expr: &Expr, function: &str) -> Result<DatePart, SqlMessage> {
    let word = match expr {
        Expr::DatePart(w) => w.as_str(),
        Expr::Column(name) if name.parts.len() == 1 => name.name(),
        _ => return Err(errors::unknown_datepart("", function)),
    };
    DatePart::from_name(word).ok_or_else(|| errors::unknown_datepart(word, function))
}

impl Evaluator<'_> {
    pub(super) fn date_part_function(
        &mut self,
        name: &str,
        args: &[Expr],
        scope: &RowScope,
    ) -> Result<Typed, SqlMessage> {
        let lower = name.to_ascii_lowercase();
        match name {
            "DATEADD" => {
                arity(&lower, args.len(), 3, 3)?;
                let part = part_of(&args[0], &lower)?;
                let amount = self.eval(&args[1], scope)?;
                let (src_ty, src) = self.eval(&args[2], scope)?;
                let (ty, dt) = if src_ty.is_string() {
                    date_arg(&(
                        SqlType::DateTime,
                        convert::implicit(&src, src_ty, SqlType::DateTime)?,
                    ))?
                } else {
                    date_arg(&(src_ty, src))?
                };
                check_part(part, ty, &lower)?;
                let amount = match convert::implicit(&amount.1, amount.0, SqlType::Int)? {
                    Value::Int(n) => Some(n),
                    _ => None,
                };
                let (Some(dt), Some(n)) = (dt, amount) else {
                    return Ok((ty, Value::Null));
                };
                let overflow = || errors::dateadd_overflow(base_name(ty));
                if let SqlType::Time(_) = ty {
                    let unit = date_add(part, n, DateTime::from_days(1_000_000))
                        .map(|d| d.total_ticks() - DateTime::from_days(1_000_000).total_ticks())
                        .ok_or_else(overflow)?;
                    let ticks = (i128::from(dt.ticks) + unit).rem_euclid(i128::from(TICKS_PER_DAY));
                    let moved = DateTime {
                        days: 0,
                        ticks: ticks as u64,
                    };
                    return Ok((
                        ty,
                        convert::cast(&Value::DateTime(moved), SqlType::Time(7), ty)?,
                    ));
                }
                let moved = date_add(part, n, dt).ok_or_else(overflow)?;
                let fitted = convert::cast(&Value::DateTime(moved), SqlType::DateTime2(7), ty)
                    .map_err(|_| overflow())?;
                Ok((ty, fitted))
            }
            "DATEDIFF" | "DATEDIFF_BIG" => {
                arity(&lower, args.len(), 3, 3)?;
                let part = part_of(&args[0], &lower)?;
                let (ta, a) = date_arg(&self.eval(&args[1], scope)?)?;
                let (tb, b) = date_arg(&self.eval(&args[2], scope)?)?;
                check_part(part, ta, &lower)?;
                check_part(part, tb, &lower)?;
                let ty = if name == "DATEDIFF" {
                    SqlType::Int
                } else {
                    SqlType::BigInt
                };
                let (Some(a), Some(b)) = (a, b) else {
                    return Ok((ty, Value::Null));
                };
                let n = date_diff(part, a, b).ok_or_else(|| {
                    errors::datepart_not_supported(part.name(), &lower, base_name(ta))
                })?;
                let fits = if name == "DATEDIFF" {
                    i32::try_from(n).is_ok()
                } else {
                    i64::try_from(n).is_ok()
                };
                if !fits {
                    return Err(errors::datediff_overflow());
                }
                Ok((ty, Value::Int(n as i64)))
            }
            "DATEPART" | "DATENAME" => {
                arity(&lower, args.len(), 2, 2)?;
                let part = part_of(&args[0], &lower)?;
                let (ty, dt) = date_arg(&self.eval(&args[1], scope)?)?;
                check_part(part, ty, &lower)?;
                if name == "DATEPART" {
                    let first = self.date_first();
                    Ok((
                        SqlType::Int,
                        dt.map_or(Value::Null, |d| {
                            Value::Int(datetime::date_part_first(part, d, 0, first))
                        }),
                    ))
                } else {
                    Ok((
                        SqlType::NVarChar(Some(30)),
                        dt.map_or(Value::Null, |d| Value::String(date_name(part, d, 0))),
                    ))
                }
            }
            _ => {
                // DATETRUNC(part, d)
                arity("datetrunc", args.len(), 2, 2)?;
                let part = part_of(&args[0], "datetrunc")?;
                let (ty, dt) = date_arg(&self.eval(&args[1], scope)?)?;
                check_part(part, ty, "datetrunc")?;
                let first = self.date_first();
                let truncated = match dt {
                    Some(dt) => Some(truncate(part, dt, first).ok_or_else(|| {
                        errors::datepart_not_supported(part.name(), "datetrunc", base_name(ty))
                    })?),
                    None => None,
                };
                Ok(date_value(ty, truncated))
            }
        }
    }
}

impl Evaluator<'_> {
    /// `SET DATEFIRST` from `@@DATEFIRST` (7, Sunday, when the environment has none).
    fn date_first(&self) -> u32 {
        match self.env.system_variable("@@DATEFIRST") {
            Some((_, Value::Int(n))) if (1..=7).contains(&n) => n as u32,
            _ => 7,
        }
    }
}

fn truncate(part: DatePart, dt: DateTime, first: u32) -> Option<DateTime> {
    let (y, m, _) = datetime::civil(dt.days);
    let at = |ticks_unit: u64| DateTime {
        days: dt.days,
        ticks: dt.ticks / ticks_unit * ticks_unit,
    };
    Some(match part {
        DatePart::Year => DateTime::from_days(day_number(y, 1, 1)?),
        DatePart::Quarter => DateTime::from_days(day_number(y, (m - 1) / 3 * 3 + 1, 1)?),
        DatePart::Month => DateTime::from_days(day_number(y, m, 1)?),
        DatePart::Day | DatePart::DayOfYear => DateTime::from_days(dt.days),
        DatePart::Week => DateTime::from_days(dt.days - datetime::weekday_from(dt, first) as i32),
        DatePart::IsoWeek => DateTime::from_days(dt.days - ((dt.weekday_index() + 6) % 7) as i32),
        DatePart::Hour => at(datetime::TICKS_PER_HOUR),
        DatePart::Minute => at(datetime::TICKS_PER_MINUTE),
        DatePart::Second => at(datetime::TICKS_PER_SECOND),
        DatePart::Millisecond => at(10_000),
        DatePart::Microsecond => at(10),
        _ => return None,
    })
}

pub(super) fn call(
    ev: &mut Evaluator,
    name: &str,
    args: &[Typed],
) -> Result<Option<Typed>, SqlMessage> {
    let clock = |ev: &Evaluator, utc: bool| {
        if ev.type_only {
            None
        } else if utc {
            Some(ev.env.utc_now())
        } else {
            Some(ev.env.now())
        }
    };
    let result = match name {
        "GETDATE" | "CURRENT_TIMESTAMP" | "GETUTCDATE" => {
            arity(&name.to_ascii_lowercase(), args.len(), 0, 0)?;
            let now = clock(ev, name == "GETUTCDATE").map(round_datetime);
            date_value(SqlType::DateTime, now)
        }
        "SYSDATETIME" | "SYSUTCDATETIME" => {
            arity(&name.to_ascii_lowercase(), args.len(), 0, 0)?;
            date_value(SqlType::DateTime2(7), clock(ev, name == "SYSUTCDATETIME"))
        }
        "SYSDATETIMEOFFSET" => {
            arity("sysdatetimeoffset", args.len(), 0, 0)?;
            date_value(SqlType::DateTimeOffset(7), clock(ev, false))
        }
        "YEAR" | "MONTH" | "DAY" => {
            arity(&name.to_ascii_lowercase(), args.len(), 1, 1)?;
            let (_, dt) = date_arg(&args[0])?;
            let part = match name {
                "YEAR" => DatePart::Year,
                "MONTH" => DatePart::Month,
                _ => DatePart::Day,
            };
            (
                SqlType::Int,
                dt.map_or(Value::Null, |d| Value::Int(date_part(part, d, 0))),
            )
        }
        "EOMONTH" => {
            arity("eomonth", args.len(), 1, 2)?;
            let (_, dt) = date_arg(&args[0])?;
            let months = match args.get(1) {
                Some(a) => int_arg(a)?,
                None => Some(0),
            };
            let end = match (dt, months) {
                (Some(dt), Some(n)) => {
                    let moved = date_add(DatePart::Month, n, DateTime::from_days(dt.days))
                        .ok_or_else(|| errors::dateadd_overflow("date"))?;
                    let (y, m, _) = datetime::civil(moved.days);
                    day_number(y, m, days_in_month(y, m)).map(DateTime::from_days)
                }
                _ => None,
            };
            date_value(SqlType::Date, end)
        }
        "DATEFROMPARTS" => {
            arity("datefromparts", args.len(), 3, 3)?;
            from_parts(args, SqlType::Date, |n| {
                day_number(n[0] as i32, n[1] as u32, n[2] as u32).map(DateTime::from_days)
            })?
        }
        "DATETIMEFROMPARTS" => {
            arity("datetimefromparts", args.len(), 7, 7)?;
            from_parts(args, SqlType::DateTime, |n| {
                let ms = u64::try_from(n[6]).ok().filter(|ms| *ms < 1000)?;
                let dt = clock_parts(n, ms * 10_000)?;
                (dt.days >= datetime::DATETIME_FIRST_DAY).then(|| round_datetime(dt))
            })?
        }
        "SMALLDATETIMEFROMPARTS" => {
            arity("smalldatetimefromparts", args.len(), 5, 5)?;
            from_parts(args, SqlType::SmallDateTime, |n| {
                let dt = DateTime::from_parts(
                    n[0] as i32,
                    n[1] as u32,
                    n[2] as u32,
                    u32::try_from(n[3]).ok()?,
                    u32::try_from(n[4]).ok()?,
                    0,
                    0,
                )?;
                (dt.days >= datetime::DAY_1900 && dt.days <= datetime::SMALLDATETIME_LAST_DAY)
                    .then_some(dt)
            })?
        }
        "DATETIME2FROMPARTS" | "TIMEFROMPARTS" => {
            let with_date = name == "DATETIME2FROMPARTS";
            let count = if with_date { 8 } else { 5 };
            arity(&name.to_ascii_lowercase(), args.len(), count, count)?;
            let precision = int_arg(&args[count - 1])?.filter(|p| (0..=7).contains(p));
            let Some(precision) = precision else {
                return Err(SqlMessage::new(
                    10760,
                    16,
                    1,
                    0,
                    format!(
                        "Scale argument is not valid. Valid expressions for data type {} scale argument are integer constants and integer constant expressions.",
                        if with_date { "datetime2" } else { "time" }
                    ),
                ));
            };
            let ty = if with_date {
                SqlType::DateTime2(precision as u8)
            } else {
                SqlType::Time(precision as u8)
            };
            from_parts(args, ty, |n| {
                let fraction = u64::try_from(n[count - 2]).ok()?;
                if fraction >= 10u64.pow(precision as u32) {
                    return None;
                }
                let ticks = fraction * 10u64.pow(7 - precision as u32);
                if with_date {
                    clock_parts(n, ticks)
                } else {
                    let (h, mi, s) = (n[0], n[1], n[2]);
                    DateTime::from_parts(1900, 1, 1, h as u32, mi as u32, s as u32, ticks)
                        .filter(|_| h >= 0 && mi >= 0 && s >= 0)
                        .map(|d| DateTime {
                            days: 0,
                            ticks: d.ticks,
                        })
                }
            })?
        }
        "ISDATE" => {
            arity("isdate", args.len(), 1, 1)?;
            let (ty, v) = &args[0];
            let ok = if v.is_null() {
                false
            } else if ty.is_string() {
                convert::cast(v, *ty, SqlType::DateTime).is_ok()
            } else {
                matches!(
                    ty,
                    SqlType::DateTime | SqlType::SmallDateTime | SqlType::Date
                ) || matches!(ty, SqlType::DateTime2(_))
            };
            (SqlType::Int, Value::Int(i64::from(ok)))
        }
        _ => return Ok(None),
    };
    Ok(Some(result))
}

/// y, m, d, h, mi, s from the first six parts.
fn clock_parts(n: &[i64], fraction_ticks: u64) -> Option<DateTime> {
    let part = |i: usize| u32::try_from(n[i]).ok();
    DateTime::from_parts(
        i32::try_from(n[0]).ok()?,
        part(1)?,
        part(2)?,
        part(3)?,
        part(4)?,
        part(5)?,
        fraction_ticks,
    )
}

/// The *FROMPARTS pattern: NULL if any part is NULL, 289 if the parts make no value.
fn from_parts(
    args: &[Typed],
    ty: SqlType,
    build: impl FnOnce(&[i64]) -> Option<DateTime>,
) -> Result<Typed, SqlMessage> {
    let mut parts = Vec::with_capacity(args.len());
    for a in args {
        match int_arg(a)? {
            Some(n) => parts.push(n),
            None => return Ok((ty, Value::Null)),
        }
    }
    let dt = build(&parts).ok_or_else(|| cannot_construct(base_name(ty)))?;
    Ok((ty, Value::DateTime(dt)))
}
