//! Licences as URIs, as linked-data formats want them: an SPDX identifier
//! as its page on spdx.org, and a data.gouv.fr licence identifier as the
//! SPDX licence it names exactly. An SPDX expression (`MIT OR Apache-2.0`)
//! and a portal licence with no exact SPDX twin (`cc-by`, whose version
//! the portal does not say; `notspecified`, `other-*`) have no URI.

/// `https://spdx.org/licenses/<id>` for a single SPDX licence identifier.
pub fn spdx_uri(identifier: &str) -> Option<String> {
    let single = !identifier.is_empty()
        && identifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    single.then(|| format!("https://spdx.org/licenses/{identifier}"))
}

/// data.gouv.fr's licence identifiers (`GET /api/1/datasets/licenses/`)
/// that name one SPDX licence exactly.
const DATAGOUV_TO_SPDX: [(&str, &str); 5] = [
    // Licence Ouverte / Open Licence version 2.0.
    ("lov2", "etalab-2.0"),
    ("odc-odbl", "ODbL-1.0"),
    ("odc-by", "ODC-By-1.0"),
    ("odc-pddl", "PDDL-1.0"),
    ("cc-zero", "CC0-1.0"),
];

/// The URI of a data.gouv.fr licence identifier, when it names one SPDX licence.
pub fn datagouv_uri(identifier: &str) -> Option<String> {
    DATAGOUV_TO_SPDX
        .iter()
        .find(|(datagouv, _)| *datagouv == identifier)
        .and_then(|(_, spdx)| spdx_uri(spdx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_identifiers_have_uris_and_expressions_do_not() {
        assert_eq!(
            spdx_uri("EUPL-1.2").as_deref(),
            Some("https://spdx.org/licenses/EUPL-1.2")
        );
        assert_eq!(spdx_uri("MIT OR Apache-2.0"), None);
        assert_eq!(spdx_uri("<script>"), None);
        assert_eq!(
            datagouv_uri("lov2").as_deref(),
            Some("https://spdx.org/licenses/etalab-2.0")
        );
        assert_eq!(datagouv_uri("cc-by"), None);
        assert_eq!(datagouv_uri("notspecified"), None);
    }
}
