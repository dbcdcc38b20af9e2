//! CSV exports of the projects, repositories and datasets lists: UTF-8
//! with a byte-order mark (so that spreadsheets read the accents right),
//! RFC 4180 records (CRLF, fields quoted when they hold a comma, a quote or
//! a line break). A cell holding several values (tags, organizations)
//! separates them with `; `; the organizations' columns list the same
//! organizations in the same order, so their SIRETs line up with their slugs.

use serde_json::Value;

/// One export: its fixed document, the connection it pages through, the
/// GraphQL input type its filters are, and its columns (in groups).
pub struct Table {
    pub document: &'static str,
    pub connection: &'static str,
    pub filter_type: &'static str,
    columns: &'static [&'static [Column]],
}

/// A column: its header and how a row's cell is read from a node.
struct Column {
    header: &'static str,
    cell: fn(&Value) -> String,
}

/// The separator of several values in one cell.
const SEPARATOR: &str = "; ";

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// What `read` gives for every item of the list `value`, joined.
fn each(value: &Value, read: impl Fn(&Value) -> String) -> String {
    value
        .as_array()
        .map(|items| items.iter().map(read).collect::<Vec<_>>().join(SEPARATOR))
        .unwrap_or_default()
}

/// One field of each organization of a project's `organizations`
/// (participations): `role` is the participation's, others the organization's.
fn organizations(participations: &Value, field: &str) -> String {
    each(participations, |participation| match field {
        "role" => text(&participation["role"]),
        _ => text(&participation["organization"][field]),
    })
}

/// The selection of a link's project: what [`PROJECT_OF_LINK`] writes.
macro_rules! project_of_link {
    () => {
        "project { slug name organizations { role organization { slug siret } } }"
    };
}

/// The columns every row of a repository or dataset carries about its project.
const PROJECT_OF_LINK: &[Column] = &[
    Column {
        header: "project_slug",
        cell: |node| text(&node["project"]["slug"]),
    },
    Column {
        header: "project_name",
        cell: |node| text(&node["project"]["name"]),
    },
    Column {
        header: "organization_slugs",
        cell: |node| organizations(&node["project"]["organizations"], "slug"),
    },
    Column {
        header: "organization_roles",
        cell: |node| organizations(&node["project"]["organizations"], "role"),
    },
    Column {
        header: "organization_sirets",
        cell: |node| organizations(&node["project"]["organizations"], "siret"),
    },
];

/// `projects.csv`.
pub const PROJECTS: Table = Table {
    document: "query ExportProjects($filter: ProjectFilter, $first: Int, $after: String) {
  projects(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id slug name summary status seasons license website documentation createdAt updatedAt
      tags { slug } organizations { role organization { slug name siret siren } }
      repositories { url } datasets { url } } } }",
    connection: "projects",
    filter_type: "ProjectFilter",
    columns: &[&[
        Column {
            header: "id",
            cell: |node| text(&node["id"]),
        },
        Column {
            header: "slug",
            cell: |node| text(&node["slug"]),
        },
        Column {
            header: "name",
            cell: |node| text(&node["name"]),
        },
        Column {
            header: "summary",
            cell: |node| text(&node["summary"]),
        },
        Column {
            header: "status",
            cell: |node| text(&node["status"]),
        },
        Column {
            header: "seasons",
            cell: |node| each(&node["seasons"], text),
        },
        Column {
            header: "license",
            cell: |node| text(&node["license"]),
        },
        Column {
            header: "website",
            cell: |node| text(&node["website"]),
        },
        Column {
            header: "documentation",
            cell: |node| text(&node["documentation"]),
        },
        Column {
            header: "tags",
            cell: |node| each(&node["tags"], |tag| text(&tag["slug"])),
        },
        Column {
            header: "organization_slugs",
            cell: |node| organizations(&node["organizations"], "slug"),
        },
        Column {
            header: "organization_names",
            cell: |node| organizations(&node["organizations"], "name"),
        },
        Column {
            header: "organization_roles",
            cell: |node| organizations(&node["organizations"], "role"),
        },
        Column {
            header: "organization_sirets",
            cell: |node| organizations(&node["organizations"], "siret"),
        },
        Column {
            header: "organization_sirens",
            cell: |node| organizations(&node["organizations"], "siren"),
        },
        Column {
            header: "repositories",
            cell: |node| each(&node["repositories"], |r| text(&r["url"])),
        },
        Column {
            header: "datasets",
            cell: |node| each(&node["datasets"], |d| text(&d["url"])),
        },
        Column {
            header: "created_at",
            cell: |node| text(&node["createdAt"]),
        },
        Column {
            header: "updated_at",
            cell: |node| text(&node["updatedAt"]),
        },
    ]],
};

/// `repositories.csv`.
pub const REPOSITORIES: Table = Table {
    document: concat!(
        "query ExportRepositories($filter: RepositoryFilter, $first: Int, $after: String) {
  repositories(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id url forge owner name role language license stars forks archived lastActivityAt ",
        project_of_link!(),
        " } } }"
    ),
    connection: "repositories",
    filter_type: "RepositoryFilter",
    columns: &[
        &[
            Column {
                header: "id",
                cell: |node| text(&node["id"]),
            },
            Column {
                header: "url",
                cell: |node| text(&node["url"]),
            },
            Column {
                header: "forge",
                cell: |node| text(&node["forge"]),
            },
            Column {
                header: "owner",
                cell: |node| text(&node["owner"]),
            },
            Column {
                header: "name",
                cell: |node| text(&node["name"]),
            },
            Column {
                header: "role",
                cell: |node| text(&node["role"]),
            },
            Column {
                header: "language",
                cell: |node| text(&node["language"]),
            },
            Column {
                header: "license",
                cell: |node| text(&node["license"]),
            },
            Column {
                header: "stars",
                cell: |node| text(&node["stars"]),
            },
            Column {
                header: "forks",
                cell: |node| text(&node["forks"]),
            },
            Column {
                header: "archived",
                cell: |node| text(&node["archived"]),
            },
            Column {
                header: "last_activity_at",
                cell: |node| text(&node["lastActivityAt"]),
            },
        ],
        PROJECT_OF_LINK,
    ],
};

/// `datasets.csv`.
pub const DATASETS: Table = Table {
    document: concat!(
        "query ExportDatasets($filter: DatasetFilter, $first: Int, $after: String) {
  datasets(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id url title provider license publisher updatedAt resources { url } ",
        project_of_link!(),
        " } } }"
    ),
    connection: "datasets",
    filter_type: "DatasetFilter",
    columns: &[
        &[
            Column {
                header: "id",
                cell: |node| text(&node["id"]),
            },
            Column {
                header: "url",
                cell: |node| text(&node["url"]),
            },
            Column {
                header: "title",
                cell: |node| text(&node["title"]),
            },
            Column {
                header: "provider",
                cell: |node| text(&node["provider"]),
            },
            Column {
                header: "license",
                cell: |node| text(&node["license"]),
            },
            Column {
                header: "publisher",
                cell: |node| text(&node["publisher"]),
            },
            Column {
                header: "updated_at",
                cell: |node| text(&node["updatedAt"]),
            },
            Column {
                header: "resources",
                cell: |node| each(&node["resources"], |r| text(&r["url"])),
            },
        ],
        PROJECT_OF_LINK,
    ],
};

/// The UTF-8 byte-order mark.
const BOM: &[u8] = "\u{feff}".as_bytes();

impl Table {
    /// The CSV file of `nodes`: the mark, the headers, a record per node.
    pub fn write(&self, nodes: &[Value]) -> Vec<u8> {
        let mut writer = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(BOM.to_vec());
        let columns = || self.columns.iter().flat_map(|group| group.iter());
        let written = writer
            .write_record(columns().map(|column| column.header))
            .and_then(|()| {
                nodes.iter().try_for_each(|node| {
                    writer.write_record(columns().map(|column| (column.cell)(node)))
                })
            });
        // Writing into memory fails only when out of it.
        written.expect("a CSV record is written into memory");
        writer
            .into_inner()
            .expect("a CSV file in memory is flushed")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_file_starts_with_the_mark_and_quotes_what_rfc_4180_says() {
        let node = json!({
            "id": "UmVwb3NpdG9yeTox", "url": "https://github.com/a/b", "forge": "GITHUB",
            "owner": "a", "name": "b, \"the\"\nbest", "role": "MAIN", "language": null,
            "license": "MIT", "stars": 3, "forks": 0, "archived": false, "lastActivityAt": null,
            "project": { "slug": "p", "name": "P", "organizations": [
                { "role": "SPONSOR", "organization": { "slug": "insee", "siret": "12000101100010" } },
                { "role": "CONTRIBUTOR", "organization": { "slug": "x", "siret": null } } ] }
        });
        let file = REPOSITORIES.write(&[node]);
        let text = std::str::from_utf8(&file[3..]).unwrap();
        assert_eq!(&file[..3], b"\xef\xbb\xbf");
        assert_eq!(
            text,
            "id,url,forge,owner,name,role,language,license,stars,forks,archived,last_activity_at,\
             project_slug,project_name,organization_slugs,organization_roles,organization_sirets\r\n\
             UmVwb3NpdG9yeTox,https://github.com/a/b,GITHUB,a,\"b, \"\"the\"\"\nbest\",MAIN,,MIT,3,0,false,,\
             p,P,insee; x,SPONSOR; CONTRIBUTOR,12000101100010; \r\n"
        );
    }
}
