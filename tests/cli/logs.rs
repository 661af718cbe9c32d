//! Logs as an operator reads them: one access line per request, plain text
//! by default, one JSON object per line with LOG_FORMAT=json.

use serde_json::Value;

use crate::common::Backend;
use crate::{run_configured, text, Sandbox, COLLECTION};

backend_tests!(every_request_leaves_one_access_line);

async fn every_request_leaves_one_access_line(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    for format in ["text", "json"] {
        let mut command = sandbox.command(&["serve"]);
        command.env("LOG_FORMAT", format);
        let server = crate::Server::start(command);
        let token = server
            .bootstrap_token()
            .or_else(|| Some(sandbox.create_token("default", "logs", "Reports.ReadWrite.All")));
        let token = token.unwrap();
        let client = reqwest::Client::new();
        let bad = client
            .get(server.url(&format!("{COLLECTION}?$top=x")))
            .bearer_auth(&token)
            .header("client-request-id", "my-client-id-1")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status().as_u16(), 400);
        let request_id = bad.headers()["request-id"].to_str().unwrap().to_owned();
        let report = client
            .get(server.url("/v1.0/reports/getTeamsDeviceUsageDistributionUserCounts(period='D7')"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(report.status().as_u16(), 200);
        let bytes = report.bytes().await.unwrap().len();
        server.wait_for(|log| log.matches("latency_ms").count() >= 2);
        let log = server.stderr();
        let access: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("access") && l.contains("request"))
            .filter(|l| l.contains("status"))
            .collect();
        assert_eq!(access.len(), 2, "{format}: {log}");
        if format == "json" {
            for line in log.lines().filter(|l| l.starts_with('{')) {
                serde_json::from_str::<Value>(line).unwrap();
            }
            let first: Value = serde_json::from_str(access[0]).unwrap();
            assert_eq!(first["request_id"], request_id.as_str(), "{log}");
            assert_eq!(first["client_request_id"], "my-client-id-1");
            assert_eq!(first["tenant"], "default");
            assert_eq!(first["method"], "GET");
            assert_eq!(
                first["route"],
                "/v1.0/reports/teamsDeviceUsageDistributionUserCounts"
            );
            assert_eq!(first["status"], 400);
            assert!(first["latency_ms"].as_f64().is_some());
            assert!(first["timestamp"].as_str().is_some());
            let second: Value = serde_json::from_str(access[1]).unwrap();
            assert_eq!(second["route"], "/v1.0/reports/{call}");
            assert_eq!(second["bytes"], bytes);
        } else {
            assert!(!log.lines().any(|l| l.starts_with('{')), "{log}");
            let first = access[0];
            for field in [
                format!("request_id={request_id}"),
                "client_request_id=\"my-client-id-1\"".into(),
                "tenant=\"default\"".into(),
                "status=400".into(),
                "method=GET".into(),
                "latency_ms=".into(),
            ] {
                assert!(first.contains(&field), "{field}: {first}");
            }
            assert!(
                access[1].contains(&format!("bytes={bytes}")),
                "{}",
                access[1]
            );
            // The 400's message is in its body, not repeated in the log; nothing says OK.
            assert!(!log.contains("otel.status_code"), "{log}");
            assert!(!log.contains("$top"), "{log}");
        }
    }
}

#[test]
fn a_bad_log_filter_or_format_stops_start_up() {
    for (name, value) in [("RUST_LOG", "info,["), ("LOG_FORMAT", "xml")] {
        let dir = tempfile::tempdir().unwrap();
        let (output, _) = run_configured(dir.path(), &["serve"], &[(name, value)]);
        let (_, stderr) = text(&output);
        assert!(!output.status.success());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(name),
            "{stderr}"
        );
    }
}
