//! Errors of the counter sampler: every parse error names the file, the
//! line and the field.

use std::io;
use std::path::PathBuf;

use crate::procnet::Snippet;

/// A counter file that does not follow the kernel's format.
///
/// Line numbers count from 1, as an editor shows them.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{parse_snmp, CounterParseError, PerCounter};
/// let text = "Tcp: RtoAlgorithm OutRsts\nTcp: 1 x9\n";
/// let err = parse_snmp(text, &mut PerCounter::default()).unwrap_err();
/// assert_eq!(err.line(), 2);
/// assert_eq!(err.to_string(), "line 2: field Tcp.OutRsts: not a counter value: \"x9\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CounterParseError {
    /// A value that is not an unsigned decimal number.
    #[error("line {line}: field {field}: not a counter value: {text:?}")]
    BadValue {
        /// The line number.
        line: u64,
        /// The counter (`Section.Name`, or `interface column` in `dev`).
        field: String,
        /// The offending text.
        text: Snippet,
    },
    /// A names line and its values line of different lengths.
    #[error("line {line}: section {section}: {names} names but {values} values")]
    ColumnMismatch {
        /// The line number of the values line.
        line: u64,
        /// The section prefix.
        section: String,
        /// How many names the header line has.
        names: usize,
        /// How many values the values line has.
        values: usize,
    },
    /// A names line not followed by the values line of the same section.
    #[error("line {line}: section {section}: names line without its values line")]
    MissingValues {
        /// The line number of the names line.
        line: u64,
        /// The section prefix.
        section: String,
    },
    /// A line that does not have the shape the file's lines have.
    #[error("line {line}: expected {expected}, found {text:?}")]
    Malformed {
        /// The line number.
        line: u64,
        /// What the line should look like.
        expected: &'static str,
        /// The offending text.
        text: Snippet,
    },
}

impl CounterParseError {
    /// The line number the error is about.
    pub fn line(&self) -> u64 {
        match self {
            CounterParseError::BadValue { line, .. }
            | CounterParseError::ColumnMismatch { line, .. }
            | CounterParseError::MissingValues { line, .. }
            | CounterParseError::Malformed { line, .. } => *line,
        }
    }

    /// The field the error is about, when it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            CounterParseError::BadValue { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// An error sampling counters or reading settings.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{CounterError, SampleReader};
/// use halfopen::procnet::NetNs;
/// let err = SampleReader::new(NetNs::Dir("/nonexistent".into())).read().unwrap_err();
/// assert!(matches!(err, CounterError::Io { .. }));
/// assert!(err.to_string().starts_with("/nonexistent/netstat: "));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CounterError {
    /// Reading a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A file is malformed.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and field.
        #[source]
        source: CounterParseError,
    },
    /// A sysctl holds something other than the number it should.
    #[error("{}: not a number: {text:?}", path.display())]
    BadSetting {
        /// The sysctl's file.
        path: PathBuf,
        /// The offending text.
        text: Snippet,
    },
    /// Reading the TCP tables for the listeners' queues failed.
    #[error(transparent)]
    Table(#[from] crate::procnet::ReadError),
    /// A sample was not taken after the one before it.
    #[error(transparent)]
    Rate(#[from] RateError),
    /// Entering another process's network namespace to read its settings failed.
    #[error("settings of pid {pid}: {source}")]
    Netns {
        /// The process.
        pid: u32,
        /// Why entering failed.
        #[source]
        source: crate::netns::NetnsError,
    },
    /// Entering the network namespace of a namespace file failed (see
    /// [`Sampler::in_namespace`](crate::counters::Sampler::in_namespace)).
    #[error(transparent)]
    Namespace(crate::netns::NetnsError),
}

/// Two samples that cannot give a rate: the later one was not taken after
/// the earlier one.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{Rates, Sample};
/// use std::time::Duration;
/// let a = Sample::empty(Duration::from_secs(5));
/// let b = Sample::empty(Duration::from_secs(5));
/// let err = Rates::between(&a, &b).unwrap_err();
/// assert_eq!(err.to_string(), "sample at 5.000 s is not after the previous one at 5.000 s");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("sample at {later:.3} s is not after the previous one at {earlier:.3} s")]
pub struct RateError {
    /// When the earlier sample was taken, in seconds of the monotonic clock.
    pub earlier: f64,
    /// When the later sample was taken.
    pub later: f64,
}
