//! The options whose values are comma lists of properties: `$orderby` and `$select`.

use super::{FilterProperty, FilterValue, Literal, OrderKey};
use crate::domain::{Property, PropertyKind, ReportPeriod};

/// The rows' properties, as `$filter` and `$orderby` name them.
impl FilterProperty for Property {
    const COLLECTION: &'static str = "teamsDeviceUsageDistributionUserCounts";

    fn all() -> &'static [Self] {
        &Property::ALL
    }

    fn name(self) -> &'static str {
        self.json_name()
    }

    fn literal(self, value: &FilterValue) -> Result<Literal, String> {
        let literal = match (self.kind(), value) {
            // OData: any property may be compared with null.
            (_, FilterValue::Null) => Literal::Null,
            (PropertyKind::Id, FilterValue::Guid(id)) => Literal::Id(*id),
            (PropertyKind::Id, FilterValue::Str(s)) => uuid::Uuid::try_parse(s)
                .map(Literal::Id)
                .map_err(|_| "id is a GUID such as '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'")?,
            (PropertyKind::Id, _) => return Err("id is a GUID".into()),
            (PropertyKind::Date, FilterValue::Date(d)) => Literal::Date(*d),
            (PropertyKind::Date, FilterValue::Str(_)) => {
                return Err(
                    "dates are written without quotes: reportRefreshDate ge 2026-01-01".into(),
                )
            }
            (PropertyKind::Date, _) => return Err("it is a date, written YYYY-MM-DD".into()),
            (PropertyKind::Count | PropertyKind::OptionalCount, FilterValue::Int(n)) if *n >= 0 => {
                Literal::Int(*n)
            }
            (PropertyKind::Count | PropertyKind::OptionalCount, FilterValue::Int(_)) => {
                return Err("counts are Int64 values >= 0".into())
            }
            (PropertyKind::Count | PropertyKind::OptionalCount, FilterValue::Str(_)) => {
                return Err("it is an Int64, written without quotes: web gt 5".into())
            }
            (PropertyKind::Count | PropertyKind::OptionalCount, _) => {
                return Err("it is an Int64 >= 0".into())
            }
            (PropertyKind::Period, FilterValue::Str(s)) => ReportPeriod::from_json_str(s)
                .map(Literal::Period)
                .ok_or("reportPeriod is one of '7', '30', '90', '180'")?,
            (PropertyKind::Period, FilterValue::Int(_)) => {
                return Err("reportPeriod is a string: write it quoted, reportPeriod eq '7'".into())
            }
            (PropertyKind::Period, _) => {
                return Err("reportPeriod is one of '7', '30', '90', '180'".into())
            }
        };
        Ok(literal)
    }
}

/// A comma list's items, trimmed, each with the 1-based character position it starts at.
fn items(value: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0; // character index of the current item
    for item in value.split(',') {
        let leading = item.chars().take_while(|c| c.is_whitespace()).count();
        out.push((start + leading + 1, item.trim()));
        start += item.chars().count() + 1;
    }
    out
}

/// Property names are case-sensitive, as in Graph; a near miss is named.
pub(super) fn find_property<P: FilterProperty>(name: &str) -> Result<P, String> {
    let all = P::all().iter().copied();
    all.clone().find(|p| p.name() == name).ok_or_else(|| {
        let hint = all
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
            .map_or(String::new(), |p| format!("; did you mean '{}'?", p.name()));
        format!("'{name}' is not a property of {}{hint}", P::COLLECTION)
    })
}

fn property<P: FilterProperty>(name: &str, position: usize) -> Result<P, String> {
    find_property(name).map_err(|message| format!("{message} (at position {position})"))
}

/// `$orderby=reportRefreshDate desc,reportPeriod`: one or more keys, each
/// `asc` (the default) or `desc`, no property twice.
pub fn parse_orderby(value: &str) -> Result<Vec<OrderKey>, String> {
    parse_orderby_of(value)
}

/// `parse_orderby` over the properties `P`.
pub fn parse_orderby_of<P: FilterProperty>(value: &str) -> Result<Vec<OrderKey<P>>, String> {
    let mut keys: Vec<OrderKey<P>> = Vec::new();
    for (position, item) in items(value) {
        let mut words = item.split_whitespace();
        let Some(name) = words.next() else {
            return Err(format!(
                "an ordering key is missing (at position {position})"
            ));
        };
        let property = property(name, position)?;
        let descending = match words.next() {
            None => false,
            Some(word) if word.eq_ignore_ascii_case("asc") => false,
            Some(word) if word.eq_ignore_ascii_case("desc") => true,
            Some(word) => {
                return Err(format!(
                    "'{word}' after {name} is not a direction; use asc or desc (at position {position})"
                ))
            }
        };
        if let Some(extra) = words.next() {
            return Err(format!(
                "'{extra}' after the key '{item}' is not understood; separate keys with commas (at position {position})"
            ));
        }
        if keys.iter().any(|k| k.property == property) {
            return Err(format!(
                "{name} is ordered by twice (at position {position})"
            ));
        }
        keys.push(OrderKey {
            property,
            descending,
        });
    }
    Ok(keys)
}

/// `$select=web,ios`: the properties to write, in the client's order, each once.
/// `*` selects every property, as if `$select` were absent (`None`).
pub fn parse_select(value: &str) -> Result<Option<Vec<Property>>, String> {
    let mut selected: Vec<Property> = Vec::new();
    let mut everything = false;
    for (position, item) in items(value) {
        match item {
            "" => {
                return Err(format!(
                    "a property name is missing (at position {position})"
                ))
            }
            "*" => everything = true,
            name => {
                let property = property::<Property>(name, position)?;
                if !selected.contains(&property) {
                    selected.push(property);
                }
            }
        }
    }
    Ok((!everything).then_some(selected))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(property: Property, descending: bool) -> OrderKey {
        OrderKey {
            property,
            descending,
        }
    }

    #[test]
    fn orderby_takes_several_keys_and_directions() {
        assert_eq!(
            parse_orderby("reportRefreshDate desc, reportPeriod,chromeOS ASC , web DESC").unwrap(),
            [
                key(Property::ReportRefreshDate, true),
                key(Property::ReportPeriod, false),
                key(Property::ChromeOs, false),
                key(Property::Web, true),
            ]
        );
        for property in Property::ALL {
            assert_eq!(
                parse_orderby(&format!("{} desc", property.json_name())).unwrap(),
                [key(property, true)]
            );
        }
    }

    #[test]
    fn orderby_errors_are_located() {
        for (value, what) in [
            ("", "missing (at position 1)"),
            ("web,", "missing (at position 5)"),
            ("web,,mac", "missing (at position 5)"),
            ("bogus", "'bogus' is not a property"),
            ("web, Mac", "did you mean 'mac'? (at position 6)"),
            ("web up", "'up' after web is not a direction"),
            ("web desc mac", "separate keys with commas (at position 1)"),
            ("web, web desc", "web is ordered by twice (at position 6)"),
            ("web;mac", "'web;mac' is not a property"),
        ] {
            let error = parse_orderby(value).unwrap_err();
            assert!(error.contains(what), "{value:?}: {error}");
        }
    }

    #[test]
    fn select_keeps_the_clients_order_once_each() {
        assert_eq!(
            parse_select("ios, web,ios").unwrap(),
            Some(vec![Property::Ios, Property::Web])
        );
        assert_eq!(parse_select("*").unwrap(), None);
        assert_eq!(parse_select("web,*").unwrap(), None);
    }

    #[test]
    fn select_errors_are_located() {
        for (value, what) in [
            ("", "missing (at position 1)"),
            ("web,", "missing (at position 5)"),
            ("web, chromeos", "did you mean 'chromeOS'? (at position 6)"),
            ("web desc", "'web desc' is not a property"),
        ] {
            let error = parse_select(value).unwrap_err();
            assert!(error.contains(what), "{value:?}: {error}");
        }
    }
}
