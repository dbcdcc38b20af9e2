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
use tantivy::{BitSet, DocId, DocSet, Searcher, SegmentReader, TERMINATED, Term};

use crate::catalogue::Access;

/// The public documents of one generation of searchers. It holds no
/// segment: an older generation's stay freed once replaced.
pub struct PublicDocuments {
    generation: u64,
    /// By segment, the public documents not deleted.
    public: Vec<BitSet>,
    /// By segment, the other documents (agents-only or deleted), in order.
    hidden: Vec<Vec<DocId>>,
    count: u64,
    /// By field, their tokens: computed when first asked.
    tokens: Mutex<HashMap<Field, u64>>,
}

impl PublicDocuments {
    /// Finds the public documents of `searcher`; `access` is the field that
    /// says who reads a document.
    pub fn find(searcher: &Searcher, access: Field) -> tantivy::Result<Self> {
        let term = Term::from_field_text(access, Access::Public.as_db());
        let mut public = Vec::with_capacity(searcher.segment_readers().len());
        let mut hidden = Vec::with_capacity(public.capacity());
        let mut count = 0;
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
                        count += 1;
                    }
                    doc = postings.advance();
                }
            }
            hidden.push(
                (0..segment.max_doc())
                    .filter(|&doc| !set.contains(doc))
                    .collect(),
            );
            public.push(set);
        }
        Ok(Self {
            generation: searcher.generation().generation_id(),
            public,
            hidden,
            count,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// The generation of the searchers these are the public documents of.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The statistics of these documents, read from `searcher`, which must
    /// be of their generation.
    pub fn statistics<'a>(&'a self, searcher: &'a Searcher) -> PublicStatistics<'a> {
        debug_assert_eq!(searcher.generation().generation_id(), self.generation);
        PublicStatistics {
            searcher,
            documents: self,
        }
    }
}

/// What BM25 needs, counted over public documents.
pub struct PublicStatistics<'a> {
    searcher: &'a Searcher,
    documents: &'a PublicDocuments,
}

impl PublicStatistics<'_> {
    fn segments(&self) -> impl Iterator<Item = (&SegmentReader, &BitSet, &[DocId])> {
        self.searcher
            .segment_readers()
            .iter()
            .zip(&self.documents.public)
            .zip(&self.documents.hidden)
            .map(|((segment, public), hidden)| (segment, public, hidden.as_slice()))
    }
}

impl Bm25StatisticsProvider for PublicStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let mut tokens = self
            .documents
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(&total) = tokens.get(&field) {
            return Ok(total);
        }
        // A document's length as scoring reads it (its field norm, rounded
        // down beyond 40 tokens), so the average is in the same units.
        let mut total = 0;
        for (segment, public, _) in self.segments() {
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
        Ok(self.documents.count)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let mut count = 0;
        for (segment, public, hidden) in self.segments() {
            let index = segment.inverted_index(term.field())?;
            let Some(info) = index.get_term_info(term)? else {
                continue;
            };
            let mut postings =
                index.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
            let holding = u64::from(info.doc_freq);
            // Whichever is shorter: the documents holding the term, read
            // one by one, or the hidden ones, each looked up among them
            // (most of a catalogue is public).
            if hidden.len() < info.doc_freq as usize {
                let mut hidden_holding = 0;
                for &doc in hidden {
                    let mut at = postings.doc();
                    if at == TERMINATED {
                        break;
                    }
                    if at < doc {
                        at = postings.seek(doc);
                    }
                    if at == doc {
                        hidden_holding += 1;
                    }
                }
                count += holding - hidden_holding;
            } else {
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if public.contains(doc) {
                        count += 1;
                    }
                    doc = postings.advance();
                }
            }
        }
        Ok(count)
    }
}
