//! The configuration's tests: precedence, refusals, and the settings the
//! reference page documents.

use super::*;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn environment_overrides_file_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.toml");
    std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nmax_body_bytes = 4096\n").unwrap();
    let config = Config::from_vars(vars(&[
        ("CATALOGUE_CONFIG", file.to_str().unwrap()),
        ("CATALOGUE_MAX_BODY_BYTES", "8192"),
        ("HOME", "/root"),
    ]))
    .unwrap();
    assert_eq!(config.http.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(config.http.max_body_bytes, 8192);
    assert_eq!(
        config.database.database_url,
        Config::default().database.database_url
    );
}

#[test]
fn a_state_redis_needs_the_answers_one_and_ages_must_be_positive() {
    let error = Config::from_vars(vars(&[(
        "CATALOGUE_REDIS_STATE_URL",
        "redis://redis-state:6379",
    )]))
    .unwrap_err();
    assert!(error.to_string().contains("CATALOGUE_REDIS_URL"), "{error}");
    let both = Config::from_vars(vars(&[
        ("CATALOGUE_REDIS_URL", "redis://redis:6379"),
        ("CATALOGUE_REDIS_STATE_URL", "redis://redis-state:6379"),
        ("CATALOGUE_PERSISTED_QUERIES_CLIENT_BYTES", "2048"),
        ("CATALOGUE_SIGNIN_RATE_LIMIT_BURST", "3"),
    ]))
    .unwrap();
    assert_eq!(both.limits.persisted_queries_client_bytes, 2048);
    assert_eq!(both.limits.signin_rate_limit_burst, 3);
    for variable in [
        "CATALOGUE_CACHE_MEMORY_MAX_AGE_SECONDS",
        "CATALOGUE_PERSISTED_QUERY_TTL_SECONDS",
    ] {
        let error = Config::from_vars(vars(&[(variable, "0")])).unwrap_err();
        assert!(
            error.to_string().contains("at least 1"),
            "{variable}: {error}"
        );
    }
}

#[test]
fn unknown_keys_and_bad_values_are_refused_with_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.toml");
    std::fs::write(&file, "listne = \"0.0.0.0:9000\"\n").unwrap();
    let error =
        Config::from_vars(vars(&[("CATALOGUE_CONFIG", file.to_str().unwrap())])).unwrap_err();
    assert!(error.to_string().contains("listne"), "{error}");

    let error = Config::from_vars(vars(&[("CATALOGUE_LISTNE", "x")])).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("CATALOGUE_LISTNE: unknown setting"),
        "{error}"
    );

    let error = Config::from_vars(vars(&[("CATALOGUE_LISTEN", "localhost")])).unwrap_err();
    assert!(
        error.to_string().starts_with("CATALOGUE_LISTEN:"),
        "{error}"
    );

    let error = Config::from_vars(vars(&[("CATALOGUE_DATABASE_URL", "mysql://u:secret@h/db")]))
        .unwrap_err();
    assert!(!error.to_string().contains("secret"), "{error}");
}

#[test]
fn trusted_issuers_come_from_variables_and_the_file_and_must_be_complete() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.toml");
    std::fs::write(
        &file,
        "[[issuers]]\nissuer = \"https://tools.example.gouv.fr\"\naudience = \"catalogue\"\njwks_url = \"https://tools.example.gouv.fr/jwks\"\n",
    )
    .unwrap();
    let config = Config::from_vars(vars(&[
        ("CATALOGUE_CONFIG", file.to_str().unwrap()),
        ("CATALOGUE_OIDC_ISSUER", "https://proconnect.example/api/v2"),
        ("CATALOGUE_JWT_AUDIENCE", "catalogue"),
        ("CATALOGUE_ADMINS", "a@x.gouv.fr, b@y.gouv.fr"),
    ]))
    .unwrap();
    let issuers = config.auth.trusted_issuers().unwrap();
    assert_eq!(issuers.len(), 2);
    assert_eq!(issuers[0].issuer, "https://proconnect.example/api/v2");
    assert_eq!(
        issuers[1].jwks_url.as_deref(),
        Some("https://tools.example.gouv.fr/jwks")
    );
    assert_eq!(config.auth.admins, vec!["a@x.gouv.fr", "b@y.gouv.fr"]);

    for (pairs, says) in [
        (
            vec![("CATALOGUE_OIDC_ISSUER", "https://i")],
            "CATALOGUE_JWT_AUDIENCE",
        ),
        (
            vec![("CATALOGUE_JWKS_URL", "https://i/jwks")],
            "CATALOGUE_OIDC_ISSUER",
        ),
        (vec![("CATALOGUE_JWT_ALGORITHMS", "RS256,HS256")], "HS256"),
    ] {
        let error = Config::from_vars(vars(&pairs)).unwrap_err();
        assert!(error.to_string().contains(says), "{error}");
    }
}

#[test]
fn the_signing_key_encryption_key_is_32_bytes_never_printed_and_not_with_a_key_file() {
    let key = "q0vXrE6y5s3yFqU1m2+G7cB1oZ7Xc2P9rN4tL8wK3aE=";
    let config = Config::from_vars(vars(&[("CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY", key)])).unwrap();
    assert!(config.auth.signing_key_encryption_key.is_some());
    assert!(!format!("{config:?}").contains(key));
    for short in ["c2hvcnQ=", "not base64!"] {
        let error = Config::from_vars(vars(&[("CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY", short)]))
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY: not the base64 of 32 bytes"),
            "{error}"
        );
    }
    let error = Config::from_vars(vars(&[
        ("CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY", key),
        ("CATALOGUE_SIGNING_KEY_FILE", "/run/secrets/signing-key.pem"),
    ]))
    .unwrap_err();
    assert!(error.to_string().contains("unset one"), "{error}");
}

#[test]
fn proconnect_is_all_or_nothing_and_its_secret_is_never_printed() {
    let complete = [
        (
            "CATALOGUE_PROCONNECT_ISSUER",
            "https://fca.integ01.dev-agentconnect.fr/api/v2",
        ),
        ("CATALOGUE_PROCONNECT_CLIENT_ID", "client"),
        ("CATALOGUE_PROCONNECT_CLIENT_SECRET", "very-secret-value"),
    ];
    let config = Config::from_vars(vars(&complete)).unwrap();
    assert!(!format!("{config:?}").contains("very-secret-value"));
    assert_eq!(config.proconnect.proconnect_scopes, PROCONNECT_SCOPES);

    let error = Config::from_vars(vars(&complete[..2])).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("CATALOGUE_PROCONNECT_CLIENT_SECRET"),
        "{error}"
    );
    for (name, value, says) in [
        (
            "CATALOGUE_PROCONNECT_SIGNING_ALG",
            "none",
            "RS256, ES256 or HS256",
        ),
        ("CATALOGUE_PROCONNECT_SCOPES", "email", "openid"),
        (
            "CATALOGUE_SIGNIN_REDIRECT_ORIGINS",
            "portail.gouv.fr",
            "origin",
        ),
        ("CATALOGUE_PUBLIC_URL", "catalogue", "public_url"),
        ("CATALOGUE_TOKEN_LIFETIME_SECONDS", "10", "at least 60"),
    ] {
        let mut pairs = complete.to_vec();
        pairs.push((name, value));
        let error = Config::from_vars(vars(&pairs)).unwrap_err();
        assert!(error.to_string().contains(says), "{name}: {error}");
    }
}

#[test]
fn gitlab_instances_are_base_urls_named_once_and_the_body_cap_has_room() {
    let config = Config::from_vars(vars(&[
        (
            "CATALOGUE_GITLAB_INSTANCES",
            "https://gitlab.adullact.net, http://127.0.0.1:8081",
        ),
        ("CATALOGUE_HARVEST_MAX_BODY_BYTES", "65536"),
    ]))
    .unwrap();
    assert_eq!(
        config.harvest.gitlab_instances,
        vec!["https://gitlab.adullact.net", "http://127.0.0.1:8081"]
    );
    assert_eq!(config.harvest.harvest_max_body_bytes, 65536);
    assert_eq!(
        Config::default().harvest.harvest_max_body_bytes,
        8 * 1024 * 1024
    );
    for (name, value, says) in [
        (
            "CATALOGUE_GITLAB_INSTANCES",
            "gitlab.adullact.net",
            "base URL",
        ),
        (
            "CATALOGUE_GITLAB_INSTANCES",
            "https://gitlab.adullact.net/api/v4",
            "no path",
        ),
        (
            "CATALOGUE_GITLAB_INSTANCES",
            "https://user:pw@gitlab.adullact.net",
            "base URL",
        ),
        (
            "CATALOGUE_GITLAB_INSTANCES",
            "https://gitlab.adullact.net,https://gitlab.adullact.net:443/",
            "named twice",
        ),
        ("CATALOGUE_HARVEST_MAX_BODY_BYTES", "100", "at least 1024"),
        ("CATALOGUE_HARVEST_MAX_BODY_BYTES", "8M", "byte count"),
    ] {
        let error = Config::from_vars(vars(&[(name, value)])).unwrap_err();
        assert!(error.to_string().contains(says), "{value}: {error}");
    }
}

#[test]
fn link_checks_trust_origins_only_and_call_a_link_dead_after_one_failure_or_more() {
    let defaults = Config::default().harvest;
    assert!(defaults.check_links);
    assert_eq!(defaults.link_check_dead_after, 3);
    assert!(defaults.link_check_trusted_origins.is_empty());
    let config = Config::from_vars(vars(&[
        (
            "CATALOGUE_LINK_CHECK_TRUSTED_ORIGINS",
            "http://127.0.0.1:8081, https://intranet.example.gouv.fr",
        ),
        ("CATALOGUE_LINK_CHECK_DEAD_AFTER", "1"),
        ("CATALOGUE_CHECK_LINKS", "0"),
    ]))
    .unwrap();
    assert_eq!(
        config.harvest.link_check_trusted_origins,
        vec!["http://127.0.0.1:8081", "https://intranet.example.gouv.fr"]
    );
    assert_eq!(config.harvest.link_check_dead_after, 1);
    assert!(!config.harvest.check_links);
    for (name, value, says) in [
        ("CATALOGUE_LINK_CHECK_DEAD_AFTER", "0", "at least 1"),
        (
            "CATALOGUE_LINK_CHECK_TRUSTED_ORIGINS",
            "http://127.0.0.1:8081/path",
            "not an origin",
        ),
        (
            "CATALOGUE_LINK_CHECK_TRUSTED_ORIGINS",
            "ftp://files.example.gouv.fr",
            "not an origin",
        ),
    ] {
        let error = Config::from_vars(vars(&[(name, value)])).unwrap_err();
        assert!(error.to_string().contains(says), "{value}: {error}");
    }
}

#[test]
fn rate_limits_are_read_as_requests_not_seconds() {
    let config = Config::from_vars(vars(&[
        ("CATALOGUE_RATE_LIMIT_PER_MINUTE", "1200"),
        ("CATALOGUE_RATE_LIMIT_BURST", "50"),
    ]))
    .unwrap();
    assert_eq!(config.limits.rate_limit_per_minute, 1200);
    assert_eq!(config.limits.rate_limit_burst, 50);
    for (name, says) in [
        (
            "CATALOGUE_RATE_LIMIT_PER_MINUTE",
            "is not a number of requests per minute",
        ),
        ("CATALOGUE_RATE_LIMIT_BURST", "is not a number of requests"),
        (
            "CATALOGUE_SIGNIN_RATE_LIMIT_PER_MINUTE",
            "is not a number of requests per minute",
        ),
        (
            "CATALOGUE_SIGNIN_RATE_LIMIT_BURST",
            "is not a number of requests",
        ),
    ] {
        let error = Config::from_vars(vars(&[(name, "10/s")])).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("{name}: `10/s` {says}")),
            "{message}"
        );
        assert!(!message.contains("seconds"), "{message}");
    }
}

#[test]
fn the_file_sets_every_section_with_flat_keys_and_names_a_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.toml");
    std::fs::write(
        &file,
        r#"
listen = "0.0.0.0:9000"
database_url = "postgres://catalogue@db/catalogue"
jwt_leeway_seconds = 5
proconnect_scopes = "openid email"
redis_prefix = "staging:"
max_depth = 7
harvest_interval_seconds = 0
log_format = "json"

[[clients]]
id = "routeur"
key = "0123456789abcdef0123456789abcdef"
rate_limit_per_minute = 6000
rate_limit_burst = 1000
"#,
    )
    .unwrap();
    let config = Config::from_vars(vars(&[("CATALOGUE_CONFIG", file.to_str().unwrap())])).unwrap();
    assert_eq!(config.http.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(config.http.log_format, LogFormat::Json);
    assert_eq!(
        config.database.database_url,
        "postgres://catalogue@db/catalogue"
    );
    assert_eq!(config.auth.jwt_leeway_seconds, 5);
    assert_eq!(config.proconnect.proconnect_scopes, "openid email");
    assert_eq!(config.cache.redis_prefix, "staging:");
    assert_eq!(config.limits.max_depth, 7);
    assert_eq!(config.limits.clients[0].id.as_str(), "routeur");
    assert_eq!(config.harvest.harvest_interval_seconds, 0);

    for (text, says) in [
        // Settings are named by their flat key, not by their section.
        ("[http]\nlisten = \"0.0.0.0:9000\"\n", "unknown key `http`"),
        ("max_depth = \"deep\"\n", "max_depth: invalid type"),
        (
            "log_format = \"xml\"\n",
            "log_format: unknown variant `xml`",
        ),
        (
            "[[clients]]\nid = \"a\"\nburst = 3\n",
            "clients: unknown field `burst`",
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let error =
            Config::from_vars(vars(&[("CATALOGUE_CONFIG", file.to_str().unwrap())])).unwrap_err();
        assert!(error.to_string().contains(says), "{text}: {error}");
    }
}

#[test]
fn each_setting_has_one_key_and_the_file_alone_sets_issuers() {
    let mut keys: Vec<&str> = Config::settings().map(|setting| setting.key).collect();
    let count = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), count, "a key is declared in two sections");
    let file_only: Vec<&str> = Config::settings()
        .filter(|setting| setting.variable().is_none())
        .map(|setting| setting.key)
        .collect();
    assert_eq!(file_only, ["issuers"]);
    let error = Config::from_vars(vars(&[("CATALOGUE_ISSUERS", "[]")])).unwrap_err();
    assert!(
        error.to_string().starts_with(
            "CATALOGUE_ISSUERS: unknown setting; known: CATALOGUE_CONFIG, CATALOGUE_LISTEN"
        ),
        "{error}"
    );
}

/// The `CATALOGUE_*` names of `text`, with whether each stands in a table row.
fn names_in(text: &str) -> Vec<(String, bool)> {
    let mut names = Vec::new();
    for line in text.lines() {
        let row = line.starts_with('|');
        for (start, _) in line.match_indices(PREFIX) {
            let name: String = line[start..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if name.len() > PREFIX.len() {
                names.push((name, row));
            }
        }
    }
    names
}

#[test]
fn the_reference_page_documents_every_setting_and_no_other() {
    use std::collections::BTreeSet;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
    let page = std::fs::read_to_string(path).unwrap();
    // Variables that are not settings (tests', the router example's) are
    // listed in a section of their own.
    let (before, from_outside) = page
        .split_once("## Outside the gateway's settings")
        .expect("the page lists the variables that are not settings");
    let (outside, after) = from_outside
        .split_once("\n## ")
        .unwrap_or((from_outside, ""));
    let not_settings: BTreeSet<String> = names_in(outside)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let variables: BTreeSet<String> = Config::settings().filter_map(Setting::variable).collect();
    let named = names_in(before).into_iter().chain(names_in(after));

    let mut documented = BTreeSet::new();
    let mut unknown = BTreeSet::new();
    for (name, row) in named {
        if !variables.contains(&name) && !not_settings.contains(&name) {
            unknown.insert(name.clone());
        }
        if row {
            documented.insert(name);
        }
    }
    let undocumented: Vec<&String> = variables.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "settings without a row in docs/configuration.md: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "docs/configuration.md names settings the gateway does not know: {unknown:?}"
    );
    let both: Vec<&String> = not_settings.intersection(&variables).collect();
    assert!(
        both.is_empty(),
        "listed as not settings, yet settings: {both:?}"
    );
    assert!(not_settings.contains(FILE_VARIABLE));
}

#[test]
fn webhooks_are_https_only_by_default_and_their_bounds_must_hold_together() {
    let defaults = Config::default().webhooks;
    assert!(!defaults.webhook_allow_local_http);
    assert!(defaults.deliver_webhooks);
    assert_eq!(defaults.webhook_disable_after_seconds, 24 * 3600);
    let config = Config::from_vars(vars(&[
        ("CATALOGUE_WEBHOOK_ALLOW_LOCAL_HTTP", "1"),
        ("CATALOGUE_WEBHOOK_POLL_MS", "50"),
        ("CATALOGUE_WEBHOOKS_PER_OWNER", "3"),
    ]))
    .unwrap();
    assert!(config.webhooks.webhook_allow_local_http);
    assert_eq!(config.webhooks.webhook_poll_ms, 50);
    assert_eq!(config.webhooks.webhooks_per_owner, 3);
    for (settings, says) in [
        (
            &[("CATALOGUE_WEBHOOK_SECRET_MIN_BYTES", "0")][..],
            "at least 1",
        ),
        (
            &[
                ("CATALOGUE_WEBHOOK_SECRET_MIN_BYTES", "64"),
                ("CATALOGUE_WEBHOOK_SECRET_MAX_BYTES", "32"),
            ],
            "at most webhook_secret_max_bytes",
        ),
        (&[("CATALOGUE_WEBHOOK_LOG_PER_WEBHOOK", "0")], "at least 1"),
        (
            &[("CATALOGUE_WEBHOOK_LEASE_SECONDS", "20")],
            "twice webhook_timeout_seconds",
        ),
        (
            &[("CATALOGUE_WEBHOOK_POLL_MS", "40000")],
            "more than two polls",
        ),
        (
            &[("CATALOGUE_WEBHOOK_RETRY_BASE_SECONDS", "7200")],
            "must not exceed webhook_retry_max_seconds",
        ),
        (
            &[("CATALOGUE_WEBHOOK_SECRET_ENCRYPTION_KEY", "short")],
            "base64 of 32 bytes",
        ),
    ] {
        let error = Config::from_vars(vars(settings)).unwrap_err();
        assert!(error.to_string().contains(says), "{settings:?}: {error}");
    }
}
