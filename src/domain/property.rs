//! The resource's properties, named once: JSON name, SQL column, value kind.

/// A property of `microsoft.graph.teamsDeviceUsageDistributionUserCounts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Property {
    Id,
    ReportRefreshDate,
    Web,
    WindowsPhone,
    AndroidPhone,
    Ios,
    Mac,
    Windows,
    ChromeOs,
    Linux,
    ReportPeriod,
}

/// What kind of value a property holds, which decides literal syntax and SQL binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyKind {
    /// A UUID rendered as a string.
    Id,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A non-negative Int64 that is never null.
    Count,
    /// A non-negative Int64 that may be null (chromeOS, linux).
    OptionalCount,
    /// The day count as a string in JSON, an integer in SQL.
    Period,
}

impl PropertyKind {
    /// A device's user count, null or not.
    pub fn is_count(self) -> bool {
        matches!(self, Self::Count | Self::OptionalCount)
    }
}

impl Property {
    /// Every property in Graph's order, which is also the JSON output order.
    pub const ALL: [Property; 11] = [
        Self::Id,
        Self::ReportRefreshDate,
        Self::Web,
        Self::WindowsPhone,
        Self::AndroidPhone,
        Self::Ios,
        Self::Mac,
        Self::Windows,
        Self::ChromeOs,
        Self::Linux,
        Self::ReportPeriod,
    ];

    pub fn json_name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::ReportRefreshDate => "reportRefreshDate",
            Self::Web => "web",
            Self::WindowsPhone => "windowsPhone",
            Self::AndroidPhone => "androidPhone",
            Self::Ios => "ios",
            Self::Mac => "mac",
            Self::Windows => "windows",
            Self::ChromeOs => "chromeOS",
            Self::Linux => "linux",
            Self::ReportPeriod => "reportPeriod",
        }
    }

    pub fn column(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::ReportRefreshDate => "report_refresh_date",
            Self::Web => "web",
            Self::WindowsPhone => "windows_phone",
            Self::AndroidPhone => "android_phone",
            Self::Ios => "ios",
            Self::Mac => "mac",
            Self::Windows => "windows",
            Self::ChromeOs => "chrome_os",
            Self::Linux => "linux",
            Self::ReportPeriod => "report_period",
        }
    }

    pub fn kind(self) -> PropertyKind {
        match self {
            Self::Id => PropertyKind::Id,
            Self::ReportRefreshDate => PropertyKind::Date,
            Self::ChromeOs | Self::Linux => PropertyKind::OptionalCount,
            Self::ReportPeriod => PropertyKind::Period,
            _ => PropertyKind::Count,
        }
    }

    /// Property names are case-sensitive, as in Graph.
    pub fn from_json_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.json_name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Property::ALL {
            assert_eq!(Property::from_json_name(p.json_name()), Some(p));
        }
    }

    #[test]
    fn graph_casing_is_kept() {
        assert_eq!(
            Property::from_json_name("chromeOS"),
            Some(Property::ChromeOs)
        );
        assert_eq!(Property::from_json_name("ios"), Some(Property::Ios));
        assert_eq!(Property::from_json_name("chromeOs"), None);
        assert_eq!(Property::from_json_name("iOS"), None);
    }
}
