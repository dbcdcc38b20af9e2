//! How text becomes terms: the French-aware pipeline shared by the index
//! and the queries, the words of a query, and its synonyms.

use std::collections::HashMap;

use tantivy::Index;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};

/// Lower-cased, French and English stop words removed, accents folded,
/// French-stemmed: "Données" and "donnees" → "don", "cartes" → "cart".
pub const STEMMED: &str = "catalogue_stemmed";
/// Lower-cased and accents folded, nothing removed: what typo tolerance and
/// highlighting compare words with.
pub const WORDS: &str = "catalogue_words";

/// Words of at least this many letters tolerate one typo.
pub const TYPO_MIN_LETTERS: usize = 5;

/// Words longer than this (hashes, base64) are not indexed.
const LONGEST_WORD: usize = 40;

fn stop_words(language: Language) -> StopWordFilter {
    StopWordFilter::new(language).unwrap_or_else(|| StopWordFilter::remove(Vec::new()))
}

pub fn stemmed_analyzer() -> TextAnalyzer {
    // Stop words are removed before folding: the lists are spelled with accents.
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_WORD))
        .filter(LowerCaser)
        .filter(stop_words(Language::French))
        .filter(stop_words(Language::English))
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::French))
        .build()
}

pub fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_WORD))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Makes the index know the two pipelines by name.
pub fn register(index: &Index) {
    index.tokenizers().register(STEMMED, stemmed_analyzer());
    index.tokenizers().register(WORDS, words_analyzer());
}

/// One token and where it stands in the text (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub position: usize,
    pub start: usize,
    pub end: usize,
}

pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while let Some(token) = stream.next() {
        tokens.push(Token {
            text: token.text.clone(),
            position: token.position,
            start: token.offset_from,
            end: token.offset_to,
        });
    }
    tokens
}

/// A word of a query, as the two pipelines see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueryWord {
    /// Folded, unstemmed: `donnees`.
    pub word: String,
    /// Folded and stemmed: `don`.
    pub stem: String,
}

impl QueryWord {
    /// Whether this word tolerates a typo.
    pub fn tolerates_typo(&self) -> bool {
        self.word.chars().count() >= TYPO_MIN_LETTERS
    }
}

/// The words of `text` that count (stop words dropped), in order, once each.
pub fn query_words(text: &str) -> Vec<QueryWord> {
    let words: HashMap<usize, String> = tokens(&mut words_analyzer(), text)
        .into_iter()
        .map(|token| (token.position, token.text))
        .collect();
    let mut query = Vec::new();
    for token in tokens(&mut stemmed_analyzer(), text) {
        let word = QueryWord {
            word: words.get(&token.position).cloned().unwrap_or_default(),
            stem: token.text,
        };
        if !query.contains(&word) {
            query.push(word);
        }
    }
    query
}

/// Whether `a` becomes `b` by at most one insertion, deletion, substitution
/// or swap of two neighbouring letters.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let common_prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[common_prefix..], &b[common_prefix..]);
    match (a.len(), b.len()) {
        (0, 0) => true,
        (x, y) if x == y => {
            a[1..] == b[1..] || (x >= 2 && a[0] == b[1] && a[1] == b[0] && a[2..] == b[2..])
        }
        (x, y) if x == y + 1 => a[1..] == *b,
        (x, y) if x + 1 == y => *a == b[1..],
        _ => false,
    }
}

/// Groups of words that mean the same thing to someone searching the
/// catalogue (one group a line, words separated by commas).
pub(super) const SYNONYMS: &str = include_str!("synonyms.txt");

/// For each stem, the stems of the words that mean the same.
#[derive(Debug, Clone, Default)]
pub struct Synonyms(HashMap<String, Vec<String>>);

impl Synonyms {
    pub fn load() -> Self {
        let mut analyzer = stemmed_analyzer();
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for line in SYNONYMS.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut group: Vec<String> = line
                .split(',')
                .filter_map(|word| {
                    let stems = tokens(&mut analyzer, word);
                    // One-word entries only: a phrase is not a synonym of a word.
                    (stems.len() == 1).then(|| stems[0].text.clone())
                })
                .collect();
            group.sort();
            group.dedup();
            for stem in &group {
                let others = map.entry(stem.clone()).or_default();
                others.extend(group.iter().filter(|s| *s != stem).cloned());
                others.sort();
                others.dedup();
            }
        }
        Self(map)
    }

    /// The stems that mean the same as `stem`, itself excluded.
    pub fn of(&self, stem: &str) -> &[String] {
        self.0.get(stem).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_inflections_fold_to_one_stem() {
        let stems =
            |text: &str| -> Vec<String> { query_words(text).into_iter().map(|w| w.stem).collect() };
        assert_eq!(stems("Données"), stems("donnees"));
        assert_eq!(stems("cartes"), stems("carte"));
        assert_eq!(stems("rapports"), stems("rapport"));
        assert!(
            stems("la carte des communes").len() == 2,
            "stop words dropped"
        );
    }

    #[test]
    fn one_edit_apart() {
        assert!(within_one_edit("cartiflette", "cartiflete"));
        assert!(within_one_edit("cartiflette", "catriflette"));
        assert!(within_one_edit("poufdoc", "poufdic"));
        assert!(within_one_edit("poufdoc", "poufdocs"));
        assert!(!within_one_edit("poufdoc", "pufdic"));
        assert!(!within_one_edit("carte", "cartes2"));
    }

    #[test]
    fn synonyms_are_stems_of_one_group() {
        let synonyms = Synonyms::load();
        let carte = &query_words("carte")[0].stem;
        let cartographie = &query_words("cartographie")[0].stem;
        assert!(synonyms.of(cartographie).contains(carte));
        assert!(!synonyms.of(carte).contains(carte));
    }
}
