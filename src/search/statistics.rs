//! BM25 statistics over what the public reads.
//!
//! Tantivy's own statistics count every document of the index, agents-only
//! ones included (and deleted ones, until a merge drops them): an anonymous
//! caller's scores, and so the order of its hits, would move when agents-only
//! documents containing a word are added, telling that they exist. Anonymous
//! searches are scored with statistics computed from the public documents
//! alive in the searcher instead, so their answers depend on public documents
//! only. Agents, who may read everything, keep tantivy's statistics.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocSet, Searcher, TERMINATED, Term};

use crate::catalogue::Access;

/// The statistics of the public documents of one searcher.
pub struct PublicStatistics {
    searcher: Searcher,
    /// By segment, the public documents not deleted.
    public: Vec<BitSet>,
    documents: u64,
    /// By field, the tokens of the public documents: computed when first asked.
    tokens: Mutex<HashMap<Field, u64>>,
}

impl PublicStatistics {
    /// Finds the public documents of `searcher`; `access` is the field that
    /// says who reads a document.
    pub fn new(searcher: Searcher, access: Field) -> tantivy::Result<Self> {
        let term = Term::from_field_text(access, Access::Public.as_db());
        let mut public = Vec::with_capacity(searcher.segment_readers().len());
        let mut documents = 0;
        for segment in searcher.segment_readers() {
            let mut set = BitSet::with_max_value(segment.max_doc());
            if let Some(mut postings) = segment
                .inverted_index(access)?
                .read_postings(&term, IndexRecordOption::Basic)?
            {
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if !segment.is_deleted(doc) {
                        set.insert(doc);
                        documents += 1;
                    }
                    doc = postings.advance();
                }
            }
            public.push(set);
        }
        Ok(Self {
            searcher,
            public,
            documents,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// The generation of the searcher these statistics describe.
    pub fn generation(&self) -> u64 {
        self.searcher.generation().generation_id()
    }
}

impl Bm25StatisticsProvider for PublicStatistics {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(&total) = tokens.get(&field) {
            return Ok(total);
        }
        // A document's length as scoring reads it (its field norm, rounded
        // down beyond 40 tokens), so the average is in the same units.
        let mut total = 0;
        for (segment, public) in self.searcher.segment_readers().iter().zip(&self.public) {
            let norms = segment.get_fieldnorms_reader(field)?;
            total += (0..segment.max_doc())
                .filter(|&doc| public.contains(doc))
                .map(|doc| u64::from(norms.fieldnorm(doc)))
                .sum::<u64>();
        }
        tokens.insert(field, total);
        Ok(total)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.documents)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let mut count = 0;
        for (segment, public) in self.searcher.segment_readers().iter().zip(&self.public) {
            let Some(mut postings) = segment
                .inverted_index(term.field())?
                .read_postings(term, IndexRecordOption::Basic)?
            else {
                continue;
            };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if public.contains(doc) {
                    count += 1;
                }
                doc = postings.advance();
            }
        }
        Ok(count)
    }
}
