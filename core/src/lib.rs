//! halfopen sees the attacks a server's logs never show (SYN floods, spoofed
//! sources, reflection) by reading the kernel's own TCP tables, and turns
//! what it sees into firewall blocks that expire on purpose.
//!
//! # Organization
//!
//! - [`procnet`]: the parser of `/proc/net/tcp` and `/proc/net/tcp6`.
//! - [`sockdiag`]: the same tables through netlink sock_diag.
//! - [`live`]: live snapshots from the best source available.
//! - [`netns`]: running code inside another network namespace.
//! - [`counters`]: the kernel's counters (SYN cookies, resets, echoes),
//!   sampled into rates and alerts.
//! - [`blockset`]: the TTL block set of prefixes and its sync diff.
//! - [`firewall`]: renderers of the block set into nftables, ipset and
//!   firewalld batches (rendered only; the caller applies them).
//!
//! # Features
//!
//! The crate has no optional features and does no I/O of its own beyond
//! reading the tables it is asked to read.

#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod blockset;
pub mod counters;
pub mod firewall;
pub mod live;
pub mod netns;
pub mod procnet;
pub mod sockdiag;
