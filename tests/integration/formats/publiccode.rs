//! `/projects/{slug}/publiccode.yml`: every draft parses as YAML, states
//! what GraphQL states, and once its `# FILL IN:` lines are filled in it
//! holds every key the publiccode.yml standard makes mandatory, each within
//! its value set (checked here against the standard's text: no validator
//! of the standard is published on npm or PyPI).

use serde_json::json;
use serde_yaml_ng::Value;

use crate::common::{Backend, TestApp};

/// "List of software categories" of the standard.
const CATEGORIES: &[&str] = &[
    "accounting",
    "agile-project-management",
    "applicant-tracking",
    "application-development",
    "appointment-scheduling",
    "backup",
    "billing-and-invoicing",
    "blog",
    "budgeting",
    "business-intelligence",
    "business-process-management",
    "cad",
    "call-center-management",
    "cloud-management",
    "collaboration",
    "communications",
    "compliance-management",
    "contact-management",
    "content-management",
    "crm",
    "customer-service-and-support",
    "data-analytics",
    "data-collection",
    "data-visualization",
    "design",
    "design-system",
    "digital-asset-management",
    "digital-citizenship",
    "document-management",
    "donor-management",
    "e-commerce",
    "e-signature",
    "educational-content",
    "email-management",
    "email-marketing",
    "employee-management",
    "enterprise-project-management",
    "enterprise-social-networking",
    "erp",
    "event-management",
    "facility-management",
    "feedback-and-reviews-management",
    "financial-reporting",
    "fleet-management",
    "fundraising",
    "gamification",
    "geographic-information-systems",
    "grant-management",
    "graphic-design",
    "help-desk",
    "hr",
    "ide",
    "identity-management",
    "instant-messaging",
    "inventory-management",
    "it-asset-management",
    "it-development",
    "it-management",
    "it-security",
    "it-service-management",
    "knowledge-management",
    "learning-management-system",
    "marketing",
    "mind-mapping",
    "mobile-marketing",
    "mobile-payment",
    "network-management",
    "office",
    "online-booking",
    "online-community",
    "payment-gateway",
    "payroll",
    "predictive-analysis",
    "procurement",
    "productivity-suite",
    "project-collaboration",
    "project-management",
    "property-management",
    "real-estate-management",
    "remote-support",
    "resource-management",
    "sales-management",
    "seo",
    "service-desk",
    "social-media-management",
    "survey",
    "talent-management",
    "task-management",
    "taxes-management",
    "test-management",
    "time-management",
    "time-tracking",
    "translation",
    "video-conferencing",
    "video-editing",
    "visitor-management",
    "voip",
    "warehouse-management",
    "web-collaboration",
    "web-conferencing",
    "website-builder",
    "whistleblowing",
    "workflow-management",
];

fn string<'a>(document: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(document, |value, key| value.get(*key))
        .and_then(Value::as_str)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// What `document` breaks of the standard's mandatory keys and value sets
/// (sections of "The Standard (core)").
fn breaches(document: &Value) -> Vec<String> {
    let mut breaches = Vec::new();
    let mut require = |holds: bool, what: &str| {
        if !holds {
            breaches.push(what.to_owned());
        }
    };
    // Key publiccodeYmlVersion, Key name, Key url: mandatory strings.
    require(
        string(document, &["publiccodeYmlVersion"]).is_some(),
        "publiccodeYmlVersion",
    );
    require(string(document, &["name"]).is_some(), "name");
    require(
        string(document, &["url"]).is_some_and(|url| url.starts_with("https://")),
        "url: a URL",
    );
    // Key platforms: mandatory, a string or an array of strings.
    require(!strings(document.get("platforms")).is_empty(), "platforms");
    // Key categories: mandatory, from the list of software categories.
    let categories = strings(document.get("categories"));
    require(
        !categories.is_empty() && categories.iter().all(|c| CATEGORIES.contains(&c.as_str())),
        "categories: from the list",
    );
    // Key developmentStatus, Key softwareType: mandatory, enumerated.
    require(
        string(document, &["developmentStatus"]).is_some_and(|status| {
            ["concept", "development", "beta", "stable", "obsolete"].contains(&status)
        }),
        "developmentStatus",
    );
    require(
        string(document, &["softwareType"]).is_some_and(|kind| {
            [
                "standalone/mobile",
                "standalone/iot",
                "standalone/desktop",
                "standalone/web",
                "standalone/backend",
                "standalone/other",
                "addon",
                "library",
                "configurationFiles",
            ]
            .contains(&kind)
        }),
        "softwareType",
    );
    // Section description: at least one language, each with a
    // shortDescription (at most 150 characters), a longDescription (150
    // to 10,000) and features.
    let languages = document
        .get("description")
        .and_then(Value::as_mapping)
        .map(|languages| languages.values().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    require(!languages.is_empty(), "description: a language");
    for language in &languages {
        require(
            string(language, &["shortDescription"])
                .is_some_and(|short| short.chars().count() <= 150),
            "shortDescription: at most 150 characters",
        );
        require(
            string(language, &["longDescription"])
                .is_some_and(|long| (150..=10_000).contains(&long.chars().count())),
            "longDescription: 150 to 10,000 characters",
        );
        require(
            language.get("features").is_some_and(Value::is_sequence),
            "features",
        );
    }
    // Key legal/license: mandatory.
    require(
        string(document, &["legal", "license"]).is_some(),
        "legal/license",
    );
    // Key maintenance/type: enumerated; contacts mandatory for internal or
    // community maintenance, each with a name (Contact).
    let maintenance = string(document, &["maintenance", "type"]);
    require(
        maintenance
            .is_some_and(|kind| ["internal", "contract", "community", "none"].contains(&kind)),
        "maintenance/type",
    );
    if matches!(maintenance, Some("internal" | "community")) {
        let contacts = document
            .get("maintenance")
            .and_then(|m| m.get("contacts"))
            .and_then(Value::as_sequence);
        require(
            contacts.is_some_and(|contacts| {
                !contacts.is_empty() && contacts.iter().all(|c| string(c, &["name"]).is_some())
            }),
            "maintenance/contacts",
        );
    }
    // Section localisation: both keys mandatory.
    require(
        document
            .get("localisation")
            .and_then(|l| l.get("localisationReady"))
            .is_some_and(Value::is_bool),
        "localisation/localisationReady",
    );
    require(
        !strings(
            document
                .get("localisation")
                .and_then(|l| l.get("availableLanguages")),
        )
        .is_empty(),
        "localisation/availableLanguages",
    );
    breaches
}

/// What a maintainer writes on each `# FILL IN:` line, by key.
fn filled_in(key: &str) -> String {
    let long = "Un texte de plus de cent cinquante caractères, comme celui que les \
                mainteneurs écrivent pour dire ce que le logiciel fait pour ses \
                utilisateurs, et pourquoi ils en ont besoin.";
    match key {
        "platforms" => "platforms: [web]".into(),
        "categories" => "categories: [data-visualization]".into(),
        "developmentStatus" => "developmentStatus: development".into(),
        "softwareType" => "softwareType: library".into(),
        "shortDescription" => "shortDescription: Une phrase.".into(),
        "longDescription" => format!("longDescription: {long}"),
        "features" => "features: [Une fonctionnalité]".into(),
        "license" => "license: EUPL-1.2".into(),
        "url" => "url: https://github.com/exemple/projet".into(),
        "type" => "type: community".into(),
        "contacts" => "contacts: [{name: Une Personne}]".into(),
        "localisationReady" => "localisationReady: true".into(),
        "availableLanguages" => "availableLanguages: [fr]".into(),
        other => panic!("a FILL IN line for an unexpected key `{other}`"),
    }
}

fn fill_in(draft: &str) -> String {
    draft
        .lines()
        .map(|line| match line.trim_start().strip_prefix("# FILL IN: ") {
            Some(placeholder) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                let key = placeholder.split([':', ' ']).next().unwrap();
                format!("{indent}{}", filled_in(key))
            }
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn drafts_state_the_catalogue_and_complete_the_standard(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let slugs = app
        .data("{ projects(first: 100) { nodes { slug } } }", json!({}))
        .await;
    for node in slugs["projects"]["nodes"].as_array().unwrap() {
        let slug = node["slug"].as_str().unwrap();
        let response = app
            .client
            .get(app.url(&format!("/projects/{slug}/publiccode.yml")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{slug}");
        assert_eq!(
            response.headers()["content-type"],
            "application/yaml; charset=utf-8"
        );
        let draft = response.text().await.unwrap();
        let written: Value = serde_yaml_ng::from_str(&draft).unwrap();
        let facts = app
            .data(
                "query($slug: String!) { project(slug: $slug) { name description status repositories { url role license } } }",
                json!({ "slug": slug }),
            )
            .await["project"]
            .clone();
        assert_eq!(
            string(&written, &["name"]),
            facts["name"].as_str(),
            "{slug}"
        );
        let main = facts["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["role"] == "MAIN");
        assert_eq!(
            string(&written, &["url"]),
            main.and_then(|r| r["url"].as_str()),
            "{slug}"
        );
        if let Some(long) = string(&written, &["description", "fr", "longDescription"]) {
            assert_eq!(Some(long), facts["description"].as_str(), "{slug}");
        }
        let filled: Value = serde_yaml_ng::from_str(&fill_in(&draft)).unwrap();
        assert_eq!(breaches(&filled), Vec::<String>::new(), "{slug}:\n{draft}");
    }
    let cartiflette: Value =
        serde_yaml_ng::from_str(&app.get_text("/projects/cartiflette/publiccode.yml").await)
            .unwrap();
    assert_eq!(string(&cartiflette, &["legal", "license"]), Some("MIT"));
    let datanonyme: Value =
        serde_yaml_ng::from_str(&app.get_text("/projects/datanonyme/publiccode.yml").await)
            .unwrap();
    assert_eq!(
        string(&datanonyme, &["developmentStatus"]),
        Some("obsolete")
    );
}

async fn an_unknown_project_has_no_draft(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .get(app.url("/projects/nulle-part/publiccode.yml"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

on_both_backends!(
    drafts_state_the_catalogue_and_complete_the_standard,
    an_unknown_project_has_no_draft,
);
