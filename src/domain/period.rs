//! The report window a row summarises: Graph's `reportPeriod`.

use std::fmt;

/// One of the four windows Graph computes device usage over.
///
/// JSON carries it as the day count in a string (`"7"`), SQL as the integer
/// day count (so it sorts as a number), and the report function as `D7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportPeriod {
    D7,
    D30,
    D90,
    D180,
}

impl ReportPeriod {
    pub const ALL: [ReportPeriod; 4] = [Self::D7, Self::D30, Self::D90, Self::D180];

    pub fn days(self) -> i32 {
        match self {
            Self::D7 => 7,
            Self::D30 => 30,
            Self::D90 => 90,
            Self::D180 => 180,
        }
    }

    pub fn from_days(days: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|p| i64::from(p.days()) == days)
    }

    /// The JSON form: the day count as a string, `"7"`.
    pub fn from_json_str(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.days().to_string() == value)
    }

    /// The report function's form: `D7`, `D30`, `D90`, `D180`.
    pub fn from_function_arg(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.function_arg() == value)
    }

    pub fn function_arg(self) -> &'static str {
        match self {
            Self::D7 => "D7",
            Self::D30 => "D30",
            Self::D90 => "D90",
            Self::D180 => "D180",
        }
    }
}

impl fmt::Display for ReportPeriod {
    /// The JSON and CSV form: the day count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.days())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_is_the_day_count() {
        assert_eq!(ReportPeriod::from_json_str("7"), Some(ReportPeriod::D7));
        assert_eq!(ReportPeriod::from_json_str("180"), Some(ReportPeriod::D180));
        assert_eq!(ReportPeriod::D90.to_string(), "90");
    }

    #[test]
    fn other_spellings_are_refused() {
        for bad in ["", "D7", "07", " 7", "8", "7.0", "-7", "365"] {
            assert_eq!(ReportPeriod::from_json_str(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn function_form_is_d_prefixed() {
        assert_eq!(
            ReportPeriod::from_function_arg("D30"),
            Some(ReportPeriod::D30)
        );
        assert_eq!(ReportPeriod::from_function_arg("30"), None);
        assert_eq!(ReportPeriod::from_function_arg("d30"), None);
        assert_eq!(ReportPeriod::D180.function_arg(), "D180");
    }

    #[test]
    fn days_round_trip() {
        for p in ReportPeriod::ALL {
            assert_eq!(ReportPeriod::from_days(p.days().into()), Some(p));
        }
        assert_eq!(ReportPeriod::from_days(1), None);
    }
}
