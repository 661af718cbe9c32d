//! Responses the browser renders (the dashboard page, its assets, its chart),
//! with the headers that keep them from running anything but our own files.

use actix_web::http::header;
use actix_web::HttpResponse;

/// Only this origin's script and style files: no inline code, no other origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A page or asset: its content type, the strict policy, no sniffing, no referrer.
pub fn page_response(content_type: &'static str, body: impl Into<String>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        // A tenant's chart is data: never kept by a shared cache.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.into())
}
