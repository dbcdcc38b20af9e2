//! How GraphQL answers are computed, apart from what callers may ask.

use super::values::flag;

section! {
    /// How answers are computed.
    pub struct Execution in execution {
        /// Whether the plain answers fast path may answer (off: every answer
        /// goes through async-graphql's resolvers; the same bytes, more
        /// slowly). For diagnosis: docs/decisions/0007-plain-answers-fast-path.md.
        plain_answers: bool = true => flag,
        /// Whether queries read the projects and their relations from a
        /// model kept in memory from the journal (off: every read is a
        /// statement; the same answers). docs/decisions/0031-read-model.md.
        read_model: bool = true => flag,
    }
}
