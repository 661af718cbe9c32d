//! Content negotiation, one home for both surfaces that offer CSV: `$format`
//! (which overrides Accept, as OData says) or the Accept header picks Graph's
//! CSV or JSON. The report function prefers CSV, as Graph answers it; the
//! collection prefers JSON and streams CSV only when asked first.

use actix_web::http::header::{self, Accept, Header, QualityItem};
use actix_web::HttpRequest;
use mime::Mime;

use super::response::response_style;
use crate::domain::Int64Format;
use crate::error::ApiError;

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportForm {
    /// Graph's CSV, labelled with the media type the client accepts.
    Csv {
        content_type: &'static str,
    },
    Json(Int64Format),
}

/// The content type of every CSV the service writes.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";
const OCTET_STREAM: &str = "application/octet-stream";

/// The form `$format` names, or a 406 whose message ends with `hint`.
fn format_form(
    format: &str,
    request: &HttpRequest,
    what: &str,
    hint: &str,
) -> Result<ReportForm, ApiError> {
    let ieee754_compatible = response_style(request).ieee754_compatible;
    let mime: Option<Mime> = format.parse().ok();
    match mime.as_ref().map(Mime::essence_str) {
        Some("text/csv") => Ok(ReportForm::Csv {
            content_type: CSV_CONTENT_TYPE,
        }),
        Some("application/json") => Ok(ReportForm::Json(Int64Format {
            ieee754_compatible: ieee754_compatible
                || mime
                    .as_ref()
                    .and_then(|m| m.get_param("IEEE754Compatible"))
                    .is_some_and(|v| v.as_str().eq_ignore_ascii_case("true")),
        })),
        _ => Err(ApiError::NotAcceptable(format!(
            "$format={format} cannot be produced by {what}; {hint}"
        ))),
    }
}

/// The collection's form: JSON, unless `$format` names CSV or the Accept
/// header's first choice is `text/csv`.
pub fn choose_collection_form(
    format: Option<&str>,
    request: &HttpRequest,
) -> Result<ReportForm, ApiError> {
    if let Some(format) = format {
        return format_form(
            format,
            request,
            "the collection",
            "use text/csv (JSON is the default)",
        );
    }
    let csv_first = Accept::parse(request)
        .ok()
        .and_then(|accept| accept.ranked().into_iter().next())
        .is_some_and(|first| first.essence_str() == "text/csv");
    Ok(if csv_first {
        ReportForm::Csv {
            content_type: CSV_CONTENT_TYPE,
        }
    } else {
        ReportForm::Json(response_style(request))
    })
}

/// `$format` decides when given (OData: it overrides Accept); otherwise the
/// Accept header does, CSV first, as Graph answers this function with CSV.
/// `function` names the report in a 406.
pub fn choose_report_form(
    format: Option<&str>,
    request: &HttpRequest,
    function: &str,
) -> Result<ReportForm, ApiError> {
    if let Some(format) = format {
        return format_form(
            format,
            request,
            function,
            "use text/csv or application/json",
        );
    }
    let ieee754_compatible = response_style(request).ieee754_compatible;
    let accepted = Accept::parse(request).map(|a| a.0).unwrap_or_default();
    // Server preference breaks ties: Graph's form of this report is CSV.
    let offers = [
        (
            mime::TEXT_CSV,
            ReportForm::Csv {
                content_type: CSV_CONTENT_TYPE,
            },
        ),
        (
            mime::APPLICATION_OCTET_STREAM,
            ReportForm::Csv {
                content_type: OCTET_STREAM,
            },
        ),
        (
            mime::APPLICATION_JSON,
            ReportForm::Json(Int64Format { ieee754_compatible }),
        ),
    ];
    let mut best = None;
    for (offered, form) in offers {
        let q = quality(&accepted, &offered);
        if q > header::Quality::ZERO && best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, form));
        }
    }
    best.map(|(_, form)| form).ok_or_else(|| {
        ApiError::NotAcceptable(format!(
            "{function} is written as text/csv, application/octet-stream or application/json; the Accept header allows none of them"
        ))
    })
}

/// How much the client wants `offered`: the most specific matching range decides
/// (RFC 9110, 12.5.1). No Accept header at all accepts everything.
fn quality(accepted: &[QualityItem<Mime>], offered: &Mime) -> header::Quality {
    if accepted.is_empty() {
        return header::Quality::MAX;
    }
    let specificity = |range: &Mime| match (range.type_(), range.subtype()) {
        (mime::STAR, _) => 0,
        (_, mime::STAR) => 1,
        _ => 2,
    };
    accepted
        .iter()
        .filter(|range| {
            (range.item.type_() == mime::STAR || range.item.type_() == offered.type_())
                && (range.item.subtype() == mime::STAR || range.item.subtype() == offered.subtype())
        })
        .max_by_key(|range| specificity(&range.item))
        .map_or(header::Quality::ZERO, |range| range.quality)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn form_for(format: Option<&str>, accept: Option<&str>) -> Result<ReportForm, String> {
        let mut request = TestRequest::default();
        if let Some(accept) = accept {
            request = request.insert_header((header::ACCEPT, accept));
        }
        choose_report_form(format, &request.to_http_request(), "report")
            .map_err(|e| e.code().to_owned())
    }

    const CSV: ReportForm = ReportForm::Csv {
        content_type: CSV_CONTENT_TYPE,
    };
    const BYTES: ReportForm = ReportForm::Csv {
        content_type: OCTET_STREAM,
    };
    const JSON: ReportForm = ReportForm::Json(Int64Format {
        ieee754_compatible: false,
    });

    #[test]
    fn format_overrides_accept() {
        assert_eq!(
            form_for(Some("text/csv"), Some("application/json")),
            Ok(CSV)
        );
        assert_eq!(
            form_for(Some("application/json"), Some("text/csv")),
            Ok(JSON)
        );
        assert_eq!(
            form_for(Some("application/json;IEEE754Compatible=true"), None),
            Ok(ReportForm::Json(Int64Format {
                ieee754_compatible: true
            }))
        );
        for bad in ["application/xml", "csv", "json", "", "text/*"] {
            assert_eq!(
                form_for(Some(bad), None),
                Err("notAcceptable".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn accept_picks_csv_first() {
        assert_eq!(form_for(None, None), Ok(CSV));
        assert_eq!(form_for(None, Some("*/*")), Ok(CSV));
        assert_eq!(form_for(None, Some("text/*")), Ok(CSV));
        // What the Graph SDKs send for this function.
        assert_eq!(
            form_for(None, Some("application/octet-stream, application/json")),
            Ok(BYTES)
        );
        assert_eq!(form_for(None, Some("application/json")), Ok(JSON));
        assert_eq!(
            form_for(None, Some("application/json;IEEE754Compatible=true")),
            Ok(ReportForm::Json(Int64Format {
                ieee754_compatible: true
            }))
        );
        assert_eq!(
            form_for(None, Some("text/csv;q=0.5, application/json")),
            Ok(JSON)
        );
        assert_eq!(form_for(None, Some("*/*, text/csv;q=0")), Ok(BYTES));
    }

    #[test]
    fn accept_without_a_producible_type_is_406() {
        for accept in ["application/xml", "text/html, image/*", "*/*;q=0"] {
            assert_eq!(
                form_for(None, Some(accept)),
                Err("notAcceptable".into()),
                "{accept}"
            );
        }
    }

    #[test]
    fn the_collection_is_json_unless_csv_is_asked_first() {
        let form = |format: Option<&str>, accept: Option<&str>| {
            let mut request = TestRequest::default();
            if let Some(accept) = accept {
                request = request.insert_header((header::ACCEPT, accept));
            }
            choose_collection_form(format, &request.to_http_request())
                .map_err(|e| e.code().to_owned())
        };
        let json = Ok(ReportForm::Json(Int64Format::default()));
        assert_eq!(form(None, None), json);
        assert_eq!(form(None, Some("*/*")), json);
        assert_eq!(form(None, Some("application/json, text/csv")), json);
        assert_eq!(
            form(None, Some("text/csv, application/json;q=0.5")),
            Ok(CSV)
        );
        assert_eq!(form(Some("text/csv"), Some("application/json")), Ok(CSV));
        assert_eq!(form(Some("TEXT/CSV; charset=utf-8"), None), Ok(CSV));
        assert_eq!(form(Some("application/json"), Some("text/csv")), json);
        assert_eq!(
            form(Some("application/xml"), None),
            Err("notAcceptable".to_owned())
        );
    }
}
