//! Reading the catalogue from its directory: `organizations.yaml` and one
//! YAML file per project. Everything is checked before anything is returned,
//! and every problem names its file and field.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::enums::Confidence;
use super::project::{Catalogue, Organization, Project, Source};
use super::values::{Label, Slug};

pub const ORGANIZATIONS_FILE: &str = "organizations.yaml";

/// One problem in one catalogue file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub file: PathBuf,
    /// Where in the file, e.g. `repositories[0].url`; `-` for the whole file.
    pub field: String,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.file.display(),
            self.field,
            self.message
        )
    }
}

/// Every problem found in a catalogue directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub problems: Vec<FileError>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the catalogue has {} problem(s); nothing was written:",
            self.problems.len()
        )?;
        for problem in &self.problems {
            writeln!(f, "  {problem}")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganizationsFile {
    organizations: Vec<Organization>,
}

/// Reads and checks the catalogue in `dir`.
pub fn load_dir(dir: &Path) -> Result<Catalogue, LoadError> {
    let mut problems = Vec::new();
    let organizations_path = dir.join(ORGANIZATIONS_FILE);
    let organizations = read_yaml::<OrganizationsFile>(&organizations_path)
        .map(|file| file.organizations)
        .unwrap_or_else(|problem| {
            problems.push(problem);
            Vec::new()
        });

    let mut projects = Vec::new();
    match project_files(dir) {
        Ok(paths) => {
            for path in paths {
                match read_yaml::<Project>(&path) {
                    Ok(project) => projects.push((path, project)),
                    Err(problem) => problems.push(problem),
                }
            }
        }
        Err(problem) => problems.push(problem),
    }

    check_organizations(&organizations_path, &organizations, &mut problems);
    let known: HashSet<&Slug> = organizations.iter().map(|o| &o.slug).collect();
    let mut seen_projects: HashMap<&Slug, &Path> = HashMap::new();
    for (path, project) in &projects {
        if let Some(first) = seen_projects.insert(&project.slug, path) {
            problems.push(error(
                path,
                "slug",
                format!("`{}` is also the slug of {}", project.slug, first.display()),
            ));
        }
        check_project(path, project, &known, &mut problems);
    }

    if problems.is_empty() {
        Ok(Catalogue {
            organizations,
            projects: projects.into_iter().map(|(_, project)| project).collect(),
        })
    } else {
        Err(LoadError { problems })
    }
}

fn error(file: &Path, field: impl Into<String>, message: impl Into<String>) -> FileError {
    FileError {
        file: file.to_owned(),
        field: field.into(),
        message: message.into(),
    }
}

/// The project files of `dir`: every `.yaml`/`.yml` but the organizations file, in name order.
fn project_files(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| error(dir, "-", format!("cannot read the directory: {e}")))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| error(dir, "-", format!("cannot read the directory: {e}")))?
            .path();
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        let is_organizations = path
            .file_name()
            .is_some_and(|name| name == ORGANIZATIONS_FILE);
        if is_yaml && !is_organizations {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

fn read_yaml<T: DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| error(path, "-", format!("cannot read the file: {e}")))?;
    let deserializer = serde_yaml_ng::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { "-".to_owned() } else { field };
        error(path, field, e.into_inner().to_string())
    })
}

fn check_organizations(path: &Path, organizations: &[Organization], problems: &mut Vec<FileError>) {
    let mut seen = HashSet::new();
    for (i, organization) in organizations.iter().enumerate() {
        if !seen.insert(&organization.slug) {
            problems.push(error(
                path,
                format!("organizations[{i}].slug"),
                format!("`{}` appears twice", organization.slug),
            ));
        }
        let identified = organization.siret.is_some()
            || organization.siren.is_some()
            || organization.website.is_some();
        if identified && organization.sources.is_empty() {
            problems.push(error(
                path,
                format!("organizations[{i}].sources"),
                "list the public source the SIRET, SIREN or website was read from",
            ));
        }
        if let (Some(siret), Some(siren)) = (&organization.siret, &organization.siren)
            && !siret.as_str().starts_with(siren.as_str())
        {
            problems.push(error(
                path,
                format!("organizations[{i}].siret"),
                format!(
                    "`{}` is not an establishment of the SIREN `{}` (its first nine digits)",
                    siret.as_str(),
                    siren.as_str()
                ),
            ));
        }
        check_sources(
            path,
            &format!("organizations[{i}].sources"),
            &organization.sources,
            problems,
        );
    }
}

/// A GitHub page of a file or folder read as a source names the commit it
/// was read at: a branch moves on, and the fact with it.
fn check_sources(path: &Path, list: &str, sources: &[Source], problems: &mut Vec<FileError>) {
    for (i, source) in sources.iter().enumerate() {
        let url = &source.url;
        let segments = url.path_segments();
        let revision = match (url.host(), segments.as_slice()) {
            ("github.com", [_, _]) => {
                problems.push(error(
                    path,
                    format!("{list}[{i}].url"),
                    "a whole repository is no source: name the file read, pinned to its commit \
                     (…/blob/<commit>/README.md)",
                ));
                None
            }
            ("github.com", [_, _, "blob" | "tree", revision, ..]) => Some(*revision),
            ("raw.githubusercontent.com", [_, _, revision, ..]) => Some(*revision),
            _ => None,
        };
        if let Some(revision) = revision
            && !is_commit(revision)
        {
            problems.push(error(
                path,
                format!("{list}[{i}].url"),
                format!(
                    "`{revision}` is a branch or tag: pin the source to the full commit it was read at"
                ),
            ));
        }
    }
}

fn is_commit(revision: &str) -> bool {
    revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An unsure fact says why.
fn check_confidence(
    path: &Path,
    entry: &str,
    confidence: Confidence,
    note: Option<&Label>,
    problems: &mut Vec<FileError>,
) {
    if confidence == Confidence::Unsure && note.is_none() {
        problems.push(error(
            path,
            format!("{entry}.note"),
            "an unsure fact says in `note` why it is unsure",
        ));
    }
}

fn check_project(
    path: &Path,
    project: &Project,
    organizations: &HashSet<&Slug>,
    problems: &mut Vec<FileError>,
) {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem != project.slug.as_str() {
        problems.push(error(
            path,
            "slug",
            format!(
                "`{}` does not match the file name (expected `{stem}`)",
                project.slug
            ),
        ));
    }
    if project.sources.is_empty() {
        problems.push(error(
            path,
            "sources",
            "list at least one public source the facts come from",
        ));
    }
    check_sources(path, "sources", &project.sources, problems);
    let entries = [
        project
            .organizations
            .iter()
            .map(|p| (p.confidence, p.note.as_ref()))
            .collect::<Vec<_>>(),
        project
            .repositories
            .iter()
            .map(|l| (l.confidence, l.note.as_ref()))
            .collect(),
        project
            .datasets
            .iter()
            .map(|l| (l.confidence, l.note.as_ref()))
            .collect(),
        project
            .links
            .iter()
            .map(|l| (l.confidence, l.note.as_ref()))
            .collect(),
    ];
    for (list, entries) in ["organizations", "repositories", "datasets", "links"]
        .into_iter()
        .zip(entries)
    {
        for (i, (confidence, note)) in entries.into_iter().enumerate() {
            check_confidence(path, &format!("{list}[{i}]"), confidence, note, problems);
        }
    }
    for (i, used) in project.uses.iter().enumerate() {
        if !organizations.contains(&used.organization) {
            problems.push(error(
                path,
                format!("uses[{i}].organization"),
                format!("`{}` is not in {ORGANIZATIONS_FILE}", used.organization),
            ));
        }
    }
    for (i, participation) in project.organizations.iter().enumerate() {
        if !organizations.contains(&participation.organization) {
            problems.push(error(
                path,
                format!("organizations[{i}].organization"),
                format!(
                    "`{}` is not in {ORGANIZATIONS_FILE}",
                    participation.organization
                ),
            ));
        }
    }
    report_duplicates(
        path,
        "organizations",
        "organization",
        project
            .organizations
            .iter()
            .map(|p| p.organization.to_string()),
        problems,
    );
    report_duplicates(
        path,
        "seasons",
        "",
        project.seasons.iter().map(|s| s.number().to_string()),
        problems,
    );
    report_duplicates(
        path,
        "tags",
        "",
        project.tags.iter().map(|t| {
            Slug::from_label(t)
                .map(|s| s.to_string())
                .unwrap_or_default()
        }),
        problems,
    );
    for (i, tag) in project.tags.iter().enumerate() {
        if let Err(e) = Slug::from_label(tag) {
            problems.push(error(
                path,
                format!("tags[{i}]"),
                format!("cannot make a slug of this tag: {e}"),
            ));
        }
    }
    report_duplicates(
        path,
        "repositories",
        "url",
        project.repositories.iter().map(|l| l.url.to_string()),
        problems,
    );
    report_duplicates(
        path,
        "datasets",
        "url",
        project.datasets.iter().map(|l| l.url.to_string()),
        problems,
    );
    report_duplicates(
        path,
        "links",
        "url",
        project.links.iter().map(|l| l.url.to_string()),
        problems,
    );
}

/// Reports each value of `values` seen before, at `list[i].field`.
fn report_duplicates(
    path: &Path,
    list: &str,
    field: &str,
    values: impl Iterator<Item = String>,
    problems: &mut Vec<FileError>,
) {
    let mut seen = HashSet::new();
    for (i, value) in values.enumerate() {
        if !seen.insert(value.clone()) {
            let place = if field.is_empty() {
                format!("{list}[{i}]")
            } else {
                format!("{list}[{i}].{field}")
            };
            problems.push(error(path, place, format!("`{value}` appears twice")));
        }
    }
}
