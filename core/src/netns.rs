//! Running code inside another network namespace without moving the
//! caller: a dedicated thread enters the namespace, runs the code and ends.
//!
//! Sockets and `/proc/thread-self/net` files opened there stay bound to that
//! namespace after the thread ends, so the caller can read them from its own
//! thread, which never changes namespace.
//!
//! This module calls `setns(2)` through libc, which the standard library
//! does not wrap; it is the only `unsafe` code besides the netlink socket.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The path of the namespace file of a network namespace made by
/// `ip netns add NAME`.
///
/// # Examples
///
/// ```
/// assert_eq!(halfopen::netns::named("ho-a").to_str(), Some("/var/run/netns/ho-a"));
/// ```
pub fn named(name: &str) -> PathBuf {
    Path::new("/var/run/netns").join(name)
}

/// The path of the network namespace file of process `pid`.
///
/// # Examples
///
/// ```
/// assert_eq!(halfopen::netns::of_pid(42).to_str(), Some("/proc/42/ns/net"));
/// ```
pub fn of_pid(pid: u32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/ns/net"))
}

/// Entering a network namespace failed.
///
/// # Examples
///
/// ```
/// use halfopen::netns::{run_in, NetnsError};
/// let err = run_in("/nonexistent/ns", || ()).unwrap_err();
/// assert!(matches!(err, NetnsError::Open { .. }));
/// assert!(err.to_string().starts_with("cannot open network namespace /nonexistent/ns: "));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetnsError {
    /// The namespace file could not be opened.
    #[error("cannot open network namespace {}: {source}", path.display())]
    Open {
        /// The namespace file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// `setns` refused (not a network namespace, or no `CAP_SYS_ADMIN`).
    #[error("cannot enter network namespace {}: {source}", path.display())]
    Enter {
        /// The namespace file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The helper thread could not be started.
    #[error("cannot start a thread to enter network namespace {}: {source}", path.display())]
    Thread {
        /// The namespace file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

impl NetnsError {
    /// The operating system's error.
    pub fn io_error(&self) -> &io::Error {
        match self {
            NetnsError::Open { source, .. }
            | NetnsError::Enter { source, .. }
            | NetnsError::Thread { source, .. } => source,
        }
    }
}

/// Runs `f` on a new thread inside the network namespace of the file
/// `path` (`/proc/<pid>/ns/net`, `/var/run/netns/NAME`), waits for it and
/// returns its result. The calling thread stays where it is.
///
/// A panic in `f` is passed on to the caller.
///
/// # Examples
///
/// ```
/// # if is_privileged() {
/// use halfopen::netns::{of_pid, run_in};
/// // Our own namespace, entered from a helper thread.
/// let inode = run_in(of_pid(std::process::id()), || std::fs::read_link("/proc/thread-self/ns/net").unwrap())?;
/// assert_eq!(inode, std::fs::read_link("/proc/self/ns/net").unwrap());
/// # }
/// # fn is_privileged() -> bool { std::fs::read_to_string("/proc/self/status").map(|s| s.lines().any(|l| l.starts_with("CapEff:") && !l.ends_with("0000000000000000"))).unwrap_or(false) }
/// # Ok::<(), halfopen::netns::NetnsError>(())
/// ```
pub fn run_in<T: Send>(
    path: impl AsRef<Path>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, NetnsError> {
    let path = path.as_ref();
    let ns = File::open(path).map_err(|source| NetnsError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("halfopen-netns".into())
            .spawn_scoped(scope, move || {
                // SAFETY: setns(2) takes a descriptor `ns` keeps open for
                // the call and a flag; it changes only this thread.
                let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                if rc != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(f())
            })
            .map_err(|source| NetnsError::Thread {
                path: path.to_path_buf(),
                source,
            })?;
        match handle.join() {
            Ok(result) => result.map_err(|source| NetnsError::Enter {
                path: path.to_path_buf(),
                source,
            }),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_namespace_is_refused() {
        let err = run_in("/proc/self/status", || ()).unwrap_err();
        assert!(matches!(err, NetnsError::Enter { .. }), "{err}");
        assert_eq!(err.io_error().raw_os_error(), Some(libc::EINVAL));
    }

    #[test]
    fn caller_thread_stays() {
        let before = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
        let _ = run_in(of_pid(std::process::id()), || ());
        assert_eq!(
            std::fs::read_link("/proc/thread-self/ns/net").unwrap(),
            before
        );
    }
}
