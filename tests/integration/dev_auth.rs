//! Dev mode: `catalogue-gateway dev-token` mints tokens that only a gateway
//! started in dev mode trusts.

use crate::common;

use std::process::Command;

use common::{Backend, TestApp, TestDatabase};
use serde_json::json;

fn mint(key_file: &std::path::Path, email: &str, admin: bool) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_catalogue-gateway"));
    command
        .args(["dev-token", "--email", email])
        .env("CATALOGUE_DEV_KEY_FILE", key_file);
    if admin {
        command.arg("--admin");
    }
    let output = command.output().expect("run dev-token");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

async fn dev_tokens_are_trusted_only_in_dev_mode(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dev-signing-key.pem");
    let admin = mint(&key_file, "dev@example.gouv.fr", true);
    let agent = mint(&key_file, "front@example.gouv.fr", false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the dev key is readable by its owner only");
    }
    let me = "{ me { email isAdmin } }";

    let file = key_file.clone();
    let production =
        TestApp::spawn_configured(TestDatabase::create(backend).await, None, move |config| {
            config.auth.dev_key_file = file;
        })
        .await;
    let (status, _, answer) = production.query_as(&admin, me, json!({})).await;
    assert_eq!(
        status, 401,
        "a gateway not in dev mode refuses dev tokens: {answer}"
    );
    assert_eq!(
        answer["errors"][0]["extensions"]["reason"],
        "unknown_issuer"
    );

    let file = key_file.clone();
    let dev = TestApp::spawn_configured(TestDatabase::create(backend).await, None, move |config| {
        config.auth.dev_auth = true;
        config.auth.dev_key_file = file;
    })
    .await;
    let (status, _, answer) = dev.query_as(&admin, me, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["data"]["me"],
        json!({"email": "dev@example.gouv.fr", "isAdmin": true})
    );
    let (_, _, answer) = dev.query_as(&agent, me, json!({})).await;
    assert_eq!(
        answer["data"]["me"],
        json!({"email": "front@example.gouv.fr", "isAdmin": false})
    );
}

on_both_backends!(dev_tokens_are_trusted_only_in_dev_mode);
