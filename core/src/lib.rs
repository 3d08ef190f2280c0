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
//! - [`blockset`]: the TTL block set of prefixes, its sync diff and state file.
//! - [`firewall`]: renderers of the block set into nftables, ipset and
//!   firewalld batches (rendered only; the caller applies them).
//! - [`snapshot`]: both tables reduced to counts and half-open entries.
//! - [`prefix_tree`]: half-open entries and sources counted per prefix.
//! - [`signs`]: named spoof and reflection signs with their evidence.
//! - [`verdict`]: block, watch or allow, and the [`verdict::Config`].
//! - [`report`]: the [`report::Report`] and its JSON form.
//! - [`host`]: the host's own addresses, for the allowlist.
//!
//! # Example
//!
//! ```no_run
//! use halfopen::live::Options;
//! use halfopen::report::Report;
//! use halfopen::snapshot::Snapshot;
//! use halfopen::verdict::Config;
//!
//! let (snapshot, _) = Snapshot::read(&Options::new())?;
//! let report = Report::build(&snapshot, &Config::default())?;
//! for p in report.blocks() {
//!     println!("block {}: {}", p.prefix, p.reason);
//! }
//! println!("{}", report.to_json());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! The crate has no optional features and does no I/O of its own beyond
//! reading the tables it is asked to read and the block set's state file
//! it is asked to save or load. It never runs a program: firewall batches
//! are rendered for the caller to apply.

#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod blockset;
pub mod counters;
pub mod firewall;
pub mod host;
pub mod live;
pub mod netns;
pub mod prefix_tree;
pub mod procnet;
mod radix;
pub mod report;
pub mod signs;
pub mod snapshot;
pub mod sockdiag;
pub mod verdict;
