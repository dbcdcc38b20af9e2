//! The fast path: answers written as JSON text without a resolver per field.
//!
//! Resolving each field of each object through async-graphql (a boxed
//! future, an `IndexMap` insert, a `Value` per field) costs far more than
//! reading the values, for the long lists most requests ask for. Where a
//! selection allows, `lists` writes a list of records and
//! `project_connection` a page of projects straight into JSON text (`json`),
//! which async-graphql carries as raw JSON.
//!
//! The contract every plain field keeps, and the reason it is safe:
//! - a plain field is a pure function of the stored record: no guard, no
//!   argument, no directive, nothing read from the request's context;
//! - it answers the same bytes as its resolver (tests compare both paths);
//! - whether a selection qualifies is decided from its field names before
//!   anything is loaded, and any doubt (an unknown field, arguments,
//!   directives, an object selected twice, a load error) falls back to the
//!   resolvers, which then answer the whole selection.
//!
//! A field that needs a guard or an argument must not be listed in
//! `plain_fields!`.

pub(crate) mod json;
mod lists;
pub(crate) mod project_connection;

pub(crate) use lists::*;
