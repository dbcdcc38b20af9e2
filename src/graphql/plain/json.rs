//! Answers' JSON text, written directly.
//!
//! Lists answered plainly (see `plain`) are written as JSON text once and
//! carried through the rest of the execution as raw JSON: the one-key
//! object async-graphql's `raw_value` feature knows. `answer_body` then
//! writes the whole answer, raw JSON copied as it is. It writes the bytes
//! serde_json writes (a test compares them), without escaping strings a byte
//! at a time, nor growing its buffer from 128 bytes, nor checking raw JSON
//! again by parsing it (which serde_json does: it cannot know where the
//! text came from).

use std::fmt::Write;

use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Response, Value};
use async_graphql_value::RAW_VALUE_TOKEN;

use crate::graphql::execution::errors::refused_before_execution;

/// JSON text being written.
#[derive(Default)]
pub struct JsonText(String);

impl JsonText {
    pub fn with_capacity(capacity: usize) -> Self {
        Self(String::with_capacity(capacity))
    }

    /// Appends a structural character (`{`, `,`, `:`, …).
    pub fn push(&mut self, character: char) {
        self.0.push(character);
    }

    pub fn null(&mut self) {
        self.0.push_str("null");
    }

    pub fn boolean(&mut self, value: bool) {
        self.0.push_str(if value { "true" } else { "false" });
    }

    pub fn integer(&mut self, value: u64) {
        // Writing into a `String` cannot fail.
        let _ = write!(self.0, "{value}");
    }

    /// Appends `text` as a JSON string, escaped as serde_json escapes:
    /// `"`, `\` and the control characters, nothing else.
    pub fn string(&mut self, text: &str) {
        self.0.reserve(text.len() + 2);
        self.0.push('"');
        if has_escape(text.as_bytes()) {
            self.escaped(text);
        } else {
            self.0.push_str(text);
        }
        self.0.push('"');
    }

    /// Appends `text` with the bytes `needs_escape` finds escaped (all
    /// ASCII, so `text` is cut only between characters).
    fn escaped(&mut self, text: &str) {
        let mut copied = 0;
        for (at, byte) in text.bytes().enumerate() {
            if needs_escape(byte) {
                self.0.push_str(&text[copied..at]);
                push_escape(&mut self.0, byte);
                copied = at + 1;
            }
        }
        self.0.push_str(&text[copied..]);
    }

    /// Appends JSON text written before (a key, say).
    pub fn text(&mut self, text: &str) {
        self.0.push_str(text);
    }

    /// Appends `value`; raw JSON is copied as it is.
    pub fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.null(),
            Value::Boolean(value) => self.boolean(*value),
            // serde_json's `Number` prints itself as it serialises itself
            // (itoa, or ryu for the finite floats it only holds).
            Value::Number(number) => self.0.push_str(&number.to_string()),
            Value::String(text) => self.string(text),
            Value::Enum(name) => self.string(name),
            // serde_json writes bytes as a list of numbers.
            Value::Binary(bytes) => {
                self.push('[');
                for (index, byte) in bytes.iter().enumerate() {
                    if index > 0 {
                        self.push(',');
                    }
                    self.0.push_str(&byte.to_string());
                }
                self.push(']');
            }
            Value::List(items) => {
                self.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.push(',');
                    }
                    self.value(item);
                }
                self.push(']');
            }
            Value::Object(object) => {
                if let Some(raw) = raw_json(object) {
                    self.0.push_str(raw);
                    return;
                }
                self.push('{');
                for (index, (key, item)) in object.iter().enumerate() {
                    if index > 0 {
                        self.push(',');
                    }
                    self.string(key);
                    self.push(':');
                    self.value(item);
                }
                self.push('}');
            }
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// This text as an answer value; it must be one complete JSON value.
    pub fn into_raw_value(self) -> Value {
        Value::Object(IndexMap::from([(
            Name::new(RAW_VALUE_TOKEN),
            Value::String(self.0),
        )]))
    }
}

/// The text of raw JSON (see `JsonText::into_raw_value`). Its one key is
/// compared, not looked up: a lookup hashes the key, for every object of
/// the answer.
fn raw_json(object: &IndexMap<Name, Value>) -> Option<&str> {
    match object.first() {
        Some((key, Value::String(text)))
            if object.len() == 1 && key.as_str() == RAW_VALUE_TOKEN =>
        {
            Some(text)
        }
        _ => None,
    }
}

/// The JSON text of an answer: `{"data":…}`, then its extensions and
/// errors when it has some (written by serde_json: they are rare and small).
pub fn answer_body(response: &Response) -> Result<Vec<u8>, serde_json::Error> {
    let mut text = JsonText::with_capacity(64 + estimated_len(&response.data));
    // A request refused before execution has no `data` (the spec's rule).
    let mut separator = "{";
    if !refused_before_execution(response) {
        text.0.push_str("{\"data\":");
        text.value(&response.data);
        separator = ",";
    }
    if !response.extensions.is_empty() {
        text.0.push_str(separator);
        text.0.push_str("\"extensions\":");
        text.0
            .push_str(&serde_json::to_string(&response.extensions)?);
        separator = ",";
    }
    if !response.errors.is_empty() {
        text.0.push_str(separator);
        text.0.push_str("\"errors\":");
        text.0.push_str(&serde_json::to_string(&response.errors)?);
    }
    text.push('}');
    Ok(text.into_string().into_bytes())
}

/// About the length of `value`'s JSON text, to allocate the answer once.
fn estimated_len(value: &Value) -> usize {
    match value {
        Value::String(text) => text.len() + 2,
        Value::List(items) => items.iter().map(|item| estimated_len(item) + 1).sum(),
        Value::Object(object) => raw_json(object).map_or_else(
            || {
                object
                    .iter()
                    .map(|(key, item)| key.len() + 4 + estimated_len(item))
                    .sum()
            },
            str::len,
        ),
        _ => 8,
    }
}

/// Whether some byte of `bytes` needs an escape; most strings need none.
/// Looked for sixteen bytes at a time, without stopping inside the sixteen
/// (which the compiler turns into a few vector instructions); the last
/// sixteen overlap the ones before rather than leave a remainder.
fn has_escape(bytes: &[u8]) -> bool {
    let Some(last_start) = bytes.len().checked_sub(16) else {
        return bytes.iter().any(|&byte| needs_escape(byte));
    };
    let mut start = 0;
    loop {
        let sixteen = &bytes[start..start + 16];
        if sixteen
            .iter()
            .fold(false, |found, &byte| found | needs_escape(byte))
        {
            return true;
        }
        if start == last_start {
            return false;
        }
        start = (start + 16).min(last_start);
    }
}

/// Whether serde_json escapes `byte` in a string.
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Appends serde_json's escape of `byte`, one `needs_escape` finds.
fn push_escape(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        b'\x08' => "\\b",
        b'\t' => "\\t",
        b'\n' => "\\n",
        b'\x0c' => "\\f",
        b'\r' => "\\r",
        _ => {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
            return;
        }
    };
    out.push_str(short);
}

#[cfg(test)]
mod tests {
    use async_graphql::indexmap::IndexMap;
    use async_graphql::{Name, Number, Response, ServerError, Value};
    use proptest::prelude::*;

    use super::{JsonText, answer_body};

    fn value_strategy() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Boolean),
            any::<i64>().prop_map(|n| Value::Number(n.into())),
            any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x7f]{0,40}".prop_map(Value::String),
            "[A-Z_]{1,12}".prop_map(|name| Value::Enum(Name::new(name))),
            proptest::collection::vec(any::<u8>(), 0..6)
                .prop_map(|bytes| Value::Binary(bytes.into())),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
                proptest::collection::vec((any::<String>(), inner), 0..6).prop_map(|fields| {
                    Value::Object(
                        fields
                            .into_iter()
                            .map(|(key, value)| (Name::new(key), value))
                            .collect(),
                    )
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn answers_are_written_as_serde_json_writes_them(data in value_strategy(), failed in any::<bool>()) {
            let mut response = Response::new(data);
            if failed {
                response.errors.push(ServerError::new("a \"failure\"\n", None));
            }
            prop_assert_eq!(
                String::from_utf8(answer_body(&response).unwrap()).unwrap(),
                serde_json::to_string(&response).unwrap()
            );
        }

        #[test]
        fn raw_json_is_written_as_it_is(items in proptest::collection::vec(value_strategy(), 0..5)) {
            let mut text = JsonText::default();
            text.value(&Value::List(items.clone()));
            let raw = text.into_raw_value();
            let wrapped = Value::Object(IndexMap::from([(Name::new("list"), raw)]));
            let plain = Value::Object(IndexMap::from([(Name::new("list"), Value::List(items))]));
            let expected = serde_json::to_string(&Response::new(plain)).unwrap();
            prop_assert_eq!(
                String::from_utf8(answer_body(&Response::new(wrapped.clone())).unwrap()).unwrap(),
                expected.clone()
            );
            // serde_json, through async-graphql's `raw_value`, agrees.
            prop_assert_eq!(serde_json::to_string(&Response::new(wrapped)).unwrap(), expected);
        }
    }
}
