//! A handler that panics must still answer: without this, the framework drops
//! the connection and the client gets no answer at all.

use std::panic::AssertUnwindSafe;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::middleware::Next;
use actix_web::ResponseError;
use futures_util::FutureExt;

use crate::error::ApiError;
use crate::telemetry::RequestIds;

/// Middleware, innermost: a panic while a request is handled is answered 500
/// `generalException` in Graph's shape, with the request's id; the panic's own
/// message went to the log through the panic hook.
pub async fn answer_panics(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Nothing the handler shared is used after a panic: the request is answered and dropped.
    match AssertUnwindSafe(next.call(request)).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            // The request went down with the handler, so the answer travels as
            // an error that carries it (request ids are still current here).
            let mut answer =
                ApiError::Internal(anyhow::anyhow!("a request handler panicked")).error_response();
            RequestIds::current().write_to(answer.headers_mut());
            Err(InternalError::from_response("a request handler panicked", answer).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App, HttpResponse};

    use super::*;

    #[actix_web::test]
    async fn a_panicking_handler_is_answered_in_graphs_shape() {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(answer_panics))
                .wrap(from_fn(crate::telemetry::request_ids))
                .route(
                    "/panics",
                    web::get().to(|| async {
                        #[allow(clippy::panic)]
                        if true {
                            panic!("a bug");
                        }
                        HttpResponse::Ok().finish()
                    }),
                )
                .route("/works", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let request = test::TestRequest::get().uri("/panics").to_request();
        let Err(error) = test::try_call_service(&app, request).await else {
            panic!("a panicking handler's answer travels as an error");
        };
        let answer = error.error_response();
        assert_eq!(answer.status().as_u16(), 500);
        let id = answer
            .headers()
            .get("request-id")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let body = actix_web::body::to_bytes(answer.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "generalException");
        assert_eq!(body["error"]["innerError"]["request-id"], id.as_str());
        assert!(!body["error"]["message"].as_str().unwrap().contains("a bug"));
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/works").to_request()).await;
        assert_eq!(response.status().as_u16(), 200);
    }
}
