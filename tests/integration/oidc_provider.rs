//! The portal's sign-in against an OpenID provider the gateway's authors did
//! not write: the `oidc-provider` npm package (the engine ProConnect runs),
//! configured like ProConnect by tests/portal/oidc-provider.cjs, driven in
//! headless Chromium by tests/portal/oidc-signin.cjs. Then another
//! administration's tool's opaque access token from that provider is
//! introspected, and refused once revoked there, within the configured bound.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use catalogue_gateway::config::Secret;
use common::{Backend, TestApp, TestDatabase, catalogue_dir};
use serde_json::json;

const CLIENT_ID: &str = "catalogue-gateway";
const CLIENT_SECRET: &str = "secret-du-catalogue-pour-oidc-provider";
const TOOL_ID: &str = "outil-partenaire";
const TOOL_SECRET: &str = "secret-de-l-outil-partenaire";
const AGENT_EMAIL: &str = "dominique.agente@numerique.gouv.fr";

/// tests/portal/oidc-provider.cjs, running until dropped.
struct OidcProvider {
    child: Child,
    stdin: Option<ChildStdin>,
    issuer: String,
}

impl OidcProvider {
    /// Starts the provider, signing with `algorithm`, and reads its issuer;
    /// it answers once told the gateway's URL (`serve`).
    fn start(algorithm: &str) -> Self {
        let modules = common::node_modules();
        assert!(
            modules.join("oidc-provider").is_dir(),
            "{} has no oidc-provider: run `make test`, which installs it",
            modules.display()
        );
        let mut child = Command::new("node")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/portal/oidc-provider.cjs"
            ))
            .args([CLIENT_ID, CLIENT_SECRET, TOOL_ID, TOOL_SECRET, algorithm])
            .env("NODE_PATH", &modules)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node (make test installs it)");
        let stdout = child.stdout.take().expect("its output");
        let mut lines = BufReader::new(stdout)
            .lines()
            .map(|line| line.expect("a line of its output"));
        let issuer = lines
            .find(|line| line.starts_with("http://"))
            .expect("oidc-provider prints its issuer");
        // The rest of its output (its warnings), read so that it can write.
        std::thread::spawn(move || lines.for_each(|line| eprintln!("oidc-provider: {line}")));
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            issuer,
        }
    }

    /// Registers the gateway at `gateway` as its client's redirect target.
    fn serve(&mut self, gateway: &str) {
        let mut stdin = self.stdin.take().expect("told once");
        writeln!(stdin, "{gateway}").expect("tell oidc-provider the gateway's URL");
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The client registered with `algorithm` for its ID tokens, userinfo and
/// introspection answers.
async fn signs_in_and_out_in_chromium(backend: Backend, algorithm: &str) {
    let mut provider = OidcProvider::start(algorithm);
    let issuer = provider.issuer.clone();
    assert!(issuer.ends_with("/api/v2"), "{issuer}");
    let app = TestApp::spawn_configured(
        TestDatabase::create(backend).await,
        Some(catalogue_dir()),
        |config| {
            let proconnect = &mut config.proconnect;
            proconnect.proconnect_issuer = Some(issuer.clone());
            proconnect.proconnect_client_id = Some(CLIENT_ID.to_owned());
            proconnect.proconnect_client_secret = Some(Secret::new(CLIENT_SECRET));
            proconnect.proconnect_acr_values = Some("eidas1".to_owned());
            proconnect.proconnect_introspection_clients = vec![TOOL_ID.to_owned()];
            proconnect.proconnect_introspection_cache_seconds = 1;
            proconnect.proconnect_signing_alg = algorithm.to_owned();
        },
    )
    .await;
    provider.serve(&app.base_url);

    let output = common::run_node(
        "portal/oidc-signin.cjs",
        &[&app.base_url, &issuer, TOOL_ID, TOOL_SECRET],
        &["playwright-core"],
    );
    for step in [
        "login asked",
        "signed in, agents-only material shown",
        "signed out",
        "login asked again",
        "signed in again",
    ] {
        assert!(output.lines().any(|line| line == step), "{step}:\n{output}");
    }
    let token = output
        .lines()
        .find_map(|line| line.strip_prefix("tool access token: "))
        .expect("the tool's access token")
        .to_owned();

    // The tool's opaque token, introspected: the same public agent.
    let me = "{ me { email siret publicAgent } }";
    let (status, _, answer) = app.query_as(&token, me, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["me"]["email"], AGENT_EMAIL);
    assert_eq!(answer["data"]["me"]["siret"], "13002526500013");
    assert_eq!(answer["data"]["me"]["publicAgent"], true);

    // Revoked at the provider: refused within the bound (1 s here).
    let revoked = app
        .client
        .post(format!("{}/token/revocation", provider.issuer))
        .form(&[
            ("token", token.as_str()),
            ("client_id", TOOL_ID),
            ("client_secret", TOOL_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _, answer) = app.query_as(&token, me, json!({})).await;
        if status == 401 {
            assert_eq!(answer["errors"][0]["extensions"]["reason"], "inactive");
            break;
        }
        assert!(Instant::now() < deadline, "still accepted: {answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// Plain tests, not `on_both_backends!`: `make test-quick` runs every
// `sqlite::` test and promises neither Node.js nor Chromium.

/// RS256: what ProConnect's Espace Partenaires registers new clients with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_signs_in_and_out_with_oidc_provider_rs256_on_sqlite_in_chromium() {
    signs_in_and_out_in_chromium(Backend::Sqlite, "RS256").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_signs_in_and_out_with_oidc_provider_rs256_on_postgres_in_chromium() {
    signs_in_and_out_in_chromium(Backend::Postgres, "RS256").await;
}

/// ES256: ProConnect's own default when nothing is registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_signs_in_and_out_with_oidc_provider_es256_on_sqlite_in_chromium() {
    signs_in_and_out_in_chromium(Backend::Sqlite, "ES256").await;
}
