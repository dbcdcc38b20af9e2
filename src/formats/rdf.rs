//! A small RDF graph, written as Turtle and as JSON-LD (expanded form,
//! which needs no context): one set of triples, so both serialisations
//! state the same facts. Turtle's IRIs and strings are escaped per its
//! grammar (IRIREF, STRING_LITERAL_QUOTE), whatever they hold.

use serde_json::{Map, Value, json};

/// An RDF term in object position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term {
    Iri(String),
    Blank(String),
    /// A string in a language.
    Text {
        value: String,
        language: &'static str,
    },
    /// A typed literal (`xsd:dateTime`, …) or a plain string (`xsd:string`).
    Literal {
        value: String,
        datatype: &'static str,
    },
}

pub const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
pub const XSD_DATE_TIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";
pub const XSD_NON_NEGATIVE_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#nonNegativeInteger";
pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

impl Term {
    /// An IRI; the characters no IRI may hold (spaces, `<`, `"`, …) are
    /// percent-encoded, so that Turtle and JSON-LD name the same resource.
    pub fn iri(iri: &str) -> Self {
        let mut encoded = String::with_capacity(iri.len());
        for c in iri.chars() {
            if excluded_from_iris(c) {
                let mut bytes = [0; 4];
                for byte in c.encode_utf8(&mut bytes).bytes() {
                    encoded.push_str(&format!("%{byte:02X}"));
                }
            } else {
                encoded.push(c);
            }
        }
        Self::Iri(encoded)
    }

    pub fn string(value: impl Into<String>) -> Self {
        Self::Literal {
            value: value.into(),
            datatype: XSD_STRING,
        }
    }

    pub fn french(value: impl Into<String>) -> Self {
        Self::Text {
            value: value.into(),
            language: "fr",
        }
    }

    pub fn typed(value: impl Into<String>, datatype: &'static str) -> Self {
        Self::Literal {
            value: value.into(),
            datatype,
        }
    }
}

/// A subject's predicates and objects, in the order they were added.
type Statements = Vec<(&'static str, Term)>;

/// Triples grouped by subject, subjects in order of first appearance.
#[derive(Default)]
pub struct Graph {
    subjects: Vec<(Term, Statements)>,
    index: std::collections::HashMap<Term, usize>,
}

impl Graph {
    /// Adds `subject predicate object` (once); the subject is an IRI or a
    /// blank node.
    pub fn add(&mut self, subject: &Term, predicate: &'static str, object: Term) {
        debug_assert!(matches!(subject, Term::Iri(_) | Term::Blank(_)));
        let at = *self.index.entry(subject.clone()).or_insert_with(|| {
            self.subjects.push((subject.clone(), Vec::new()));
            self.subjects.len() - 1
        });
        let statements = &mut self.subjects[at].1;
        if !statements
            .iter()
            .any(|(p, o)| *p == predicate && *o == object)
        {
            statements.push((predicate, object));
        }
    }

    /// The graph in Turtle: one statement per subject.
    pub fn turtle(&self) -> String {
        let mut out = String::new();
        for (subject, statements) in &self.subjects {
            out.push_str(&turtle_term(subject));
            let mut first = true;
            for (predicate, object) in statements {
                out.push_str(if first { "\n    " } else { " ;\n    " });
                first = false;
                if *predicate == RDF_TYPE {
                    out.push('a');
                } else {
                    out.push_str(&iri_ref(predicate));
                }
                out.push(' ');
                out.push_str(&turtle_term(object));
            }
            out.push_str(" .\n\n");
        }
        out
    }

    /// The graph in expanded JSON-LD: a node object per subject.
    pub fn json_ld(&self) -> Value {
        let nodes: Vec<Value> = self
            .subjects
            .iter()
            .map(|(subject, statements)| {
                let mut node = Map::new();
                node.insert("@id".into(), json_id(subject).into());
                for (predicate, object) in statements {
                    if *predicate == RDF_TYPE {
                        let types = node.entry("@type").or_insert_with(|| json!([]));
                        if let (Some(types), Term::Iri(iri)) = (types.as_array_mut(), object) {
                            types.push(iri.clone().into());
                        }
                        continue;
                    }
                    let values = node.entry(*predicate).or_insert_with(|| json!([]));
                    if let Some(values) = values.as_array_mut() {
                        values.push(json_object(object));
                    }
                }
                Value::Object(node)
            })
            .collect();
        Value::Array(nodes)
    }
}

fn json_id(term: &Term) -> String {
    match term {
        Term::Iri(iri) => iri.clone(),
        Term::Blank(label) => format!("_:{label}"),
        _ => unreachable!("a subject is an IRI or a blank node"),
    }
}

fn json_object(term: &Term) -> Value {
    match term {
        Term::Iri(_) | Term::Blank(_) => json!({ "@id": json_id(term) }),
        Term::Text { value, language } => json!({ "@value": value, "@language": language }),
        Term::Literal { value, datatype } if *datatype == XSD_STRING => json!({ "@value": value }),
        Term::Literal { value, datatype } => json!({ "@value": value, "@type": datatype }),
    }
}

fn turtle_term(term: &Term) -> String {
    match term {
        Term::Iri(iri) => iri_ref(iri),
        Term::Blank(label) => format!("_:{label}"),
        Term::Text { value, language } => format!("{}@{language}", string_literal(value)),
        Term::Literal { value, datatype } if *datatype == XSD_STRING => string_literal(value),
        Term::Literal { value, datatype } => {
            format!("{}^^{}", string_literal(value), iri_ref(datatype))
        }
    }
}

/// The characters Turtle's IRIREF excludes.
fn excluded_from_iris(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{20}' | '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\'
    )
}

/// `<iri>` (built by [`Term::iri`], or one of ours: nothing to escape).
fn iri_ref(iri: &str) -> String {
    debug_assert!(!iri.chars().any(excluded_from_iris), "{iri}");
    format!("<{iri}>")
}

/// `"text"`, with quotes, backslashes and line breaks escaped (ECHAR), and
/// other control characters written as UCHARs.
fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings_and_iris_are_escaped() {
        assert_eq!(
            string_literal("a\"b\\c\nd\u{7}"),
            "\"a\\\"b\\\\c\\nd\\u0007\""
        );
        assert_eq!(
            Term::iri("https://x.example/a b>c\"{}é"),
            Term::Iri("https://x.example/a%20b%3Ec%22%7B%7Dé".into())
        );
    }
}
