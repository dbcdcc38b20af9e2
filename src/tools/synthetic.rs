//! A made-up catalogue of any size, in the files' own format, to measure
//! search and paging at scale. Its text is varied French and English built
//! from the public data community's vocabulary; every URL is under a
//! `.example` host or an `exemple-…` account, and nothing in it is real.

use std::fmt;
use std::path::Path;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// How big a catalogue to make.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub projects: usize,
    pub repositories_per_project: usize,
    /// The same seed makes the same catalogue.
    pub seed: u64,
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub organizations: usize,
    pub projects: usize,
    pub repositories: usize,
    pub datasets: usize,
}

impl fmt::Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} organizations, {} projects, {} repositories, {} datasets",
            self.organizations, self.projects, self.repositories, self.datasets
        )
    }
}

const THEMES: &[(&str, &str)] = &[
    ("cartographie des communes", "municipal boundary maps"),
    ("offres d'emploi public", "public sector job offers"),
    (
        "anonymisation de données personnelles",
        "personal data anonymisation",
    ),
    (
        "reconnaissance de caractères sur les factures",
        "invoice OCR",
    ),
    (
        "visualisation de tableaux de bord",
        "dashboard visualisation",
    ),
    (
        "classification de documents administratifs",
        "administrative document classification",
    ),
    (
        "prévision de la consommation d'énergie",
        "energy consumption forecasting",
    ),
    ("qualité de l'air", "air quality monitoring"),
    ("suivi des marchés publics", "public procurement tracking"),
    ("traduction automatique", "machine translation"),
    ("extraction d'entités nommées", "named entity extraction"),
    (
        "recherche sémantique dans les textes de loi",
        "semantic search over legal texts",
    ),
    ("recensement de la population", "population census"),
    ("statistiques de santé publique", "public health statistics"),
    (
        "mobilité et transports du quotidien",
        "daily mobility and transport",
    ),
    ("réussite scolaire", "school achievement"),
    ("parcelles agricoles", "agricultural parcels"),
    (
        "finances des collectivités locales",
        "local government finance",
    ),
    ("décisions de justice", "court decisions"),
    (
        "empreinte carbone des services numériques",
        "carbon footprint of digital services",
    ),
    ("formulaires CERFA", "CERFA forms"),
    (
        "annuaire des compétences des agents",
        "directory of civil servants' skills",
    ),
    (
        "rapports statistiques récurrents",
        "recurring statistical reports",
    ),
    ("fonds de carte administratifs", "administrative base maps"),
    (
        "détection d'anomalies dans les déclarations",
        "anomaly detection in declarations",
    ),
    ("catalogage de jeux de données", "dataset cataloguing"),
    ("risques d'inondation", "flood risk"),
    ("prix de l'immobilier", "real estate prices"),
    ("accidents de la route", "road accidents"),
    (
        "biodiversité et espèces protégées",
        "biodiversity and protected species",
    ),
];

const ACTIONS: &[(&str, &str)] = &[
    ("automatiser", "automate"),
    ("explorer", "explore"),
    ("visualiser", "visualise"),
    ("publier", "publish"),
    ("mesurer", "measure"),
    ("annoter", "annotate"),
    ("nettoyer", "clean"),
    ("croiser", "join"),
    ("cartographier", "map"),
    ("suivre", "track"),
    ("prédire", "predict"),
    ("résumer", "summarise"),
];

const SOURCES: &[&str] = &[
    "les données ouvertes de l'INSEE",
    "les jeux de données de data.gouv.fr",
    "le répertoire Sirene",
    "les bases administratives des ministères",
    "l'open data des collectivités",
    "les API publiques de l'État",
    "des fichiers CSV et Parquet",
    "des documents PDF numérisés",
];

const TECHNIQUES: &[&str] = &[
    "un modèle de langage",
    "des réseaux de neurones",
    "DuckDB et GeoParquet",
    "Apache Superset et le DSFR",
    "des scripts R",
    "une chaîne de traitement Python",
    "PostgreSQL et PostGIS",
    "un tableau de bord Streamlit",
    "des notebooks Jupyter",
    "une API REST",
];

const TAGS: &[&str] = &[
    "open data",
    "geospatial",
    "OCR",
    "LLM",
    "NLP",
    "dataviz",
    "DSFR",
    "Superset",
    "DuckDB",
    "GeoParquet",
    "pandas",
    "R",
    "Python",
    "statistiques",
    "santé",
    "emploi",
    "énergie",
    "environnement",
    "transport",
    "éducation",
    "justice",
    "finances publiques",
    "agriculture",
    "anonymisation",
    "IA",
    "formation",
    "cartographie",
    "API",
    "PostGIS",
    "Streamlit",
    "apprentissage automatique",
    "qualité des données",
    "reporting",
    "documents",
    "recensement",
    "marchés publics",
    "immobilier",
    "biodiversité",
    "sécurité routière",
    "climat",
];

const NAME_STARTS: &[&str] = &[
    "Carto", "Data", "Stat", "Geo", "Form", "Doc", "Chart", "Open", "Ana", "Pred", "Lex", "Eco",
    "Socle", "Pilot", "Vigie", "Agri", "Sant", "Mobi", "Clim", "Budg",
];
const NAME_ENDS: &[&str] = &[
    "flette", "scope", "lab", "hub", "kit", "base", "viz", "lens", "map", "flow", "metric", "note",
    "sense", "graph", "track", "IA",
];

const LANGUAGES: &[(&str, u32)] = &[
    ("Python", 45),
    ("R", 12),
    ("JavaScript", 10),
    ("TypeScript", 8),
    ("Jupyter Notebook", 8),
    ("Java", 5),
    ("Go", 3),
    ("Rust", 2),
    ("SQL", 4),
    ("Scala", 1),
    ("PHP", 2),
];

const LICENSES: &[(&str, u32)] = &[
    ("MIT", 35),
    ("EUPL-1.2", 20),
    ("Apache-2.0", 15),
    ("GPL-3.0-or-later", 10),
    ("AGPL-3.0-or-later", 8),
    ("BSD-3-Clause", 5),
    ("LGPL-3.0-or-later", 3),
    ("MPL-2.0", 4),
];

const ORGANIZATION_KINDS: &[&str] = &[
    "ministry",
    "directorate",
    "agency",
    "deconcentrated-service",
    "other",
];

const ORGANIZATION_DOMAINS: &[&str] = &[
    "des données",
    "du numérique",
    "de la statistique",
    "de la santé",
    "de l'emploi",
    "de l'environnement",
    "des transports",
    "de l'éducation",
    "de la justice",
    "des finances",
    "de l'agriculture",
    "du logement",
    "de la culture",
    "des territoires",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn weighted<'a>(rng: &mut StdRng, items: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (item, weight) in items {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    items[0].0
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn organizations(rng: &mut StdRng, count: usize) -> Vec<Value> {
    (0..count)
        .map(|n| {
            let kind = *pick(rng, ORGANIZATION_KINDS);
            let body = match kind {
                "ministry" => "Ministère",
                "directorate" => "Direction",
                "agency" => "Agence",
                "deconcentrated-service" => "Service régional",
                _ => "Mission",
            };
            json!({
                "slug": format!("exemple-organisation-{n}"),
                "name": format!("{body} {} n° {n}", pick(rng, ORGANIZATION_DOMAINS)),
                "acronym": format!("EX{n}"),
                "kind": kind,
            })
        })
        .collect()
}

fn project(rng: &mut StdRng, n: usize, size: &Size, organizations: usize) -> Value {
    let name = format!("{}{} {n}", pick(rng, NAME_STARTS), pick(rng, NAME_ENDS));
    let slug = format!("exemple-projet-{n}");
    let (theme, theme_en) = *pick(rng, THEMES);
    let (action, action_en) = *pick(rng, ACTIONS);
    let (second_theme, _) = *pick(rng, THEMES);
    let summary = format!(
        "{} {theme} à partir de {}.",
        capitalised(action),
        pick(rng, SOURCES)
    );
    let description = format!(
        "Le projet {name} aide les administrations à {action} {theme} avec {}. \
         Il réutilise {} et s'intéresse aussi à {second_theme}.\n\n\
         {} {theme_en} for public servants.",
        pick(rng, TECHNIQUES),
        pick(rng, SOURCES),
        capitalised(action_en),
    );
    let tag_count = rng.gen_range(1..=5);
    let mut tags: Vec<&str> = TAGS.choose_multiple(rng, tag_count).copied().collect();
    tags.sort_unstable();
    let mut seasons: Vec<u8> = (1..=5).filter(|_| rng.gen_bool(0.35)).collect();
    if seasons.is_empty() {
        seasons.push(rng.gen_range(1..=5));
    }
    let participants: Vec<Value> = (0..rng.gen_range(1..=4))
        .map(|_| rng.gen_range(0..organizations))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            json!({
                "organization": format!("exemple-organisation-{o}"),
                "role": if i == 0 { "sponsor" } else { "contributor" },
            })
        })
        .collect();
    let owner = format!("exemple-{}", n % 997);
    let repositories: Vec<Value> = (0..size.repositories_per_project)
        .map(|k| {
            let host = match rng.gen_range(0..10) {
                0..=6 => "github.com",
                7..=8 => "gitlab.com",
                _ => "forge.exemple.gouv.example",
            };
            let mut repository = json!({
                "url": format!("https://{host}/{owner}/{slug}-{k}"),
                "role": if k == 0 { "main" } else { "companion" },
                "language": weighted(rng, LANGUAGES),
                "license": weighted(rng, LICENSES),
            });
            if rng.gen_bool(0.03) {
                repository["access"] = json!("agents");
            }
            repository
        })
        .collect();
    let datasets: Vec<Value> = (0..rng.gen_range(0..=2))
        .map(|d| {
            json!({
                "url": format!("https://data.exemple.gouv.example/datasets/{slug}-{d}/"),
                "provider": *pick(rng, &["data-gouv", "api", "object-storage", "file"]),
                "title": format!("Base {} {}", pick(rng, THEMES).0, 2015 + rng.gen_range(0..11)),
                "description": format!("Données sur {} issues de {}.", pick(rng, THEMES).0, pick(rng, SOURCES)),
            })
        })
        .collect();
    let mut project = json!({
        "slug": slug,
        "name": name,
        "summary": summary,
        "description": description,
        "seasons": seasons,
        "tags": tags,
        "organizations": participants,
        "repositories": repositories,
        "datasets": datasets,
        "sources": [{
            "title": "Catalogue synthétique généré pour les mesures",
            "url": "https://catalogue.example/synthetique",
        }],
    });
    match rng.gen_range(0..10) {
        0..=5 => project["status"] = json!("active"),
        6..=7 => project["status"] = json!("completed"),
        8 => project["status"] = json!("archived"),
        _ => {}
    }
    if rng.gen_bool(0.05) {
        project["visibility"] = json!("agents");
    }
    project
}

/// Writes `organizations.yaml` and one file per project into `dir`.
pub fn write(dir: &Path, size: Size) -> Result<Written, std::io::Error> {
    let failed = |error: serde_yaml_ng::Error| std::io::Error::other(error.to_string());
    std::fs::create_dir_all(dir)?;
    let mut rng = StdRng::seed_from_u64(size.seed);
    let organization_count = (size.projects / 20).clamp(5, 1000);
    let organizations = organizations(&mut rng, organization_count);
    std::fs::write(
        dir.join("organizations.yaml"),
        serde_yaml_ng::to_string(&json!({ "organizations": organizations })).map_err(failed)?,
    )?;
    let mut written = Written {
        organizations: organization_count,
        projects: size.projects,
        repositories: 0,
        datasets: 0,
    };
    for n in 0..size.projects {
        let project = project(&mut rng, n, &size, organization_count);
        written.repositories += project["repositories"].as_array().map_or(0, Vec::len);
        written.datasets += project["datasets"].as_array().map_or(0, Vec::len);
        std::fs::write(
            dir.join(format!("exemple-projet-{n}.yaml")),
            serde_yaml_ng::to_string(&project).map_err(failed)?,
        )?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_load_as_a_catalogue_and_the_seed_decides() {
        let dir = tempfile::tempdir().unwrap();
        let size = Size {
            projects: 40,
            repositories_per_project: 3,
            seed: 7,
        };
        let written = write(dir.path(), size).unwrap();
        assert_eq!(written.repositories, 120);
        let catalogue = crate::catalogue::files::load_dir(dir.path()).unwrap();
        assert_eq!(catalogue.projects.len(), 40);
        assert_eq!(catalogue.organizations.len(), written.organizations);
        let again = tempfile::tempdir().unwrap();
        write(again.path(), size).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("exemple-projet-3.yaml")).unwrap(),
            std::fs::read_to_string(again.path().join("exemple-projet-3.yaml")).unwrap()
        );
    }
}
