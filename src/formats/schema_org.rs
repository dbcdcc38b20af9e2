//! A project in schema.org's vocabulary, as JSON-LD for search engines: a
//! `SoftwareSourceCode` (also a `SoftwareApplication` when it has a running
//! demonstration), with its main repositories as `codeRepository`, its
//! licence as an SPDX URL, its repositories' languages as
//! `programmingLanguage`, its organizations as `author` (all) and `funder`
//! (sponsors), and its datasets as `Dataset`s it `hasPart`.
//!
//! The `@context` is written inline (`@vocab` and the properties whose
//! values are IRIs), not as a link to schema.org's context: a reader expands
//! the document without fetching anything.

use serde_json::{Map, Value, json};

use super::licences;

/// What the JSON-LD of a project is written from.
pub const DOCUMENT: &str = "query ProjectJsonLd($slug: String!) { project(slug: $slug) {
  slug name summary license website documentation
  tags { label }
  organizations { role organization { slug name website siret siren } }
  repositories { url role language license }
  datasets { url title description license publisher updatedAt resources { title format url } }
  links { url kind } } }";

/// The properties whose values are IRIs, and the vocabulary.
fn context() -> Value {
    let iri = json!({ "@type": "@id" });
    json!({
        "@vocab": "https://schema.org/",
        "codeRepository": iri,
        "license": iri,
        "url": iri,
        "contentUrl": iri,
        "softwareHelp": iri,
    })
}

/// Where the portal shows a project or an organization.
pub fn project_page(base: &str, slug: &str) -> String {
    format!("{base}/#/projets/{slug}")
}

pub fn organization_page(base: &str, slug: &str) -> String {
    format!("{base}/#/organisations/{slug}")
}

fn texts(list: &Value, field: &str) -> Vec<Value> {
    let mut values: Vec<Value> = Vec::new();
    for item in list.as_array().into_iter().flatten() {
        if let Some(text) = item[field].as_str().filter(|text| !text.is_empty())
            && !values.iter().any(|known| known == text)
        {
            values.push(text.into());
        }
    }
    values
}

/// One value, or a list when there are several; `None` for none.
fn one_or_many(mut values: Vec<Value>) -> Option<Value> {
    match values.len() {
        0 => None,
        1 => values.pop(),
        _ => Some(Value::Array(values)),
    }
}

fn insert(node: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value.filter(|value| !value.is_null()) {
        node.insert(key.to_owned(), value);
    }
}

/// A public body: a government organization with its SIRET and SIREN as
/// ISO 6523 codes (ICD 0009 is the SIRET, 0002 the SIREN).
fn organization(base: &str, organization: &Value) -> Value {
    let mut node = Map::new();
    node.insert("@type".into(), "GovernmentOrganization".into());
    insert(
        &mut node,
        "@id",
        organization["slug"]
            .as_str()
            .map(|slug| organization_page(base, slug).into()),
    );
    insert(&mut node, "name", Some(organization["name"].clone()));
    insert(&mut node, "url", Some(organization["website"].clone()));
    let codes: Vec<Value> = [("0009", "siret"), ("0002", "siren")]
        .into_iter()
        .filter_map(|(icd, field)| {
            organization[field]
                .as_str()
                .map(|code| format!("{icd}:{code}").into())
        })
        .collect();
    insert(&mut node, "iso6523Code", one_or_many(codes));
    Value::Object(node)
}

fn dataset(dataset: &Value) -> Value {
    let mut node = Map::new();
    node.insert("@type".into(), "Dataset".into());
    insert(&mut node, "@id", Some(dataset["url"].clone()));
    insert(&mut node, "name", Some(dataset["title"].clone()));
    insert(
        &mut node,
        "description",
        Some(dataset["description"].clone()),
    );
    insert(&mut node, "url", Some(dataset["url"].clone()));
    insert(
        &mut node,
        "license",
        dataset["license"]
            .as_str()
            .and_then(licences::datagouv_uri)
            .map(Value::from),
    );
    insert(
        &mut node,
        "publisher",
        dataset["publisher"]
            .as_str()
            .map(|name| json!({ "@type": "Organization", "name": name })),
    );
    insert(
        &mut node,
        "dateModified",
        Some(dataset["updatedAt"].clone()),
    );
    let distribution: Vec<Value> = dataset["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|resource| {
            let mut file = Map::new();
            file.insert("@type".into(), "DataDownload".into());
            insert(&mut file, "name", Some(resource["title"].clone()));
            insert(&mut file, "contentUrl", Some(resource["url"].clone()));
            insert(
                &mut file,
                "encodingFormat",
                Some(resource["format"].clone()),
            );
            Value::Object(file)
        })
        .collect();
    insert(&mut node, "distribution", one_or_many(distribution));
    Value::Object(node)
}

/// The JSON-LD of `project` (the `project` of [`DOCUMENT`]'s answer); `base`
/// is the gateway's public URL, which its portal's pages are under.
pub fn write(project: &Value, base: &str) -> Value {
    let slug = project["slug"].as_str().unwrap_or_default();
    let links = project["links"].as_array().cloned().unwrap_or_default();
    let runs = links.iter().any(|link| link["kind"] == "DEMO");
    let types = if runs {
        json!(["SoftwareSourceCode", "SoftwareApplication"])
    } else {
        json!("SoftwareSourceCode")
    };
    let repositories = project["repositories"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let main: Vec<&Value> = repositories
        .iter()
        .filter(|r| r["role"] == "MAIN")
        .collect();
    let main_urls = main.iter().map(|r| r["url"].clone()).collect();
    // The project's licence, else its main repository's (one only).
    let license = project["license"]
        .as_str()
        .or_else(|| match main.as_slice() {
            [only] => only["license"].as_str(),
            _ => None,
        });
    let participations = project["organizations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let authors: Vec<Value> = participations
        .iter()
        .map(|p| organization(base, &p["organization"]))
        .collect();
    let funders: Vec<Value> = participations
        .iter()
        .filter(|p| p["role"] == "SPONSOR")
        .map(|p| organization(base, &p["organization"]))
        .collect();
    let datasets: Vec<Value> = project["datasets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(dataset)
        .collect();

    let mut node = Map::new();
    node.insert("@context".into(), context());
    node.insert("@id".into(), project_page(base, slug).into());
    node.insert("@type".into(), types);
    node.insert("identifier".into(), slug.into());
    insert(&mut node, "name", Some(project["name"].clone()));
    insert(&mut node, "description", Some(project["summary"].clone()));
    insert(
        &mut node,
        "url",
        Some(
            project["website"]
                .as_str()
                .map_or_else(|| project_page(base, slug), str::to_owned)
                .into(),
        ),
    );
    insert(
        &mut node,
        "softwareHelp",
        Some(project["documentation"].clone()),
    );
    insert(
        &mut node,
        "keywords",
        one_or_many(texts(&project["tags"], "label")),
    );
    insert(&mut node, "codeRepository", one_or_many(main_urls));
    insert(
        &mut node,
        "programmingLanguage",
        one_or_many(texts(&project["repositories"], "language")),
    );
    insert(
        &mut node,
        "license",
        license.and_then(licences::spdx_uri).map(Value::from),
    );
    insert(&mut node, "author", one_or_many(authors));
    insert(&mut node, "funder", one_or_many(funders));
    insert(&mut node, "hasPart", one_or_many(datasets));
    Value::Object(node)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sponsors_are_funders_and_every_organization_an_author() {
        let project = json!({
            "slug": "p", "name": "P", "summary": "S", "license": null, "website": null,
            "documentation": null, "tags": [], "links": [], "datasets": [],
            "repositories": [{ "url": "https://github.com/a/p", "role": "MAIN", "language": "R", "license": "EUPL-1.2" }],
            "organizations": [
                { "role": "SPONSOR", "organization": { "slug": "dinum", "name": "DINUM", "website": null, "siret": "13002526500013", "siren": "130025265" } },
                { "role": "CONTRIBUTOR", "organization": { "slug": "insee", "name": "INSEE", "website": null, "siret": null, "siren": null } }
            ]
        });
        let node = write(&project, "https://catalogue.example");
        assert_eq!(node["@type"], "SoftwareSourceCode");
        assert_eq!(node["url"], "https://catalogue.example/#/projets/p");
        assert_eq!(node["license"], "https://spdx.org/licenses/EUPL-1.2");
        assert_eq!(node["programmingLanguage"], "R");
        assert_eq!(
            node["funder"]["@id"],
            "https://catalogue.example/#/organisations/dinum"
        );
        assert_eq!(
            node["funder"]["iso6523Code"],
            json!(["0009:13002526500013", "0002:130025265"])
        );
        assert_eq!(node["author"].as_array().unwrap().len(), 2);
        assert!(node.get("hasPart").is_none());
    }
}
