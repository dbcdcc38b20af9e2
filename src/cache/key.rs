//! Cache keys: a hash of everything an answer depends on.

use sha2::{Digest, Sha256};

/// Whose answer it is: answers differ by what the reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Public,
    Agents,
}

impl Scope {
    fn tag(self) -> &'static str {
        match self {
            Scope::Public => "public",
            Scope::Agents => "agents",
        }
    }
}

/// The document with comments dropped and insignificant whitespace and
/// commas collapsed, strings left as they are: two spellings of one query
/// share a key.
pub fn normalise(document: &str) -> String {
    let mut out = String::with_capacity(document.len());
    let mut chars = document.chars().peekable();
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for next in chars.by_ref() {
                    if next == '\n' || next == '\r' {
                        break;
                    }
                }
                pending_space = true;
            }
            // GraphQL's insignificant characters only: a document with other
            // whitespace does not parse, and must not share a valid one's key.
            ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}' => pending_space = true,
            '"' => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push('"');
                copy_string(&mut chars, &mut out);
            }
            c => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
        }
    }
    out
}

/// Copies a string literal after its opening quote, block strings included.
fn copy_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    let block = {
        let mut lookahead = chars.clone();
        lookahead.next() == Some('"') && lookahead.next() == Some('"')
    };
    if block {
        out.push_str("\"\"");
        chars.next();
        chars.next();
        let mut quotes = 0;
        while let Some(c) = chars.next() {
            out.push(c);
            if c == '\\' && chars.clone().take(3).eq("\"\"\"".chars()) {
                // `\"""` is an escaped triple quote, not the end.
                for _ in 0..3 {
                    out.extend(chars.next());
                }
                quotes = 0;
                continue;
            }
            quotes = if c == '"' { quotes + 1 } else { 0 };
            if quotes == 3 {
                return;
            }
        }
        return;
    }
    let mut escaped = false;
    for c in chars.by_ref() {
        out.push(c);
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return,
            _ => escaped = false,
        }
    }
}

/// The key of an answer: scope, operation, variables, document (the
/// generation is stamped on the answer, not in its key).
pub fn cache_key(
    scope: Scope,
    operation_name: Option<&str>,
    variables: &str,
    normalised_document: &str,
) -> String {
    let mut hash = Sha256::new();
    // An empty operation name is not a missing one (async-graphql refuses it).
    hash.update([u8::from(operation_name.is_some())]);
    for part in [
        scope.tag(),
        operation_name.unwrap_or_default(),
        variables,
        normalised_document,
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_query_normalise_alike_and_strings_do_not_change() {
        let a = "query Q { projects(first: 3, filter: {search: \"a  b\"}) { totalCount } }";
        let b = "query Q {\n  # count them\n  projects(first: 3 filter: {search: \"a  b\"}) {\n    totalCount\n  }\n}\n";
        assert_eq!(normalise(a), normalise(b));
        assert!(normalise(a).contains("\"a  b\""));
        assert_ne!(normalise(a), normalise(&a.replace("a  b", "a b")));
        let block = "{ x(s: \"\"\"a  # not a comment\n\"\"\") }";
        assert!(normalise(block).contains("a  # not a comment\n"));
        let escaped = |inner: &str| format!("{{ x(s: \"\"\"\\\"\"\" {inner}\"\"\") }}");
        assert_ne!(normalise(&escaped("a,b")), normalise(&escaped("a b")));
        assert_ne!(
            cache_key(Scope::Public, None, "{}", "{ x }"),
            cache_key(Scope::Agents, None, "{}", "{ x }")
        );
        assert_ne!(
            cache_key(Scope::Public, Some("Q"), "{}", "{ x }"),
            cache_key(Scope::Public, None, "{}", "{ x }")
        );
        assert_ne!(
            cache_key(Scope::Public, Some(""), "{}", "{ x }"),
            cache_key(Scope::Public, None, "{}", "{ x }")
        );
        // A no-break space is not GraphQL whitespace: that document does not parse.
        assert_ne!(normalise("{ x }"), normalise("{\u{a0}x }"));
    }
}
