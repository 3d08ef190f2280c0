//! Errors of the TCP table parser: every one names the line and the column.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::entry::Family;

/// A column of a TCP table row, named as the table's header names it.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::Field;
/// assert_eq!(Field::RemoteAddress.to_string(), "rem_address");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `sl`, the slot number with its colon.
    Slot,
    /// The address half of `local_address`.
    LocalAddress,
    /// The port half of `local_address`.
    LocalPort,
    /// The address half of `rem_address`.
    RemoteAddress,
    /// The port half of `rem_address`.
    RemotePort,
    /// `st`, the state code.
    State,
    /// `tx_queue`.
    TxQueue,
    /// `rx_queue`.
    RxQueue,
    /// `tr`, the timer kind.
    Timer,
    /// `tm->when`, the timer expiry.
    TimerExpires,
    /// `retrnsmt`.
    Retransmits,
    /// `uid`.
    Uid,
    /// `timeout`.
    Timeout,
    /// `inode`.
    Inode,
    /// The columns after `inode`.
    Trailing,
}

impl Field {
    /// The column's name as the header spells it.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::Field;
    /// assert_eq!(Field::TimerExpires.name(), "tm->when");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Field::Slot => "sl",
            Field::LocalAddress => "local_address",
            Field::LocalPort => "local_port",
            Field::RemoteAddress => "rem_address",
            Field::RemotePort => "rem_port",
            Field::State => "st",
            Field::TxQueue => "tx_queue",
            Field::RxQueue => "rx_queue",
            Field::Timer => "tr",
            Field::TimerExpires => "tm->when",
            Field::Retransmits => "retrnsmt",
            Field::Uid => "uid",
            Field::Timeout => "timeout",
            Field::Inode => "inode",
            Field::Trailing => "trailing",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The offending text of a bad row, shortened to at most 48 characters and
/// made printable, for error messages.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::Snippet;
/// let s = Snippet::new(&[b'x'; 100]);
/// assert!(s.as_str().len() <= 51);
/// assert!(s.as_str().ends_with("..."));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Snippet(String);

impl Snippet {
    const MAX: usize = 48;

    /// Shortens and escapes `bytes`.
    pub fn new(bytes: &[u8]) -> Snippet {
        let cut = bytes.len() > Self::MAX;
        let shown = &bytes[..bytes.len().min(Self::MAX)];
        let mut text: String = shown.escape_ascii().to_string();
        if cut {
            text.push_str("...");
        }
        Snippet(text)
    }

    /// The shortened text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A row of a TCP table that does not follow the kernel's format.
///
/// Line numbers count from 1 and include the header line, as an editor
/// shows them.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{parse_table, Family, Field, ParseError};
///
/// let table = b"  sl  local_address rem_address   st\n   0: 0100007F:0050 0100007F:ZZZZ 03 00000000:00000000 00:00000000 00000000 0 0 0\n";
/// let err = parse_table(table, Some(Family::V4)).next().unwrap().unwrap_err();
/// assert_eq!(err.line(), 2);
/// assert_eq!(err.field(), Some(Field::RemotePort));
/// assert_eq!(err.to_string(), "line 2: field rem_port: not hexadecimal: \"ZZZZ\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The row has fewer columns than the kernel always prints.
    #[error("line {line}: expected at least {expected} columns, found {found}")]
    ColumnCount {
        /// The line number.
        line: u64,
        /// How many columns a row needs.
        expected: usize,
        /// How many it has.
        found: usize,
    },
    /// A hexadecimal column holds something else.
    #[error("line {line}: field {field}: not hexadecimal: {text:?}")]
    BadHex {
        /// The line number.
        line: u64,
        /// The column.
        field: Field,
        /// The offending text.
        text: Snippet,
    },
    /// A decimal column holds something else.
    #[error("line {line}: field {field}: not a decimal number: {text:?}")]
    BadDecimal {
        /// The line number.
        line: u64,
        /// The column.
        field: Field,
        /// The offending text.
        text: Snippet,
    },
    /// A number too large for its column.
    #[error("line {line}: field {field}: {text:?} is out of range (at most {max})")]
    OutOfRange {
        /// The line number.
        line: u64,
        /// The column.
        field: Field,
        /// The offending text.
        text: Snippet,
        /// The largest value the column can hold.
        max: u64,
    },
    /// An address whose width does not match the table's family.
    #[error(
        "line {line}: field {field}: address has {found} hex digits, an {family} table needs {expected}"
    )]
    AddressWidth {
        /// The line number.
        line: u64,
        /// The column.
        field: Field,
        /// The table's family.
        family: Family,
        /// Hex digits the family needs (8 or 32).
        expected: usize,
        /// Hex digits found.
        found: usize,
    },
    /// An address whose width fits no family (when the family is detected
    /// from the first row).
    #[error("line {line}: field {field}: address has {found} hex digits, neither 8 (IPv4) nor 32 (IPv6)")]
    UnknownFamily {
        /// The line number.
        line: u64,
        /// The column.
        field: Field,
        /// Hex digits found.
        found: usize,
    },
    /// A column made of parts (`address:port`, `tx_queue:rx_queue`,
    /// `tr:tm->when`, `sl:`) lacks its separator.
    #[error("line {line}: field {field}: expected {expected}, found {text:?}")]
    Malformed {
        /// The line number.
        line: u64,
        /// The column.
        field: Field,
        /// What the column should look like.
        expected: &'static str,
        /// The offending text.
        text: Snippet,
    },
    /// A state code the kernel does not define.
    #[error("line {line}: field st: unknown TCP state code {code:#04x}")]
    UnknownState {
        /// The line number.
        line: u64,
        /// The code found.
        code: u8,
    },
    /// The trailing columns are not text (not UTF-8).
    #[error("line {line}: field trailing: not text: {text:?}")]
    NotText {
        /// The line number.
        line: u64,
        /// The offending text.
        text: Snippet,
    },
    /// The input ended in the middle of a line: the last line has no newline.
    /// The kernel ends every line with one, so the table was cut short (for
    /// example a capture truncated, or a read interrupted). Callers may skip
    /// this row; see [`ParseError::is_truncated`].
    #[error("line {line}: cut short (input ended without a newline): {text:?}")]
    Truncated {
        /// The line number.
        line: u64,
        /// The partial line.
        text: Snippet,
    },
    /// A line longer than the reader's buffer; no kernel row is that long.
    #[error("line {line}: longer than {max} bytes")]
    LineTooLong {
        /// The line number.
        line: u64,
        /// The buffer size.
        max: usize,
    },
}

impl ParseError {
    /// The line number the error is about.
    pub fn line(&self) -> u64 {
        match self {
            ParseError::ColumnCount { line, .. }
            | ParseError::BadHex { line, .. }
            | ParseError::BadDecimal { line, .. }
            | ParseError::OutOfRange { line, .. }
            | ParseError::AddressWidth { line, .. }
            | ParseError::UnknownFamily { line, .. }
            | ParseError::Malformed { line, .. }
            | ParseError::UnknownState { line, .. }
            | ParseError::NotText { line, .. }
            | ParseError::Truncated { line, .. }
            | ParseError::LineTooLong { line, .. } => *line,
        }
    }

    /// The column the error is about, when it is about one column.
    pub fn field(&self) -> Option<Field> {
        match self {
            ParseError::BadHex { field, .. }
            | ParseError::BadDecimal { field, .. }
            | ParseError::OutOfRange { field, .. }
            | ParseError::AddressWidth { field, .. }
            | ParseError::UnknownFamily { field, .. }
            | ParseError::Malformed { field, .. } => Some(*field),
            ParseError::UnknownState { .. } => Some(Field::State),
            ParseError::NotText { .. } => Some(Field::Trailing),
            ParseError::ColumnCount { .. }
            | ParseError::Truncated { .. }
            | ParseError::LineTooLong { .. } => None,
        }
    }

    /// True for [`ParseError::Truncated`]: the last line was cut short, every
    /// line before it is whole. A caller reading a table that may be cut
    /// (a capture, a copy) can skip this error and keep the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{parse_table, Family};
    /// let cut = b"   0: 0100007F:0050 0100007F:0051 01 00000000:00000000 00:00000000 00000000 0 0 1\n   1: 0100007F:00";
    /// let rows: Vec<_> = parse_table(cut, Some(Family::V4)).collect();
    /// assert!(rows[0].is_ok());
    /// assert!(rows[1].as_ref().unwrap_err().is_truncated());
    /// ```
    pub fn is_truncated(&self) -> bool {
        matches!(self, ParseError::Truncated { .. })
    }
}

/// An error reading a TCP table: the input could not be read, or a row is
/// malformed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Reading the input failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being read (`-` for a reader with no path).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A row is malformed.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file being read (`-` for a reader with no path).
        path: PathBuf,
        /// What is wrong, with line and field.
        #[source]
        source: ParseError,
    },
}

impl ReadError {
    /// The parse error, if this is one.
    pub fn as_parse(&self) -> Option<&ParseError> {
        match self {
            ReadError::Parse { source, .. } => Some(source),
            ReadError::Io { .. } => None,
        }
    }
}
