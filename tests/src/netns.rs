//! Named network namespaces that delete themselves, and the `ip` / `tc`
//! commands that wire them together.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use halfopen::procnet::{parse_table, Family, NetNs, TcpEntry, TcpState};

use crate::wait_until;

/// Where `ip netns add` keeps the namespace handles.
const NETNS_DIR: &str = "/var/run/netns";

/// Numbers the namespaces of this process, so names never repeat.
static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// True when this process may create network namespaces (it runs as root and
/// `ip` is installed). Otherwise prints `skipped: <test> needs root and
/// network namespaces (run as root)` and returns false: the test should
/// return early.
///
/// # Examples
///
/// ```
/// if !halfopen_tests::require_root("doc_example") {
///     return;
/// }
/// let ns = halfopen_tests::Netns::new("doc").unwrap();
/// assert!(ns.name().starts_with("ho-doc-"));
/// ```
pub fn require_root(test_name: &str) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let ip = Command::new("ip")
        .args(["netns", "list"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !(root && ip) {
        println!("skipped: {test_name} needs root and network namespaces (run as root)");
    }
    root && ip
}

/// Runs `program args…` in the current namespace; the error names the
/// command and carries its stderr when it fails.
///
/// # Examples
///
/// ```
/// let out = halfopen_tests::run_cmd("echo", &["hello"]).unwrap();
/// assert_eq!(out, "hello\n");
/// assert!(halfopen_tests::run_cmd("false", &[]).is_err());
/// ```
pub fn run_cmd(program: &str, args: &[&str]) -> io::Result<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("{program} {}: {e}", args.join(" "))))?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{program} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A named network namespace (`ip netns add ho-<tag>-<pid>-<n>`) with its
/// loopback up, and a `sleep` process living inside it so its tables are
/// readable at `/proc/<pid>/net/tcp{,6}`.
///
/// Dropping it (also while a test panics) kills the process and deletes the
/// namespace; sockets opened in it keep the kernel namespace alive until they
/// close, but the name is gone.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::Family;
/// if !halfopen_tests::require_root("doc_netns") {
///     return;
/// }
/// let ns = halfopen_tests::Netns::new("doc").unwrap();
/// let listener = ns.run(|| std::net::TcpListener::bind("127.0.0.1:80")).unwrap();
/// let table = String::from_utf8(ns.read_table(Family::V4).unwrap()).unwrap();
/// assert!(table.contains("0100007F:0050 00000000:0000 0A"));
/// drop(listener);
/// ```
#[derive(Debug)]
pub struct Netns {
    name: String,
    holder: Child,
}

impl Netns {
    /// Creates namespace `ho-<tag>-<pid>-<n>`, brings its loopback up and
    /// starts its holder process. Keep `tag` short (a few letters). Also
    /// deletes namespaces that earlier, killed runs left behind (names
    /// `ho-…-<pid>-<n>` whose process is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_netns_new") {
    ///     return;
    /// }
    /// let a = halfopen_tests::Netns::new("x").unwrap();
    /// let b = halfopen_tests::Netns::new("x").unwrap();
    /// assert_ne!(a.name(), b.name());
    /// ```
    pub fn new(tag: &str) -> io::Result<Netns> {
        if NEXT_ID.load(Ordering::Relaxed) == 0 {
            remove_stale();
        }
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let name = format!("ho-{tag}-{}-{id}", std::process::id());
        run_cmd("ip", &["netns", "add", &name])?;
        let holder = match Command::new("ip")
            .args(["netns", "exec", &name, "sleep", "infinity"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                let _ = run_cmd("ip", &["netns", "del", &name]);
                return Err(e);
            }
        };
        let ns = Netns { name, holder };
        // `ip netns exec` enters the namespace and then execs `sleep`; wait
        // until the holder's namespace is ours before anyone reads its tables.
        let want = std::fs::metadata(ns.path())?.ino();
        let link = format!("/proc/{}/ns/net", ns.holder.id());
        let entered = wait_until(Duration::from_secs(10), || {
            std::fs::metadata(&link).is_ok_and(|m| m.ino() == want)
        });
        if !entered {
            return Err(io::Error::other(format!(
                "holder process of {} never entered it",
                ns.name
            )));
        }
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name, as `ip netns list` shows it.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_netns_name") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("nm").unwrap();
    /// assert!(halfopen_tests::run_cmd("ip", &["netns", "list"]).unwrap().contains(ns.name()));
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's handle, `/var/run/netns/<name>`.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_netns_path") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("p").unwrap();
    /// assert!(ns.path().exists());
    /// ```
    pub fn path(&self) -> PathBuf {
        Path::new(NETNS_DIR).join(&self.name)
    }

    /// The pid of the `sleep` process inside the namespace:
    /// `/proc/<pid>/net/…` shows this namespace.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_holder") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("h").unwrap();
    /// assert!(std::path::Path::new(&format!("/proc/{}/net/tcp", ns.holder_pid())).exists());
    /// ```
    pub fn holder_pid(&self) -> u32 {
        self.holder.id()
    }

    /// This namespace for [`halfopen::procnet`]'s readers:
    /// `NetNs::Pid(holder_pid)`.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_net_ns") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("n").unwrap();
    /// let rows = halfopen::procnet::read_live(&ns.net_ns(), |_| {}).unwrap();
    /// assert_eq!(rows, 0);
    /// ```
    pub fn net_ns(&self) -> NetNs {
        NetNs::Pid(self.holder_pid())
    }

    /// Runs `f` on a fresh thread that entered this namespace and returns its
    /// result (a panic in `f` propagates). Sockets `f` creates belong to this
    /// namespace for their whole life, whichever thread uses them later.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_run") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("r").unwrap();
    /// // `/proc/net` is the process's namespace; `/proc/thread-self/net` this thread's.
    /// let ifaces = ns.run(|| std::fs::read_to_string("/proc/thread-self/net/dev")).unwrap();
    /// assert!(ifaces.contains("lo:"));
    /// assert!(!ifaces.contains("eth0:"));
    /// ```
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let handle = File::open(self.path())
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.path().display()));
        std::thread::scope(|scope| {
            let thread = scope.spawn(move || {
                // SAFETY: setns only changes this thread's namespace; the
                // descriptor is a valid, open namespace handle.
                let rc = unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) };
                if rc != 0 {
                    panic!("setns into {}: {}", self.name, io::Error::last_os_error());
                }
                f()
            });
            match thread.join() {
                Ok(value) => value,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Runs `args` inside the namespace (`ip netns exec <name> args…`) and
    /// returns its stdout; fails with the command and its stderr when it
    /// exits non-zero.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_exec") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("e").unwrap();
    /// assert!(ns.exec(&["cat", "/proc/net/dev"]).unwrap().contains("lo:"));
    /// ```
    pub fn exec(&self, args: &[&str]) -> io::Result<String> {
        let mut all = vec!["netns", "exec", &self.name];
        all.extend_from_slice(args);
        run_cmd("ip", &all)
    }

    /// Runs `ip -n <name> args…` (configures this namespace).
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_ip") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("i").unwrap();
    /// ns.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d1"]).unwrap();
    /// assert!(ns.ip(&["link", "show", "d0"]).is_ok());
    /// ```
    pub fn ip(&self, args: &[&str]) -> io::Result<String> {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run_cmd("ip", &all)
    }

    /// Sets sysctl `key` (dotted, as `sysctl` names it, e.g.
    /// `net.ipv4.tcp_syncookies`) to `value` in this namespace.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_sysctl") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("s").unwrap();
    /// ns.sysctl("net.ipv4.tcp_syncookies", "0").unwrap();
    /// assert_eq!(ns.read_sysctl("net.ipv4.tcp_syncookies").unwrap(), "0");
    /// assert_eq!(ns.exec(&["cat", "/proc/sys/net/ipv4/tcp_syncookies"]).unwrap(), "0\n");
    /// ```
    pub fn sysctl(&self, key: &str, value: &str) -> io::Result<()> {
        let path = sysctl_path(key);
        self.run(|| std::fs::write(&path, value)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("sysctl {key}={value} in {}: {e}", self.name),
            )
        })
    }

    /// Reads sysctl `key` in this namespace, trimmed.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_read_sysctl") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("s").unwrap();
    /// assert_eq!(ns.read_sysctl("net.ipv4.ip_forward").unwrap(), "0");
    /// ```
    pub fn read_sysctl(&self, key: &str) -> io::Result<String> {
        let path = sysctl_path(key);
        self.run(|| std::fs::read_to_string(&path))
            .map(|s| s.trim().to_owned())
            .map_err(|e| io::Error::new(e.kind(), format!("sysctl {key} in {}: {e}", self.name)))
    }

    /// The namespace's real table of `family`, read in one go from
    /// `/proc/<holder>/net/tcp{,6}`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::Family;
    /// if !halfopen_tests::require_root("doc_read_table") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("t").unwrap();
    /// let table = ns.read_table(Family::V6).unwrap();
    /// assert!(table.starts_with(b"  sl  local_address"));
    /// ```
    pub fn read_table(&self, family: Family) -> io::Result<Vec<u8>> {
        std::fs::read(self.net_ns().table_path(family))
    }

    /// Every row of the namespace's table of `family`, decoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{Family, TcpState};
    /// if !halfopen_tests::require_root("doc_entries") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("t").unwrap();
    /// let _l = ns.run(|| std::net::TcpListener::bind("[::1]:443")).unwrap();
    /// let rows = ns.entries(Family::V6).unwrap();
    /// assert_eq!(rows.len(), 1);
    /// assert_eq!(rows[0].state, TcpState::Listen);
    /// assert_eq!(rows[0].local.port(), 443);
    /// ```
    pub fn entries(&self, family: Family) -> io::Result<Vec<TcpEntry<'static>>> {
        let bytes = self.read_table(family)?;
        parse_table(&bytes, Some(family))
            .map(|row| row.map(|e| e.detach()).map_err(io::Error::other))
            .collect()
    }

    /// How many rows of `family` are in `state` right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{Family, TcpState};
    /// if !halfopen_tests::require_root("doc_count") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("c").unwrap();
    /// assert_eq!(ns.count(Family::V4, TcpState::SynRecv).unwrap(), 0);
    /// ```
    pub fn count(&self, family: Family, state: TcpState) -> io::Result<usize> {
        Ok(self
            .entries(family)?
            .iter()
            .filter(|e| e.state == state)
            .count())
    }

    /// Replaces the root qdisc of `dev` in this namespace with a deep FIFO
    /// (`tc qdisc replace dev <dev> root pfifo limit <limit>`), so bursts of
    /// SYN-ACK retransmits queue instead of being dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_deep_queue") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("q").unwrap();
    /// ns.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d1"]).unwrap();
    /// ns.deep_queue("d0", 500_000).unwrap();
    /// ```
    pub fn deep_queue(&self, dev: &str, limit: u32) -> io::Result<()> {
        let limit = limit.to_string();
        let args = [
            "-n", &self.name, "qdisc", "replace", "dev", dev, "root", "pfifo", "limit", &limit,
        ];
        run_cmd("tc", &args).map(|_| ())
    }

    /// Puts veth end `dev` on the NAPI path: generic receive offload on
    /// (`ethtool -K <dev> gro on`) and TCP segmentation offload off
    /// (`tso off`; the kernel only hands packets from a TSO-capable sender
    /// to the peer's NAPI ring). Packets then bypass the CPU's shared
    /// backlog (`net.core.netdev_max_backlog`), which floods elsewhere on the
    /// machine overflow, and a full ring pushes back on the sender's qdisc
    /// instead of dropping. Set it on both ends of a link.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_veth_napi") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("g").unwrap();
    /// ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]).unwrap();
    /// ns.veth_napi("v0").unwrap();
    /// ns.veth_napi("v1").unwrap();
    /// ```
    pub fn veth_napi(&self, dev: &str) -> io::Result<()> {
        const ETHTOOL_STSO: u32 = 0x1f;
        const ETHTOOL_SGRO: u32 = 0x2c;
        self.ethtool_set(dev, ETHTOOL_SGRO, 1)?;
        self.ethtool_set(dev, ETHTOOL_STSO, 0)
    }

    /// One legacy `SIOCETHTOOL` set command (`struct ethtool_value`) on `dev`.
    fn ethtool_set(&self, dev: &str, cmd: u32, data: u32) -> io::Result<()> {
        let name = dev.as_bytes();
        if name.len() >= libc::IFNAMSIZ || name.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad interface name {dev:?}"),
            ));
        }
        self.run(|| {
            /// `struct ethtool_value` of `<linux/ethtool.h>`.
            #[repr(C)]
            struct EthtoolValue {
                cmd: u32,
                data: u32,
            }
            let mut value = EthtoolValue { cmd, data };
            let mut ifr_name = [0 as libc::c_char; libc::IFNAMSIZ];
            for (d, s) in ifr_name.iter_mut().zip(name) {
                *d = *s as libc::c_char;
            }
            let mut req = libc::ifreq {
                ifr_name,
                ifr_ifru: libc::__c_anonymous_ifr_ifru {
                    ifru_data: (&mut value as *mut EthtoolValue).cast(),
                },
            };
            // SAFETY: plain socket(2) call; the result is checked.
            let fd =
                unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: fd is a fresh descriptor nobody else owns.
            let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
            // SAFETY: req names the interface and points at `value`, both
            // alive for the call; SIOCETHTOOL reads and writes only them.
            let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCETHTOOL, &mut req) };
            if rc != 0 {
                let e = io::Error::last_os_error();
                return Err(io::Error::new(
                    e.kind(),
                    format!("ethtool command {cmd:#x} on {dev}: {e}"),
                ));
            }
            Ok(())
        })
    }

    /// Adds address `cidr` (e.g. `198.19.1.1/24`, `2001:db8:ffff:1::1/64`)
    /// to `dev`; IPv6 addresses skip duplicate address detection (`nodad`)
    /// so they work at once.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_addr") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("a").unwrap();
    /// ns.add_addr("lo", "2001:db8:ffff::9/128").unwrap();
    /// assert!(ns.ip(&["-6", "addr", "show", "dev", "lo"]).unwrap().contains("2001:db8:ffff::9"));
    /// ```
    pub fn add_addr(&self, dev: &str, cidr: &str) -> io::Result<()> {
        let mut args = vec!["addr", "add", cidr, "dev", dev];
        if cidr.contains(':') {
            args.push("nodad");
        }
        self.ip(&args).map(|_| ())
    }

    /// Adds a route: `ip -n <name> route add <args…>` (IPv6 routes are
    /// recognised by their addresses).
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_route") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("rt").unwrap();
    /// ns.add_route(&["blackhole", "198.18.0.0/15"]).unwrap();
    /// ```
    pub fn add_route(&self, args: &[&str]) -> io::Result<()> {
        let mut all = vec!["route", "add"];
        all.extend_from_slice(args);
        self.ip(&all).map(|_| ())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        if let Err(e) = run_cmd("ip", &["netns", "del", &self.name]) {
            eprintln!("warning: cannot delete namespace {}: {e}", self.name);
        }
    }
}

/// Connects namespace `a` (interface `a_if`) and namespace `b` (interface
/// `b_if`) with a veth pair and brings both ends up. The interfaces are
/// created directly inside the namespaces, so names only need to be unique
/// per namespace.
///
/// # Examples
///
/// ```
/// if !halfopen_tests::require_root("doc_veth") {
///     return;
/// }
/// let a = halfopen_tests::Netns::new("va").unwrap();
/// let b = halfopen_tests::Netns::new("vb").unwrap();
/// halfopen_tests::veth(&a, "to_b", &b, "to_a").unwrap();
/// a.add_addr("to_b", "198.19.9.1/24").unwrap();
/// b.add_addr("to_a", "198.19.9.2/24").unwrap();
/// a.exec(&["ping", "-c1", "-W2", "198.19.9.2"]).ok();
/// ```
pub fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) -> io::Result<()> {
    a.ip(&[
        "link",
        "add",
        a_if,
        "type",
        "veth",
        "peer",
        "name",
        b_if,
        "netns",
        b.name(),
    ])?;
    a.ip(&["link", "set", a_if, "up"])?;
    b.ip(&["link", "set", b_if, "up"])?;
    Ok(())
}

fn sysctl_path(key: &str) -> PathBuf {
    Path::new("/proc/sys").join(key.replace('.', "/"))
}

/// Deletes `ho-*-<pid>-<n>` namespaces whose process no longer exists.
fn remove_stale() {
    let Ok(dir) = std::fs::read_dir(NETNS_DIR) else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("ho-") {
            continue;
        }
        let mut parts = name.rsplit('-');
        let (Some(id), Some(pid)) = (parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(_), Ok(pid)) = (id.parse::<u32>(), pid.parse::<u32>()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = run_cmd("ip", &["netns", "del", &name]);
        }
    }
}
