//! `$metadata`, what every `@odata.context` points at, as CSDL; the service
//! document at the version root and the singleton it lists.

use serde_json::Value;

use crate::helpers::{
    assert_graph_error, valid_row, Backend, TestApp, BETA_COLLECTION, COLLECTION,
};

backend_tests!(
    odata_context_points_at_a_csdl_document,
    the_service_document_lists_the_entity_set_and_the_singleton,
    the_reports_singleton_is_served,
);

async fn odata_context_points_at_a_csdl_document(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for (collection, beta) in [(COLLECTION, false), (BETA_COLLECTION, true)] {
        let created: Value = app
            .post_json_as(&app.token, collection, &valid_row())
            .await
            .json()
            .await
            .unwrap();
        let context = created["@odata.context"].as_str().unwrap();
        let (metadata_url, fragment) = context.split_once('#').unwrap();
        assert!(metadata_url.ends_with("/$metadata"), "{context}");
        assert!(fragment.starts_with("reports/teamsDeviceUsageDistributionUserCounts"));
        // Open, like the OpenAPI document: it describes the schema, never a row.
        let response = app.client.get(metadata_url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{metadata_url}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("application/xml"),
            "{content_type}"
        );
        let csdl = response.text().await.unwrap();
        for needle in [
            "<edmx:Edmx Version=\"4.0\"",
            "<EntityType Name=\"teamsDeviceUsageDistributionUserCounts\"",
            "<Property Name=\"reportRefreshDate\" Type=\"Edm.Date\"",
            "<Property Name=\"web\" Type=\"Edm.Int64\"",
            "<Property Name=\"reportPeriod\" Type=\"Edm.String\"",
            "<NavigationProperty Name=\"teamsDeviceUsageDistributionUserCounts\"",
            "<Function Name=\"getTeamsDeviceUsageDistributionUserCounts\"",
            "<Singleton Name=\"reports\"",
        ] {
            assert!(csdl.contains(needle), "{needle} missing:\n{csdl}");
        }
        // The JSON and the document agree under each version: the entity type
        // (with its base type's `id`) declares exactly the properties a row carries.
        let mut declared = declared_properties(&csdl);
        declared.push("id".into());
        declared.sort();
        let mut carried: Vec<String> = created
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !k.starts_with('@'))
            .cloned()
            .collect();
        carried.sort();
        assert_eq!(carried, declared, "{collection} (beta: {beta})");
        // Namespace-qualified type references, no alias to resolve.
        assert!(!csdl.contains("Alias="), "{csdl}");
        assert!(
            csdl.contains("Type=\"microsoft.graph.reportRoot\""),
            "{csdl}"
        );
    }
}

/// The `Name`s of the `Property` elements of the row's entity type.
fn declared_properties(csdl: &str) -> Vec<String> {
    let start = csdl
        .find("<EntityType Name=\"teamsDeviceUsageDistributionUserCounts\"")
        .unwrap();
    let end = start + csdl[start..].find("</EntityType>").unwrap();
    csdl[start..end]
        .split("<Property Name=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// The service root answers the service document, open like `$metadata`, with
/// and without its closing slash; each item's URL is served.
async fn the_service_document_lists_the_entity_set_and_the_singleton(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for root in ["/v1.0", "/v1.0/", "/beta", "/beta/"] {
        let response = app.client.get(app.url(root)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{root}");
        assert_eq!(response.headers()["odata-version"], "4.0");
        let document: Value = response.json().await.unwrap();
        let base = root.trim_end_matches('/');
        assert_eq!(
            document["@odata.context"],
            format!("{}{base}/$metadata", app.address)
        );
        let items = document["value"].as_array().unwrap();
        let kinds: Vec<(&str, &str)> = items
            .iter()
            .map(|i| (i["name"].as_str().unwrap(), i["kind"].as_str().unwrap()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("teamsDeviceUsageDistributionUserCounts", "EntitySet"),
                ("reports", "Singleton")
            ]
        );
        for item in items {
            let url = format!("{base}/{}", item["url"].as_str().unwrap());
            let served = app.get(&url).await;
            assert_eq!(served.status().as_u16(), 200, "{url}");
        }
    }
}

/// `GET {base}/reports`: the declared singleton, a `reportRoot` with its key,
/// read with a token like every row.
async fn the_reports_singleton_is_served(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let reports: Value = app.get("/beta/reports").await.json().await.unwrap();
    assert_eq!(
        reports,
        serde_json::json!({
            "@odata.context": format!("{}/beta/$metadata#reports/$entity", app.address),
            "@odata.type": "#microsoft.graph.reportRoot",
            "id": "",
        })
    );
    let anonymous = app
        .client
        .get(app.url("/v1.0/reports"))
        .send()
        .await
        .unwrap();
    assert_graph_error(anonymous, 401, "InvalidAuthenticationToken").await;
    let write_only_path = app
        .request(reqwest::Method::POST, "/v1.0/reports")
        .send()
        .await
        .unwrap();
    assert_graph_error(write_only_path, 405, "methodNotAllowed").await;
}
