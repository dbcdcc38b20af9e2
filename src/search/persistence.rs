//! Where a replica keeps its index between starts: a directory of its own
//! (`CATALOGUE_SEARCH_INDEX_DIR`), or memory when none is set or it cannot be
//! used. Each commit records in tantivy's commit payload the index's format
//! and the journal revision it holds, with the time that revision was
//! recorded: a restart opens the index and replays only the later changes
//! (decision 0027). An index of another format is rebuilt; one whose revision
//! the journal no longer holds at that time (another database, or a journal
//! pruned since) too.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tantivy::directory::MmapDirectory;
use tantivy::schema::Schema;
use tantivy::{Index, IndexWriter, TantivyError};

use super::SearchError;

/// Bumped whenever what `documents.rs` indexes or how `analysis.rs` reads
/// it changes in a way the schema does not show: older indexes are rebuilt.
const INDEX_FORMAT: u32 = 1;

/// The indexing memory budget (tantivy's minimum is 15 MB).
const WRITER_MEMORY_BYTES: usize = 32 * 1024 * 1024;

/// What a commit holds: written as its payload, read back at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every change up to this revision is in the index.
    pub revision: i64,
    /// When the journal recorded `revision`; `None` for revision 0 (an
    /// empty journal), which nothing identifies.
    pub recorded_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    format: String,
    #[serde(flatten)]
    snapshot: Snapshot,
}

/// An index ready to write to, and what its last commit held when it was
/// opened from a directory of the same format.
pub struct Opened {
    pub index: Index,
    pub writer: IndexWriter,
    pub saved: Option<Snapshot>,
    /// The format commits record, for `payload`.
    pub format: String,
}

/// Opens the index in `dir` (created when absent, emptied when its schema
/// differs), or an index in memory when `dir` is `None`, taken by another
/// process or unusable (read-only, say): a replica without its directory
/// still serves, only starts slower.
pub fn open(dir: Option<&Path>, schema: &Schema, synonyms: &str) -> Result<Opened, SearchError> {
    let format = format(schema, synonyms);
    if let Some(dir) = dir {
        match open_in(dir, schema) {
            Ok((index, writer)) => {
                let saved = saved_snapshot(&index, &format);
                return Ok(Opened {
                    index,
                    writer,
                    saved,
                    format,
                });
            }
            Err(SearchError::Index(TantivyError::LockFailure(..))) => tracing::warn!(
                dir = %dir.display(),
                "another process writes the search index in CATALOGUE_SEARCH_INDEX_DIR: \
                 this one keeps its index in memory (give each replica a directory of its own)"
            ),
            Err(error) => tracing::warn!(
                dir = %dir.display(),
                %error,
                "cannot keep the search index in CATALOGUE_SEARCH_INDEX_DIR: \
                 it is kept in memory and rebuilt at each start"
            ),
        }
    }
    let index = Index::create_in_ram(schema.clone());
    let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
    Ok(Opened {
        index,
        writer,
        saved: None,
        format,
    })
}

fn open_in(dir: &Path, schema: &Schema) -> Result<(Index, IndexWriter), SearchError> {
    std::fs::create_dir_all(dir).map_err(|error| SearchError::Directory {
        dir: dir.to_owned(),
        error,
    })?;
    let directory = || {
        MmapDirectory::open(dir).map_err(|error| SearchError::Directory {
            dir: dir.to_owned(),
            error: std::io::Error::other(error),
        })
    };
    let index = match Index::open_or_create(directory()?, schema.clone()) {
        Ok(index) => index,
        Err(TantivyError::SchemaError(_)) => {
            tracing::info!(dir = %dir.display(), "the search index on disk has another schema: rebuilding it");
            empty(dir)?;
            Index::create(
                directory()?,
                schema.clone(),
                tantivy::IndexSettings::default(),
            )?
        }
        Err(error) => return Err(error.into()),
    };
    let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
    Ok((index, writer))
}

/// Removes the files of `dir` (not the directory: it may be a mount).
fn empty(dir: &Path) -> Result<(), SearchError> {
    let failed = |error| SearchError::Directory {
        dir: dir.to_owned(),
        error,
    };
    for entry in std::fs::read_dir(dir).map_err(failed)? {
        let path = entry.map_err(failed)?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(failed)?;
        } else {
            std::fs::remove_file(&path).map_err(failed)?;
        }
    }
    Ok(())
}

/// What the last commit of `index` holds, if it was written in `format`.
fn saved_snapshot(index: &Index, format: &str) -> Option<Snapshot> {
    let payload = index.load_metas().ok()?.payload?;
    let payload: Payload = serde_json::from_str(&payload).ok()?;
    (payload.format == format).then_some(payload.snapshot)
}

/// The payload a commit holding `snapshot` records.
pub fn payload(format: &str, snapshot: Snapshot) -> String {
    serde_json::to_string(&Payload {
        format: format.to_owned(),
        snapshot,
    })
    .expect("a payload serialises")
}

/// The format of the documents: `INDEX_FORMAT`, the schema and the synonyms.
fn format(schema: &Schema, synonyms: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(serde_json::to_vec(schema).expect("a schema serialises"));
    digest.update(synonyms.as_bytes());
    let digest = digest.finalize();
    let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{INDEX_FORMAT}-{short}")
}
