//! The C ABI of halfopen (`libhalfopen.so`, `libhalfopen.a`, header
//! `include/halfopen.h`): a thin skin over the `halfopen` crate, every symbol
//! prefixed `ho_`.
//!
//! # Organization
//!
//! - [`error`]: `ho_result`, the one mapping of core's errors to codes, and
//!   the thread-local last error (`ho_last_error_message`);
//! - [`table`]: `ho_table`, a decoded TCP table, from a buffer or a file;
//! - [`live`]: `ho_live_options` and the reads of the live tables of a
//!   network namespace (netlink sock_diag or `/proc`);
//! - [`report`]: `ho_config` and `ho_report`, the prefixes that explain the
//!   half-open entries, with signs and verdicts, walked or as JSON;
//! - [`blockset`]: `ho_blockset`, the TTL block set, and `ho_sync_diff`,
//!   what changed since the firewall was last told;
//! - [`firewall`]: `ho_firewall`, nftables / ipset / firewalld text;
//! - [`counters`]: `ho_sampler` and `ho_counter_report`, the kernel's
//!   counters sampled into rates and alerts;
//! - [`text`]: strings handed to C, in a caller's buffer or owned by the
//!   library (`ho_string_free`);
//! - [`version`]: the library's version.
//!
//! # Conventions
//!
//! Handles are opaque, created by `ho_<type>_new`-style functions and freed
//! by `ho_<type>_free`; freeing NULL does nothing. Every fallible function
//! returns [`error::ho_result`] (`HO_OK` is 0) and writes its out-parameters
//! only on success. A NULL pointer argument gives `HO_NULL_PARAMETER`, never
//! a crash, and no panic crosses the ABI: each entry point catches it and
//! returns `HO_PANIC` (or NULL, or 0).
//!
//! # Features
//!
//! The crate has no optional features.

#![deny(missing_docs)]
// C names (`ho_table`, `HO_OK`) for C's sake.
#![allow(non_camel_case_types)]
// The entry points take raw pointers from C, which has no `unsafe`: their
// contracts (NULL or valid, who owns what) are in each function's
// documentation, and every pointer is checked for NULL before use.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

#[macro_use]
mod macros;

pub mod blockset;
pub mod counters;
pub mod error;
pub mod firewall;
pub mod live;
pub mod report;
pub mod table;
pub mod text;
pub mod version;

mod handle;
mod panic;
