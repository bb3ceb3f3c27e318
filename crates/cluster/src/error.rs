//! Errors of the cluster commands.
//!
//! `Display` is the text Redis puts after `-ERR ` for the same condition, so
//! the server maps every variant with one `format!("ERR {e}")`.

use crate::NodeId;
use slots::Slot;

/// Why a cluster command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// A slot number outside `0..16384`.
    #[error("Invalid or out of range slot")]
    InvalidSlot,
    /// ADDSLOTS on a slot some node already serves.
    #[error("Slot {0} is already busy")]
    SlotBusy(Slot),
    /// DELSLOTS on a slot no node serves.
    #[error("Slot {0} is already unassigned")]
    SlotUnassigned(Slot),
    /// The same slot twice in one ADDSLOTS/DELSLOTS.
    #[error("Slot {0} specified multiple times")]
    SlotRepeated(Slot),
    /// ADDSLOTSRANGE/DELSLOTSRANGE with start > end.
    #[error("start slot number {0} is greater than end slot number {1}")]
    BadSlotRange(Slot, Slot),
    /// MEET with an address that cannot be used (port 0, bus port overflow).
    #[error("Invalid node address specified: {0}:{1}")]
    InvalidAddress(String, u16),
    /// A node id this node does not know.
    #[error("Unknown node {0}")]
    UnknownNode(String),
    /// FORGET of this node itself.
    #[error("I tried hard but I can't forget myself...")]
    CantForgetMyself,
    /// FORGET of this replica's master.
    #[error("Can't forget my master!")]
    CantForgetMyMaster,
    /// REPLICATE of this node itself.
    #[error("Can't replicate myself")]
    CantReplicateMyself,
    /// REPLICATE of a node that is itself a replica.
    #[error("I can only replicate a master, not a replica.")]
    ReplicateAReplica,
    /// REPLICATE on a master that serves slots.
    #[error("To set a master the node must be empty and without assigned slots.")]
    MasterNotEmpty,
    /// SET-CONFIG-EPOCH once other nodes are known.
    #[error("The user can assign a config epoch only when the node does not know any other node.")]
    ConfigEpochOthersKnown,
    /// SET-CONFIG-EPOCH when the epoch is already set.
    #[error("Node config epoch is already non-zero")]
    ConfigEpochNonZero,
}

impl ClusterError {
    /// `UnknownNode` for `id`.
    pub(crate) fn unknown(id: &NodeId) -> ClusterError {
        ClusterError::UnknownNode(id.to_string())
    }
}

/// Answer of `CLUSTER BUMPEPOCH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BumpEpoch {
    /// The configEpoch was raised to this value (`BUMPED <n>`).
    Bumped(u64),
    /// It already was the highest; unchanged (`STILL <n>`).
    Still(u64),
}

impl std::fmt::Display for BumpEpoch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BumpEpoch::Bumped(n) => write!(f, "BUMPED {n}"),
            BumpEpoch::Still(n) => write!(f, "STILL {n}"),
        }
    }
}
