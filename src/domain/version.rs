//! Graph's API versions, each a shape of the report's CSV: `/beta` added the
//! `Chrome OS` and `Linux` columns in 2021; `/v1.0` predates them. The one
//! place that says which version's CSV holds which column: the CSV writer,
//! the report download and the collector's report URL ask it. The JSON form
//! (Graph serves it under beta only) is this store's under both prefixes and
//! carries every property, so `$metadata` declares every one under both.

use super::Property;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    /// `/v1.0`: 8 counts' worth of columns, without Chrome OS and Linux.
    V1,
    /// `/beta`: Chrome OS and Linux too.
    Beta,
}

impl ApiVersion {
    pub const ALL: [Self; 2] = [Self::V1, Self::Beta];

    /// The path segment the version is served (and called at Graph) under.
    pub fn segment(self) -> &'static str {
        match self {
            Self::V1 => "v1.0",
            Self::Beta => "beta",
        }
    }

    /// The version a path segment names.
    pub fn from_segment(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.segment() == segment)
    }

    /// Whether the version's CSV of the report has a column for `property`.
    pub fn has_csv_column(self, property: Property) -> bool {
        self == Self::Beta || !matches!(property, Property::ChromeOs | Property::Linux)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_name_each_version_once() {
        for version in ApiVersion::ALL {
            assert_eq!(ApiVersion::from_segment(version.segment()), Some(version));
        }
        assert_eq!(ApiVersion::from_segment("v2.0"), None);
        assert_eq!(ApiVersion::from_segment("Beta"), None);
    }

    #[test]
    fn only_beta_csv_has_chrome_os_and_linux() {
        let carried = |v: ApiVersion| {
            Property::ALL
                .into_iter()
                .filter(|&p| v.has_csv_column(p))
                .count()
        };
        assert_eq!(carried(ApiVersion::Beta), Property::ALL.len());
        assert_eq!(carried(ApiVersion::V1), Property::ALL.len() - 2);
        assert!(!ApiVersion::V1.has_csv_column(Property::Linux));
        assert!(ApiVersion::V1.has_csv_column(Property::Windows));
    }
}
