//! Cache keys: a hash of everything an answer depends on.

use sha2::{Digest, Sha256};

use crate::catalogue::Audience;

/// Whose answer it is, in the key: answers differ by what the reader may
/// see, so each audience has a tag of its own.
fn audience_tag(audience: Audience) -> &'static str {
    match audience {
        Audience::Public => "public",
        Audience::Agents => "agents",
    }
}

/// The document with its ignored tokens (whitespace, commas, comments, byte
/// order marks) reduced to what its meaning needs, strings left as they
/// are: documents that differ only by those share a key, and two documents
/// that share a key are read alike by the parser.
///
/// The key is looked up before the document is parsed, so it must never
/// join a document the parser refuses, or reads otherwise, to one it
/// accepts. Hence the normalised document is itself a document, the same
/// tokens with, between two of them, nothing where the original has
/// nothing and else the least that keeps them apart:
///
/// - nothing beside a one-character punctuator (`{ } ( ) [ ] : = @ $ ! & |`),
///   beside `...` or a string (except between two strings, where `""` then
///   `"` would open a block string); a space between names and numbers
///   (`1 2` is not `12`, `...on Foo` not `...onFoo`) and around any other
///   character;
/// - a space wherever the original has something inside a variable's type
///   (`$v: [Int!]`): async-graphql's grammar reads a type as one token and
///   refuses `[ Int ]`;
/// - an empty comment and a line break after `on` where the original has a
///   comment: async-graphql's type condition (`... on Foo`) needs whitespace
///   alone after `on`, so a comment there makes it read something else.
///
/// A document with an unknown character, an unclosed string or the like
/// keeps it as it is: the parser refuses it whatever its key.
pub fn normalise(document: &str) -> String {
    let mut out = String::with_capacity(document.len());
    let mut rest = document;
    let mut previous: Option<Token<'_>> = None;
    let mut gap = Gap::Nothing;
    let mut type_place = TypePlace::Outside;
    // The two tokens before: a variable's type follows `$ name :`.
    let mut before = [TokenKind::Other, TokenKind::Other];
    while let Some(c) = rest.chars().next() {
        if is_ignored(c) {
            rest = &rest[c.len_utf8()..];
            gap = gap.max(Gap::Ignored);
            continue;
        }
        if c == '#' {
            rest = rest.find(['\n', '\r']).map_or("", |end| &rest[end..]);
            gap = Gap::Comment;
            continue;
        }
        let token = Token::read(rest);
        rest = &rest[token.text.len()..];
        let in_type = type_place != TypePlace::Outside && token.is_in_types();
        if let Some(previous) = &previous {
            out.push_str(match gap {
                Gap::Nothing => "",
                Gap::Comment if previous.text == "on" => "#\n",
                _ if in_type && type_place == TypePlace::Inside => " ",
                _ if previous.kind.glues_to(previous.text, token.kind) => "",
                _ => " ",
            });
        }
        out.push_str(token.text);
        type_place = if token.text == ":" && before == [TokenKind::Dollar, TokenKind::Name] {
            TypePlace::Next
        } else if in_type {
            TypePlace::Inside
        } else {
            TypePlace::Outside
        };
        before = [before[1], token.kind];
        previous = Some(token);
        gap = Gap::Nothing;
    }
    out
}

/// GraphQL's insignificant characters only: a document with other
/// whitespace does not parse, and must not share a valid one's key.
fn is_ignored(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}')
}

/// What lies between two tokens, in the order of how much it may matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    Nothing,
    Ignored,
    Comment,
}

/// Where the tokens stand relative to a variable's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypePlace {
    Outside,
    /// Just after `$name:`.
    Next,
    /// After a token of the type.
    Inside,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// `$`, a one-character punctuator told apart for variables.
    Dollar,
    /// One of `{ } ( ) [ ] : = @ ! & |`.
    Punctuator,
    Spread,
    Name,
    Number,
    String,
    /// Any other character, alone.
    Other,
}

impl TokenKind {
    /// Whether `self` (spelt `text`) and a `next` token read the same
    /// without anything between them.
    fn glues_to(self, text: &str, next: TokenKind) -> bool {
        use TokenKind::{Dollar, Name, Number, Other, Punctuator, Spread};
        match (self, next) {
            (Dollar | Punctuator, _) | (_, Dollar | Punctuator) => true,
            (Other, _) | (_, Other) => false,
            (TokenKind::String, TokenKind::String) => text != "\"\"",
            (TokenKind::String, _) | (_, TokenKind::String) | (Spread, _) | (_, Spread) => true,
            (Name | Number, Name | Number) => false,
        }
    }
}

struct Token<'a> {
    kind: TokenKind,
    text: &'a str,
}

impl<'a> Token<'a> {
    /// Whether a variable's type may hold it: `[`, `]`, `!` and names.
    fn is_in_types(&self) -> bool {
        self.kind == TokenKind::Name || matches!(self.text, "[" | "]" | "!")
    }

    /// The token `rest` starts with (not an ignored character): names,
    /// numbers and strings as long as GraphQL's lexer reads them.
    fn read(rest: &'a str) -> Self {
        let bytes = rest.as_bytes();
        let digits_from = |at: usize| {
            at + bytes
                .get(at..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let single = |kind| (kind, rest.chars().next().map_or(1, char::len_utf8));
        let (kind, length) = match bytes[0] {
            b'$' => single(TokenKind::Dollar),
            b'{' | b'}' | b'(' | b')' | b'[' | b']' | b':' | b'=' | b'@' | b'!' | b'&' | b'|' => {
                single(TokenKind::Punctuator)
            }
            b'.' if rest.starts_with("...") => (TokenKind::Spread, 3),
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => (
                TokenKind::Name,
                bytes
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count(),
            ),
            b'-' | b'0'..=b'9' => {
                let sign = usize::from(bytes[0] == b'-');
                let mut end = digits_from(sign);
                if end == sign {
                    single(TokenKind::Other)
                } else {
                    if bytes.get(end) == Some(&b'.') && digits_from(end + 1) > end + 1 {
                        end = digits_from(end + 1);
                    }
                    if matches!(bytes.get(end), Some(b'e' | b'E')) {
                        let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
                        let exponent = end + 1 + sign;
                        if digits_from(exponent) > exponent {
                            end = digits_from(exponent);
                        }
                    }
                    (TokenKind::Number, end)
                }
            }
            b'"' => (TokenKind::String, string_length(rest)),
            _ => single(TokenKind::Other),
        };
        Token {
            kind,
            text: &rest[..length],
        }
    }
}

/// The length of the string literal `rest` starts with, block strings
/// included; an unclosed one runs to the end.
fn string_length(rest: &str) -> usize {
    if let Some(block) = rest.strip_prefix("\"\"\"") {
        let mut at = 0;
        while at < block.len() {
            if block[at..].starts_with("\\\"\"\"") {
                // `\"""` is an escaped triple quote, not the end.
                at += 4;
            } else if block[at..].starts_with("\"\"\"") {
                return 3 + at + 3;
            } else {
                at += block[at..].chars().next().map_or(1, char::len_utf8);
            }
        }
        return rest.len();
    }
    let mut escaped = false;
    for (at, c) in rest.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return at + 1,
            _ => escaped = false,
        }
    }
    rest.len()
}

/// The key of an answer: audience, operation, variables, document (the
/// generation is stamped on the answer, not in its key).
pub fn cache_key(
    audience: Audience,
    operation_name: Option<&str>,
    variables: &str,
    normalised_document: &str,
) -> String {
    let mut hash = Sha256::new();
    // An empty operation name is not a missing one (async-graphql refuses it).
    hash.update([u8::from(operation_name.is_some())]);
    for part in [
        audience_tag(audience),
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
    use async_graphql::parser::parse_query;
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    /// How async-graphql's parser reads `document`: its syntax tree without
    /// positions, or None when it refuses it.
    fn reading(document: &str) -> Option<Value> {
        fn without_positions(value: Value) -> Value {
            match value {
                Value::Object(mut fields) => {
                    if fields.len() == 2
                        && fields.contains_key("pos")
                        && let Some(node) = fields.remove("node")
                    {
                        return without_positions(node);
                    }
                    Value::Object(
                        fields
                            .into_iter()
                            .map(|(key, value)| (key, without_positions(value)))
                            .collect(),
                    )
                }
                Value::Array(items) => {
                    Value::Array(items.into_iter().map(without_positions).collect())
                }
                other => other,
            }
        }
        let document = parse_query(document).ok()?;
        Some(without_positions(serde_json::to_value(document).unwrap()))
    }

    /// Asserts that `a` and `b` share a key exactly when the parser reads
    /// them alike (`alike` says which is expected).
    fn check(a: &str, b: &str, alike: bool) {
        assert_eq!(
            normalise(a) == normalise(b),
            alike,
            "{a:?} / {b:?}: {:?} / {:?}",
            normalise(a),
            normalise(b)
        );
        assert_eq!(
            reading(a).is_some() && reading(a) == reading(b),
            alike,
            "the parser's reading of {a:?} / {b:?}"
        );
    }

    #[test]
    fn spellings_of_one_query_normalise_alike_and_strings_do_not_change() {
        let a = "query Q { projects(first: 3, filter: {text: \"a  b\"}) { totalCount } }";
        let b = "query Q {\n  # count them\n  projects(first: 3 filter: {text: \"a  b\"}) {\n    totalCount\n  }\n}\n";
        check(a, b, true);
        assert!(normalise(a).contains("\"a  b\""));
        check(a, &a.replace("a  b", "a b"), false);
        let block = "{ x(s: \"\"\"a  # not a comment\n\"\"\") }";
        assert!(normalise(block).contains("a  # not a comment\n"));
        let escaped = |inner: &str| format!("{{ x(s: \"\"\"\\\"\"\" {inner}\"\"\") }}");
        check(&escaped("a,b"), &escaped("a b"), false);
        check(&escaped("a b"), &escaped("a b").replace("{ x", "{x"), true);
        assert_ne!(
            cache_key(Audience::Public, None, "{}", "{ x }"),
            cache_key(Audience::Agents, None, "{}", "{ x }")
        );
        assert_ne!(
            cache_key(Audience::Public, Some("Q"), "{}", "{ x }"),
            cache_key(Audience::Public, None, "{}", "{ x }")
        );
        assert_ne!(
            cache_key(Audience::Public, Some(""), "{}", "{ x }"),
            cache_key(Audience::Public, None, "{}", "{ x }")
        );
        // A no-break space is not GraphQL whitespace: that document does not parse.
        check("{ x }", "{\u{a0}x }", false);
    }

    #[test]
    fn whitespace_beside_punctuators_commas_and_comments_are_insignificant() {
        check(
            "query W{tags{tag{slug} projectCount}}",
            "query W { tags { tag { slug } projectCount } }",
            true,
        );
        check(
            "{a:project(slug:\"x\"){...F @include(if:true)}}fragment F on Project{name}",
            "\u{feff}{ a : project ( slug : \"x\" ) , { ... F @ include ( if : true ) } }\r\n\
             # the fragment\n fragment F on Project { name , }",
            true,
        );
        check(
            "{ f(a: [1, 2], b: {c: \"d\"}) }",
            "{f(a:[1 2]b:{c:\"d\"})}",
            true,
        );
        check("{ f(a: \"x\" b: 1) }", "{ f(a: \"x\"b: 1) }", true);
        check("{ f(a: [\"x\", \"y\"]) }", "{ f(a: [\"x\"\"y\"]) }", true);
        check("{ f(a: $v) }", "{ f(a: $ v) }", true);
        check(
            "query($a: Int = 3, $b: [String!]! @d) { f }",
            "query ( $a:Int=3 $b:[String!]!@d ){f}",
            true,
        );
    }

    #[test]
    fn what_separates_tokens_stays() {
        // Names and numbers run together otherwise.
        check("{ f(a: [1 2]) }", "{ f(a: [12]) }", false);
        check("{ f(a: [1.5]) }", "{ f(a: [1 .5]) }", false);
        check("{ f(a: [-1]) }", "{ f(a: [- 1]) }", false);
        check("{ f(a: [1e5]) }", "{ f(a: [1 e5]) }", false);
        check("{ f(a: [1 e]) }", "{ f(a: [1e]) }", false);
        check("{ a b }", "{ ab }", false);
        // `...on` is `... on`, and `on Foo` is not `onFoo`.
        check("{ ...on Query { a } }", "{ ... on Query { a } }", true);
        check(
            "{ ... on Query { a } }",
            "{ ...\n# spread\non Query { a } }",
            true,
        );
        check("{ ...on Query { a } }", "{ ...onQuery { a } }", false);
        // `""` then `"x"` is not the block string `"""x"`.
        check("{ f(a: [\"\" \"x\"]) }", "{ f(a: [\"\"\"x\"\"\"]) }", false);
        check(
            "{ f(a: \"\"\"x\"\"\" b: 1) }",
            "{ f(a: \"\"\" x\"\"\" b: 1) }",
            false,
        );
    }

    /// Where async-graphql's grammar departs from GraphQL's, the key
    /// follows async-graphql: it reads a variable's type as one token, and
    /// wants whitespace alone between `on` and the type condition.
    #[test]
    fn where_the_parser_reads_whitespace_the_key_keeps_it() {
        check("query($a: [Int!]) { f }", "query($a: [ Int!]) { f }", false);
        check("query($a: [Int!]) { f }", "query($a: [Int !]) { f }", false);
        check("query($a: [Int!]) { f }", "query($a:\n[Int!]) { f }", true);
        check(
            "query($a: Int! = 1) { f }",
            "query($a: Int!= 1) { f }",
            true,
        );
        check(
            "{ ... on Query { a } }",
            "{ ... on # the type\n Query { a } }",
            false,
        );
        check("{ ... on , Query { a } }", "{ ... on Query { a } }", true);
        // Read alike, keyed apart: a missed hit, never a wrong one (the
        // grammar's `true` is a keyword, async-graphql's any prefix).
        for (a, b) in [
            ("{ on # a\n b }", "{ on b }"),
            ("{ f(a: [true x]) }", "{ f(a: [truex]) }"),
            // An unclosed block string is read as `""` then a string.
            ("{ f(a: [\"\" \"x\"]) }", "{ f(a: [\"\"\"x\"]) }"),
        ] {
            assert_ne!(normalise(a), normalise(b));
            assert_eq!(reading(a), reading(b));
        }
    }

    #[test]
    fn unreadable_documents_keep_what_makes_them_so() {
        for document in [
            "{ f(a: \"unclosed) }",
            "{ f(a: \"\"\"unclosed) }",
            "{ f % g }",
            "{ f(a: \"line\nbreak\") }",
            "{ f(a: 0x1) }",
        ] {
            assert!(reading(document).is_none(), "{document}");
            assert_eq!(reading(&normalise(document)), None, "{document}");
            assert_eq!(normalise(&normalise(document)), normalise(document));
        }
    }

    /// Documents clients send: the gateway's own tests, its portal's, and
    /// graphql-js's introspection query.
    const DOCUMENTS: &[&str] = &[
        "query W{tags{tag{slug label}projectCount}}",
        "query($q: String!, $kinds: [SearchKind!], $filter: SearchFilter, $first: Int, $after: String) {
           search(query: $q, kinds: $kinds, filter: $filter, first: $first, after: $after) {
             totalCount pageInfo { hasNextPage endCursor }
             edges { cursor node { score snippets { field text html }
               object { __typename ... on Project { slug name } ... on Repository { url }
                 ... on Dataset { url title } ... on Organization { slug name } } } } } }",
        "query Facets($q: String, $filter: SearchFilter = {seasons: [1, 2], forges: [GITHUB]}) {
           facets(query: $q, filter: $filter, limit: 12, disjunctive: true) {
             totalCount seasons { value label count } forges { value count } } }",
        "{ project(slug: \"cartiflette\") { ...Card organizations { role organization { slug } } } }
         fragment Card on Project { id slug name summary seasons tags { slug label } }",
        "query($representations: [_Any!]!) { _entities(representations: $representations) {
           __typename ... on Project { slug } ... on Organization { slug } } }",
        "mutation Add($project: String!) { addRepository(project: $project,
           input: {url: \"https://github.com/example/a b\", role: MAIN, note: \"\"\"
             kept  as  is, # not a comment
           \"\"\"}) { repository { url } } }",
        "{ projects(first: 5, filter: {text: \"données, cartes\", season: 2, hasCode: true},
           orderBy: {field: UPDATED_AT, direction: DESC}) @cacheControl(maxAge: 60) {
           totalCount edges { node { slug score: version } } } }",
        "query { a: node(id: \"UHJvamVjdDox\") { id } b: nodes(ids: []) { id }
           c: search(query: \"x\", first: 0) { totalCount } d: f(x: 1.5e-3, y: -0.25, z: null) }",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/introspection-query.graphql"
        )),
    ];

    /// The tokens of `document`, as the key reads them.
    fn tokens(document: &str) -> Vec<Token<'_>> {
        let mut rest = document;
        let mut tokens = Vec::new();
        while let Some(c) = rest.chars().next() {
            if is_ignored(c) {
                rest = &rest[c.len_utf8()..];
            } else if c == '#' {
                rest = rest.find('\n').map_or("", |end| &rest[end..]);
            } else {
                let token = Token::read(rest);
                rest = &rest[token.text.len()..];
                tokens.push(token);
            }
        }
        tokens
    }

    /// Ignored tokens, from none to several lines with comments.
    fn ignored() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => Just(String::new()),
            1 => Just(" ".to_owned()),
            1 => Just(",".to_owned()),
            1 => Just("\n\t".to_owned()),
            1 => Just("\r\n  ".to_owned()),
            1 => Just("\u{feff}".to_owned()),
            1 => Just(" # a comment, \"not\" a string\n".to_owned()),
            1 => Just("#\r".to_owned()),
            1 => "[ ,\t\n]{1,4}",
        ]
    }

    /// A document of `DOCUMENTS` and the same tokens, spaced at random:
    /// names and numbers still apart, a variable's type mostly written as
    /// async-graphql wants it (one run of characters).
    fn respaced() -> impl Strategy<Value = (&'static str, String)> {
        (0..DOCUMENTS.len())
            .prop_flat_map(|at| {
                let count = tokens(DOCUMENTS[at]).len();
                (
                    Just(DOCUMENTS[at]),
                    proptest::collection::vec((ignored(), 0..8u8), count),
                )
            })
            .prop_map(|(document, gaps)| {
                let tokens = tokens(document);
                let mut out = String::new();
                let mut in_type = false;
                for (at, (token, (gap, die))) in tokens.iter().zip(gaps).enumerate() {
                    let type_token =
                        token.kind == TokenKind::Name || matches!(token.text, "[" | "]" | "!");
                    let follows_type = in_type && type_token;
                    in_type = follows_type
                        || (at >= 2
                            && tokens[at - 1].text == ":"
                            && tokens[at - 2].kind == TokenKind::Name
                            && at >= 3
                            && tokens[at - 3].kind == TokenKind::Dollar
                            && type_token);
                    let words =
                        |t: &Token<'_>| matches!(t.kind, TokenKind::Name | TokenKind::Number);
                    if at > 0 {
                        if follows_type && die > 0 {
                            // Mostly as async-graphql wants a type.
                        } else if gap.is_empty() && words(&tokens[at - 1]) && words(token) {
                            out.push(' ');
                        } else {
                            out.push_str(&gap);
                        }
                    }
                    out.push_str(token.text);
                }
                (document, out)
            })
    }

    /// Small edits anywhere, strings and comments included.
    fn edited() -> impl Strategy<Value = (&'static str, String)> {
        let edit = (
            any::<prop::sample::Index>(),
            0..3usize,
            prop::sample::select(vec![
                "", " ", "\n", ",", "#", "\"", "\"\"", "\\", ".", "-", "0", "1", "e", "a", "on",
                "...", "{", "}", "[", "]", "!", "$", ":", "\u{a0}",
            ]),
        );
        (
            prop::sample::select(DOCUMENTS.to_vec()),
            proptest::collection::vec(edit, 1..4),
        )
            .prop_map(|(document, edits)| {
                let mut text: Vec<char> = document.chars().collect();
                for (at, removed, inserted) in edits {
                    let at = at.index(text.len() + 1);
                    let end = (at + removed).min(text.len());
                    text.splice(at..end, inserted.chars());
                }
                (document, text.into_iter().collect())
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, .. ProptestConfig::default() })]

        /// Re-spacing a document keeps its key exactly when the parser
        /// still reads it alike.
        #[test]
        fn respacing_keeps_the_key_when_the_reading_is_kept((document, respaced) in respaced()) {
            let original = reading(document);
            prop_assert!(original.is_some());
            prop_assert_eq!(
                normalise(&respaced) == normalise(document),
                reading(&respaced) == original,
                "{:?}\n{:?}", respaced, normalise(&respaced)
            );
        }

        /// Whatever the edit, a normalised document reads as the document
        /// does, and normalising it again changes nothing: two documents
        /// with one key read alike.
        #[test]
        fn a_normalised_document_reads_as_the_document((document, edited) in edited()) {
            let normalised = normalise(&edited);
            prop_assert_eq!(reading(&normalised), reading(&edited), "{:?}\n{:?}", edited, normalised);
            prop_assert_eq!(normalise(&normalised), normalised.clone());
            if normalised == normalise(document) {
                prop_assert_eq!(reading(&edited), reading(document), "{:?}", edited);
            }
        }
    }
}
