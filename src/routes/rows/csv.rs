//! The collection as a Graph CSV file: `$format=text/csv`, or an `Accept`
//! whose first choice is `text/csv`. Every matching row, not a page: storage
//! is read a page at a time along the keyset cursor and each page is sent as
//! one chunk, so memory stays bounded whatever the table's size.
//!
//! Options: `$filter`, `$orderby`, `$skip` and `$top` (the most rows in the
//! file, any number) apply; `$select` and `$count` are refused, since Graph's
//! CSV has fixed columns and no place for a count; there is no nextLink.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::stream::{self, Stream};

use crate::domain::{csv_lines, csv_opening, csv_record, ApiVersion, TenantId};
use crate::error::ApiError;
use crate::http::{choose_collection_form, ReportForm, CSV_CONTENT_TYPE};
use crate::odata::{parse_collection_pairs, CollectionRequest, Cursor, RowQuery};
use crate::storage::Store;

/// Rows read from storage, and sent, at a time.
pub const CSV_PAGE_ROWS: u32 = 1000;

/// A collection request that asked for CSV, its options read.
pub struct CsvRequest {
    pub query: RowQuery,
    /// `$top`: the most rows in the file; `None` is all of them.
    pub top: Option<u64>,
    pub version: ApiVersion,
}

/// What a collection request asks for, its options read once.
pub enum CollectionForm {
    Csv(CsvRequest),
    /// JSON pages (`$format=application/json`, if given, read and set aside).
    Json(CollectionRequest),
}

/// CSV when asked for: `$format` decides when given, else `Accept`'s first choice.
pub fn csv_request(request: &HttpRequest, version: ApiVersion) -> Result<CollectionForm, ApiError> {
    let pairs = || url::form_urlencoded::parse(request.query_string().as_bytes());
    let named = |name: &str, option: &str| name.eq_ignore_ascii_case(option);
    let format = pairs()
        .filter(|(name, _)| named(name, "$format"))
        .last()
        .map(|(_, value)| value.into_owned());
    let wants_csv = matches!(
        choose_collection_form(format.as_deref(), request)?,
        ReportForm::Csv { .. }
    );
    if !wants_csv {
        let options = parse_collection_pairs(pairs().filter(|(name, _)| !named(name, "$format")))?;
        return Ok(CollectionForm::Json(options));
    }
    // In a file `$top` bounds the rows of the whole file, not of a page.
    let top = match pairs().filter(|(name, _)| named(name, "$top")).last() {
        None => None,
        Some((_, v)) => Some(
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("$top must be a whole number from 1, got '{v}'"))
                })?,
        ),
    };
    let options = parse_collection_pairs(
        pairs().filter(|(name, _)| !named(name, "$format") && !named(name, "$top")),
    )?;
    if options.select.is_some() {
        return Err(ApiError::bad_request(
            "$select does not apply to text/csv: the file has Graph's columns; use application/json to choose properties",
        ));
    }
    if options.count {
        return Err(ApiError::bad_request(
            "$count does not apply to text/csv; use .../$count or application/json",
        ));
    }
    Ok(CollectionForm::Csv(CsvRequest {
        query: options.query,
        top,
        version,
    }))
}

/// The file as a stream of chunks: BOM and header, then one chunk per page.
pub fn csv_chunks(
    store: Arc<dyn Store>,
    tenant: TenantId,
    request: CsvRequest,
    page_rows: u32,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    struct State {
        store: Arc<dyn Store>,
        tenant: TenantId,
        query: RowQuery,
        remaining: Option<u64>,
        version: ApiVersion,
        header_sent: bool,
        done: bool,
    }
    let state = State {
        store,
        tenant,
        query: request.query,
        remaining: request.top,
        version: request.version,
        header_sent: false,
        done: false,
    };
    stream::unfold(state, move |mut state| async move {
        if !state.header_sent {
            state.header_sent = true;
            let opening = csv_opening(state.version).map(Bytes::from);
            return Some((opening.map_err(std::io::Error::other), state));
        }
        if state.done || state.remaining == Some(0) {
            return None;
        }
        let limit = state
            .remaining
            .map_or(page_rows, |r| r.min(u64::from(page_rows)) as u32);
        let page = RowQuery {
            limit,
            ..state.query.clone()
        };
        let rows = match state.store.list_rows(&state.tenant, &page).await {
            Ok(rows) => rows,
            Err(error) => {
                // The status is sent; all that is left is to cut the body short.
                tracing::warn!(%error, "the CSV download stopped: reading a page failed");
                state.done = true;
                return Some((Err(std::io::Error::other(error.to_string())), state));
            }
        };
        let last = rows.last()?;
        if rows.len() < limit as usize {
            state.done = true;
        }
        if let Some(remaining) = &mut state.remaining {
            *remaining -= rows.len() as u64;
        }
        // The next page starts after this one's last row, like @odata.nextLink.
        state.query.after = Some(Cursor::after(&state.query.order_by, last));
        state.query.skip = 0;
        let version = state.version;
        let chunk = csv_lines(rows.iter().map(|row| csv_record(row, version)))
            .map(Bytes::from)
            .map_err(std::io::Error::other);
        Some((chunk, state))
    })
}

/// The streamed response.
pub fn csv_response(store: Arc<dyn Store>, tenant: TenantId, request: CsvRequest) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CSV_CONTENT_TYPE))
        .streaming(csv_chunks(store, tenant, request, CSV_PAGE_ROWS))
}
