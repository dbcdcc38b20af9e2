//! Every integration test, in one binary: each module starts the real app
//! (HTTP on a random port, SQLite and PostgreSQL, Redis) and drives it as a
//! client would. One binary links the crate and its dependencies once
//! instead of once per file.
//!
//! Run one module with `cargo test --test integration api::`.
//! The OpenTelemetry export test is the one binary apart
//! (`tests/telemetry.rs`): it installs a process-wide tracing subscriber
//! and needs the `otel` feature.

#![allow(clippy::unwrap_used)] // a test's or benchmark's unwrap is its assertion

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod api;
mod auth;
mod caching;
mod callers;
mod changes;
mod clients;
mod deploy;
mod dev_auth;
mod federation;
mod feeds;
mod formats;
mod fuzz;
mod harvest;
mod http;
mod import;
mod links;
mod oidc_provider;
mod plain;
mod portal;
mod portal_agents;
mod public_agents;
mod read_model;
mod requests;
mod schema;
mod search;
mod signin;
mod signin_refusals;
mod subscriptions;
mod uses;
mod webhooks;
mod writes;
