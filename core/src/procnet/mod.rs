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
mod table;
mod write;

pub use entry::{Family, TcpEntry, TcpState, TimerKind};
pub use error::{Field, ParseError, ReadError, Snippet};
pub use live::{open_live, read_live, NetNs};
pub use table::{
    open_table, parse_line, parse_table, Rows, TableReader, DEFAULT_BUFFER, MIN_BUFFER,
};
pub use write::{header, write_entry, TCP4_LINE_WIDTH};
