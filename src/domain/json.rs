//! Stored rows -> Graph's entity JSON.

use serde_json::{Map, Value};

use super::{parse::ODATA_TYPE, DistributionRow, Property};

/// How a response writes rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonStyle {
    /// `IEEE754Compatible=true` in Accept: Int64 values are written as strings.
    pub ieee754_compatible: bool,
}

/// The row as Graph writes an entity: `@odata.type` first, then every property
/// (or only `selected` ones), in Graph's order.
pub fn row_to_json(
    row: &DistributionRow,
    style: JsonStyle,
    selected: Option<&[Property]>,
) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("@odata.type".into(), Value::String(ODATA_TYPE.into()));
    for property in Property::ALL {
        if selected.is_some_and(|s| !s.contains(&property)) {
            continue;
        }
        object.insert(
            property.json_name().into(),
            property_value(row, property, style),
        );
    }
    object
}

pub fn property_value(row: &DistributionRow, property: Property, style: JsonStyle) -> Value {
    let int64 = |n: i64| {
        if style.ieee754_compatible {
            Value::String(n.to_string())
        } else {
            Value::from(n)
        }
    };
    match property {
        Property::Id => Value::String(row.id.to_string()),
        Property::ReportRefreshDate => Value::String(row.report_refresh_date.to_string()),
        Property::ReportPeriod => Value::String(row.report_period.to_string()),
        count => row
            .counts
            .get(count)
            .map_or(Value::Null, |c| int64(c.get())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ReportPeriod;

    fn row() -> DistributionRow {
        crate::domain::test_row(
            "default",
            "2026-11-28",
            ReportPeriod::D30,
            [3, 12, 12, 3, 3, i64::MAX],
            Some(1),
            None,
        )
    }

    #[test]
    fn writes_every_property_in_graph_order() {
        let json = row_to_json(&row(), JsonStyle::default(), None);
        let keys: Vec<_> = json.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "@odata.type",
                "id",
                "reportRefreshDate",
                "web",
                "windowsPhone",
                "androidPhone",
                "ios",
                "mac",
                "windows",
                "chromeOS",
                "linux",
                "reportPeriod"
            ]
        );
        assert_eq!(json["reportPeriod"], "30");
        assert_eq!(json["windows"], i64::MAX);
        assert_eq!(json["linux"], Value::Null);
    }

    #[test]
    fn ieee754_writes_int64_as_strings() {
        let json = row_to_json(
            &row(),
            JsonStyle {
                ieee754_compatible: true,
            },
            None,
        );
        assert_eq!(json["windows"], "9223372036854775807");
        assert_eq!(json["web"], "3");
        assert_eq!(json["linux"], Value::Null);
    }

    #[test]
    fn select_keeps_only_the_named_properties() {
        let json = row_to_json(
            &row(),
            JsonStyle::default(),
            Some(&[Property::Web, Property::Id]),
        );
        let keys: Vec<_> = json.keys().map(String::as_str).collect();
        assert_eq!(keys, ["@odata.type", "id", "web"]);
    }
}
