//! `catalogue-gateway import`: checks every file before writing, names the
//! file and field of each problem, writes nothing when one is found, and
//! running it twice leaves the database as it was.

use crate::common;

use std::path::Path;

use common::{Backend, TestDatabase, catalogue_copy, catalogue_dir, edit, snapshot};

fn import(database: &TestDatabase, dir: &Path) -> (bool, String, String) {
    common::run_import(&database.url, dir)
}

async fn importing_twice_changes_nothing(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let (ok, stdout, stderr) = import(&database, &catalogue_dir());
    assert!(ok, "{stderr}");
    assert!(stdout.contains("8 created"), "{stdout}");
    let db = database.connect().await;
    let first = snapshot(&db).await;

    let (ok, stdout, stderr) = import(&database, &catalogue_dir());
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("0 created, 0 updated, 8 unchanged"),
        "{stdout}"
    );
    assert_eq!(
        snapshot(&db).await,
        first,
        "a second import changed the database"
    );
}

async fn an_edit_updates_in_place_and_keeps_ids(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    assert!(import(&database, &catalogue_dir()).0);
    let db = database.connect().await;
    let before = snapshot(&db).await;

    let dir = catalogue_copy();
    edit(
        dir.path(),
        "poufdoc.yaml",
        "slug: poufdoc\n",
        "slug: poufdoc\nstatus: completed\n",
    );
    let (ok, stdout, stderr) = import(&database, dir.path());
    assert!(ok, "{stderr}");
    assert!(stdout.contains("1 updated, 7 unchanged"), "{stdout}");
    let after = snapshot(&db).await;
    let poufdoc = |s: &serde_json::Value| {
        s["project"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["slug"] == "poufdoc")
            .unwrap()
            .clone()
    };
    assert_eq!(
        poufdoc(&after)["version"],
        poufdoc(&before)["version"].as_i64().unwrap() + 1
    );
    assert_eq!(poufdoc(&after)["status"], "COMPLETED");
    assert_eq!(poufdoc(&after)["id"], poufdoc(&before)["id"]);
    for table in ["repository", "dataset", "link", "organization"] {
        assert_eq!(
            after[table], before[table],
            "{table} rows kept their ids and content"
        );
    }
}

/// Each kind of bad file: (what to break, file, from, to, the file and field the error must name).
const SPOILERS: [(&str, &str, &str, &str, &str); 14] = [
    (
        "unknown key",
        "cartiflette.yaml",
        "slug: cartiflette\n",
        "slug: cartiflette\nstars: 12\n",
        "cartiflette.yaml: stars:",
    ),
    (
        "bad URL",
        "chartsgouv.yaml",
        "url: https://github.com/etalab-ia/chartsgouv\n",
        "url: github.com/etalab-ia/chartsgouv\n",
        "chartsgouv.yaml: repositories[0].url:",
    ),
    (
        "duplicate slug",
        "poufdoc.yaml",
        "slug: poufdoc\n",
        "slug: cartiflette\n",
        "poufdoc.yaml: slug:",
    ),
    (
        "dangling organization",
        "transformers.yaml",
        "organization: dinum\n",
        "organization: ministere-de-la-magie\n",
        "transformers.yaml: organizations[0].organization:",
    ),
    (
        "unknown vocabulary",
        "formiable.yaml",
        "provider: object-storage",
        "provider: floppy-disk",
        "formiable.yaml: datasets[0].provider:",
    ),
    (
        "duplicate organization slug",
        "organizations.yaml",
        "slug: ditp\n",
        "slug: dinum\n",
        "organizations.yaml: organizations[2].slug:",
    ),
    (
        "bad slug",
        "organizations.yaml",
        "slug: insee\n",
        "slug: INSEE\n",
        "organizations.yaml: organizations[1].slug:",
    ),
    (
        "source without an address",
        "poufdoc.yaml",
        "sources:\n",
        "sources:\n  - title: Page lue quelque part\n",
        "poufdoc.yaml: sources[0]:",
    ),
    (
        "source on a branch",
        "poufdoc.yaml",
        "sources:\n",
        "sources:\n  - title: README\n    url: https://github.com/cdugeai/poufdoc/blob/main/README.md\n",
        "poufdoc.yaml: sources[0].url:",
    ),
    (
        "a whole repository as source",
        "poufdoc.yaml",
        "sources:\n",
        "sources:\n  - title: Le dépôt\n    url: https://github.com/cdugeai/poufdoc\n",
        "poufdoc.yaml: sources[0].url:",
    ),
    (
        "unsure fact without a note",
        "transformers.yaml",
        "organization: dinum\n",
        "organization: dinum\n    confidence: unsure\n",
        "transformers.yaml: organizations[0].note:",
    ),
    (
        "SIRET without a source",
        "organizations.yaml",
        "organizations:\n",
        "organizations:\n  - slug: sans-source\n    name: Sans source\n    kind: other\n    siret: \"13002526500013\"\n",
        "organizations.yaml: organizations[0].sources:",
    ),
    (
        "SIRET of another SIREN",
        "organizations.yaml",
        "organizations:\n",
        "organizations:\n  - slug: autre-siren\n    name: Autre SIREN\n    kind: other\n    siret: \"13002526500013\"\n    siren: \"120027016\"\n    sources:\n      - title: Registre\n        url: https://example.org/registre\n        date: 2026-12-07\n",
        "organizations.yaml: organizations[0].siret:",
    ),
    (
        "YAML syntax",
        "cartiflette.yaml",
        "slug: cartiflette\n",
        "slug: [cartiflette\n",
        "cartiflette.yaml:",
    ),
];

async fn bad_files_are_refused_naming_file_and_field_and_nothing_is_written(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    assert!(import(&database, &catalogue_dir()).0);
    let db = database.connect().await;
    let before = snapshot(&db).await;

    for (what, file, from, to, named) in SPOILERS {
        let dir = catalogue_copy();
        // A valid change elsewhere proves that nothing at all is written.
        edit(
            dir.path(),
            "trouver-mon-expert-data.yaml",
            "slug: trouver-mon-expert-data\n",
            "slug: trouver-mon-expert-data\nstatus: archived\n",
        );
        edit(dir.path(), file, from, to);
        let (ok, _, stderr) = import(&database, dir.path());
        assert!(!ok, "{what}: the import succeeded");
        assert!(
            stderr.contains(named),
            "{what}: the error does not name `{named}`:\n{stderr}"
        );
        assert!(stderr.contains("nothing was written"), "{what}: {stderr}");
        assert_eq!(snapshot(&db).await, before, "{what}: the database changed");
    }
}

on_both_backends!(
    importing_twice_changes_nothing,
    an_edit_updates_in_place_and_keeps_ids,
    bad_files_are_refused_naming_file_and_field_and_nothing_is_written,
);
