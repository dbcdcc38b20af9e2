//! How a request is executed around async-graphql: kept parsed documents,
//! the limits checked before execution, the answer's key order, and the
//! error codes every error carries.

pub(crate) mod context;
pub(crate) mod documents;
pub(crate) mod errors;
pub(crate) mod key_order;
pub(crate) mod limits;
