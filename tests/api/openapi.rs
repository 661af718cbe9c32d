//! `GET /openapi.json`: the document is served openly, hangs together, and
//! names exactly the routes the server has.

use actix_web::dev::ResourceDef;
use actix_web::introspection::IntrospectionTree;
use actix_web::{web, App, HttpResponse};
use reqwest::Method;
use serde_json::{json, Value};
use teams_usage_store::http::BodyLimit;
use teams_usage_store::routes;

use crate::helpers::{assert_graph_error, Backend, TestApp};

backend_tests!(
    the_document_is_open_and_describes_the_service,
    every_documented_operation_is_served,
);

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// Every (path template, method) the document names.
fn operations(document: &Value) -> Vec<(String, Method)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method.as_str().to_ascii_lowercase()).is_some() {
                found.push((path.clone(), method));
            }
        }
    }
    found
}

/// A concrete path for a template: each path parameter gets a value its schema allows.
fn concrete(document: &Value, template: &str) -> String {
    let item = &document["paths"][template];
    let parameters = item
        .as_object()
        .unwrap()
        .values()
        .filter_map(|operation| operation["parameters"].as_array())
        .flatten()
        .filter(|p| p["in"] == "path");
    let mut path = template.to_owned();
    for parameter in parameters {
        let mut schema = parameter["schema"].clone();
        if let Some(reference) = schema["$ref"].as_str() {
            schema = resolve(document, reference).clone();
        }
        let value = match (&schema["enum"], schema["format"].as_str()) {
            (Value::Array(values), _) => values[0].as_str().unwrap().to_owned(),
            (_, Some("uuid")) => uuid::Uuid::new_v4().to_string(),
            _ => "x".to_owned(),
        };
        path = path.replace(
            &format!("{{{}}}", parameter["name"].as_str().unwrap()),
            &value,
        );
    }
    path
}

fn resolve<'a>(document: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("{reference} points outside the document"));
    document
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} names nothing in the document"))
}

fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get("$ref") {
                found.push(reference.clone());
            }
            object.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

async fn served_document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    response.json().await.unwrap()
}

async fn the_document_is_open_and_describes_the_service(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // No token needed.
    let document = served_document(&app).await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        resolve(&document, &reference);
    }
    let bearer = &document["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["scheme"], "bearer");
    let collection = &document["paths"]["/v1.0/reports/teamsDeviceUsageDistributionUserCounts"];
    assert_eq!(
        collection["post"]["security"],
        json!([{"bearer": ["Reports.ReadWrite.All"]}])
    );
    assert_eq!(
        collection["get"]["security"],
        json!([{"bearer": ["Reports.Read.All"]}, {"bearer": ["Reports.ReadWrite.All"]}])
    );
    let options: Vec<&str> = collection["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for option in [
        "$filter",
        "$orderby",
        "$top",
        "$skip",
        "$count",
        "$select",
        "$skiptoken",
    ] {
        assert!(options.contains(&option), "{option} in {options:?}");
    }
    let report = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(path, _)| path.starts_with("/beta/reports/getTeams"))
        .map(|(_, item)| &item["get"])
        .expect("the report function under /beta");
    assert!(report["responses"]["200"]["content"]
        .get("text/csv")
        .is_some());
    assert!(report["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "$format"));
    // Every Graph operation documents Graph's errors, with the error codes.
    for (path, method) in operations(&document) {
        let operation = &document["paths"][&path][method.as_str().to_ascii_lowercase()];
        if operation
            .get("security")
            .is_some_and(|s| s != &json!([{}, {"metricsToken": []}]))
        {
            assert_eq!(
                operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/GraphError",
                "{method} {path}"
            );
        }
    }
    let codes = &document["components"]["schemas"]["GraphErrorBody"]["properties"]["code"]["enum"];
    assert!(codes.as_array().unwrap().contains(&json!("itemNotFound")));
    let ids: Vec<&str> = operations(&document)
        .iter()
        .map(|(path, method)| {
            document["paths"][path][method.as_str().to_ascii_lowercase()]["operationId"]
                .as_str()
                .unwrap()
        })
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique: {ids:?}");
}

/// Each documented operation reaches a handler (not the unknown-route 404, not
/// 405), and each other method on a documented path is a 405.
async fn every_documented_operation_is_served(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let document = served_document(&app).await;
    for (template, method) in operations(&document) {
        let path = concrete(&document, &template);
        let mut request = app.request(method.clone(), &path);
        if method == Method::POST || method == Method::PATCH {
            request = request.json(&json!({}));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert!(
            !(status == 404 && body.contains("Resource not found for the segment")),
            "{method} {path} is documented but not routed: {body}"
        );
    }
    for template in document["paths"].as_object().unwrap().keys() {
        let path = concrete(&document, template);
        for method in METHODS {
            let documented = document["paths"][template]
                .get(method.as_str().to_ascii_lowercase())
                .is_some();
            if !documented {
                let response = app.request(method.clone(), &path).send().await.unwrap();
                assert_graph_error(response, 405, "methodNotAllowed").await;
            }
        }
    }
}

/// The routes the app registers, as actix lists them: (pattern, method).
async fn registered_routes() -> Vec<(String, Method)> {
    const PROBE: &str = "/__registered-routes";
    let app = actix_web::test::init_service(
        App::new()
            .configure(|config| routes::configure(config, BodyLimit(1024)))
            .route(
                PROBE,
                web::get().to(|tree: web::Data<IntrospectionTree>| async move {
                    HttpResponse::Ok().body(tree.report_as_json())
                }),
            ),
    )
    .await;
    let request = actix_web::test::TestRequest::get().uri(PROBE).to_request();
    let report: Value = actix_web::test::call_and_read_body_json(&app, request).await;
    let mut found = Vec::new();
    for item in report.as_array().unwrap() {
        let path = item["full_path"].as_str().unwrap();
        if item["resource_type"] != "resource" || path == PROBE {
            continue;
        }
        for method in item["methods"].as_array().unwrap() {
            found.push((path.to_owned(), method.as_str().unwrap().parse().unwrap()));
        }
    }
    found
}

/// The document and the router agree both ways: every route the app registers
/// is documented, and every documented operation is a registered route.
#[actix_web::test]
async fn the_document_names_exactly_the_registered_routes() {
    let document = serde_json::to_value(routes::openapi::document()).unwrap();
    let documented: Vec<(String, Method)> = operations(&document)
        .into_iter()
        .map(|(template, method)| (concrete(&document, &template), method))
        .collect();
    let registered = registered_routes().await;
    assert!(registered.len() >= 10, "{registered:?}");
    for (pattern, method) in &registered {
        let route = ResourceDef::new(pattern.as_str());
        assert!(
            documented
                .iter()
                .any(|(path, m)| m == method && route.is_match(path)),
            "{method} {pattern} is served but not documented"
        );
    }
    for (path, method) in &documented {
        assert!(
            registered.iter().any(
                |(pattern, m)| m == method && ResourceDef::new(pattern.as_str()).is_match(path)
            ),
            "{method} {path} is documented but not registered"
        );
    }
}
