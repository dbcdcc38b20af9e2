//! A `publiccode.yml` draft for a project, for its maintainers to complete
//! and commit to their repository (code.gouv.fr and Developers Italia read
//! it). Every value written is one the catalogue states; each key the
//! standard makes mandatory that the catalogue cannot fill is a comment
//! starting with `# FILL IN:`, saying what the standard accepts there.
//! Citations are to the standard's "The Standard (core)" page.
//!
//! Strings are written as double-quoted scalars with JSON's escapes, which
//! are also YAML's: whatever a field holds, the file parses as written.

use serde_json::Value;

use super::schema_org::project_page;

/// What the draft is written from: the catalogue's facts and what the
/// main repository's own `publiccode.yml` says, when it has one.
pub const DOCUMENT: &str = "query PubliccodeDraft($slug: String!) { project(slug: $slug) {
  slug name summary description status license documentation
  publiccode { shortDescription longDescription license developmentStatus maintenanceType categories }
  repositories { url role license } } }";

/// The version of the standard the draft follows.
const VERSION: &str = "0.4";

/// The bounds of `description/[lang]/shortDescription` and `longDescription`.
const SHORT_MAX: usize = 150;
const LONG_MIN: usize = 150;
const LONG_MAX: usize = 10_000;

/// `text` as a double-quoted scalar: JSON's escapes, and the line breaks
/// YAML 1.1 readers also break lines at (NEL, LS, PS) escaped too.
fn quoted(text: &str) -> String {
    serde_json::to_string(text)
        .expect("a string serialises")
        .replace('\u{85}', "\\u0085")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// The draft's lines.
struct Draft(Vec<String>);

impl Draft {
    fn line(&mut self, line: impl Into<String>) {
        self.0.push(line.into());
    }

    /// `key: "value"` at `indent`, or the placeholder `fill_in` when the
    /// catalogue does not know the value.
    fn text(&mut self, indent: &str, key: &str, value: Option<&str>, fill_in: &str) {
        match value {
            Some(value) => self.line(format!("{indent}{key}: {}", quoted(value))),
            None => self.line(format!("{indent}# FILL IN: {key}: {fill_in}")),
        }
    }
}

fn text(value: &Value) -> Option<&str> {
    value.as_str().filter(|text| !text.trim().is_empty())
}

/// The draft of `project` (the `project` of [`DOCUMENT`]'s answer); `base`
/// is the gateway's public URL.
pub fn write(project: &Value, base: &str) -> String {
    let slug = project["slug"].as_str().unwrap_or_default();
    let publiccode = &project["publiccode"];
    let repositories = project["repositories"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let main = repositories
        .iter()
        .find(|repository| repository["role"] == "MAIN");
    let mut draft = Draft(Vec::new());
    // Comments name the project by its slug: a name could break a line.
    draft.line(format!(
        "# A publiccode.yml draft for the project {slug}, written by the catalogue of the"
    ));
    draft.line(format!(
        "# programme 10 % ({}) from what it knows of it.",
        project_page(base, slug)
    ));
    draft.line("# Complete each `# FILL IN:` line, check every value, then commit the file at");
    draft.line("# the root of the repository. The standard: https://yml.publiccode.tools/");
    draft.line(format!("publiccodeYmlVersion: {}", quoted(VERSION)));
    draft.text("", "name", text(&project["name"]), "the software's name");
    draft.text(
        "",
        "url",
        main.and_then(|repository| text(&repository["url"])),
        "the URL of the source code repository",
    );
    draft
        .line("# FILL IN: platforms: where users reach it: web, windows, mac, linux, ios, android");
    let categories: Vec<&str> = publiccode["categories"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if categories.is_empty() {
        draft.line(
            "# FILL IN: categories: a list from https://yml.publiccode.tools/categories-list.html",
        );
    } else {
        draft.line("categories:");
        for category in categories {
            draft.line(format!("  - {}", quoted(category)));
        }
    }
    let development_status = text(&publiccode["developmentStatus"])
        .or_else(|| (project["status"] == "ARCHIVED").then_some("obsolete"));
    draft.text(
        "",
        "developmentStatus",
        development_status,
        "concept, development, beta, stable or obsolete",
    );
    draft.line(
        "# FILL IN: softwareType: standalone/web, standalone/backend, standalone/desktop, \
         standalone/mobile, standalone/iot, standalone/other, addon, library or configurationFiles",
    );
    draft.line("description:");
    draft.line("  fr:");
    let short = text(&publiccode["shortDescription"])
        .or_else(|| text(&project["summary"]))
        .filter(|short| short.chars().count() <= SHORT_MAX);
    draft.text(
        "    ",
        "shortDescription",
        short,
        "one sentence of at most 150 characters",
    );
    let long = text(&publiccode["longDescription"])
        .or_else(|| text(&project["description"]))
        .filter(|long| (LONG_MIN..=LONG_MAX).contains(&long.chars().count()));
    draft.text(
        "    ",
        "longDescription",
        long,
        "what the software does for its users, 150 to 10,000 characters",
    );
    if let Some(documentation) = text(&project["documentation"]) {
        draft.line(format!("    documentation: {}", quoted(documentation)));
    }
    draft.line("    # FILL IN: features: a list of what users can do with it");
    draft.line("legal:");
    let license = text(&publiccode["license"])
        .or_else(|| text(&project["license"]))
        .or_else(|| main.and_then(|repository| text(&repository["license"])));
    draft.text(
        "  ",
        "license",
        license,
        "an SPDX expression, e.g. EUPL-1.2",
    );
    draft.line("maintenance:");
    draft.text(
        "  ",
        "type",
        text(&publiccode["maintenanceType"]),
        "internal, contract, community or none",
    );
    draft.line(
        "  # FILL IN: contacts (for internal or community maintenance): a list of {name, email, affiliation}",
    );
    draft.line("localisation:");
    draft.line("  # FILL IN: localisationReady: true or false");
    draft.line("  # FILL IN: availableLanguages: a list of BCP 47 tags, e.g. fr");
    draft.line("# The standard defines one country section, Italy's (it:); none for France.");
    let mut file = draft.0.join("\n");
    file.push('\n');
    file
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn hostile_text_stays_one_yaml_string() {
        let hostile = "a\"b: c\n- d # e\u{2028}f\u{85}\\";
        let project = json!({
            "slug": "p", "name": hostile, "summary": hostile, "description": "", "status": "ARCHIVED",
            "license": null, "documentation": null, "publiccode": null,
            "repositories": [{ "url": "https://github.com/a/p", "role": "MAIN", "license": "MIT" }]
        });
        let draft = write(&project, "https://catalogue.example");
        let parsed: serde_yaml_ng::Value = serde_yaml_ng::from_str(&draft).unwrap();
        assert_eq!(parsed["name"].as_str(), Some(hostile));
        assert_eq!(
            parsed["description"]["fr"]["shortDescription"].as_str(),
            Some(hostile)
        );
        assert_eq!(parsed["developmentStatus"].as_str(), Some("obsolete"));
        assert_eq!(parsed["legal"]["license"].as_str(), Some("MIT"));
    }
}
