//! Value types stored under a key.

use bytes::Bytes;
use hashbrown::HashMap;
use std::collections::VecDeque;

/// A stored value. Strings are binary-safe; the container types are minimal
/// here and grow with the data-model work.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Bytes),
    List(VecDeque<Bytes>),
    Hash(HashMap<Bytes, Bytes>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
        }
    }

    /// Approximate heap bytes held by the value (payload only).
    pub fn approx_size(&self) -> usize {
        match self {
            Value::Str(b) => b.len(),
            Value::List(l) => l.iter().map(|e| e.len() + 32).sum(),
            Value::Hash(h) => h.iter().map(|(k, v)| k.len() + v.len() + 64).sum(),
        }
    }
}
