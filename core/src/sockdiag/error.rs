//! Errors of the sock_diag reader: malformed messages name the byte offset
//! and the field; kernel and socket errors keep the operating system's code.

use std::fmt;
use std::io;

use crate::procnet::Family;

/// A field of a netlink message, named as the kernel's headers name it
/// (`include/uapi/linux/netlink.h`, `include/uapi/linux/inet_diag.h`).
///
/// # Examples
///
/// ```
/// use halfopen::sockdiag::MsgField;
/// assert_eq!(MsgField::NlmsgLen.to_string(), "nlmsg_len");
/// assert_eq!(MsgField::InetDiagMsg.name(), "inet_diag_msg");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgField {
    /// `struct nlmsghdr`, the 16-byte header of every message.
    NlmsgHdr,
    /// `nlmsg_len`, the message length including its header.
    NlmsgLen,
    /// `nlmsg_type`.
    NlmsgType,
    /// `struct inet_diag_msg`, the 72-byte record of one socket.
    InetDiagMsg,
    /// `idiag_family`.
    IdiagFamily,
    /// `idiag_state`.
    IdiagState,
    /// The `int error` of an `NLMSG_ERROR` or `NLMSG_DONE` message.
    Errno,
}

impl MsgField {
    /// The field's name in the kernel's headers.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::sockdiag::MsgField;
    /// assert_eq!(MsgField::IdiagState.name(), "idiag_state");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            MsgField::NlmsgHdr => "nlmsghdr",
            MsgField::NlmsgLen => "nlmsg_len",
            MsgField::NlmsgType => "nlmsg_type",
            MsgField::InetDiagMsg => "inet_diag_msg",
            MsgField::IdiagFamily => "idiag_family",
            MsgField::IdiagState => "idiag_state",
            MsgField::Errno => "error",
        }
    }
}

impl fmt::Display for MsgField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A netlink message that does not follow the kernel's layout. Offsets count
/// bytes from the start of the datagram being decoded.
///
/// # Examples
///
/// ```
/// use halfopen::sockdiag::{DecodeError, Messages, MsgField};
///
/// // Ten bytes: too short for a 16-byte message header.
/// let err = Messages::new(&[0u8; 10]).next().unwrap().unwrap_err();
/// assert_eq!(err, DecodeError::Truncated { offset: 0, field: MsgField::NlmsgHdr, need: 16, have: 10 });
/// assert_eq!(err.offset(), 0);
/// assert_eq!(err.field(), MsgField::NlmsgHdr);
/// assert_eq!(err.to_string(), "offset 0: field nlmsghdr: needs 16 bytes, 10 left");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The datagram ends inside a field.
    #[error("offset {offset}: field {field}: needs {need} bytes, {have} left")]
    Truncated {
        /// Where the field starts.
        offset: usize,
        /// The field.
        field: MsgField,
        /// Bytes the field needs.
        need: usize,
        /// Bytes left in the message.
        have: usize,
    },
    /// `nlmsg_len` is shorter than the header or runs past the datagram.
    #[error(
        "offset {offset}: field nlmsg_len: {len} does not fit (at least 16, at most {available})"
    )]
    BadLength {
        /// Where the message starts.
        offset: usize,
        /// The length the header claims.
        len: u32,
        /// Bytes left in the datagram from `offset`.
        available: usize,
    },
    /// A message type a sock_diag dump never sends.
    #[error("offset {offset}: field nlmsg_type: unexpected message type {kind}")]
    UnexpectedType {
        /// Where the message starts.
        offset: usize,
        /// The type found.
        kind: u16,
    },
    /// `NLMSG_OVERRUN`: the kernel lost data.
    #[error("offset {offset}: field nlmsg_type: the kernel reports an overrun (data lost)")]
    Overrun {
        /// Where the message starts.
        offset: usize,
    },
    /// A socket record of an address family other than IPv4 or IPv6.
    #[error("offset {offset}: field idiag_family: unknown address family {family}")]
    UnknownFamily {
        /// Where the field is.
        offset: usize,
        /// The family code found.
        family: u8,
    },
    /// A state code the kernel does not define.
    #[error("offset {offset}: field idiag_state: unknown TCP state code {code:#04x}")]
    UnknownState {
        /// Where the field is.
        offset: usize,
        /// The code found.
        code: u8,
    },
}

impl DecodeError {
    /// The byte offset the error is about.
    pub fn offset(&self) -> usize {
        match self {
            DecodeError::Truncated { offset, .. }
            | DecodeError::BadLength { offset, .. }
            | DecodeError::UnexpectedType { offset, .. }
            | DecodeError::Overrun { offset }
            | DecodeError::UnknownFamily { offset, .. }
            | DecodeError::UnknownState { offset, .. } => *offset,
        }
    }

    /// The field the error is about.
    pub fn field(&self) -> MsgField {
        match self {
            DecodeError::Truncated { field, .. } => *field,
            DecodeError::BadLength { .. } => MsgField::NlmsgLen,
            DecodeError::UnexpectedType { .. } | DecodeError::Overrun { .. } => MsgField::NlmsgType,
            DecodeError::UnknownFamily { .. } => MsgField::IdiagFamily,
            DecodeError::UnknownState { .. } => MsgField::IdiagState,
        }
    }
}

/// An error of a sock_diag dump.
///
/// [`Error::is_unavailable`] tells the errors that mean "this kernel or
/// sandbox offers no sock_diag" (a caller may then read `/proc` instead)
/// from real failures.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::Family;
/// use halfopen::sockdiag::Error;
///
/// let err = Error::Kernel { family: Some(Family::V6), errno: libc::ENOENT };
/// assert!(err.is_unavailable());
/// assert_eq!(err.to_string(), "sock_diag dump of IPv6: the kernel answered: No such file or directory (os error 2)");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The netlink socket could not be opened (no `AF_NETLINK` or
    /// `NETLINK_SOCK_DIAG` in this kernel, or a sandbox forbids it).
    #[error("cannot open a sock_diag netlink socket: {source}")]
    Open {
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Sending the request or receiving the answer failed.
    #[error("sock_diag dump of {}: {op} failed: {source}", scope(family))]
    Io {
        /// The family being dumped; `None` for a dump of both at once.
        family: Option<Family>,
        /// `"send"` or `"recv"`.
        op: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The kernel refused the request (`NLMSG_ERROR`) or ended the dump
    /// with an error: `ENOENT` when it has no inet_diag handler for the
    /// family, `EACCES`/`EPERM` when a policy forbids it.
    #[error("sock_diag dump of {}: the kernel answered: {}", scope(family), io::Error::from_raw_os_error(*errno))]
    Kernel {
        /// The family being dumped; `None` for a dump of both at once.
        family: Option<Family>,
        /// The error number (positive).
        errno: i32,
    },
    /// A message of the answer is malformed.
    #[error("sock_diag dump of {}: datagram {datagram}: {source}", scope(family))]
    Decode {
        /// The family being dumped; `None` for a dump of both at once.
        family: Option<Family>,
        /// Which datagram of the answer (from 0).
        datagram: u64,
        /// What is wrong, with offset and field.
        #[source]
        source: DecodeError,
    },
    /// A datagram longer than the receive buffer (the kernel never sends
    /// one; the rest would be lost).
    #[error(
        "sock_diag dump of {}: datagram {datagram} of {len} bytes exceeds the {max}-byte buffer",
        scope(family)
    )]
    DatagramTooLong {
        /// The family being dumped; `None` for a dump of both at once.
        family: Option<Family>,
        /// Which datagram.
        datagram: u64,
        /// Its length.
        len: usize,
        /// The buffer size.
        max: usize,
    },
    /// A socket record of the other family than the one asked for.
    #[error("sock_diag dump of {}: got a record of {found}", scope(family))]
    WrongFamily {
        /// The family asked for.
        family: Option<Family>,
        /// The family of the record.
        found: Family,
    },
}

/// How an error names what was dumped.
fn scope(family: &Option<Family>) -> &'static str {
    match family {
        Some(Family::V4) => "IPv4",
        Some(Family::V6) => "IPv6",
        None => "IPv4 and IPv6",
    }
}

impl Error {
    /// True when the error means sock_diag is missing or forbidden here (a
    /// kernel without it, a sandbox, a seccomp policy), so another source
    /// should be used; false for failures of a working sock_diag.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::sockdiag::Error;
    /// let err = Error::Open { source: std::io::Error::from_raw_os_error(libc::EAFNOSUPPORT) };
    /// assert!(err.is_unavailable());
    /// ```
    pub fn is_unavailable(&self) -> bool {
        let code = match self {
            Error::Open { source } => match source.raw_os_error() {
                Some(code) => code,
                None => return false,
            },
            Error::Kernel { errno, .. } => *errno,
            _ => return false,
        };
        matches!(
            code,
            libc::EAFNOSUPPORT
                | libc::EPROTONOSUPPORT
                | libc::ESOCKTNOSUPPORT
                | libc::EOPNOTSUPP
                | libc::ENOSYS
                | libc::ENOENT
                | libc::EINVAL
                | libc::EACCES
                | libc::EPERM
        )
    }

    /// True when the error is a refusal for lack of privilege (`EACCES`,
    /// `EPERM`).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::Family;
    /// use halfopen::sockdiag::Error;
    /// assert!(Error::Kernel { family: Some(Family::V4), errno: libc::EPERM }.is_permission_denied());
    /// ```
    pub fn is_permission_denied(&self) -> bool {
        let code = match self {
            Error::Open { source } | Error::Io { source, .. } => source.raw_os_error(),
            Error::Kernel { errno, .. } => Some(*errno),
            _ => None,
        };
        matches!(code, Some(libc::EACCES | libc::EPERM))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_fields() {
        let e = DecodeError::UnknownState {
            offset: 17,
            code: 0x42,
        };
        assert_eq!(e.offset(), 17);
        assert_eq!(e.field(), MsgField::IdiagState);
        assert_eq!(
            e.to_string(),
            "offset 17: field idiag_state: unknown TCP state code 0x42"
        );
        let e = DecodeError::BadLength {
            offset: 32,
            len: 4,
            available: 100,
        };
        assert_eq!(e.field(), MsgField::NlmsgLen);
    }

    #[test]
    fn unavailable_is_not_every_error() {
        let io = Error::Io {
            family: Some(Family::V4),
            op: "recv",
            source: io::Error::from_raw_os_error(libc::ENOBUFS),
        };
        assert!(!io.is_unavailable());
        let decode = Error::Decode {
            family: Some(Family::V4),
            datagram: 0,
            source: DecodeError::Overrun { offset: 0 },
        };
        assert!(!decode.is_unavailable());
        assert!(Error::Kernel {
            family: Some(Family::V4),
            errno: libc::EACCES
        }
        .is_permission_denied());
        assert!(!Error::Kernel {
            family: Some(Family::V4),
            errno: libc::ENOENT
        }
        .is_permission_denied());
    }
}
