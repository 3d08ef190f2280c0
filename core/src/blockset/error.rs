//! Why the block set refused a block.

use ipnet::IpNet;

/// A block the [`BlockSet`](super::BlockSet) refused, with what it refused
/// and why. Nothing is dropped silently: every refusal is one of these, and
/// the set counts them in its [`Stats`](super::Stats).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::{BlockConfig, BlockError, BlockSet, Millis};
///
/// let config = BlockConfig {
///     allowlist: vec!["198.18.7.0/24".parse().unwrap()],
///     ..BlockConfig::default()
/// };
/// let mut set = BlockSet::new(config);
/// let err = set
///     .add("198.18.0.0/16".parse().unwrap(), "flood", Duration::from_secs(60), Millis(0))
///     .unwrap_err();
/// assert!(matches!(err, BlockError::Allowlisted { .. }));
/// assert_eq!(err.to_string(), "198.18.0.0/16 overlaps the allowlisted 198.18.7.0/24");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// The prefix overlaps an allowlisted prefix (lies inside it or covers it).
    #[error("{prefix} overlaps the allowlisted {allowed}")]
    Allowlisted {
        /// The prefix the caller asked to block.
        prefix: IpNet,
        /// The allowlist entry it overlaps.
        allowed: IpNet,
    },
    /// The set holds its capacity of blocks; a new one would exceed it.
    #[error("block set full ({capacity} blocks), {prefix} refused")]
    Full {
        /// The prefix the caller asked to block.
        prefix: IpNet,
        /// The configured capacity.
        capacity: usize,
    },
    /// A block with a TTL of zero would end before it starts.
    #[error("zero ttl for {prefix}")]
    ZeroTtl {
        /// The prefix the caller asked to block.
        prefix: IpNet,
    },
}
