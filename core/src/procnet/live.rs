//! The live tables of this network namespace or of another process's.

use std::io;
use std::path::PathBuf;

use super::entry::{Family, TcpEntry};
use super::error::ReadError;
use super::table::{open_table, TableReader};

/// Whose network namespace to read.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{Family, NetNs};
/// assert_eq!(NetNs::Current.table_path(Family::V4).to_str(), Some("/proc/thread-self/net/tcp"));
/// assert_eq!(NetNs::Pid(42).table_path(Family::V6).to_str(), Some("/proc/42/net/tcp6"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetNs {
    /// The namespace of the calling thread (`/proc/thread-self/net`; unlike
    /// `/proc/net`, which follows the process's main thread, it is right
    /// for a thread that entered another namespace).
    Current,
    /// The namespace of process `pid` (`/proc/<pid>/net`).
    Pid(u32),
    /// A directory laid out like `/proc/net` (captures, other mounts).
    Dir(PathBuf),
}

impl NetNs {
    /// The path of the table of `family` in this namespace.
    pub fn table_path(&self, family: Family) -> PathBuf {
        let dir = match self {
            NetNs::Current => PathBuf::from("/proc/thread-self/net"),
            NetNs::Pid(pid) => PathBuf::from(format!("/proc/{pid}/net")),
            NetNs::Dir(dir) => dir.clone(),
        };
        dir.join(family.file_name())
    }
}

/// Streams the live table of `family` in namespace `ns`.
///
/// # Examples
///
/// ```no_run
/// use halfopen::procnet::{open_live, Family, NetNs};
/// let mut reader = open_live(&NetNs::Current, Family::V4)?;
/// while let Some(entry) = reader.next_entry() {
///     println!("{}", entry?.remote);
/// }
/// # Ok::<(), halfopen::procnet::ReadError>(())
/// ```
pub fn open_live(ns: &NetNs, family: Family) -> Result<TableReader<std::fs::File>, ReadError> {
    Ok(open_table(ns.table_path(family))?.family(family))
}

/// Reads both live tables of `ns` (IPv4, then IPv6) and calls `f` with
/// every row; returns the number of rows. A missing `tcp6` (a kernel
/// without IPv6) counts as an empty table.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{read_live, NetNs, TcpState};
/// let mut listeners = 0;
/// # if std::path::Path::new("/proc/net/tcp").exists() {
/// read_live(&NetNs::Current, |e| listeners += (e.state == TcpState::Listen) as u32)?;
/// # }
/// # Ok::<(), halfopen::procnet::ReadError>(())
/// ```
pub fn read_live(ns: &NetNs, mut f: impl FnMut(TcpEntry<'_>)) -> Result<u64, ReadError> {
    let mut rows = 0;
    for family in Family::BOTH {
        match open_live(ns, family) {
            Ok(mut reader) => rows += reader.for_each(&mut f)?,
            Err(ReadError::Io { source, .. })
                if family == Family::V6 && source.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(rows)
}
