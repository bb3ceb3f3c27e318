//! Crate-level tests: request parsing, reply encoding/decoding, properties.

mod props;
mod replies;
mod requests;
