//! Highlighted extracts of the fields where a hit matched.

use std::collections::HashSet;

use tantivy::TantivyDocument;
use tantivy::schema::{Field, Value};
use tantivy::tokenizer::TextAnalyzer;

use super::analysis::{
    QueryWord, Synonyms, stemmed_analyzer, tokens, within_one_edit, words_analyzer,
};
use super::schema::Fields;

/// The longest extract of a description, in characters.
const FRAGMENT_CHARS: usize = 180;
/// How much text an extract shows before the first match, in characters.
const CONTEXT_BEFORE: usize = 50;

/// An extract of one field with the matched words marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// `name`, `tags` or `description`.
    pub field: &'static str,
    /// The extract as plain text (`…` where it was cut).
    pub text: String,
    /// The same, HTML-escaped, matched words in `<mark>`.
    pub html: String,
}

/// Finds where a query's words are in a text.
pub struct Highlighter {
    stems: HashSet<String>,
    typo_words: Vec<String>,
    stemmed: TextAnalyzer,
    words: TextAnalyzer,
}

impl Highlighter {
    pub fn new(query: &[QueryWord], synonyms: &Synonyms) -> Self {
        let mut stems: HashSet<String> = HashSet::new();
        for word in query {
            stems.insert(word.stem.clone());
            stems.extend(synonyms.of(&word.stem).iter().cloned());
        }
        Self {
            stems,
            typo_words: query
                .iter()
                .filter(|w| w.tolerates_typo())
                .map(|w| w.word.clone())
                .collect(),
            stemmed: stemmed_analyzer(),
            words: words_analyzer(),
        }
    }

    /// The byte ranges of `text` that match, in order, not overlapping.
    fn matches(&mut self, text: &str) -> Vec<(usize, usize)> {
        let mut ranges: Vec<(usize, usize)> = tokens(&mut self.stemmed, text)
            .into_iter()
            .filter(|token| self.stems.contains(&token.text))
            .map(|token| (token.start, token.end))
            .collect();
        if !self.typo_words.is_empty() {
            ranges.extend(
                tokens(&mut self.words, text)
                    .into_iter()
                    .filter(|token| {
                        self.typo_words
                            .iter()
                            .any(|word| within_one_edit(word, &token.text))
                    })
                    .map(|token| (token.start, token.end)),
            );
        }
        ranges.sort_unstable();
        ranges.dedup_by(|next, kept| next.0 < kept.1);
        ranges
    }

    /// One snippet per field where the document matched, in field order.
    pub fn snippets(&mut self, fields: &Fields, doc: &TantivyDocument) -> Vec<Snippet> {
        let mut snippets = Vec::new();
        let values = |field: Field| -> Vec<String> {
            doc.get_all(field)
                .filter_map(|value| value.as_str().map(str::to_owned))
                .collect()
        };
        for (name, field) in [("name", fields.name), ("tags", fields.tags)] {
            // The values that matched, joined, their ranges moved along.
            let mut text = String::new();
            let mut ranges = Vec::new();
            for value in values(field) {
                let matches = self.matches(&value);
                if matches.is_empty() {
                    continue;
                }
                if !text.is_empty() {
                    text.push_str(", ");
                }
                let offset = text.len();
                ranges.extend(
                    matches
                        .into_iter()
                        .map(|(from, to)| (from + offset, to + offset)),
                );
                text.push_str(&value);
            }
            if !text.is_empty() {
                snippets.push(snippet(name, &text, 0, text.len(), &ranges));
            }
        }
        for value in values(fields.body) {
            let ranges = self.matches(&value);
            if let Some(&(first, _)) = ranges.first() {
                let (start, end) = window(&value, first);
                snippets.push(snippet("description", &value, start, end, &ranges));
                break;
            }
        }
        snippets
    }
}

/// The byte range of an extract of `text` showing the match at `first`.
fn window(text: &str, first: usize) -> (usize, usize) {
    if text.chars().count() <= FRAGMENT_CHARS {
        return (0, text.len());
    }
    let before: Vec<(usize, char)> = text[..first].char_indices().collect();
    let mut start = before
        .len()
        .checked_sub(CONTEXT_BEFORE)
        .map_or(0, |i| before[i].0);
    // Start at a word.
    if start > 0 {
        start = text[start..first]
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
            .map_or(start, |(space, c)| start + space + c.len_utf8());
    }
    let mut end = text[start..]
        .char_indices()
        .nth(FRAGMENT_CHARS)
        .map_or(text.len(), |(i, _)| start + i);
    // End at a word.
    if end < text.len() {
        end = text[start..end]
            .rfind(char::is_whitespace)
            .map_or(end, |space| start + space);
    }
    (start, end.max(first))
}

fn escape(text: &str, html: &mut String) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
}

fn snippet(
    field: &'static str,
    value: &str,
    start: usize,
    end: usize,
    ranges: &[(usize, usize)],
) -> Snippet {
    let cut_before = if start > 0 { "…" } else { "" };
    let cut_after = if end < value.len() { "…" } else { "" };
    let mut html = String::from(cut_before);
    let mut at = start;
    for &(from, to) in ranges
        .iter()
        .filter(|(from, to)| *from >= start && *to <= end)
    {
        escape(&value[at..from], &mut html);
        html.push_str("<mark>");
        escape(&value[from..to], &mut html);
        html.push_str("</mark>");
        at = to;
    }
    escape(&value[at..end], &mut html);
    html.push_str(cut_after);
    Snippet {
        field,
        text: format!("{cut_before}{}{cut_after}", &value[start..end]),
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::analysis::query_words;

    fn highlight(query: &str, text: &str) -> String {
        let mut highlighter = Highlighter::new(&query_words(query), &Synonyms::default());
        let ranges = highlighter.matches(text);
        let (start, end) = ranges
            .first()
            .map_or((0, text.len()), |r| window(text, r.0));
        snippet("description", text, start, end, &ranges).html
    }

    #[test]
    fn marks_inflections_accents_and_typos_and_escapes_the_rest() {
        assert_eq!(
            highlight("donnees carte", "Des <données> & des cartes"),
            "Des &lt;<mark>données</mark>&gt; &amp; des <mark>cartes</mark>"
        );
        assert_eq!(
            highlight("cartiflete", "Cartiflette en Python"),
            "<mark>Cartiflette</mark> en Python"
        );
    }

    #[test]
    fn a_cut_after_a_non_breaking_space_stays_on_a_character_boundary() {
        let text = format!(
            "{}\u{a0}:\u{a0}rapport {}",
            "a".repeat(150),
            "fin ".repeat(60)
        );
        let html = highlight("rapport", &text);
        assert!(html.contains("<mark>rapport</mark>"), "{html}");
    }

    #[test]
    fn long_text_is_cut_around_the_first_match() {
        let text = format!("{} rapports {}", "mot ".repeat(100), "fin ".repeat(100));
        let html = highlight("rapport", &text);
        assert!(html.starts_with('…') && html.ends_with('…'), "{html}");
        assert!(html.contains("<mark>rapports</mark>"));
        assert!(html.chars().count() < FRAGMENT_CHARS + 40, "{html}");
    }
}
