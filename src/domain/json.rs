//! Stored rows -> Graph's entity JSON.

use std::fmt::Display;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{parse::ODATA_TYPE, DistributionRow, Property};

/// How Int64 values travel, read and written alike: OData lets
/// `IEEE754Compatible=true` clients use decimal strings, because JavaScript
/// numbers lose precision past 2^53.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Int64Format {
    pub ieee754_compatible: bool,
}

impl Int64Format {
    /// Graph's media type for JSON written in this format.
    pub fn content_type(self) -> &'static str {
        if self.ieee754_compatible {
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=true;charset=utf-8"
        } else {
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
        }
    }
}

/// The row as Graph writes an entity: its `@odata.context` when it is answered
/// on its own, `@odata.type`, then every property (or only `selected` ones), in
/// Graph's order. It serializes straight into the answer's text, with no JSON
/// value built first: every answer that holds rows goes through here.
pub struct RowJson<'a> {
    row: &'a DistributionRow,
    style: Int64Format,
    selected: Option<&'a [Property]>,
    context: Option<&'a str>,
}

impl<'a> RowJson<'a> {
    /// A row in a collection's `value`.
    pub fn member(
        row: &'a DistributionRow,
        style: Int64Format,
        selected: Option<&'a [Property]>,
    ) -> Self {
        Self {
            row,
            style,
            selected,
            context: None,
        }
    }

    /// A row answered on its own, under `context` (its `@odata.context`).
    pub fn entity(row: &'a DistributionRow, style: Int64Format, context: &'a str) -> Self {
        Self {
            row,
            style,
            selected: None,
            context: Some(context),
        }
    }
}

impl Serialize for RowJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_map(None)?;
        if let Some(context) = self.context {
            object.serialize_entry("@odata.context", context)?;
        }
        object.serialize_entry("@odata.type", ODATA_TYPE)?;
        for property in Property::ALL {
            if self.selected.is_some_and(|s| !s.contains(&property)) {
                continue;
            }
            let name = property.json_name();
            let row = self.row;
            match property {
                Property::Id => object.serialize_entry(name, &row.id)?,
                Property::ReportRefreshDate => {
                    object.serialize_entry(name, &AsText(row.report_refresh_date))?
                }
                Property::ReportPeriod => {
                    object.serialize_entry(name, &AsText(row.report_period))?
                }
                count => object.serialize_entry(
                    name,
                    &row.counts
                        .get(count)
                        .map(|c| Int64::new(c.get(), self.style)),
                )?,
            }
        }
        object.end()
    }
}

/// A collection of rows as Graph writes one: its annotations around `value`,
/// in Graph's order.
#[derive(serde::Serialize)]
pub struct RowsJson<'a> {
    #[serde(rename = "@odata.context")]
    pub context: String,
    /// `$count=true`: the rows matching the filter, an Int64 written as the
    /// style asks.
    #[serde(rename = "@odata.count", skip_serializing_if = "Option::is_none")]
    pub count: Option<Int64>,
    pub value: Vec<RowJson<'a>>,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// An Edm.Int64 as the style asks: a JSON number, or a string for clients
/// that ask for IEEE754 compatibility.
/// Counts are `i64` in rows and `u64` as a number of rows: both fit an `i128`.
#[derive(Clone, Copy)]
pub struct Int64 {
    value: i128,
    as_text: bool,
}

impl Int64 {
    pub fn new(value: impl Into<i128>, style: Int64Format) -> Self {
        Self {
            value: value.into(),
            as_text: style.ieee754_compatible,
        }
    }
}

impl Serialize for Int64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.as_text {
            AsText(self.value).serialize(serializer)
        } else {
            serializer.serialize_i128(self.value)
        }
    }
}

/// A value written as a JSON string through its `Display`, with no `String`
/// in between.
struct AsText<T>(T);

impl<T: Display> Serialize for AsText<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::*;
    use crate::domain::ReportPeriod;

    fn to_json(row: RowJson) -> Map<String, Value> {
        match serde_json::to_value(row).unwrap() {
            Value::Object(object) => object,
            other => panic!("not an object: {other}"),
        }
    }

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
        let json = to_json(RowJson::member(&row(), Int64Format::default(), None));
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
        let json = to_json(RowJson::member(
            &row(),
            Int64Format {
                ieee754_compatible: true,
            },
            None,
        ));
        assert_eq!(json["windows"], "9223372036854775807");
        assert_eq!(json["web"], "3");
        assert_eq!(json["linux"], Value::Null);
    }

    #[test]
    fn select_keeps_only_the_named_properties() {
        let json = to_json(RowJson::member(
            &row(),
            Int64Format::default(),
            Some(&[Property::Web, Property::Id]),
        ));
        let keys: Vec<_> = json.keys().map(String::as_str).collect();
        assert_eq!(keys, ["@odata.type", "id", "web"]);
    }

    #[test]
    fn a_collection_count_is_an_int64_like_the_counts() {
        let count = |ieee754_compatible| {
            let style = Int64Format { ieee754_compatible };
            let rows = RowsJson {
                context: "c".into(),
                count: Some(Int64::new(8_u64, style)),
                value: Vec::new(),
                next_link: None,
            };
            serde_json::to_value(rows).unwrap()["@odata.count"].clone()
        };
        assert_eq!(count(false), 8);
        assert_eq!(count(true), "8");
    }

    #[test]
    fn an_entity_starts_with_its_context_and_writes_what_the_row_holds() {
        let row = row();
        let json = to_json(RowJson::entity(
            &row,
            Int64Format::default(),
            "http://h/v1.0/$metadata#x/$entity",
        ));
        let keys: Vec<_> = json.keys().map(String::as_str).collect();
        assert_eq!(keys[..3], ["@odata.context", "@odata.type", "id"]);
        assert_eq!(json["@odata.context"], "http://h/v1.0/$metadata#x/$entity");
        assert_eq!(json["id"], row.id.to_string());
        assert_eq!(json["reportRefreshDate"], "2026-11-28");
        assert_eq!(json["web"], 3);
        assert_eq!(json["chromeOS"], 1);
    }
}
