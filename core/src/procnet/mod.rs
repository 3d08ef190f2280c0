//! The kernel's TCP socket tables, `/proc/net/tcp` and `/proc/net/tcp6`.
//!
//! - [`parse_table`] decodes a table in memory, borrowing from it;
//! - [`TableReader`] streams one from any reader in fixed memory;
//! - [`read_live`] and [`open_live`] read this or another namespace's tables;
//! - [`write_entry`] prints entries back in the kernel's format.
//!
//! Decoding allocates nothing per row; errors name the line and the column.

mod digits;
mod entry;
mod error;
mod live;
mod row;
#[cfg(target_arch = "x86_64")]
mod sse2;
#[cfg(test)]
mod strategies;
#[cfg(any(test, not(target_arch = "x86_64")))]
mod swar;
mod table;
mod write;

pub use entry::{Family, TcpEntry, TcpState, TimerKind};
pub use error::{Field, ParseError, ReadError, Snippet};
pub use live::{open_live, read_live, NetNs};
pub use table::{
    open_table, parse_line, parse_table, Rows, TableReader, DEFAULT_BUFFER, MIN_BUFFER,
};
pub use write::{header, write_entry, TCP4_LINE_WIDTH};

/// The general path alone, which the fuzz target holds the fast path to.
#[cfg(fuzzing)]
#[doc(hidden)]
pub fn parse_line_general(line: &[u8], family: Family) -> Result<TcpEntry<'_>, ParseError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    row::general(line, 1, family)
}
