//! From a search request to a tantivy query: every word must match (in any
//! field, exactly, by a synonym or with one typo), every filter must hold,
//! and the public sees public documents only.

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use super::analysis::{QueryWord, Synonyms};
use super::schema::{Dimension, Fields};
use crate::catalogue::{Access, Audience};

/// How much a word found in each field counts, relative to the description.
const NAME_BOOST: f32 = 3.0;
const TAGS_BOOST: f32 = 2.0;
const BODY_BOOST: f32 = 1.0;
const CONTEXT_BOOST: f32 = 0.5;
/// A synonym counts half as much as the word typed.
const SYNONYM_FACTOR: f32 = 0.5;
/// A match within one typo scores a constant: this fraction of the field's boost.
const TYPO_FACTOR: f32 = 0.3;

/// Which documents a search or a facet count covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Selection {
    pub words: Vec<QueryWord>,
    /// For each dimension filtered on, the values accepted (any of them).
    pub filters: Vec<(Dimension, Vec<String>)>,
}

impl Selection {
    /// What its strings hold, for the caches keyed by it.
    pub(super) fn held_bytes(&self) -> usize {
        let words: usize = self.words.iter().map(|w| w.word.len() + w.stem.len()).sum();
        let filters: usize = self
            .filters
            .iter()
            .flat_map(|(_, values)| values.iter().map(String::len))
            .sum();
        words + filters
    }
}

fn boosted(query: Box<dyn Query>, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(query, boost)))
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

/// Documents where `word` appears in some field, scored by where and how.
fn word_query(fields: &Fields, synonyms: &Synonyms, word: &QueryWord) -> Box<dyn Query> {
    let weighted = [
        (fields.name, Some(fields.name_words), NAME_BOOST),
        (fields.tags, Some(fields.tags_words), TAGS_BOOST),
        (fields.body, Some(fields.body_words), BODY_BOOST),
        (fields.context, None, CONTEXT_BOOST),
    ];
    let mut clauses = Vec::new();
    for (stemmed, words, boost) in weighted {
        clauses.push(boosted(term_query(stemmed, &word.stem), boost));
        for synonym in synonyms.of(&word.stem) {
            clauses.push(boosted(
                term_query(stemmed, synonym),
                boost * SYNONYM_FACTOR,
            ));
        }
        if let Some(words) = words.filter(|_| word.tolerates_typo()) {
            let fuzzy = FuzzyTermQuery::new(Term::from_field_text(words, &word.word), 1, true);
            clauses.push(boosted(Box::new(fuzzy), boost * TYPO_FACTOR));
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

/// A condition that keeps or drops documents without scoring them.
fn condition(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

/// Documents with one of `values` in the filter field of `dimension`.
fn any_value(
    fields: &Fields,
    dimension: Dimension,
    values: &[String],
    audience: Audience,
) -> Box<dyn Query> {
    let field = fields.dimension(dimension, audience).filter;
    Box::new(BooleanQuery::new(
        values
            .iter()
            .map(|value| {
                let term = Term::from_field_text(field, value);
                (
                    Occur::Should,
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>,
                )
            })
            .collect(),
    ))
}

pub fn build(
    fields: &Fields,
    synonyms: &Synonyms,
    selection: &Selection,
    audience: Audience,
) -> Box<dyn Query> {
    // In a segment of more than 4,096 documents, tantivy adds up a
    // conjunction's scores in the order of how many documents each clause
    // matches there, agents-only and deleted ones included; floating-point
    // addition is not associative, so with three words or more a public
    // score could change in its last bits with them. A conjunction of two
    // adds up alike in either order: the words are joined two by two. The
    // filters below score 0, which changes no sum.
    let words = selection
        .words
        .iter()
        .map(|word| word_query(fields, synonyms, word));
    let mut must: Vec<(Occur, Box<dyn Query>)> = words
        .reduce(|left, right| {
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, left),
                (Occur::Must, right),
            ]))
        })
        .map(|words| (Occur::Must, words))
        .into_iter()
        .collect();
    for (dimension, values) in &selection.filters {
        must.push(condition(any_value(fields, *dimension, values, audience)));
    }
    match audience {
        Audience::Public => {
            let public = Term::from_field_text(fields.access, Access::Public.as_db());
            must.push(condition(Box::new(TermQuery::new(
                public,
                IndexRecordOption::Basic,
            ))));
        }
        Audience::Agents => {}
    }
    if must.is_empty() {
        return Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0));
    }
    Box::new(BooleanQuery::new(must))
}
