//! `$metadata`: what every `@odata.context` points at answers, as CSDL.

use serde_json::Value;

use crate::helpers::{valid_row, Backend, TestApp, BETA_COLLECTION, COLLECTION};

backend_tests!(odata_context_points_at_a_csdl_document);

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
        assert_eq!(csdl.contains("Name=\"chromeOS\""), beta, "{csdl}");
        assert_eq!(csdl.contains("Name=\"linux\""), beta, "{csdl}");
    }
}
