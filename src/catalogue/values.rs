//! Small value types parsed once from raw text; once built they are valid.

use std::fmt;

/// Why a raw value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(String);

impl From<String> for ValueError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

/// Implements `Deserialize` through `parse`, so a YAML error names the field.
macro_rules! parsed_from_string {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(raw: String) -> Result<Self, ValueError> {
                Self::parse(&raw)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A stable identifier in URLs and files: lowercase ASCII letters and digits
/// in words joined by single hyphens, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let well_formed = !raw.is_empty()
            && raw.len() <= 64
            && raw.split('-').all(|word| {
                !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValueError::from(format!(
                "`{raw}` is not a slug (lowercase letters and digits in words joined by single hyphens, at most 64 characters)"
            )))
        }
    }

    /// The slug for a free-form label: accents dropped, lowercase, words
    /// joined by hyphens ("Apache Superset" -> "apache-superset").
    pub fn from_label(label: &Label) -> Result<Self, ValueError> {
        let folded: String = fold_to_ascii(label.as_str())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    ' '
                }
            })
            .collect();
        Self::parse(&folded.split_whitespace().collect::<Vec<_>>().join("-"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_from_string!(Slug);

/// `text` folded for matching: accents dropped, lowercase.
pub fn folded(text: &str) -> String {
    fold_to_ascii(text).to_lowercase()
}

/// Replaces the accented Latin letters of French with their base letters.
pub fn fold_to_ascii(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'à' | 'â' | 'ä' | 'á' => folded.push('a'),
            'À' | 'Â' | 'Ä' | 'Á' => folded.push('A'),
            'ç' => folded.push('c'),
            'Ç' => folded.push('C'),
            'é' | 'è' | 'ê' | 'ë' => folded.push('e'),
            'É' | 'È' | 'Ê' | 'Ë' => folded.push('E'),
            'î' | 'ï' | 'í' => folded.push('i'),
            'Î' | 'Ï' | 'Í' => folded.push('I'),
            'ô' | 'ö' | 'ó' => folded.push('o'),
            'Ô' | 'Ö' | 'Ó' => folded.push('O'),
            'ù' | 'û' | 'ü' | 'ú' => folded.push('u'),
            'Ù' | 'Û' | 'Ü' | 'Ú' => folded.push('U'),
            'ÿ' => folded.push('y'),
            'œ' => folded.push_str("oe"),
            'Œ' => folded.push_str("OE"),
            'æ' => folded.push_str("ae"),
            'Æ' => folded.push_str("AE"),
            '’' => folded.push('\''),
            other => folded.push(other),
        }
    }
    folded
}

/// An absolute `http` or `https` URL with a host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpUrl(url::Url);

impl HttpUrl {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let url = url::Url::parse(raw.trim())
            .map_err(|error| ValueError::from(format!("`{raw}` is not a URL: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ValueError::from(format!("`{raw}` is not an http(s) URL")));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ValueError::from(format!("`{raw}` has no host")));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// The non-empty path segments, percent-decoding left to the reader.
    pub fn path_segments(&self) -> Vec<&str> {
        self.0
            .path_segments()
            .map(|segments| segments.filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }
}
parsed_from_string!(HttpUrl);

/// Human text that must say something: trimmed, not empty, at most 4,000
/// characters (descriptions are Markdown and may be longer: they are `String`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label(String);

impl Label {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ValueError::from(String::from("must not be empty")));
        }
        if trimmed.chars().count() > 4000 {
            return Err(ValueError::from(String::from(
                "is longer than 4000 characters",
            )));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The label folded to lowercase ASCII: lists are ordered by it, so
    /// "École" sorts with "ecole" on every database.
    pub fn sort_key(&self) -> String {
        folded(&self.0)
    }
}
parsed_from_string!(Label);

/// A season of the programme 10% (season 1 started in 2022).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(try_from = "i64")]
pub struct Season(u8);

impl Season {
    pub fn new(number: i64) -> Result<Self, ValueError> {
        u8::try_from(number)
            .ok()
            .filter(|n| (1..=50).contains(n))
            .map(Self)
            .ok_or_else(|| ValueError::from(format!("season {number} is not between 1 and 50")))
    }

    pub fn number(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Season {
    type Error = ValueError;
    fn try_from(number: i64) -> Result<Self, ValueError> {
        Self::new(number)
    }
}

/// Whether `digits` passes the Luhn checksum that SIREN and SIRET numbers carry.
fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn checked_number(raw: &str, length: usize, what: &str) -> Result<String, ValueError> {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() != length || !compact.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::from(format!(
            "`{raw}` is not a {what} ({length} digits)"
        )));
    }
    if !luhn_valid(&compact) {
        return Err(ValueError::from(format!(
            "`{raw}` fails the {what} checksum"
        )));
    }
    Ok(compact)
}

/// The 14-digit identifier of an establishment (SIRET).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siret(String);

impl Siret {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        checked_number(raw, 14, "SIRET").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_from_string!(Siret);

/// The 9-digit identifier of a legal unit (SIREN).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siren(String);

impl Siren {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        checked_number(raw, 9, "SIREN").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_from_string!(Siren);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_joined_by_single_hyphens() {
        assert!(Slug::parse("impact-environnemental").is_ok());
        for bad in [
            "",
            "Impact",
            "a--b",
            "-a",
            "a-",
            "é",
            "a_b",
            &"a".repeat(65),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn labels_fold_to_slugs() {
        let label = Label::parse("Données ouvertes & IA").unwrap();
        assert_eq!(
            Slug::from_label(&label).unwrap().as_str(),
            "donnees-ouvertes-ia"
        );
    }

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert!(HttpUrl::parse("https://github.com/InseeFrLab/cartiflette").is_ok());
        for bad in [
            "github.com/x",
            "ftp://example.org/",
            "https://",
            "javascript:alert(1)",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn siren_and_siret_carry_a_luhn_checksum() {
        assert!(Siren::parse("120 027 016").is_ok());
        assert!(Siren::parse("120027017").is_err());
        assert!(Siren::parse("12002701A").is_err());
        assert!(Siret::parse("12002701600019").is_ok());
        assert!(Siret::parse("12002701600018").is_err());
        assert!(Siret::parse("1200270160001").is_err());
    }

    #[test]
    fn seasons_are_small_positive_numbers() {
        assert_eq!(Season::new(2).unwrap().number(), 2);
        assert!(Season::new(0).is_err());
        assert!(Season::new(300).is_err());
    }
}
