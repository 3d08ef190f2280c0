//! Threads with less than the test process has: one where a seccomp filter
//! forbids netlink sockets (as some sandboxes do), one running as an
//! unprivileged user. Both change only the thread they create, and the
//! threads it starts in turn.

use std::io;

/// `struct sock_filter` instructions of classic BPF.
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const RET_K: u16 = 0x06;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Runs `f` on a new thread where `socket(AF_NETLINK, …)` fails with
/// `errno`, as in a sandbox or a kernel without netlink; other calls work.
///
/// # Examples
///
/// ```
/// let err = halfopen_tests::without_netlink(libc::EAFNOSUPPORT, || unsafe {
///     libc::socket(libc::AF_NETLINK, libc::SOCK_DGRAM, 4);
///     std::io::Error::last_os_error()
/// })
/// .unwrap();
/// assert_eq!(err.raw_os_error(), Some(libc::EAFNOSUPPORT));
/// assert!(std::net::TcpListener::bind("127.0.0.1:0").is_ok());
/// ```
pub fn without_netlink<T: Send>(errno: i32, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    let filter = [
        // Another architecture's calls: allow (nothing of ours).
        insn(LD_W_ABS, 0, 0, 4),
        insn(JEQ_K, 0, 5, AUDIT_ARCH),
        insn(LD_W_ABS, 0, 0, 0),
        insn(JEQ_K, 0, 3, libc::SYS_socket as u32),
        // args[0] (the family), low 32 bits on a little-endian machine.
        insn(LD_W_ABS, 0, 0, 16),
        insn(JEQ_K, 0, 1, libc::AF_NETLINK as u32),
        insn(
            RET_K,
            0,
            0,
            libc::SECCOMP_RET_ERRNO | (errno as u32 & 0xffff),
        ),
        insn(RET_K, 0, 0, SECCOMP_RET_ALLOW),
    ];
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let prog = libc::sock_fprog {
                    len: filter.len() as u16,
                    filter: filter.as_ptr() as *mut libc::sock_filter,
                };
                // SAFETY: prctl with integer arguments, then with a pointer
                // to `prog`, which lives for the call; both affect only
                // this thread and the threads it starts.
                unsafe {
                    if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                        || libc::prctl(
                            libc::PR_SET_SECCOMP,
                            libc::SECCOMP_MODE_FILTER,
                            &prog as *const libc::sock_fprog,
                        ) != 0
                    {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(f())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Runs `f` on a new thread whose user is `uid` (its capabilities gone),
/// while the rest of the process keeps its own.
///
/// # Examples
///
/// ```
/// if !halfopen_tests::require_root("doc_as_user") {
///     return;
/// }
/// let uid = halfopen_tests::as_user(65534, || unsafe { libc::geteuid() }).unwrap();
/// assert_eq!(uid, 65534);
/// assert_eq!(unsafe { libc::geteuid() }, 0);
/// ```
pub fn as_user<T: Send>(uid: u32, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: the raw system call (not libc's process-wide
                // setresuid) changes the credentials of this thread only.
                let rc = unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) };
                if rc != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(f())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
