//! Whole tables: in memory ([`parse_table`]) or streamed from any reader in
//! fixed memory ([`TableReader`]).

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::entry::{Family, TcpEntry};
use super::error::{ParseError, ReadError, Snippet};
use super::row;

/// Decodes one row (with or without its newline) of a table of `family`.
/// Line numbers in errors are 1.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{parse_line, Family, TcpState};
/// let e = parse_line(b"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n", Family::V4).unwrap();
/// assert_eq!(e.state, TcpState::Listen);
/// assert_eq!(e.local.port(), 80);
/// assert_eq!(e.inode, 4242);
/// ```
pub fn parse_line(line: &[u8], family: Family) -> Result<TcpEntry<'_>, ParseError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    row::decode(line, 1, family)
}

/// Decodes a whole table held in memory, borrowing from it: one item per
/// row, header and blank lines skipped.
///
/// `family` is the table's family, or `None` to take it from the first row's
/// address width; a later row of the other width is an error. A row that is
/// wrong yields its error and iteration goes on with the next line, so a
/// caller can skip bad rows. A last line without its newline yields
/// [`ParseError::Truncated`].
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{parse_table, TcpState};
///
/// let table = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
///    0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
///    1: 0100007F:0050 0512C6C6:D431 03 00000000:00000000 01:00000064 00000001     0        0 0 0 0000000000000000
/// ";
/// let entries: Vec<_> = parse_table(table, None).collect::<Result<_, _>>().unwrap();
/// assert_eq!(entries.len(), 2);
/// assert_eq!(entries[1].state, TcpState::SynRecv);
/// ```
pub fn parse_table(bytes: &[u8], family: Option<Family>) -> Rows<'_> {
    Rows {
        rest: bytes,
        cursor: Cursor::new(family),
    }
}

/// Line numbering and family state shared by [`Rows`] and [`TableReader`].
#[derive(Debug, Clone)]
struct Cursor {
    line: u64,
    family: Option<Family>,
}

impl Cursor {
    fn new(family: Option<Family>) -> Self {
        Cursor { line: 0, family }
    }

    /// Counts the line and says whether it holds no row (a header or a
    /// blank line).
    #[inline]
    fn skip(&mut self, line: &[u8]) -> bool {
        self.line += 1;
        row::is_header(line) || row::is_blank(line)
    }

    /// Decodes the line just counted by [`Cursor::skip`].
    #[inline]
    fn decode<'a>(&mut self, line: &'a [u8]) -> Result<TcpEntry<'a>, ParseError> {
        let family = match self.family {
            Some(family) => family,
            None => *self.family.insert(row::detect_family(line, self.line)?),
        };
        row::decode(line, self.line, family)
    }

    /// The error for a last line that has no newline.
    fn truncated(&mut self, partial: &[u8]) -> ParseError {
        self.line += 1;
        ParseError::Truncated {
            line: self.line,
            text: Snippet::new(partial),
        }
    }
}

/// Iterator over the rows of an in-memory table; see [`parse_table`].
#[derive(Debug, Clone)]
pub struct Rows<'a> {
    rest: &'a [u8],
    cursor: Cursor,
}

impl<'a> Rows<'a> {
    /// The family of the table: as given, or as detected from the first row
    /// read so far.
    pub fn family(&self) -> Option<Family> {
        self.cursor.family
    }
}

impl<'a> Iterator for Rows<'a> {
    type Item = Result<TcpEntry<'a>, ParseError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // A row in the kernel's layout: decoded and its line end found in
        // one pass. Anything else (a header, a blank line, a row the fast
        // path defers, a last line without its newline) takes the loop.
        if let Some(family) = self.cursor.family {
            if let Some((entry, end)) = row::fast(self.rest, family) {
                if end < self.rest.len() {
                    self.cursor.line += 1;
                    self.rest = &self.rest[end + 1..];
                    return Some(Ok(entry));
                }
            }
        }
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let Some(end) = memchr::memchr(b'\n', self.rest) else {
                let partial = std::mem::take(&mut self.rest);
                if row::is_blank(partial) {
                    return None;
                }
                return Some(Err(self.cursor.truncated(partial)));
            };
            let line = &self.rest[..end];
            self.rest = &self.rest[end + 1..];
            if !self.cursor.skip(line) {
                return Some(self.cursor.decode(line));
            }
        }
    }
}

/// Streams a table from any reader in fixed memory: one buffer of a fixed
/// size, whatever the table's length.
///
/// Entries borrow from the buffer, so the reader hands them out one at a
/// time ([`TableReader::next_entry`]) or to a closure
/// ([`TableReader::for_each`]). A line split across two reads is joined
/// before it is decoded, so no line is lost or corrupted at a read boundary.
///
/// # Consistency of a live snapshot
///
/// The kernel serves `/proc/net/tcp{,6}` at most one page of whole lines per
/// `read()`, and resumes the next read from its position in the socket hash
/// table. Each line is one socket as it was when that line was printed; the
/// table is not frozen between reads, so a socket created or closed during
/// the read may be present or absent, and a socket may be skipped or seen
/// twice when sockets ahead of it in the same hash bucket come or go between
/// two reads. A snapshot is therefore exact for every socket that lives
/// through the whole read, and approximate by at most the churn during it;
/// consumers that count should key sockets by `(local, remote)` to drop
/// repeats.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{TableReader, TcpState};
///
/// let table: &[u8] = b"  sl  local_address rem_address   st\n   0: 0100007F:0050 0512C6C6:D431 03 00000000:00000000 01:00000064 00000001     0        0 0 0 0000000000000000\n";
/// let mut reader = TableReader::new(table);
/// let mut half_open = 0;
/// reader.for_each(|e| half_open += (e.state == TcpState::SynRecv) as usize).unwrap();
/// assert_eq!(half_open, 1);
/// ```
#[derive(Debug)]
pub struct TableReader<R> {
    inner: R,
    path: PathBuf,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    /// Discarding the rest of an over-long line.
    skipping: bool,
    cursor: Cursor,
}

/// The default buffer size of a [`TableReader`]: 64 KiB, sixteen pages.
pub const DEFAULT_BUFFER: usize = 64 * 1024;

/// The smallest buffer a [`TableReader`] accepts: one kernel row is at most
/// a few hundred bytes.
pub const MIN_BUFFER: usize = 512;

/// What the reader found next, as positions in its buffer.
enum Next {
    Line(usize, usize),
    Truncated(usize, usize),
    TooLong,
    End,
}

impl<R: Read> TableReader<R> {
    /// A reader with a [`DEFAULT_BUFFER`] buffer; the family is taken from
    /// the first row.
    pub fn new(inner: R) -> Self {
        Self::with_capacity(inner, DEFAULT_BUFFER)
    }

    /// A reader whose buffer holds `capacity` bytes (at least [`MIN_BUFFER`]).
    pub fn with_capacity(inner: R, capacity: usize) -> Self {
        TableReader {
            inner,
            path: PathBuf::from("-"),
            buf: vec![0; capacity.max(MIN_BUFFER)].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            skipping: false,
            cursor: Cursor::new(None),
        }
    }

    /// Sets the table's family instead of detecting it.
    pub fn family(mut self, family: Family) -> Self {
        self.cursor.family = Some(family);
        self
    }

    /// Names the input in errors (a file path).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = path.into();
        self
    }

    /// The family of the table, as given or as detected so far.
    pub fn detected_family(&self) -> Option<Family> {
        self.cursor.family
    }

    /// The next row, `None` at the end of input. After a row's error the
    /// reader goes on with the next line; after an I/O error it stops.
    pub fn next_entry(&mut self) -> Option<Result<TcpEntry<'_>, ReadError>> {
        loop {
            let (start, end) = match self.advance() {
                Ok(Next::Line(start, end)) => (start, end),
                Ok(Next::Truncated(start, end)) => {
                    let e = self.cursor.truncated(&self.buf[start..end]);
                    return Some(Err(self.parse_error(e)));
                }
                Ok(Next::TooLong) => {
                    self.cursor.line += 1;
                    let e = ParseError::LineTooLong {
                        line: self.cursor.line,
                        max: self.buf.len(),
                    };
                    return Some(Err(self.parse_error(e)));
                }
                Ok(Next::End) => return None,
                Err(source) => {
                    self.eof = true;
                    self.start = self.end;
                    return Some(Err(ReadError::Io {
                        path: self.path.clone(),
                        source,
                    }));
                }
            };
            if self.cursor.skip(&self.buf[start..end]) {
                continue;
            }
            let path = &self.path;
            return Some(self.cursor.decode(&self.buf[start..end]).map_err(|source| {
                ReadError::Parse {
                    path: path.clone(),
                    source,
                }
            }));
        }
    }

    /// Calls `f` with every row; stops at the first error of any kind.
    /// Returns the number of rows.
    pub fn for_each(&mut self, mut f: impl FnMut(TcpEntry<'_>)) -> Result<u64, ReadError> {
        let mut rows = 0;
        while let Some(entry) = self.next_entry() {
            f(entry?);
            rows += 1;
        }
        Ok(rows)
    }

    fn parse_error(&self, source: ParseError) -> ReadError {
        ReadError::Parse {
            path: self.path.clone(),
            source,
        }
    }

    /// Finds the next complete line, reading more input as needed.
    fn advance(&mut self) -> io::Result<Next> {
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(nl) = memchr::memchr(b'\n', pending) {
                let (start, end) = (self.start, self.start + nl);
                self.start = end + 1;
                if self.skipping {
                    self.skipping = false;
                    continue;
                }
                return Ok(Next::Line(start, end));
            }
            if self.eof {
                let (start, end) = (self.start, self.end);
                self.start = self.end;
                if start == end || self.skipping || row::is_blank(&self.buf[start..end]) {
                    return Ok(Next::End);
                }
                return Ok(Next::Truncated(start, end));
            }
            // Keep the partial line, make room, read more.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                // A line longer than the buffer: report it, drop the rest of it.
                self.start = self.end;
                let reported = self.skipping;
                self.skipping = true;
                if !reported {
                    return Ok(Next::TooLong);
                }
                continue;
            }
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Opens a table file for streaming, naming it in errors.
///
/// # Examples
///
/// ```no_run
/// use halfopen::procnet::{open_table, Family};
/// let mut reader = open_table("/proc/net/tcp6")?.family(Family::V6);
/// let rows = reader.for_each(|_| {})?;
/// # Ok::<(), halfopen::procnet::ReadError>(())
/// ```
pub fn open_table(path: impl AsRef<Path>) -> Result<TableReader<std::fs::File>, ReadError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(TableReader::new(file).path(path))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::strategies;
    use super::*;

    /// The table as the general path alone reads it: lines split at each
    /// newline, headers and blank lines skipped.
    fn general_only(bytes: &[u8], family: Family) -> Vec<Result<TcpEntry<'_>, ParseError>> {
        let mut out = Vec::new();
        let mut line_no = 0;
        let mut rest = bytes;
        while !rest.is_empty() {
            line_no += 1;
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                if !row::is_blank(rest) {
                    out.push(Err(ParseError::Truncated {
                        line: line_no,
                        text: Snippet::new(rest),
                    }));
                }
                break;
            };
            let line = &rest[..end];
            rest = &rest[end + 1..];
            if !row::is_header(line) && !row::is_blank(line) {
                out.push(row::general(line, line_no, family));
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]

        #[test]
        fn rows_split_lines_as_the_general_path_with_any_byte_changed(
            v4 in prop::collection::vec(strategies::entry(Family::V4), 3),
            v6 in prop::collection::vec(strategies::entry(Family::V6), 3),
            extra in any::<u8>(),
        ) {
            for (entries, family) in [(v4, Family::V4), (v6, Family::V6)] {
                let mut table = super::super::header(family).into_bytes();
                let first = table.len();
                for e in &entries {
                    table.extend(strategies::line(e));
                    table.push(b'\n');
                }
                let second = first + strategies::line(&entries[0]).len() + 1;
                let row = &table[second..];
                let row = &row[..row.iter().position(|&b| b == b'\n').unwrap()];
                // Damage the second row in every way; the last row is cut
                // short now and then.
                for damaged in strategies::damaged(row, extra) {
                    let mut text = table[..second].to_vec();
                    text.extend(&damaged);
                    text.extend(&table[second + row.len()..]);
                    for cut in [0, 7] {
                        let text = &text[..text.len() - cut];
                        let rows: Vec<_> = parse_table(text, Some(family)).collect();
                        prop_assert_eq!(rows, general_only(text, family));
                    }
                }
            }
        }
    }
}
