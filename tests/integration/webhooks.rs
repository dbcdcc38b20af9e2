//! Webhooks through the real app: a receiver on loopback verifies each
//! delivery's signature, sees retries after 500s and no duplicate after a
//! success; an endpoint failing too long is disabled, its owner told in
//! `me`, and stops receiving; agents-only changes never reach a webhook of
//! someone who is not a public agent; refused registrations say why with a
//! code and store nothing.

use crate::common;
use crate::public_agents::private_person;
use crate::signin::{PORTAL, configure_provider, minted_token, sign_in};

use common::issuer::{SigningKey, TestIssuer};
use common::provider::{Signing, TestProvider};
use common::receiver::{Received, WebhookReceiver};
use common::{Backend, TestApp};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const ADMIN: &str = "admin@numerique.gouv.fr";
const AGENT: &str = "agent@culture.gouv.fr";
const SECRET: &str = "a secret of at least sixteen bytes";

const CREATE: &str = "mutation($url: String!, $secret: String!, $projects: [String!]) {
    createWebhook(input: {url: $url, secret: $secret, filter: {projects: $projects}}) { webhook { id url } } }";

struct Setup {
    app: TestApp,
    issuer: TestIssuer,
    key: SigningKey,
}

impl Setup {
    /// The gateway trusting a test issuer, delivering webhooks to loopback
    /// (`allow_local`), polling often, retrying at once.
    async fn new(backend: Backend, configure: impl FnOnce(&mut catalogue_gateway::Config)) -> Self {
        let key = SigningKey::ec("ec-1");
        let issuer = TestIssuer::start(&[&key]).await;
        let app =
            common::issuer::gateway_trusting_configured(backend, &issuer, &[ADMIN], |config| {
                config.webhooks.deliver_webhooks = true;
                config.webhooks.webhook_allow_local_http = true;
                config.webhooks.webhook_poll_ms = 50;
                config.webhooks.webhook_retry_base_seconds = 0;
                configure(config);
            })
            .await;
        Self { app, issuer, key }
    }

    fn token(&self, email: &str) -> String {
        self.key.sign(&self.issuer.claims(email))
    }

    async fn send(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, _, answer) = self.app.query_as(token, query, variables).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let answer = self.send(token, query, variables).await;
        assert!(answer.get("errors").is_none(), "{query}: {answer:#}");
        answer["data"].clone()
    }

    /// Registers a webhook to `url` for `token`'s holder; its id.
    async fn register(&self, token: &str, url: &str, projects: Option<&[&str]>) -> String {
        let data = self
            .ok(
                token,
                CREATE,
                json!({"url": url, "secret": SECRET, "projects": projects}),
            )
            .await;
        data["createWebhook"]["webhook"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Updates `slug`'s summary (or visibility) as an administrator.
    async fn update(&self, slug: &str, input: Value) {
        let admin = self.token(ADMIN);
        let version = self
            .ok(
                &admin,
                "query($s: String!) { project(slug: $s) { version } }",
                json!({"s": slug}),
            )
            .await["project"]["version"]
            .as_i64()
            .unwrap();
        self.ok(
            &admin,
            "mutation($s: String!, $v: Int!, $i: UpdateProjectInput!) { updateProject(slug: $s, input: $i, expectedVersion: $v) { project { version } } }",
            json!({"s": slug, "v": version, "i": input}),
        )
        .await;
    }

    /// The global id of project `slug`.
    async fn project_id(&self, slug: &str) -> Value {
        self.ok(
            &self.token(ADMIN),
            "query($s: String!) { project(slug: $s) { id } }",
            json!({"s": slug}),
        )
        .await["project"]["id"]
            .clone()
    }

    async fn stored_webhooks(&self) -> (i64, i64) {
        let db = self.app.database.connect().await;
        let count = |table: &str| {
            let statement = Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            );
            let db = &db;
            async move {
                db.query_one_raw(statement)
                    .await
                    .unwrap()
                    .unwrap()
                    .try_get::<i64>("", "n")
                    .unwrap()
            }
        };
        (count("webhook").await, count("webhook_delivery").await)
    }
}

/// The change a delivery carries: its project's id and the fields changed.
fn change_of(received: &Received) -> (Value, Value) {
    let body = received.json();
    (
        body["change"]["nodeId"].clone(),
        body["change"]["fields"].clone(),
    )
}

async fn a_receiver_verifies_signed_deliveries_retried_after_500s_without_duplicates(
    backend: Backend,
) {
    let setup = Setup::new(backend, |_| {}).await;
    let receiver = WebhookReceiver::start().await;
    receiver.fail_next(2);
    let agent = setup.token(AGENT);
    let webhook = setup.register(&agent, &receiver.url, None).await;

    setup
        .update("poufdoc", json!({"summary": "Rapports récurrents."}))
        .await;
    let [first] = &receiver.wait_for_accepted(1).await[..] else {
        panic!("one delivery accepted");
    };
    let attempts = receiver.received();
    assert_eq!(attempts.len(), 3, "two 500s, then a success: {attempts:#?}");
    assert!(
        attempts.iter().all(|a| a.delivery_id == first.delivery_id),
        "retries carry the delivery's id: {attempts:#?}"
    );
    for attempt in &attempts {
        assert!(attempt.signed_with(SECRET), "{attempt:#?}");
        assert!(!attempt.signed_with("another secret of sixteen bytes"));
        let sent: i64 = attempt.timestamp.parse().unwrap();
        assert!(
            (chrono::Utc::now().timestamp() - sent).abs() < 300,
            "{attempt:#?}"
        );
        assert!(!attempt.body.contains(SECRET));
    }
    let body = first.json();
    assert_eq!(body["webhookId"], json!(webhook));
    assert_eq!(body["deliveryId"], json!(first.delivery_id));
    assert_eq!(body["change"]["kind"], "PROJECT_UPDATED");
    assert!(
        body["change"]["cursor"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    assert_eq!(
        change_of(first),
        (setup.project_id("poufdoc").await, json!(["SUMMARY"]))
    );
    // A body changed in transit no longer matches its signature.
    let mut tampered = first.clone();
    tampered.body = tampered.body.replace("SUMMARY", "STATUS");
    assert!(!tampered.signed_with(SECRET));

    // The next change comes once; the first is never sent again.
    setup
        .update("poufdoc", json!({"summary": "Rapports automatiques."}))
        .await;
    let accepted = receiver.wait_for_accepted(2).await;
    assert_ne!(accepted[1].delivery_id, first.delivery_id);
    setup
        .update("cartiflette", json!({"summary": "Des cartes."}))
        .await;
    let accepted = receiver.wait_for_accepted(3).await;
    let attempts = receiver.received();
    assert_eq!(attempts.len(), 5, "{attempts:#?}");
    assert_eq!(
        accepted
            .iter()
            .map(change_of)
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        [
            setup.project_id("poufdoc").await,
            setup.project_id("poufdoc").await,
            setup.project_id("cartiflette").await
        ],
        "in the order of the changes"
    );

    // The owner reads the log, newest first; the secret is never readable.
    let log = setup
        .ok(
            &agent,
            "query($id: ID!) { webhookDeliveries(webhookId: $id, first: 10) { totalCount edges { node {
                deliveryId status attempts responseStatus error nextAttemptAt } } } }",
            json!({"id": webhook}),
        )
        .await;
    let deliveries = &log["webhookDeliveries"];
    assert_eq!(deliveries["totalCount"], 3, "{log}");
    let oldest = &deliveries["edges"][2]["node"];
    assert_eq!(
        oldest,
        &json!({"deliveryId": first.delivery_id, "status": "DELIVERED", "attempts": 3,
                "responseStatus": 204, "error": null, "nextAttemptAt": null})
    );
    let asked = setup
        .send(&agent, "{ webhooks { url secret } }", json!({}))
        .await;
    assert_eq!(
        asked["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{asked}"
    );
    // Someone else's webhook is not theirs to read.
    let other = setup
        .send(
            &setup.token("someone@culture.gouv.fr"),
            "query($id: ID!) { webhookDeliveries(webhookId: $id) { totalCount } }",
            json!({"id": webhook}),
        )
        .await;
    assert_eq!(
        other["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{other}"
    );
}

async fn a_webhook_failing_too_long_is_disabled_its_owner_told_and_it_stops_receiving(
    backend: Backend,
) {
    let setup = Setup::new(backend, |config| {
        config.webhooks.webhook_disable_after_seconds = 1;
    })
    .await;
    let failing = WebhookReceiver::start().await;
    failing.fail_always(true);
    let healthy = WebhookReceiver::start().await;
    let agent = setup.token(AGENT);
    let broken = setup.register(&agent, &failing.url, None).await;
    setup.register(&agent, &healthy.url, None).await;

    setup
        .update("poufdoc", json!({"summary": "Rapports récurrents."}))
        .await;
    healthy.wait_for_accepted(1).await;
    let me = "{ me { webhooksDisabled { id url disabledAt reason } } }";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let disabled = loop {
        let data = setup.ok(&agent, me, json!({})).await;
        let disabled = data["me"]["webhooksDisabled"].clone();
        if disabled.as_array().is_some_and(|list| !list.is_empty()) {
            break disabled;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never disabled: {data}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(disabled[0]["id"], json!(broken));
    assert_eq!(disabled[0]["url"], json!(failing.url));
    let reason = disabled[0]["reason"].as_str().unwrap();
    assert!(reason.contains("answered 500"), "{reason}");
    let attempts = failing.received().len();
    assert!(attempts >= 2, "retried before giving up: {attempts}");

    // Its receiver heals, but the webhook stays off: later changes reach
    // the healthy one only (each pass serves every webhook, so two passes
    // after the change the disabled one would have had its turn).
    failing.fail_always(false);
    setup
        .update("poufdoc", json!({"summary": "Rapports automatiques."}))
        .await;
    healthy.wait_for_accepted(2).await;
    setup
        .update("cartiflette", json!({"summary": "Des cartes."}))
        .await;
    healthy.wait_for_accepted(3).await;
    assert_eq!(
        failing.received().len(),
        attempts,
        "{:#?}",
        failing.received()
    );
    let log = setup
        .ok(
            &agent,
            "query($id: ID!) { webhookDeliveries(webhookId: $id) { edges { node { status responseStatus } } } }",
            json!({"id": broken}),
        )
        .await;
    assert_eq!(
        log["webhookDeliveries"]["edges"],
        json!([{"node": {"status": "FAILED", "responseStatus": 500}}])
    );
}

async fn agents_only_changes_are_not_delivered_to_webhooks_of_non_agents(backend: Backend) {
    // Someone from a private company signs in with ProConnect: signed in,
    // not a public agent.
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    provider.behave(private_person());
    let setup = Setup::new(backend, |config| configure_provider(config, &provider)).await;
    let (_, steps) = sign_in(&setup.app, &provider, &format!("redirect={PORTAL}/")).await;
    let outsider = minted_token(&steps);
    let for_agent = WebhookReceiver::start().await;
    let for_outsider = WebhookReceiver::start().await;
    setup
        .register(&setup.token(AGENT), &for_agent.url, None)
        .await;
    // A filter: PoufDoc's changes only.
    let for_poufdoc = WebhookReceiver::start().await;
    setup
        .register(&setup.token(AGENT), &for_poufdoc.url, Some(&["poufdoc"]))
        .await;
    let me = setup
        .ok(&outsider, "{ me { publicAgent } }", json!({}))
        .await;
    assert_eq!(me["me"]["publicAgent"], false, "{me}");
    setup.register(&outsider, &for_outsider.url, None).await;

    // Cartiflette becomes agents-only (a change both may read: it leaves
    // the public's view), then changes while agents-only, then PoufDoc.
    setup
        .update("cartiflette", json!({"visibility": "AGENTS"}))
        .await;
    setup
        .update("cartiflette", json!({"summary": "Réservé aux agents."}))
        .await;
    setup
        .update("poufdoc", json!({"summary": "Rapports récurrents."}))
        .await;
    let cartiflette = setup.project_id("cartiflette").await;
    let poufdoc = setup.project_id("poufdoc").await;
    let poufdoc_id = poufdoc.clone();

    let agent_saw: Vec<_> = for_agent
        .wait_for_accepted(3)
        .await
        .iter()
        .map(change_of)
        .collect();
    assert_eq!(
        agent_saw,
        [
            (cartiflette.clone(), json!(["VISIBILITY"])),
            (cartiflette.clone(), json!(["SUMMARY"])),
            (poufdoc.clone(), json!(["SUMMARY"])),
        ]
    );
    // Deliveries keep the journal's order: once PoufDoc's change is in,
    // an agents-only change before it would have come first.
    let outsider_saw: Vec<_> = for_outsider
        .wait_for_accepted(2)
        .await
        .iter()
        .map(change_of)
        .collect();
    assert_eq!(
        outsider_saw,
        [
            (cartiflette, json!(["VISIBILITY"])),
            (poufdoc, json!(["SUMMARY"])),
        ]
    );
    assert_eq!(for_outsider.received().len(), 2);
    let filtered: Vec<_> = for_poufdoc
        .wait_for_accepted(1)
        .await
        .iter()
        .map(change_of)
        .collect();
    assert_eq!(filtered, [(poufdoc_id, json!(["SUMMARY"]))]);
    assert_eq!(for_poufdoc.received().len(), 1);
}

async fn refused_registrations_say_why_and_store_nothing(backend: Backend) {
    let setup = Setup::new(backend, |config| {
        config.webhooks.webhook_allow_local_http = false;
        config.webhooks.webhooks_per_owner = 1;
    })
    .await;
    let agent = setup.token(AGENT);
    let before = setup.stored_webhooks().await;
    let refused = |token: String, url: &str, secret: &str, projects: Option<Vec<&str>>| {
        let variables = json!({"url": url, "secret": secret, "projects": projects});
        let setup = &setup;
        async move {
            let answer = setup.send(&token, CREATE, variables).await;
            assert_eq!(answer["data"], Value::Null, "{answer}");
            answer["errors"][0]["extensions"].clone()
        }
    };
    for (url, reason) in [
        ("http://hooks.example.org/catalogue", "not_https"),
        ("https://127.0.0.1:8443/hook", "not_public_address"),
        ("https://[::1]/hook", "not_public_address"),
        ("https://169.254.169.254/latest", "not_public_address"),
        ("https://10.1.2.3/hook", "not_public_address"),
        ("https://localhost/hook", "not_public_address"),
        ("not a url", "invalid_url"),
    ] {
        let extensions = refused(agent.clone(), url, SECRET, None).await;
        assert_eq!(extensions["code"], "BAD_USER_INPUT", "{url}: {extensions}");
        assert_eq!(extensions["field"], "input.url", "{url}");
        assert_eq!(extensions["reason"], reason, "{url}: {extensions}");
    }
    let extensions = refused(agent.clone(), "https://1.1.1.1/hook", "short", None).await;
    assert_eq!(
        (&extensions["code"], &extensions["field"]),
        (&json!("BAD_USER_INPUT"), &json!("input.secret"))
    );
    let too_many: Vec<String> = (0..101).map(|i| format!("project-{i}")).collect();
    let extensions = refused(
        agent.clone(),
        "https://1.1.1.1/hook",
        SECRET,
        Some(too_many.iter().map(String::as_str).collect()),
    )
    .await;
    assert_eq!(
        (&extensions["code"], &extensions["field"]),
        (&json!("BAD_USER_INPUT"), &json!("input.filter"))
    );
    let unknown_kind = setup
        .send(
            &agent,
            &format!("mutation {{ createWebhook(input: {{url: \"https://1.1.1.1/hook\", secret: \"{SECRET}\", filter: {{kinds: [NOT_A_KIND]}}}}) {{ webhook {{ id }} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        unknown_kind["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{unknown_kind}"
    );
    let anonymous = setup
        .app
        .query(
            CREATE,
            json!({"url": "https://1.1.1.1/hook", "secret": SECRET}),
        )
        .await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert_eq!(setup.stored_webhooks().await, before, "nothing stored");

    // One webhook per owner here: the second is refused.
    setup
        .register(&agent, "https://1.1.1.1/hook", Some(&["poufdoc"]))
        .await;
    let registered = setup.stored_webhooks().await;
    let extensions = refused(agent.clone(), "https://1.1.1.2/hook", SECRET, None).await;
    assert_eq!(extensions["code"], "LIMIT_EXCEEDED", "{extensions}");
    assert_eq!(extensions["limit"], 1);
    assert_eq!(setup.stored_webhooks().await, registered);
    // Another principal has a bound of their own.
    setup
        .register(&setup.token(ADMIN), "https://1.1.1.2/hook", None)
        .await;
}

/// A replica that took the delivery lease and died (it never renews it):
/// once the lease expires, another replica takes over and delivers.
async fn deliveries_continue_on_another_replica_when_the_holder_dies(backend: Backend) {
    let setup = Setup::new(backend, |config| {
        config.webhooks.webhook_lease_seconds = 3;
        config.webhooks.webhook_timeout_seconds = 1;
    })
    .await;
    let db = setup.app.database.connect().await;
    let dead_until = chrono::Utc::now() + chrono::Duration::seconds(2);
    // Taken over the app's own lease, as a replica that died would leave it.
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "INSERT INTO harvest_lease (name, holder, expires_at) VALUES ('webhooks', 'replica-that-died', $1) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
            }
            _ => {
                "INSERT INTO harvest_lease (name, holder, expires_at) VALUES ('webhooks', 'replica-that-died', ?) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
            }
        },
        [dead_until.into()],
    );
    db.execute_raw(statement).await.unwrap();
    let receiver = WebhookReceiver::start().await;
    setup
        .register(&setup.token(AGENT), &receiver.url, None)
        .await;
    setup
        .update("poufdoc", json!({"summary": "Rapports récurrents."}))
        .await;
    let [delivered] = &receiver.wait_for_accepted(1).await[..] else {
        panic!("one delivery");
    };
    assert!(delivered.signed_with(SECRET));
    // Nothing was sent while the dead replica's lease held.
    let sent: i64 = delivered.timestamp.parse().unwrap();
    assert!(
        sent >= dead_until.timestamp(),
        "sent at {sent}, lease until {dead_until}"
    );
    let holder = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT holder FROM harvest_lease WHERE name = 'webhooks'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "holder")
        .unwrap();
    assert_ne!(holder, "replica-that-died");
}

on_both_backends!(
    deliveries_continue_on_another_replica_when_the_holder_dies,
    a_receiver_verifies_signed_deliveries_retried_after_500s_without_duplicates,
    a_webhook_failing_too_long_is_disabled_its_owner_told_and_it_stops_receiving,
    agents_only_changes_are_not_delivered_to_webhooks_of_non_agents,
    refused_registrations_say_why_and_store_nothing,
);
