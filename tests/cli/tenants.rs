//! A new tenant is said out loud: `token create` says a tenant is new, and
//! `import` refuses a tenant that has neither a token nor rows unless
//! `--new-tenant` says it is meant, so a misspelt name creates nothing.

use crate::common::Backend;
use crate::{finish, text, Sandbox};

backend_tests!(
    token_create_says_a_tenant_is_new,
    import_creates_a_tenant_only_when_told,
    tenants_are_named_for_people,
);

async fn token_create_says_a_tenant_is_new(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let create = |tenant: &str, name: &str| {
        sandbox.run(&[
            "token",
            "create",
            "--tenant",
            tenant,
            "--name",
            name,
            "--scope",
            "Reports.Read.All",
        ])
    };
    let (secret, stderr) = create("contoso", "dashboard");
    assert!(stderr.contains("tenant 'contoso' is new"), "{stderr}");
    assert!(!stderr.contains(secret.trim()), "{stderr}");
    // Its second token, and a tenant that has rows, are not new.
    let (_, stderr) = create("contoso", "laptop");
    assert!(!stderr.contains("is new"), "{stderr}");
    sandbox.run(&[
        "import",
        write_export(&sandbox).as_str(),
        "--tenant",
        "fabrikam",
        "--new-tenant",
    ]);
    let (_, stderr) = create("fabrikam", "dashboard");
    assert!(!stderr.contains("is new"), "{stderr}");
}

const EXPORT: &str =
    "Report Refresh Date,Web,Windows Phone,Android Phone,iOS,Mac,Windows,Report Period\n\
                      2026-11-01,3,12,12,3,3,7,7\n\
                      2026-11-08,4,13,13,4,4,8,7\n";

fn write_export(sandbox: &Sandbox) -> String {
    let file = sandbox.dir.path().join("export.csv");
    std::fs::write(&file, EXPORT).unwrap();
    file.to_str().unwrap().to_owned()
}

async fn import_creates_a_tenant_only_when_told(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let file = write_export(&sandbox);
    sandbox.create_token("contoso", "collector", "Reports.ReadWrite.All");

    // A misspelt tenant: refused in one line naming it and the way to mean it.
    let output = finish(sandbox.command(&["import", &file, "--tenant", "contsoo"]));
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
    assert!(
        errors[0].contains("'contsoo'") && errors[0].contains("--new-tenant"),
        "{stderr}"
    );
    assert_eq!(sandbox.database.row_count().await, 0);
    // It was not created by the attempt.
    let again = finish(sandbox.command(&["import", &file, "--tenant", "contsoo"]));
    assert!(!again.status.success());

    // A tenant with a token is known.
    let (_, stderr) = sandbox.run(&["import", &file, "--tenant", "contoso"]);
    assert!(stderr.contains("rows created: 2"), "{stderr}");
    assert!(!stderr.contains("is new"), "{stderr}");

    // --new-tenant creates one, out loud; afterwards its rows make it known.
    let (_, stderr) = sandbox.run(&["import", &file, "--tenant", "fabrikam", "--new-tenant"]);
    assert!(stderr.contains("tenant 'fabrikam' is new"), "{stderr}");
    assert!(stderr.contains("rows created: 2"), "{stderr}");
    let (_, stderr) = sandbox.run(&["import", &file, "--tenant", "fabrikam"]);
    assert!(stderr.contains("already stored: 2"), "{stderr}");
    assert!(!stderr.contains("is new"), "{stderr}");
    assert_eq!(sandbox.database.row_count().await, 4);
}

/// `token create --tenant-name` and `tenant rename` name a tenant; the
/// operator's tenants list shows the name beside the id.
async fn tenants_are_named_for_people(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    sandbox.run(&[
        "token",
        "create",
        "--tenant",
        "contoso",
        "--name",
        "collector",
        "--scope",
        "Reports.ReadWrite.All",
        "--tenant-name",
        "Contoso",
    ]);
    sandbox.run(&[
        "token",
        "create",
        "--tenant",
        "fabrikam",
        "--name",
        "collector",
        "--scope",
        "Reports.Read.All",
    ]);
    let (_, stderr) = sandbox.run(&["tenant", "rename", "contoso", "Contoso Ltd"]);
    assert!(
        stderr.contains("tenant 'contoso' is now shown as \"Contoso Ltd\""),
        "{stderr}"
    );
    // A misspelt tenant, or a name that is not one, changes nothing.
    for args in [
        vec!["tenant", "rename", "contsoo", "Contoso"],
        vec!["tenant", "rename", "contoso", "   "],
        vec!["tenant", "rename", "contoso", "a\u{7}b"],
        vec!["tenant", "rename", "bad tenant", "x"],
    ] {
        let output = finish(sandbox.command(&args));
        let (_, stderr) = text(&output);
        assert!(!output.status.success(), "{args:?}");
        assert_eq!(
            stderr
                .trim()
                .lines()
                .filter(|l| l.starts_with("error"))
                .count(),
            1,
            "{stderr}"
        );
    }
    let long = "x".repeat(201);
    let output = finish(sandbox.command(&[
        "token",
        "create",
        "--tenant",
        "northwind",
        "--name",
        "n",
        "--scope",
        "Reports.Read.All",
        "--tenant-name",
        long.as_str(),
    ]));
    assert!(!output.status.success());
    let (operator, _) = sandbox.run(&[
        "token",
        "create",
        "--all-tenants",
        "--tenant",
        "msp",
        "--name",
        "ops",
        "--scope",
        "Reports.Read.All",
    ]);
    let server = sandbox.serve();
    let list: serde_json::Value = reqwest::Client::new()
        .get(server.url("/v1.0/tenants?$filter=id ne 'msp'"))
        .bearer_auth(operator.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<(&str, &serde_json::Value)> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), &t["displayName"]))
        .collect();
    // northwind's bad name made no token, so no tenant.
    assert_eq!(
        names,
        [
            ("contoso", &serde_json::json!("Contoso Ltd")),
            ("fabrikam", &serde_json::Value::Null)
        ]
    );
}
