//! Live TCP tables through netlink `sock_diag` (`NETLINK_SOCK_DIAG`,
//! `SOCK_DIAG_BY_FAMILY` with `inet_diag_req_v2`).
//!
//! - [`SockDiag`] opens the socket and dumps one family
//!   ([`SockDiag::dump`], an `inet_diag_req_v2` request) or both in one walk
//!   of the kernel's socket hash ([`SockDiag::dump_both`]), filtered by
//!   state in the kernel ([`StateSet`]);
//! - [`request`], [`request_both`], [`Messages`] and [`decode_socket`] are
//!   the wire format, pure functions over bytes;
//! - every record becomes the same [`TcpEntry`](crate::procnet::TcpEntry)
//!   a `/proc/net/tcp` row does.
//!
//! The decoder is written against the kernel's fixed layouts rather than a
//! general netlink crate: the answer holds one message type with a fixed
//! 72-byte head, so decoding is a bounds check and a few loads, allocates
//! nothing, and every failure names its byte offset and field.
//!
//! Only datagrams from the kernel (sender port id 0) that carry the
//! request's sequence number are read; anything else queued on the socket
//! is skipped.

mod error;
mod message;
mod socket;

pub use error::{DecodeError, Error, MsgField};
pub use message::{
    decode_socket, ms_to_ticks, request, request_both, Messages, Record, StateSet,
    INET_DIAG_MSG_LEN, INET_DIAG_REQ_LEN, INET_DIAG_REQ_V2_LEN, NLMSG_HDR_LEN, REQUEST_BOTH_LEN,
    REQUEST_LEN, USER_HZ,
};
pub use socket::SockDiag;
