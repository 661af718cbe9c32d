//! The chart's parameters, read from the query string and bounded.

use chrono::NaiveDate;

use crate::domain::{parse_date_literal, Property, ReportPeriod};
use crate::odata::{CompareOp, Filter, Literal, OrderKey, RowQuery};

/// The longest date range one chart covers; the natural key allows one row
/// per date, so it also bounds the rows read.
pub const MAX_CHART_DAYS: i64 = 3660;

/// `period=7&from=2026-01-01&to=2026-06-30`: one period, an optional date range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRequest {
    pub period: ReportPeriod,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl ChartRequest {
    /// Every problem is a sentence for a 400; unknown or repeated parameters are refused.
    pub fn parse(query: &str) -> Result<Self, String> {
        Self::parse_pairs(url::form_urlencoded::parse(query.as_bytes()))
    }

    /// `parse` over name-value pairs already split (and decoded) from a query
    /// string, e.g. with the OData options a route reads itself left out.
    pub fn parse_pairs<'a>(
        pairs: impl IntoIterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
    ) -> Result<Self, String> {
        let (mut period, mut from, mut to) = (None, None, None);
        for (name, value) in pairs {
            let slot_taken = match name.as_ref() {
                "period" => period
                    .replace(ReportPeriod::from_json_str(&value).ok_or_else(|| {
                        format!("period must be one of 7, 30, 90, 180, got '{value}'")
                    })?)
                    .is_some(),
                "from" => from.replace(date(&name, &value)?).is_some(),
                "to" => to.replace(date(&name, &value)?).is_some(),
                _ => {
                    return Err(format!(
                        "There is no parameter '{name}' here; this takes period, from and to"
                    ))
                }
            };
            if slot_taken {
                return Err(format!("The parameter {name} is given twice"));
            }
        }
        let request = Self {
            period: period.ok_or("The parameter period is required (7, 30, 90 or 180)")?,
            from,
            to,
        };
        if let (Some(from), Some(to)) = (request.from, request.to) {
            if from > to {
                return Err(format!("from ({from}) is after to ({to})"));
            }
            if (to - from).num_days() > MAX_CHART_DAYS {
                return Err(format!(
                    "The range {from} to {to} is longer than {MAX_CHART_DAYS} days"
                ));
            }
        }
        Ok(request)
    }

    /// The rows to draw: the period's, within the range, newest first, at most
    /// `MAX_CHART_DAYS + 1` of them (the newest when the range is open).
    pub fn row_query(&self) -> RowQuery {
        let compare = |property, op, value| Filter::Compare {
            property,
            op,
            value,
        };
        let mut filter = compare(
            Property::ReportPeriod,
            CompareOp::Eq,
            Literal::Period(self.period),
        );
        let bounds = [(CompareOp::Ge, self.from), (CompareOp::Le, self.to)];
        for (op, bound) in bounds {
            if let Some(day) = bound {
                let limit = compare(Property::ReportRefreshDate, op, Literal::Date(day));
                filter = Filter::And(Box::new(filter), Box::new(limit));
            }
        }
        RowQuery {
            filter: Some(filter),
            order_by: vec![OrderKey {
                property: Property::ReportRefreshDate,
                descending: true,
            }],
            after: None,
            skip: 0,
            limit: (MAX_CHART_DAYS + 1) as u32,
        }
    }
}

fn date(name: &str, value: &str) -> Result<NaiveDate, String> {
    parse_date_literal(value)
        .ok_or_else(|| format!("{name} must be a date written YYYY-MM-DD, got '{value}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_period_and_range() {
        let request = ChartRequest::parse("period=30&from=2026-01-01&to=2026-02-01").unwrap();
        assert_eq!(request.period, ReportPeriod::D30);
        assert_eq!(request.from, NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(request.to, NaiveDate::from_ymd_opt(2026, 2, 1));
        let filter = request.row_query().filter.unwrap().to_string();
        assert_eq!(
            filter,
            "((reportPeriod eq '30' and reportRefreshDate ge 2026-01-01) and reportRefreshDate le 2026-02-01)"
        );
    }

    #[test]
    fn refuses_what_it_cannot_bound() {
        for query in [
            "",
            "period=8",
            "period=7&period=7",
            "period=7&from=2026-02-30",
            "period=7&from=2026-02-01&to=2026-01-01",
            "period=7&from=2000-01-01&to=2026-01-01",
            "period=7&top=5",
        ] {
            assert!(ChartRequest::parse(query).is_err(), "{query}");
        }
    }
}
