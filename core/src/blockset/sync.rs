//! What changed since the firewall was last told: the incremental sync.

use std::time::Duration;

use ipnet::IpNet;

use super::{BlockSet, Millis};

/// A prefix as a firewall should hold it: with the time it has left.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::Element;
///
/// let e = Element { prefix: "198.18.0.0/16".parse().unwrap(), timeout: Duration::from_secs(30) };
/// assert_eq!(e.timeout.as_secs(), 30);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Element {
    /// The prefix.
    pub prefix: IpNet,
    /// Its remaining TTL at the sync's instant (never zero).
    pub timeout: Duration,
}

/// Why a prefix left the set.
///
/// # Examples
///
/// ```
/// use halfopen::blockset::RemovalCause;
/// assert_eq!(RemovalCause::Expired.name(), "expired");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemovalCause {
    /// Its block expired.
    Expired,
    /// It was released explicitly.
    Released,
    /// A covering block absorbed it.
    Absorbed,
}

impl RemovalCause {
    /// A lowercase name for logs.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::RemovalCause;
    /// assert_eq!(RemovalCause::Absorbed.name(), "absorbed");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            RemovalCause::Expired => "expired",
            RemovalCause::Released => "released",
            RemovalCause::Absorbed => "absorbed",
        }
    }
}

/// A prefix the firewall holds and should no longer hold.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::{Removal, RemovalCause};
///
/// let r = Removal {
///     prefix: "198.18.0.0/16".parse().unwrap(),
///     firewall_remaining: Duration::ZERO,
///     cause: RemovalCause::Expired,
/// };
/// assert!(r.lapsed());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Removal {
    /// The prefix.
    pub prefix: IpNet,
    /// The time the firewall's own copy still had at the sync's instant,
    /// by the timeout it was last given (zero if that timeout has passed:
    /// a firewall with per-element timeouts has dropped it or is about to).
    pub firewall_remaining: Duration,
    /// Why it left.
    pub cause: RemovalCause,
}

impl Removal {
    /// Whether the firewall's own timeout for this prefix has passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{Removal, RemovalCause};
    /// let r = Removal {
    ///     prefix: "2001:db8::/32".parse().unwrap(),
    ///     firewall_remaining: Duration::from_secs(3),
    ///     cause: RemovalCause::Released,
    /// };
    /// assert!(!r.lapsed());
    /// ```
    pub fn lapsed(&self) -> bool {
        self.firewall_remaining.is_zero()
    }
}

/// A prefix the firewall holds whose timeout must change (the block was
/// extended, or ended and started again before a sync).
///
/// Kernels before 6.12 ignore a re-add of an existing nftables element, so
/// renderers delete and re-add it in one transaction.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::Refresh;
///
/// let r = Refresh {
///     prefix: "198.18.0.0/16".parse().unwrap(),
///     timeout: Duration::from_secs(120),
///     firewall_remaining: Duration::from_secs(10),
/// };
/// assert!(r.timeout > r.firewall_remaining);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Refresh {
    /// The prefix.
    pub prefix: IpNet,
    /// Its new remaining TTL (never zero).
    pub timeout: Duration,
    /// What the firewall's copy still had, as in [`Removal::firewall_remaining`].
    pub firewall_remaining: Duration,
}

/// The changes since the last sync, for an incremental firewall update.
///
/// Computed by [`BlockSet::sync_diff`]; its cost is proportional to the
/// prefixes changed, not to the set. Each list is sorted by prefix.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
///
/// let mut set = BlockSet::new(BlockConfig::default());
/// let ttl = Duration::from_secs(60);
/// set.add("198.18.1.0/24".parse().unwrap(), "x", ttl, Millis(0)).unwrap();
/// let first = set.sync_diff(Millis(0));
/// assert_eq!(first.add.len(), 1);
/// assert!(set.sync_diff(Millis(1)).is_empty());
///
/// set.add("198.18.0.0/16".parse().unwrap(), "x", ttl, Millis(10)).unwrap();
/// let second = set.sync_diff(Millis(10));
/// assert_eq!(second.add[0].prefix.to_string(), "198.18.0.0/16");
/// assert_eq!(second.remove[0].prefix.to_string(), "198.18.1.0/24");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncDiff {
    /// The instant the diff was computed at; timeouts count from it.
    pub now: Millis,
    /// Prefixes to add.
    pub add: Vec<Element>,
    /// Prefixes whose timeout changes.
    pub refresh: Vec<Refresh>,
    /// Prefixes to remove.
    pub remove: Vec<Removal>,
}

impl SyncDiff {
    /// Whether nothing changed.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::SyncDiff;
    /// assert!(SyncDiff::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.refresh.is_empty() && self.remove.is_empty()
    }
}

impl BlockSet {
    /// The changes since the last sync (or since the set was made), as of
    /// `now`; afterwards the set counts the firewall as holding exactly
    /// [`elements`](Self::elements)`(now)`.
    ///
    /// A block whose expiry is at or before `now` but which
    /// [`expire`](Self::expire) has not yet removed is not wanted in the
    /// firewall. Cost: proportional to the prefixes changed since the last
    /// sync.
    ///
    /// If applying the diff fails, apply a full render of
    /// [`elements`](Self::elements) instead and call
    /// [`mark_synced`](Self::mark_synced).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis, RemovalCause};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// let p = "2001:db8:7::/48".parse().unwrap();
    /// set.add(p, "x", Duration::from_secs(60), Millis(0)).unwrap();
    /// set.sync_diff(Millis(0));
    /// set.add(p, "x", Duration::from_secs(60), Millis(30_000)).unwrap();
    /// let d = set.sync_diff(Millis(30_000));
    /// assert_eq!(d.refresh[0].timeout, Duration::from_secs(60));
    /// assert_eq!(d.refresh[0].firewall_remaining, Duration::from_secs(30));
    /// set.release(&p, Millis(40_000));
    /// let d = set.sync_diff(Millis(40_000));
    /// assert_eq!(d.remove[0].cause, RemovalCause::Released);
    /// ```
    pub fn sync_diff(&mut self, now: Millis) -> SyncDiff {
        let mut diff = SyncDiff {
            now,
            ..SyncDiff::default()
        };
        let dirty: Vec<IpNet> = self.dirty.drain().collect();
        for prefix in dirty {
            let wanted = self
                .blocks
                .get(&prefix)
                .map(|b| b.expires)
                .filter(|&e| e > now);
            let held = self.synced.get(&prefix).copied();
            match (wanted, held) {
                (Some(e), None) => diff.add.push(Element {
                    prefix,
                    timeout: e.since(now),
                }),
                (Some(e), Some(h)) if e != h => diff.refresh.push(Refresh {
                    prefix,
                    timeout: e.since(now),
                    firewall_remaining: h.since(now),
                }),
                (None, Some(h)) => diff.remove.push(Removal {
                    prefix,
                    firewall_remaining: h.since(now),
                    cause: self
                        .left
                        .get(&prefix)
                        .copied()
                        .unwrap_or(RemovalCause::Expired),
                }),
                _ => {}
            }
            match wanted {
                Some(e) => self.synced.insert(prefix, e),
                None => self.synced.remove(&prefix),
            };
        }
        self.left.clear();
        diff.add.sort();
        diff.refresh.sort_by_key(|r| r.prefix);
        diff.remove.sort_by_key(|r| r.prefix);
        diff
    }

    /// The prefixes a firewall should hold at `now`, with their remaining
    /// TTLs: every block not yet expired, IPv4 first, in address order. The
    /// prefixes are disjoint.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("198.18.1.0/24".parse().unwrap(), "x", Duration::from_secs(5), Millis(0)).unwrap();
    /// assert_eq!(set.elements(Millis(1_000))[0].timeout, Duration::from_secs(4));
    /// assert!(set.elements(Millis(5_000)).is_empty());
    /// ```
    pub fn elements(&self, now: Millis) -> Vec<Element> {
        self.blocks
            .values()
            .filter(|b| b.expires > now)
            .map(|b| Element {
                prefix: b.prefix,
                timeout: b.expires.since(now),
            })
            .collect()
    }

    /// Counts the firewall as holding exactly
    /// [`elements`](Self::elements)`(now)`, as after applying a full render.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("198.18.1.0/24".parse().unwrap(), "x", Duration::from_secs(5), Millis(0)).unwrap();
    /// set.mark_synced(Millis(0));
    /// assert!(set.sync_diff(Millis(0)).is_empty());
    /// ```
    pub fn mark_synced(&mut self, now: Millis) {
        self.synced.clear();
        self.dirty.clear();
        self.left.clear();
        for b in self.blocks.values().filter(|b| b.expires > now) {
            self.synced.insert(b.prefix, b.expires);
        }
    }

    /// Forgets what the firewall was told, so the next
    /// [`sync_diff`](Self::sync_diff) adds every block again (after the
    /// firewall lost its state, for example).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("198.18.1.0/24".parse().unwrap(), "x", Duration::from_secs(5), Millis(0)).unwrap();
    /// set.sync_diff(Millis(0));
    /// set.forget_synced();
    /// assert_eq!(set.sync_diff(Millis(0)).add.len(), 1);
    /// ```
    pub fn forget_synced(&mut self) {
        self.synced.clear();
        self.left.clear();
        self.dirty = self.blocks.keys().copied().collect();
    }
}
