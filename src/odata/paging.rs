//! `$skiptoken`: an opaque keyset cursor, so pages stay correct while rows are inserted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::{Cursor, Literal, OrderKey};
use crate::domain::{parse_date_literal, DistributionRow, Property, ReportPeriod};

/// The token that continues after `last` under `order_by`.
pub fn encode_skiptoken(order_by: &[OrderKey], last: &DistributionRow) -> String {
    let keys: Vec<Value> = order_by
        .iter()
        .map(|key| match key.property {
            Property::Id => json!(last.id.to_string()),
            Property::ReportRefreshDate => json!(last.report_refresh_date.to_string()),
            Property::ReportPeriod => json!(last.report_period.days()),
            count => json!(last.counts.get(count).map(|c| c.get())),
        })
        .collect();
    let payload = json!({"k": keys, "id": last.id.to_string()});
    URL_SAFE_NO_PAD.encode(payload.to_string())
}

/// Reads a token made by `encode_skiptoken` for the same `order_by`.
pub fn decode_skiptoken(token: &str, order_by: &[OrderKey]) -> Result<Cursor, String> {
    let invalid = || "$skiptoken is not a token this service issued for this query".to_owned();
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let payload: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let last_id = payload["id"]
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .ok_or_else(invalid)?;
    let raw_keys = payload["k"].as_array().ok_or_else(invalid)?;
    if raw_keys.len() != order_by.len() {
        return Err(invalid());
    }
    let keys = order_by
        .iter()
        .zip(raw_keys)
        .map(|(key, value)| decode_key(key.property, value).ok_or_else(invalid))
        .collect::<Result<_, _>>()?;
    Ok(Cursor { keys, last_id })
}

fn decode_key(property: Property, value: &Value) -> Option<Literal> {
    match property {
        Property::Id => value
            .as_str()
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .map(Literal::Id),
        Property::ReportRefreshDate => value
            .as_str()
            .and_then(parse_date_literal)
            .map(Literal::Date),
        Property::ReportPeriod => value
            .as_i64()
            .and_then(ReportPeriod::from_days)
            .map(Literal::Period),
        _ if value.is_null() => Some(Literal::Null),
        _ => value.as_i64().filter(|n| *n >= 0).map(Literal::Int),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DeviceCounts, NewDistributionRow, TenantId, UserCount};
    use chrono::{NaiveDate, Utc};

    fn row() -> DistributionRow {
        let n = |v| UserCount::new(v).unwrap();
        DistributionRow::create(
            TenantId::parse("t").unwrap(),
            NewDistributionRow {
                report_refresh_date: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
                report_period: ReportPeriod::D90,
                counts: DeviceCounts {
                    web: n(5),
                    windows_phone: n(0),
                    android_phone: n(0),
                    ios: n(0),
                    mac: n(0),
                    windows: n(0),
                    chrome_os: None,
                    linux: Some(n(2)),
                },
            },
            Utc::now(),
        )
    }

    #[test]
    fn round_trips_every_kind_of_key() {
        let order: Vec<OrderKey> = [
            Property::ReportRefreshDate,
            Property::ReportPeriod,
            Property::ChromeOs,
            Property::Linux,
            Property::Web,
        ]
        .into_iter()
        .map(|property| OrderKey {
            property,
            descending: false,
        })
        .collect();
        let r = row();
        let cursor = decode_skiptoken(&encode_skiptoken(&order, &r), &order).unwrap();
        assert_eq!(cursor.last_id, r.id);
        assert_eq!(
            cursor.keys,
            [
                Literal::Date(r.report_refresh_date),
                Literal::Period(ReportPeriod::D90),
                Literal::Null,
                Literal::Int(2),
                Literal::Int(5)
            ]
        );
    }

    #[test]
    fn refuses_foreign_or_mismatched_tokens() {
        let r = row();
        assert!(decode_skiptoken("not-base64!", &[]).is_err());
        assert!(decode_skiptoken(&URL_SAFE_NO_PAD.encode("{}"), &[]).is_err());
        let by_web = [OrderKey {
            property: Property::Web,
            descending: true,
        }];
        let token = encode_skiptoken(&by_web, &r);
        assert!(decode_skiptoken(&token, &[]).is_err());
        assert!(decode_skiptoken(&encode_skiptoken(&[], &r), &[]).is_ok());
    }
}
