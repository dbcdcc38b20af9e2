//! Who calls from elsewhere, and how the gateway tells them apart: browsers
//! on other origins (CORS: listed origins read with credentials, `*` any
//! other without), configured clients (routers and tools with a rate limit
//! of their own, recognised by key, address or token), and the RateLimit
//! fields of every answer. Then the real clients: Apollo Client in
//! Chromium on another origin, and `@apollo/gateway` in front of the
//! gateway (tests/callers/*.cjs, with the npm packages `make test`
//! installs from tests/node/package-lock.json).

use crate::common;

use catalogue_gateway::Config;
use catalogue_gateway::auth::DevKey;
use common::http_answer::Answer;
use common::{Backend, TestApp, TestDatabase, catalogue_dir};
use serde_json::{Value, json};

const PORTAL: &str = "https://portail.example.gouv.fr";
const ELSEWHERE: &str = "https://ailleurs.example.com";
const ME: &str = "{ me { email } }";
const COUNT: &str = "query Count { projects(first: 2) { totalCount } }";
const CLIENT_KEY: &str = "k9V2mQ7xR4tL8wZ1pN6sB3cF5hJ0dG2a";
/// What Apollo Client and other real clients send beside today's headers.
const CLIENT_HEADERS: [&str; 6] = [
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "if-none-match",
    "x-request-id",
];

async fn gateway(configure: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_configured(
        TestDatabase::create(Backend::Sqlite).await,
        Some(catalogue_dir()),
        configure,
    )
    .await
}

/// A gateway trusting dev tokens signed with the returned key.
async fn gateway_with_dev_tokens(
    dir: &tempfile::TempDir,
    configure: impl FnOnce(&mut Config),
) -> (TestApp, DevKey) {
    let key_file = dir.path().join("dev.pem");
    let key = DevKey::load_or_create(&key_file).unwrap();
    let app = gateway(|config| {
        config.auth.dev_auth = true;
        config.auth.dev_key_file = key_file;
        configure(config);
    })
    .await;
    (app, key)
}

fn clients(clients: Value) -> Vec<catalogue_gateway::config::ClientConfig> {
    serde_json::from_value(clients).expect("clients")
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    let mut requested = vec!["content-type", "authorization"];
    requested.extend(CLIENT_HEADERS);
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", requested.join(","))
        .send()
        .await
        .unwrap()
}

/// `POST /graphql` with `query` and these headers.
async fn post_with(app: &TestApp, query: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = reqwest::Client::new()
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn listed(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}

/// A listed origin's preflight allows what real clients send and may be
/// kept two hours; its answers allow credentials, so the cookie of the
/// sign-in's cookie mode works from there, and expose the headers clients
/// read. Another origin is refused, and what it asked for is not done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_origin_reads_with_credentials_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (app, key) = gateway_with_dev_tokens(&dir, |config| {
        config.http.cors_origins = vec![format!("{PORTAL}/")];
    })
    .await;
    let answer = preflight(&app, PORTAL).await;
    assert_eq!(answer.status(), 204);
    assert_eq!(header(&answer, "access-control-allow-origin"), Some(PORTAL));
    assert_eq!(
        header(&answer, "access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(header(&answer, "access-control-max-age"), Some("7200"));
    assert!(listed(header(&answer, "access-control-allow-methods")).contains(&"post".to_owned()));
    let allowed = listed(header(&answer, "access-control-allow-headers"));
    for name in CLIENT_HEADERS
        .iter()
        .chain(&["content-type", "authorization"])
    {
        assert!(allowed.contains(&(*name).to_owned()), "{name}: {allowed:?}");
    }

    let token = key.mint("camille@insee.fr", false, 10).unwrap();
    let cookie = format!("catalogue_token={token}");
    let read = post_with(&app, ME, &[("origin", PORTAL), ("cookie", &cookie)]).await;
    assert_eq!(read.body["data"]["me"]["email"], "camille@insee.fr");
    assert_eq!(read.header("access-control-allow-origin"), Some(PORTAL));
    assert_eq!(
        read.header("access-control-allow-credentials"),
        Some("true")
    );
    let exposed = listed(read.header("access-control-expose-headers"));
    for name in [
        "etag",
        "retry-after",
        "ratelimit",
        "ratelimit-policy",
        "x-cache",
        "x-request-id",
    ] {
        assert!(exposed.contains(&name.to_owned()), "{name}: {exposed:?}");
    }
    // Answers name the origin they were given to.
    assert!(listed(read.header("vary")).contains(&"origin".to_owned()));

    let refused = preflight(&app, ELSEWHERE).await;
    assert_eq!(refused.status(), 403);
    assert!(header(&refused, "access-control-allow-origin").is_none());
    let admin = key.mint("admin@numerique.gouv.fr", true, 10).unwrap();
    let admin_cookie = format!("catalogue_token={admin}");
    let before = common::snapshot(&app.database.connect().await).await;
    let write = "mutation { setMaintainers(slug: \"poufdoc\", emails: [\"intrus@example.com\"]) { maintainers } }";
    let refused = post_with(
        &app,
        write,
        &[("origin", ELSEWHERE), ("cookie", &admin_cookie)],
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "FORBIDDEN", "{}", refused.body);
    assert_eq!(
        refused.body["errors"][0]["extensions"]["reason"],
        "origin_not_allowed"
    );
    assert!(refused.header("access-control-allow-origin").is_none());
    assert_eq!(
        common::snapshot(&app.database.connect().await).await,
        before
    );

    // The gateway's own pages (portal, GraphiQL) are not another origin.
    let own = post_with(&app, ME, &[("origin", &app.base_url), ("cookie", &cookie)]).await;
    assert_eq!(own.body["data"]["me"]["email"], "camille@insee.fr");
}

/// With `*`, every answer, whoever asks, says a literal `*` and never
/// allows credentials: one answer for every origin, which shared caches
/// keep once (no `Vary: Origin`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_origin_reads_without_credentials_under_a_literal_star() {
    let app = gateway(|_| {}).await;
    let answer = preflight(&app, ELSEWHERE).await;
    assert_eq!(answer.status(), 204);
    assert_eq!(header(&answer, "access-control-allow-origin"), Some("*"));
    assert!(header(&answer, "access-control-allow-credentials").is_none());
    let allowed = listed(header(&answer, "access-control-allow-headers"));
    for name in CLIENT_HEADERS {
        assert!(allowed.contains(&name.to_owned()), "{name}: {allowed:?}");
    }
    for origin in [Some(ELSEWHERE), Some(PORTAL), None] {
        let headers: Vec<(&str, &str)> = origin.iter().map(|o| ("origin", *o)).collect();
        let read = post_with(&app, COUNT, &headers).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.header("access-control-allow-origin"), Some("*"));
        assert!(read.header("access-control-allow-credentials").is_none());
        assert_eq!(read.header("vary"), Some("Accept, Authorization, Cookie"));
    }
}

/// The `RateLimit` field: the policy's name, the tokens left and the
/// seconds until the next one (none when the bucket is full).
fn remaining(answer: &Answer) -> (String, u64, Option<u64>) {
    let field = answer.header("ratelimit").expect("a RateLimit field");
    let mut parts = field.split(';');
    let name = parts.next().unwrap().trim_matches('"').to_owned();
    let mut left = None;
    let mut next = None;
    for part in parts {
        match part.split_once('=') {
            Some(("r", value)) => left = value.parse().ok(),
            Some(("t", value)) => next = value.parse().ok(),
            _ => panic!("unexpected parameter in {field}"),
        }
    }
    (name, left.expect("r"), next)
}

/// Every answer carries the caller's bucket in the IETF draft's fields:
/// its size over the seconds it takes to refill, the whole tokens left and
/// when the next one comes; a 429 too, beside `Retry-After`. So does a
/// refused token. Without a limit there is nothing to say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_callers_ratelimit_fields() {
    let app = gateway(|config| {
        config.limits.rate_limit_per_minute = 6;
        config.limits.rate_limit_burst = 3;
    })
    .await;
    let within_a_token = |next: Option<u64>| next.is_some_and(|t| (1..=10).contains(&t));
    let first = post_with(&app, COUNT, &[]).await;
    assert_eq!(
        first.header("ratelimit-policy"),
        Some("\"default\";q=3;w=30")
    );
    let (name, left, next) = remaining(&first);
    assert_eq!((name.as_str(), left), ("default", 2));
    assert!(within_a_token(next), "{next:?}");
    let refused_token = post_with(&app, COUNT, &[("authorization", "Bearer not.a.token")]).await;
    assert_eq!(refused_token.status, 401);
    assert_eq!(remaining(&refused_token).1, 1);
    assert_eq!(remaining(&post_with(&app, COUNT, &[]).await).1, 0);
    let limited = post_with(&app, COUNT, &[]).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.code(), "RATE_LIMITED");
    let (_, left, next) = remaining(&limited);
    assert_eq!(left, 0);
    assert!(within_a_token(next), "{next:?}");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(
        retry_after >= next.unwrap(),
        "Retry-After is not before the next token"
    );
    assert_eq!(
        limited.body["errors"][0]["extensions"]["retryAfter"], retry_after,
        "{}",
        limited.body
    );

    let unlimited = gateway(|config| config.limits.rate_limit_per_minute = 0).await;
    let answer = post_with(&unlimited, COUNT, &[]).await;
    assert!(answer.header("ratelimit").is_none() && answer.header("ratelimit-policy").is_none());
}

/// A router presenting its key draws from a bucket of its own, with its
/// own limits, whatever its users' tokens; over them it gets what it was
/// configured to (here a 200 with `RATE_LIMITED`, which a router passes
/// on). A client name alone recognises nobody; a key no client holds is
/// refused like a bad token, and what it asked for is not done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_presenting_its_key_has_limits_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let (app, key) = gateway_with_dev_tokens(&dir, |config| {
        config.limits.rate_limit_per_minute = 1;
        config.limits.rate_limit_burst = 3;
        config.limits.clients = clients(json!([{
            "id": "routeur-federation", "key": CLIENT_KEY,
            "rate_limit_per_minute": 1, "rate_limit_burst": 5, "rate_limited_status": 200
        }]));
    })
    .await;
    let by_key = [("catalogue-client-key", CLIENT_KEY)];
    let named = [("apollographql-client-name", "routeur-federation")];
    // A wrong key costs the address a token, like a refused token.
    let admin = key.mint("admin@numerique.gouv.fr", true, 10).unwrap();
    let before = common::snapshot(&app.database.connect().await).await;
    let write = "mutation { setMaintainers(slug: \"poufdoc\", emails: [\"intrus@example.com\"]) { maintainers } }";
    let wrong_key = post_with(
        &app,
        write,
        &[
            ("catalogue-client-key", "not-the-key-of-anybody-at-all-000"),
            ("authorization", &format!("Bearer {admin}")),
        ],
    )
    .await;
    assert_eq!(wrong_key.status, 401);
    assert_eq!(wrong_key.code(), "UNAUTHENTICATED");
    assert_eq!(
        wrong_key.body["errors"][0]["extensions"]["reason"],
        "unknown_client_key"
    );
    assert_eq!(
        common::snapshot(&app.database.connect().await).await,
        before
    );
    for _ in 0..2 {
        assert_eq!(post_with(&app, COUNT, &named).await.status, 200);
    }
    let named_only = post_with(&app, COUNT, &named).await;
    assert_eq!(named_only.status, 429, "a name is not a key");

    let agent = key.mint("camille@insee.fr", false, 10).unwrap();
    let bearer = format!("Bearer {agent}");
    for left in (0..5).rev() {
        let headers = if left % 2 == 0 {
            vec![by_key[0]]
        } else {
            vec![by_key[0], ("authorization", bearer.as_str())]
        };
        let answer = post_with(&app, COUNT, &headers).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(answer.body.get("errors").is_none(), "{}", answer.body);
        assert_eq!(
            answer.header("ratelimit-policy"),
            Some("\"routeur-federation\";q=5;w=300")
        );
        assert_eq!(remaining(&answer).0, "routeur-federation");
        assert_eq!(remaining(&answer).1, left);
    }
    let over = post_with(&app, COUNT, &by_key).await;
    assert_eq!(over.status, 200, "configured to answer 200");
    assert_eq!(over.code(), "RATE_LIMITED", "{}", over.body);
    assert!(over.body.get("data").is_none(), "{}", over.body);
    assert!(over.header("retry-after").is_some());
}

/// A client is also recognised by the address it calls from (behind the
/// trusted proxy: the address the proxy saw), or by the client id a trusted
/// issuer signed into its tokens (`client_id`, else `azp`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_is_recognised_by_its_address_or_its_tokens() {
    let signing = common::issuer::SigningKey::ec("outils");
    let issuer = common::issuer::TestIssuer::start(&[&signing]).await;
    let app =
        common::issuer::gateway_trusting_configured(Backend::Sqlite, &issuer, &[], |config| {
            config.http.trust_forwarded_for = true;
            config.limits.clients = clients(json!([
                { "id": "intranet", "addresses": ["198.51.100.0/24", "2001:db8::/32"],
                  "rate_limit_per_minute": 60, "rate_limit_burst": 50 },
                { "id": "outil", "token_client_id": "outil-dinum",
                  "rate_limit_per_minute": 60, "rate_limit_burst": 40 }
            ]));
        })
        .await;
    let policy_of = |answer: &Answer| {
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.header("ratelimit-policy").unwrap().to_owned()
    };
    for (address, expected) in [
        ("198.51.100.7", "\"intranet\";q=50;w=50"),
        ("2001:db8:4::1", "\"intranet\";q=50;w=50"),
        ("203.0.113.9", "\"default\";q=100;w=10"),
    ] {
        let forwarded = format!("192.0.2.1, {address}");
        let answer = post_with(&app, COUNT, &[("x-forwarded-for", &forwarded)]).await;
        assert_eq!(policy_of(&answer), expected, "{address}");
    }

    let token_for = |claims: Value| {
        let mut all = issuer.claims("outil@dinum.gouv.fr");
        all.as_object_mut()
            .unwrap()
            .extend(claims.as_object().unwrap().clone());
        format!("Bearer {}", signing.sign(&all))
    };
    for (claims, expected) in [
        (json!({ "azp": "outil-dinum" }), "\"outil\";q=40;w=40"),
        (
            json!({ "client_id": "outil-dinum", "azp": "portail" }),
            "\"outil\";q=40;w=40",
        ),
        (json!({ "azp": "portail" }), "\"default\";q=100;w=10"),
    ] {
        let bearer = token_for(claims.clone());
        let answer = post_with(&app, ME, &[("authorization", &bearer)]).await;
        assert_eq!(answer.body["data"]["me"]["email"], "outil@dinum.gouv.fr");
        assert_eq!(policy_of(&answer), expected, "{claims}");
    }
}

/// Runs the Node.js script `tests/callers/<script>` with `args`; its
/// output when it succeeds.
fn node(script: &str, args: &[&str]) -> String {
    common::run_node(
        &format!("callers/{script}"),
        args,
        &[
            "@apollo/client",
            "@apollo/gateway",
            "esbuild",
            "playwright-core",
        ],
    )
}

/// A portal of another origin, on another loopback port: a blank page and
/// Apollo Client, bundled from the pinned node_modules. Its origin.
async fn serve_portal(bundle: Vec<u8>) -> String {
    use poem::listener::{Acceptor, Listener as _, TcpListener};
    use poem::{EndpointExt, Response, Route, Server, get, handler, web::Data};

    #[handler]
    fn page() -> Response {
        Response::builder()
            .content_type("text/html; charset=utf-8")
            .body("<!doctype html><html lang=\"fr\"><title>Portail</title></html>")
    }
    #[handler]
    fn script(bundle: Data<&std::sync::Arc<Vec<u8>>>) -> Response {
        Response::builder()
            .content_type("text/javascript; charset=utf-8")
            .body(bundle.as_ref().clone())
    }
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("bind the portal");
    let address = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .expect("a socket address");
    let routes = Route::new()
        .at("/", get(page))
        .at("/apollo-client.js", get(script))
        .data(std::sync::Arc::new(bundle));
    tokio::spawn(async move { Server::new_with_acceptor(acceptor).run(routes).await });
    format!("http://{address}")
}

/// Apollo Client with client awareness, in Chromium, on a page of another
/// origin: with the agent's token in `Authorization` it reads as the agent
/// from a listed origin and under `*`; with the sign-in's cookie
/// (`credentials: 'include'`) from the listed origin only, never under
/// `*`. Its script reads the RateLimit fields and the request id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_client_on_another_origin_reads_as_the_agent_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("apollo-client.js");
    node("bundle-apollo-client.cjs", &[bundle.to_str().unwrap()]);
    let portal = serve_portal(std::fs::read(&bundle).unwrap()).await;
    let (listed, key) = gateway_with_dev_tokens(&dir, |config| {
        config.http.cors_origins = vec![portal.clone()];
    })
    .await;
    let (open, _) = gateway_with_dev_tokens(&dir, |_| {}).await;
    let token = key.mint("camille@insee.fr", false, 10).unwrap();
    let said: Value = serde_json::from_str(&node(
        "cross-origin.cjs",
        &[&portal, &listed.base_url, &open.base_url, &token],
    ))
    .unwrap();
    for attempt in ["listedWithToken", "openWithToken", "listedWithCookie"] {
        assert_eq!(
            said[attempt]["email"], "camille@insee.fr",
            "{attempt}: {said}"
        );
    }
    assert!(
        said["openWithCookie"]["error"].is_string(),
        "credentials are never allowed with `*`: {said}"
    );
    for field in ["ratelimit", "ratelimitPolicy", "requestId"] {
        assert!(said["readable"][field].is_string(), "{field}: {said}");
    }
    assert!(
        said["sentWithClientAwareness"].as_u64().unwrap() >= 3,
        "{said}"
    );
    assert_eq!(said["blocked"], json!([]), "nothing from another host");
}

/// `@apollo/gateway` in front, configured as a client (its key): a burst
/// of 150 user queries, all at once, gets no error under the default
/// limits. Then, the API's burst left at 100 but refilled once a minute (so
/// that the count does not depend on the machine's speed): a router
/// configured with a 100-token bucket and `rate_limited_status = 200`
/// passes `RATE_LIMITED` on to its users as it is; an unconfigured one
/// shares its address's bucket and, answered 429, turns the refusals into
/// `INTERNAL_SERVER_ERROR` (its `RemoteGraphQLDataSource` makes any non-2xx
/// answer an error of its own, keeping ours under `extensions.response`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_gateway_in_front_gets_the_limits_of_a_configured_client() {
    const BURST: &str = "150";
    let summary = |said: String| -> Value { serde_json::from_str(&said).unwrap() };
    let ours = gateway(|config| {
        config.limits.clients = clients(json!([{
            "id": "routeur-federation", "key": CLIENT_KEY,
            "rate_limit_per_minute": 6000, "rate_limit_burst": 1000
        }]));
    })
    .await;
    let subgraph = ours.url("/graphql");
    let configured = summary(node("router.cjs", &[&subgraph, BURST, CLIENT_KEY]));
    assert_eq!(configured["ok"], 150, "{configured}");
    assert_eq!(configured["errors"], json!({}), "{configured}");

    let frugal_key = "Zr8Qw3Lp6Xn1Vb4Tc7Ym2Hs5Jd9Kf0Ga";
    let strict = gateway(|config| {
        config.limits.rate_limit_per_minute = 1;
        config.limits.clients = clients(json!([{
            "id": "routeur-econome", "key": frugal_key,
            "rate_limit_per_minute": 1, "rate_limit_burst": 100, "rate_limited_status": 200
        }]));
    })
    .await;
    let subgraph = strict.url("/graphql");
    let over_its_own = summary(node("router.cjs", &[&subgraph, BURST, frugal_key]));
    let limited = over_its_own["errors"]["RATE_LIMITED"].as_u64().unwrap_or(0);
    assert!(limited >= 40, "{over_its_own}");
    assert_eq!(
        over_its_own["errors"].as_object().unwrap().len(),
        1,
        "{over_its_own}"
    );
    assert_eq!(over_its_own["ok"].as_u64().unwrap() + limited, 150);
    let passed_on = &over_its_own["sample"]["RATE_LIMITED"];
    assert_eq!(passed_on["extensions"]["serviceName"], "catalogue");
    assert!(passed_on["extensions"]["retryAfter"].as_u64().unwrap() >= 1);

    let unconfigured = summary(node("router.cjs", &[&subgraph, BURST]));
    let turned = unconfigured["errors"]["INTERNAL_SERVER_ERROR"]
        .as_u64()
        .unwrap_or(0);
    assert!(turned >= 40, "{unconfigured}");
    let response = &unconfigured["sample"]["INTERNAL_SERVER_ERROR"]["extensions"]["response"];
    assert_eq!(response["status"], 429, "{unconfigured}");
    assert_eq!(
        response["body"]["errors"][0]["extensions"]["code"],
        "RATE_LIMITED"
    );
}
