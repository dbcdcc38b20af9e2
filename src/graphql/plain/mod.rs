//! The fast path: answers written as JSON text without a resolver per field.
//!
//! Resolving each field of each object through async-graphql (a boxed
//! future, an `IndexMap` per object, a `Value` per field) costs far more
//! than reading the values, for the long lists most requests ask for. Where
//! a selection allows, `lists` writes a list of records, and `connection`
//! a page of projects (`project_connection`) or of repositories or
//! datasets (`item_connection`) straight into JSON text (`json`), which
//! async-graphql carries as raw JSON.
//!
//! The contract every plain field keeps, and the reason it is safe:
//! - a plain field is a pure function of the stored record: no guard, no
//!   argument, no directive, nothing read from the request's context
//!   (`contract_tests` resolves each through its resolver with nothing in
//!   the context, and fails on a guard or a read);
//! - it answers the same bytes as its resolver (tests compare both paths,
//!   with the fast path on and off, for every plain field the schema has);
//! - whether a selection qualifies is decided from its field names before
//!   anything is loaded, and any doubt (an unknown field, arguments,
//!   directives, an object selected twice, a load error) falls back to the
//!   resolvers, which then answer the whole selection.
//!
//! A field that needs a guard or an argument must not be listed in
//! `plain_fields!`.
//!
//! It runs only for a request given the app's `PlainCounters`
//! (`CATALOGUE_PLAIN_ANSWERS`, on by default): every list or page it looks
//! at is counted, answered plainly or left to the resolvers.

pub(crate) mod connection;
#[cfg(test)]
mod contract_tests;
mod item_connection;
pub(crate) mod json;
mod lists;
mod project_connection;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) use lists::*;

/// The fast path's counters, shown in `/metrics`. A request's execution is
/// given them when the fast path is on; one without them is answered by
/// the resolvers alone.
#[derive(Debug, Default)]
pub struct PlainCounters {
    answers: AtomicU64,
    fallbacks: AtomicU64,
}

impl PlainCounters {
    /// Lists, and pages of the projects connection, written plainly (a page
    /// counts once, with the lists in it).
    pub fn answers(&self) -> u64 {
        self.answers.load(Ordering::Relaxed)
    }

    /// Lists, and pages of the projects connection, the fast path looked at
    /// and left to the resolvers (the lists of a page left to them are then
    /// looked at, and counted, one by one).
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    fn answered(&self) {
        self.answers.fetch_add(1, Ordering::Relaxed);
    }

    fn fell_back(&self) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
    }
}

/// The scalar fields the fast path answers, by GraphQL type: what
/// `plain_fields!` lists for each type (the objects a plain answer writes
/// inside another are those types' own).
pub fn plain_fields_by_type() -> Vec<(Cow<'static, str>, &'static [&'static str])> {
    use crate::graphql::schema::{links, organization, project, search};
    fn of<T: PlainFields>() -> (Cow<'static, str>, &'static [&'static str]) {
        (T::type_name(), T::FIELDS)
    }
    let mut types = vec![
        of::<organization::Organization>(),
        of::<project::Project>(),
        of::<project::Participation>(),
        of::<links::Repository>(),
        of::<links::Dataset>(),
        of::<links::Link>(),
        of::<search::FacetValue>(),
    ];
    types.extend(project_connection::plain_fields_by_type());
    types.extend(item_connection::plain_fields_by_type());
    types.push(connection::plain_fields_of_page_info());
    types
}
