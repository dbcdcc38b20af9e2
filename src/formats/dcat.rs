//! The catalogue in DCAT-AP 3 (the EU profile of W3C DCAT that
//! data.gouv.fr harvests): a `dcat:Catalog` published by the organization
//! the operator names, a `dcat:Dataset` per public dataset with a
//! `dcat:Distribution` per file the portal lists (else one for the
//! dataset's own URL), organizations as `foaf:Agent`s, licences as URIs,
//! and the projects as resources of the catalogue each dataset relates to.

use serde_json::Value;

use super::licences;
use super::rdf::{Graph, RDF_TYPE, Term, XSD_DATE_TIME, XSD_NON_NEGATIVE_INTEGER};
use super::schema_org::{organization_page, project_page};

/// The IRI of a term of DCAT, Dublin Core terms or FOAF.
macro_rules! term {
    (dcat: $name:literal) => {
        concat!("http://www.w3.org/ns/dcat#", $name)
    };
    (dct: $name:literal) => {
        concat!("http://purl.org/dc/terms/", $name)
    };
    (foaf: $name:literal) => {
        concat!("http://xmlns.com/foaf/0.1/", $name)
    };
}

/// Every public dataset, with its project's organizations.
pub const DATASETS: &str = "query CatalogDatasets($first: Int, $after: String) {
  datasets(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id url title description license publisher updatedAt
      resources { title format url sizeBytes updatedAt }
      project { slug name organizations { role organization { slug name siret } } } } } }";

/// Every public project.
pub const PROJECTS: &str = "query CatalogProjects($first: Int, $after: String) {
  projects(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { slug name summary website } } }";

/// The organization publishing the catalogue.
pub const PUBLISHER: &str =
    "query CatalogPublisher($slug: String!) { organization(slug: $slug) { slug name siret } }";

/// The EU file types (publications.europa.eu authority table) of the
/// formats data.gouv.fr names, when they are one exactly.
const FILE_TYPES: [(&str, &str); 9] = [
    ("csv", "CSV"),
    ("json", "JSON"),
    ("geojson", "GEOJSON"),
    ("parquet", "PARQUET"),
    ("pdf", "PDF"),
    ("xlsx", "XLSX"),
    ("xml", "XML"),
    ("zip", "ZIP"),
    ("shp", "SHP"),
];

fn file_type(format: &str) -> Option<Term> {
    let format = format.trim().to_ascii_lowercase();
    FILE_TYPES
        .iter()
        .find(|(name, _)| *name == format)
        .map(|(_, code)| {
            Term::iri(&format!(
                "http://publications.europa.eu/resource/authority/file-type/{code}"
            ))
        })
}

fn text(value: &Value) -> Option<&str> {
    value.as_str().filter(|text| !text.trim().is_empty())
}

/// What the catalogue is written from: the answers of [`DATASETS`],
/// [`PROJECTS`] and [`PUBLISHER`]; `base` is the gateway's public URL.
pub struct Catalog<'a> {
    pub base: &'a str,
    pub publisher: &'a Value,
    pub datasets: &'a [Value],
    pub projects: &'a [Value],
}

impl Catalog<'_> {
    fn agent(&self, graph: &mut Graph, organization: &Value) -> Option<Term> {
        let slug = text(&organization["slug"])?;
        let agent = Term::iri(&organization_page(self.base, slug));
        graph.add(&agent, RDF_TYPE, Term::iri(term!(foaf: "Agent")));
        if let Some(name) = text(&organization["name"]) {
            graph.add(&agent, term!(foaf: "name"), Term::french(name));
        }
        if let Some(siret) = text(&organization["siret"]) {
            graph.add(&agent, term!(dct: "identifier"), Term::string(siret));
        }
        Some(agent)
    }

    /// The publisher of a dataset: the one its portal names (harvested),
    /// else its project's sponsor when it has exactly one.
    fn dataset_publisher(&self, graph: &mut Graph, dataset: &Value, index: usize) -> Option<Term> {
        if let Some(name) = text(&dataset["publisher"]) {
            let agent = Term::Blank(format!("publisher{index}"));
            graph.add(&agent, RDF_TYPE, Term::iri(term!(foaf: "Agent")));
            graph.add(&agent, term!(foaf: "name"), Term::french(name));
            return Some(agent);
        }
        let sponsors: Vec<&Value> = dataset["project"]["organizations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["role"] == "SPONSOR")
            .collect();
        match sponsors.as_slice() {
            [sponsor] => self.agent(graph, &sponsor["organization"]),
            _ => None,
        }
    }

    /// The catalogue as a graph.
    pub fn graph(&self) -> Graph {
        let mut graph = Graph::default();
        let catalog = Term::iri(&format!("{}/catalog", self.base));
        graph.add(&catalog, RDF_TYPE, Term::iri(term!(dcat: "Catalog")));
        graph.add(
            &catalog,
            term!(dct: "title"),
            Term::french("Catalogue du programme 10 %"),
        );
        graph.add(
            &catalog,
            term!(dct: "description"),
            Term::french(
                "Les projets du programme 10 % de l'État, les administrations qui les \
                 mènent, et où vivent leur code et leurs données.",
            ),
        );
        graph.add(
            &catalog,
            term!(foaf: "homepage"),
            Term::iri(&format!("{}/", self.base)),
        );
        graph.add(
            &catalog,
            term!(dct: "language"),
            Term::iri("http://publications.europa.eu/resource/authority/language/FRA"),
        );
        if let Some(publisher) = self.agent(&mut graph, self.publisher) {
            graph.add(&catalog, term!(dct: "publisher"), publisher);
        }
        for project in self.projects {
            let Some(slug) = text(&project["slug"]) else {
                continue;
            };
            let resource = Term::iri(&project_page(self.base, slug));
            graph.add(&catalog, term!(dcat: "resource"), resource.clone());
            graph.add(&resource, RDF_TYPE, Term::iri(term!(dcat: "Resource")));
            if let Some(name) = text(&project["name"]) {
                graph.add(&resource, term!(dct: "title"), Term::french(name));
            }
            if let Some(summary) = text(&project["summary"]) {
                graph.add(&resource, term!(dct: "description"), Term::french(summary));
            }
            if let Some(website) = text(&project["website"]) {
                graph.add(&resource, term!(foaf: "homepage"), Term::iri(website));
            }
        }
        for (index, dataset) in self.datasets.iter().enumerate() {
            self.add_dataset(&mut graph, &catalog, dataset, index);
        }
        graph
    }

    fn add_dataset(&self, graph: &mut Graph, catalog: &Term, dataset: &Value, index: usize) {
        let Some(id) = text(&dataset["id"]) else {
            return;
        };
        let node = Term::iri(&format!("{}/catalog#{id}", self.base));
        graph.add(catalog, term!(dcat: "dataset"), node.clone());
        graph.add(&node, RDF_TYPE, Term::iri(term!(dcat: "Dataset")));
        let title = text(&dataset["title"]).unwrap_or_default();
        graph.add(&node, term!(dct: "title"), Term::french(title));
        let project = &dataset["project"];
        let description = text(&dataset["description"]).map_or_else(
            || {
                format!(
                    "{title} : données du projet {}.",
                    text(&project["name"]).unwrap_or_default()
                )
            },
            str::to_owned,
        );
        graph.add(&node, term!(dct: "description"), Term::french(description));
        graph.add(&node, term!(dct: "identifier"), Term::string(id));
        if let Some(url) = text(&dataset["url"]) {
            graph.add(&node, term!(dcat: "landingPage"), Term::iri(url));
        }
        if let Some(slug) = text(&project["slug"]) {
            graph.add(
                &node,
                term!(dct: "relation"),
                Term::iri(&project_page(self.base, slug)),
            );
        }
        if let Some(updated) = text(&dataset["updatedAt"]) {
            graph.add(
                &node,
                term!(dct: "modified"),
                Term::typed(updated, XSD_DATE_TIME),
            );
        }
        if let Some(publisher) = self.dataset_publisher(graph, dataset, index) {
            graph.add(&node, term!(dct: "publisher"), publisher);
        }
        let license = text(&dataset["license"]).and_then(licences::datagouv_uri);
        let resources = dataset["resources"].as_array().cloned().unwrap_or_default();
        let files: Vec<Value> = if resources.is_empty() {
            // The dataset's own URL is where its data is reached.
            vec![serde_json::json!({ "url": dataset["url"], "title": dataset["title"] })]
        } else {
            resources
        };
        for (file_index, file) in files.iter().enumerate() {
            let Some(url) = text(&file["url"]) else {
                continue;
            };
            let distribution = Term::Blank(format!("d{index}x{file_index}"));
            graph.add(&node, term!(dcat: "distribution"), distribution.clone());
            graph.add(
                &distribution,
                RDF_TYPE,
                Term::iri(term!(dcat: "Distribution")),
            );
            graph.add(&distribution, term!(dcat: "accessURL"), Term::iri(url));
            if !file["format"].is_null() {
                graph.add(&distribution, term!(dcat: "downloadURL"), Term::iri(url));
            }
            if let Some(title) = text(&file["title"]) {
                graph.add(&distribution, term!(dct: "title"), Term::french(title));
            }
            if let Some(format) = text(&file["format"]).and_then(file_type) {
                graph.add(&distribution, term!(dct: "format"), format);
            }
            if let Some(size) = file["sizeBytes"].as_u64() {
                graph.add(
                    &distribution,
                    term!(dcat: "byteSize"),
                    Term::typed(size.to_string(), XSD_NON_NEGATIVE_INTEGER),
                );
            }
            if let Some(updated) = text(&file["updatedAt"]) {
                graph.add(
                    &distribution,
                    term!(dct: "modified"),
                    Term::typed(updated, XSD_DATE_TIME),
                );
            }
            if let Some(license) = &license {
                graph.add(&distribution, term!(dct: "license"), Term::iri(license));
            }
        }
        if let Some(license) = &license {
            let document = Term::iri(license);
            graph.add(
                &document,
                RDF_TYPE,
                Term::iri(term!(dct: "LicenseDocument")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn harvested_files_are_distributions_under_the_dataset_licence() {
        let dataset = json!({
            "id": "RGF0YXNldDox", "url": "https://www.data.gouv.fr/fr/datasets/x/",
            "title": "X", "description": null, "license": "lov2", "publisher": "INSEE",
            "updatedAt": "2025-01-02T03:04:05Z",
            "resources": [{ "title": "x.csv", "format": "CSV", "url": "https://static.data.gouv.fr/x.csv",
                            "sizeBytes": 12, "updatedAt": null }],
            "project": { "slug": "p", "name": "P", "organizations": [] }
        });
        let graph = Catalog {
            base: "https://catalogue.example",
            publisher: &Value::Null,
            datasets: &[dataset],
            projects: &[],
        }
        .graph()
        .turtle();
        for statement in [
            "<http://purl.org/dc/terms/license> <https://spdx.org/licenses/etalab-2.0>",
            "<http://purl.org/dc/terms/format> <http://publications.europa.eu/resource/authority/file-type/CSV>",
            "<http://www.w3.org/ns/dcat#byteSize> \"12\"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger>",
            "<http://www.w3.org/ns/dcat#downloadURL> <https://static.data.gouv.fr/x.csv>",
            "<https://spdx.org/licenses/etalab-2.0>\n    a <http://purl.org/dc/terms/LicenseDocument>",
            "<http://xmlns.com/foaf/0.1/name> \"INSEE\"@fr",
            "<http://purl.org/dc/terms/description> \"X : données du projet P.\"@fr",
        ] {
            assert!(graph.contains(statement), "{statement} in\n{graph}");
        }
    }
}
