//! `$skiptoken`: an opaque keyset cursor, so pages stay correct while rows are inserted.
//!
//! A token is bound to the `$filter` and `$orderby` it was issued for: its sort
//! values only mean something in that ordering, and a cursor carried over to
//! another filter would silently skip rows. Using it with other ones is an error.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{Cursor, Filter, Literal, OrderKey};
use crate::domain::{parse_date_literal, DistributionRow, Property, ReportPeriod};

/// A short digest of the query's canonical filter and ordering: equal for the
/// same query however it was spelled (spacing, keyword case, option-name case).
fn query_fingerprint(filter: Option<&Filter>, order_by: &[OrderKey]) -> String {
    let order: Vec<String> = order_by.iter().map(ToString::to_string).collect();
    let canonical = format!(
        "{}|{}",
        filter.map_or(String::new(), ToString::to_string),
        order.join(",")
    );
    let digest = Sha256::digest(canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..9])
}

impl Cursor {
    /// Where the page after `last` starts in `order_by` (what a token carries).
    pub fn after(order_by: &[OrderKey], last: &DistributionRow) -> Self {
        let keys = order_by
            .iter()
            .map(|key| match key.property {
                Property::Id => Literal::Id(last.id),
                Property::ReportRefreshDate => Literal::Date(last.report_refresh_date),
                Property::ReportPeriod => Literal::Period(last.report_period),
                count => last
                    .counts
                    .get(count)
                    .map_or(Literal::Null, |c| Literal::Int(c.get())),
            })
            .collect();
        Self {
            keys,
            last_id: last.id,
        }
    }
}

/// The token that continues after `last` under `filter` and `order_by`.
pub fn encode_skiptoken(
    filter: Option<&Filter>,
    order_by: &[OrderKey],
    last: &DistributionRow,
) -> String {
    let cursor = Cursor::after(order_by, last);
    let keys: Vec<Value> = cursor.keys.iter().map(encode_key).collect();
    let payload = json!({
        "k": keys,
        "id": cursor.last_id.to_string(),
        "q": query_fingerprint(filter, order_by),
    });
    URL_SAFE_NO_PAD.encode(payload.to_string())
}

fn encode_key(key: &Literal) -> Value {
    match key {
        Literal::Null => Value::Null,
        Literal::Int(n) => json!(n),
        Literal::Date(date) => json!(date.to_string()),
        Literal::Period(period) => json!(period.days()),
        Literal::Id(id) => json!(id.to_string()),
        Literal::Bool(flag) => json!(flag),
        Literal::Text(text) => json!(text),
    }
}

/// Reads a token made by `encode_skiptoken` for the same filter and ordering.
pub fn decode_skiptoken(
    token: &str,
    filter: Option<&Filter>,
    order_by: &[OrderKey],
) -> Result<Cursor, String> {
    let invalid = || {
        "$skiptoken is not a token this service issued; follow @odata.nextLink as given".to_owned()
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let payload: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if payload["q"].as_str().ok_or_else(invalid)? != query_fingerprint(filter, order_by) {
        return Err("$skiptoken was issued for another $filter or $orderby; \
             keep the options of the link it came in, or start again from the first page"
            .to_owned());
    }
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

    use crate::odata::parse_filter;

    fn row() -> DistributionRow {
        crate::domain::test_row(
            "t",
            "2026-01-02",
            ReportPeriod::D90,
            [5, 0, 0, 0, 0, 0],
            None,
            Some(2),
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
        let cursor = decode_skiptoken(&encode_skiptoken(None, &order, &r), None, &order).unwrap();
        // The token carries exactly the cursor built from the row directly.
        assert_eq!(cursor, Cursor::after(&order, &r));
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
        assert!(decode_skiptoken("not-base64!", None, &[]).is_err());
        assert!(decode_skiptoken(&URL_SAFE_NO_PAD.encode("{}"), None, &[]).is_err());
        assert!(decode_skiptoken(&URL_SAFE_NO_PAD.encode("[1]"), None, &[]).is_err());
        let by_web = [OrderKey {
            property: Property::Web,
            descending: true,
        }];
        let token = encode_skiptoken(None, &by_web, &r);
        assert!(decode_skiptoken(&token, None, &by_web).is_ok());
        assert!(decode_skiptoken(&token, None, &[]).is_err());
        let by_web_ascending = [OrderKey {
            property: Property::Web,
            descending: false,
        }];
        assert!(decode_skiptoken(&token, None, &by_web_ascending).is_err());
        assert!(decode_skiptoken(&encode_skiptoken(None, &[], &r), None, &[]).is_ok());
    }

    #[test]
    fn tokens_are_bound_to_the_filter_not_its_spelling() {
        let r = row();
        let filter = parse_filter("web gt 1 and reportPeriod eq '7'").unwrap();
        let respelled = parse_filter("(web GT 1)  AND  reportPeriod eq '7'").unwrap();
        let other = parse_filter("web gt 2 and reportPeriod eq '7'").unwrap();
        let token = encode_skiptoken(Some(&filter), &[], &r);
        assert!(decode_skiptoken(&token, Some(&respelled), &[]).is_ok());
        let error = decode_skiptoken(&token, Some(&other), &[]).unwrap_err();
        assert!(error.contains("another $filter"), "{error}");
        assert!(decode_skiptoken(&token, None, &[]).is_err());
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let r = row();
        let token = encode_skiptoken(None, &[], &r);
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&token).unwrap()).unwrap();
        payload["id"] = json!("not-a-uuid");
        let tampered = URL_SAFE_NO_PAD.encode(payload.to_string());
        assert!(decode_skiptoken(&tampered, None, &[]).is_err());
    }
}
