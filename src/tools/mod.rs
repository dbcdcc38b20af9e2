//! Tools beside the service: generators of data to measure it with.

pub mod synthetic;
