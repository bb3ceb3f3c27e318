//! On-disk formats: the per-core append-only log, the per-core snapshot and
//! the manifest that ties them together. Pure encoding and decoding over
//! byte buffers; the server does the (io_uring) file I/O.
//!
//! ```text
//! <dir>/LAYOUT                      layout epoch E, number of cores + crc line
//! <dir>/eE-core-<i>.manifest        this core's snapshot + log segments, + crc line
//! <dir>/eE-core-<i>-<gen>.snap      snapshot: header, entry frames, end frame
//! <dir>/eE-core-<i>-<gen>.aof       log: header, record frames
//! frame = body_len:u32 LE  crc32(body):u32 LE  body
//! ```
//!
//! Every frame is checksummed. Reading a log distinguishes a torn tail (the
//! last frame incomplete or failing its checksum: a write the crash cut
//! short, safe to truncate) from corruption before the end (refused).
//! Snapshots and manifests are written to a temporary file, fsynced and
//! renamed, so they are whole or absent: any damage in them is refused.

pub mod codec;
pub mod log;
pub mod manifest;
pub mod snapshot;

pub use codec::FormatError;
pub use log::{LogReadOutcome, Record};
pub use manifest::{CoreManifest, Layout};
