//! The TTL block set: IPv4 and IPv6 prefixes blocked until they expire.
//!
//! - [`BlockSet`] holds disjoint prefixes, each a [`Block`] with its expiry,
//!   reason, first and last sighting and strike count;
//! - [`BlockConfig`] sets TTL escalation, memory, capacity and the allowlist;
//! - [`SyncDiff`] says what changed since the firewall was last told, so it
//!   is updated incrementally (see [`crate::firewall`] for the renderers);
//! - [`BlockSet::apply_report`] blocks what a [`Report`](crate::report::Report)
//!   says to block;
//! - [`state_file`] saves and restores a set atomically, with its TTLs and
//!   strikes.
//!
//! Time is the caller's: every call takes a [`Millis`] instant of a
//! monotonic clock the caller owns.

mod config;
mod error;
mod from_report;
pub mod state_file;
mod sync;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::ops::Bound;
use std::time::Duration;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

pub use config::{BlockConfig, Millis};
pub use error::BlockError;
pub use from_report::ReportOutcome;
pub use sync::{Element, Refresh, Removal, RemovalCause, SyncDiff};

/// The longest reason kept, in bytes; longer reasons are cut at a character
/// boundary so no input grows a block without bound.
pub const MAX_REASON: usize = 200;

/// One blocked prefix.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
///
/// let mut set = BlockSet::new(BlockConfig::default());
/// set.add("198.18.4.0/24".parse().unwrap(), "syn flood", Duration::from_secs(60), Millis(1_000))
///     .unwrap();
/// let block = set.get(&"198.18.4.0/24".parse().unwrap()).unwrap();
/// assert_eq!(block.expires, Millis(61_000));
/// assert_eq!(block.reason, "syn flood");
/// assert_eq!(block.strikes, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The blocked prefix (host bits cleared).
    pub prefix: IpNet,
    /// When the block ends, on the caller's clock.
    pub expires: Millis,
    /// Why it was blocked (the first reason given, at most [`MAX_REASON`] bytes).
    pub reason: String,
    /// When the prefix (or a prefix it absorbed) was first seen in this block.
    pub first_seen: Millis,
    /// When the prefix (or a prefix inside it) was last seen.
    pub last_seen: Millis,
    /// Which offence this block is: 1 for the first, one more for each block
    /// that started within the strike memory of the previous one's end.
    pub strikes: u32,
}

impl Block {
    /// The time left at `now`, zero once expired.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// let p = "2001:db8::/48".parse().unwrap();
    /// set.add(p, "scan", Duration::from_secs(10), Millis(0)).unwrap();
    /// assert_eq!(set.get(&p).unwrap().remaining(Millis(4_000)), Duration::from_secs(6));
    /// ```
    pub fn remaining(&self, now: Millis) -> Duration {
        self.expires.since(now)
    }
}

/// What [`BlockSet::add`] did.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::{Added, BlockConfig, BlockSet, Millis};
///
/// let mut set = BlockSet::new(BlockConfig::default());
/// let ttl = Duration::from_secs(60);
/// let p24 = "198.18.9.0/24".parse().unwrap();
/// assert!(matches!(set.add(p24, "flood", ttl, Millis(0)), Ok(Added::New { strikes: 1, .. })));
/// assert!(matches!(set.add(p24, "flood", ttl, Millis(5)), Ok(Added::Extended { .. })));
/// let p16 = "198.18.0.0/16".parse().unwrap();
/// match set.add(p16, "flood", ttl, Millis(10)).unwrap() {
///     Added::New { absorbed, .. } => assert_eq!(absorbed[0].prefix, p24),
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(set.add(p24, "flood", ttl, Millis(20)), Ok(Added::Covered { by, .. }) if by == p16));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// A new block started.
    New {
        /// When it ends.
        expires: Millis,
        /// Which offence it is (1 for the first).
        strikes: u32,
        /// The blocks it covers, now part of it and no longer separate.
        absorbed: Vec<Block>,
    },
    /// The prefix was already blocked: its last sighting is updated and its
    /// expiry moved to `now` plus its (escalated) TTL if that is later.
    Extended {
        /// When the block now ends.
        expires: Millis,
    },
    /// A blocked prefix covers this one: the covering block is extended as
    /// if it had been seen again.
    Covered {
        /// The covering block's prefix.
        by: IpNet,
        /// When the covering block now ends.
        expires: Millis,
    },
}

/// Counters of what the set refused or forgot.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
///
/// let mut set = BlockSet::new(BlockConfig { capacity: 1, ..BlockConfig::default() });
/// let ttl = Duration::from_secs(1);
/// set.add("198.18.1.0/24".parse().unwrap(), "a", ttl, Millis(0)).unwrap();
/// assert!(set.add("198.18.2.0/24".parse().unwrap(), "b", ttl, Millis(0)).is_err());
/// assert_eq!(set.stats().refused_full, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Blocks refused because the set was full.
    pub refused_full: u64,
    /// Blocks refused because they overlap the allowlist.
    pub refused_allowlisted: u64,
    /// Strike memories forgotten early because the memory was full.
    pub memories_evicted: u64,
}

/// What the set remembers of a prefix whose block ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Memory {
    strikes: u32,
    forget_at: Millis,
}

/// A set of blocked IPv4 and IPv6 prefixes with expiry, strikes and
/// escalation.
///
/// Invariants: the blocked prefixes are disjoint (a covering block absorbs
/// the blocks inside it, so firewall sets with `flags interval` accept them
/// as they are); at most [`BlockConfig::capacity`] blocks and
/// [`BlockConfig::memory_capacity`] strike memories are held; no blocked
/// prefix overlaps the allowlist.
///
/// A block ends only when [`expire`](Self::expire) or a release removes it,
/// so every ended block is returned to the caller exactly once. Expiry costs
/// `O(k log n)` for `k` expired blocks, independent of the blocks that stay.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
///
/// let mut set = BlockSet::new(BlockConfig::default());
/// let ttl = Duration::from_secs(60);
/// set.add("198.18.1.0/24".parse().unwrap(), "syn flood", ttl, Millis(0)).unwrap();
/// set.add("2001:db8:1::/48".parse().unwrap(), "syn flood", ttl, Millis(30_000)).unwrap();
/// assert!(set.lookup("198.18.1.77".parse().unwrap()).is_some());
///
/// let ended = set.expire(Millis(60_000));
/// assert_eq!(ended.len(), 1);
/// assert_eq!(ended[0].prefix.to_string(), "198.18.1.0/24");
/// assert_eq!(set.len(), 1);
///
/// // Seen again within a day of its release: the second strike doubles the TTL.
/// set.add("198.18.1.0/24".parse().unwrap(), "syn flood", ttl, Millis(70_000)).unwrap();
/// assert_eq!(set.get(&"198.18.1.0/24".parse().unwrap()).unwrap().expires, Millis(190_000));
/// ```
#[derive(Debug, Clone)]
pub struct BlockSet {
    config: BlockConfig,
    blocks: BTreeMap<IpNet, Block>,
    by_expiry: BTreeSet<(Millis, IpNet)>,
    memory: HashMap<IpNet, Memory>,
    memory_by_forget: BTreeSet<(Millis, IpNet)>,
    /// What the firewall was last told: prefix and expiry.
    synced: HashMap<IpNet, Millis>,
    /// Prefixes changed since the last sync, each in `blocks` or `synced`.
    dirty: HashSet<IpNet>,
    /// Why each dirty prefix left the set, if it did.
    left: HashMap<IpNet, RemovalCause>,
    stats: Stats,
}

impl BlockSet {
    /// An empty set with the given settings.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::{BlockConfig, BlockSet};
    /// let set = BlockSet::new(BlockConfig::default());
    /// assert!(set.is_empty());
    /// ```
    pub fn new(config: BlockConfig) -> BlockSet {
        BlockSet {
            config,
            blocks: BTreeMap::new(),
            by_expiry: BTreeSet::new(),
            memory: HashMap::new(),
            memory_by_forget: BTreeSet::new(),
            synced: HashMap::new(),
            dirty: HashSet::new(),
            left: HashMap::new(),
            stats: Stats::default(),
        }
    }

    /// The settings.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::{BlockConfig, BlockSet};
    /// let set = BlockSet::new(BlockConfig::default());
    /// assert_eq!(set.config().escalation_factor, 2);
    /// ```
    pub fn config(&self) -> &BlockConfig {
        &self.config
    }

    /// The counters of refusals and evictions.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::{BlockConfig, BlockSet};
    /// assert_eq!(BlockSet::new(BlockConfig::default()).stats().refused_full, 0);
    /// ```
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// How many blocks the set holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::{BlockConfig, BlockSet};
    /// assert_eq!(BlockSet::new(BlockConfig::default()).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether the set holds no block.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::{BlockConfig, BlockSet};
    /// assert!(BlockSet::new(BlockConfig::default()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The blocks, IPv4 before IPv6, each family in address order.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// let ttl = Duration::from_secs(5);
    /// set.add("2001:db8::/32".parse().unwrap(), "x", ttl, Millis(0)).unwrap();
    /// set.add("198.18.0.0/15".parse().unwrap(), "x", ttl, Millis(0)).unwrap();
    /// let prefixes: Vec<String> = set.iter().map(|b| b.prefix.to_string()).collect();
    /// assert_eq!(prefixes, ["198.18.0.0/15", "2001:db8::/32"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &Block> + '_ {
        self.blocks.values()
    }

    /// The block of exactly this prefix (host bits are cleared first).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("198.18.3.0/24".parse().unwrap(), "x", Duration::from_secs(5), Millis(0)).unwrap();
    /// assert!(set.get(&"198.18.3.9/24".parse().unwrap()).is_some());
    /// assert!(set.get(&"198.18.3.0/25".parse().unwrap()).is_none());
    /// ```
    pub fn get(&self, prefix: &IpNet) -> Option<&Block> {
        self.blocks.get(&prefix.trunc())
    }

    /// The block that covers `addr`, if any.
    ///
    /// Costs one ordered-map search: the blocks are disjoint, so the only
    /// candidate is the last one starting at or before `addr`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("2001:db8:5::/48".parse().unwrap(), "x", Duration::from_secs(5), Millis(0)).unwrap();
    /// assert!(set.lookup("2001:db8:5::1".parse().unwrap()).is_some());
    /// assert!(set.lookup("2001:db8:6::1".parse().unwrap()).is_none());
    /// ```
    pub fn lookup(&self, addr: IpAddr) -> Option<&Block> {
        self.covering(&IpNet::from(addr))
    }

    /// The block whose prefix covers `prefix` (equal or shorter), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("198.18.0.0/16".parse().unwrap(), "x", Duration::from_secs(5), Millis(0)).unwrap();
    /// let b = set.covering(&"198.18.200.0/24".parse().unwrap()).unwrap();
    /// assert_eq!(b.prefix.to_string(), "198.18.0.0/16");
    /// ```
    pub fn covering(&self, prefix: &IpNet) -> Option<&Block> {
        let prefix = prefix.trunc();
        let key = host_route(&prefix);
        let (_, block) = self.blocks.range(..=key).next_back()?;
        (block.prefix.contains(&prefix)).then_some(block)
    }

    /// The strikes remembered for `prefix` at `now`: the active block's, or
    /// the count kept after its last block ended, or zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// let p = "198.18.3.0/24".parse().unwrap();
    /// set.add(p, "x", Duration::from_secs(5), Millis(0)).unwrap();
    /// set.expire(Millis(5_000));
    /// assert_eq!(set.strikes(&p, Millis(6_000)), 1);
    /// // The default memory is one day after the block ended.
    /// assert_eq!(set.strikes(&p, Millis(5_000 + 86_400_000)), 0);
    /// ```
    pub fn strikes(&self, prefix: &IpNet, now: Millis) -> u32 {
        let prefix = prefix.trunc();
        if let Some(b) = self.blocks.get(&prefix) {
            return b.strikes;
        }
        match self.memory.get(&prefix) {
            Some(m) if m.forget_at > now => m.strikes,
            _ => 0,
        }
    }

    /// Blocks `prefix` for `ttl` (escalated for repeat offences) from `now`.
    ///
    /// - not blocked: a new block; if the prefix's previous block ended less
    ///   than [`BlockConfig::strike_memory`] ago, it counts one more strike
    ///   and its TTL is escalated ([`BlockConfig::ttl_for_strike`]). Blocks
    ///   inside the prefix are absorbed: removed, the new block ending no
    ///   earlier than any of them;
    /// - already blocked: its expiry moves to `now` plus its escalated TTL
    ///   if that is later ([`Added::Extended`]);
    /// - inside a blocked prefix: the covering block is extended the same
    ///   way ([`Added::Covered`]).
    ///
    /// Host bits of `prefix` are cleared. The reason is cut to
    /// [`MAX_REASON`] bytes.
    ///
    /// # Errors
    ///
    /// [`BlockError::Allowlisted`] if the prefix overlaps the allowlist,
    /// [`BlockError::Full`] if a new block would exceed the capacity,
    /// [`BlockError::ZeroTtl`] for a zero TTL. The set is unchanged then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// let p = "198.18.0.0/24".parse().unwrap();
    /// let ttl = Duration::from_secs(60);
    /// set.add(p, "flood", ttl, Millis(0)).unwrap();
    /// set.add(p, "flood", ttl, Millis(50_000)).unwrap();
    /// assert_eq!(set.get(&p).unwrap().expires, Millis(110_000));
    /// assert_eq!(set.get(&p).unwrap().last_seen, Millis(50_000));
    /// ```
    pub fn add(
        &mut self,
        prefix: IpNet,
        reason: &str,
        ttl: Duration,
        now: Millis,
    ) -> Result<Added, BlockError> {
        let prefix = prefix.trunc();
        if ttl.is_zero() {
            return Err(BlockError::ZeroTtl { prefix });
        }
        if let Some(allowed) = self
            .config
            .allowlist
            .iter()
            .find(|a| a.contains(&prefix) || prefix.contains(*a))
        {
            self.stats.refused_allowlisted += 1;
            return Err(BlockError::Allowlisted {
                prefix,
                allowed: *allowed,
            });
        }
        if let Some(cover) = self.covering(&prefix).map(|b| b.prefix) {
            let expires = self.extend(cover, ttl, now);
            return Ok(if cover == prefix {
                Added::Extended { expires }
            } else {
                Added::Covered { by: cover, expires }
            });
        }
        let inside = self.inside(&prefix);
        if self.blocks.len() - inside.len() >= self.config.capacity {
            self.stats.refused_full += 1;
            return Err(BlockError::Full {
                prefix,
                capacity: self.config.capacity,
            });
        }
        let strikes = match self.forget(&prefix) {
            Some(m) if m.forget_at > now => m.strikes.saturating_add(1),
            _ => 1,
        };
        let mut block = Block {
            prefix,
            expires: now + self.config.ttl_for_strike(ttl, strikes),
            reason: shorten(reason),
            first_seen: now,
            last_seen: now,
            strikes,
        };
        let mut absorbed = Vec::with_capacity(inside.len());
        for p in inside {
            let old = self.take(p, RemovalCause::Absorbed);
            block.expires = block.expires.max(old.expires);
            block.first_seen = block.first_seen.min(old.first_seen);
            block.last_seen = block.last_seen.max(old.last_seen);
            absorbed.push(old);
        }
        let forget_at = block.expires + self.config.strike_memory;
        for old in &absorbed {
            self.remember(old.prefix, old.strikes, forget_at);
        }
        let expires = block.expires;
        self.by_expiry.insert((expires, prefix));
        self.blocks.insert(prefix, block);
        self.touch(prefix);
        Ok(Added::New {
            expires,
            strikes,
            absorbed,
        })
    }

    /// Ends every block whose expiry is at or before `now` and returns them,
    /// in expiry order. Also forgets strike memories that have run out.
    ///
    /// Costs `O(k log n)` for `k` ended blocks and memories.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("198.18.1.0/24".parse().unwrap(), "x", Duration::from_secs(1), Millis(0)).unwrap();
    /// set.add("198.18.2.0/24".parse().unwrap(), "x", Duration::from_secs(2), Millis(0)).unwrap();
    /// assert!(set.expire(Millis(999)).is_empty());
    /// let ended = set.expire(Millis(1_000));
    /// assert_eq!(ended.len(), 1);
    /// assert_eq!(set.len(), 1);
    /// ```
    pub fn expire(&mut self, now: Millis) -> Vec<Block> {
        let mut ended = Vec::new();
        while let Some(&(at, prefix)) = self.by_expiry.first() {
            if at > now {
                break;
            }
            let block = self.take(prefix, RemovalCause::Expired);
            let forget_at = block.expires + self.config.strike_memory;
            self.remember(prefix, block.strikes, forget_at);
            ended.push(block);
        }
        while let Some(&(at, prefix)) = self.memory_by_forget.first() {
            if at > now {
                break;
            }
            self.forget(&prefix);
        }
        ended
    }

    /// Ends the block of exactly `prefix` (host bits cleared) now and returns
    /// it; its strikes are remembered as if it had expired.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// let p = "198.18.1.0/24".parse().unwrap();
    /// set.add(p, "x", Duration::from_secs(60), Millis(0)).unwrap();
    /// assert_eq!(set.release(&p, Millis(10)).unwrap().prefix, p);
    /// assert!(set.release(&p, Millis(10)).is_none());
    /// assert!(set.is_empty());
    /// ```
    pub fn release(&mut self, prefix: &IpNet, now: Millis) -> Option<Block> {
        let prefix = prefix.trunc();
        if !self.blocks.contains_key(&prefix) {
            return None;
        }
        let block = self.take(prefix, RemovalCause::Released);
        self.remember(prefix, block.strikes, now + self.config.strike_memory);
        Some(block)
    }

    /// Ends every block now and returns them, IPv4 first, in address order.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("198.18.1.0/24".parse().unwrap(), "x", Duration::from_secs(60), Millis(0)).unwrap();
    /// set.add("2001:db8::/32".parse().unwrap(), "x", Duration::from_secs(60), Millis(0)).unwrap();
    /// assert_eq!(set.release_all(Millis(1)).len(), 2);
    /// assert!(set.is_empty());
    /// ```
    pub fn release_all(&mut self, now: Millis) -> Vec<Block> {
        let prefixes: Vec<IpNet> = self.blocks.keys().copied().collect();
        prefixes
            .iter()
            .filter_map(|p| self.release(p, now))
            .collect()
    }

    /// Adds `prefix` to the allowlist and releases the blocks that overlap
    /// it, returning them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("198.18.0.0/16".parse().unwrap(), "x", Duration::from_secs(60), Millis(0)).unwrap();
    /// let released = set.allow("198.18.3.0/24".parse().unwrap(), Millis(1));
    /// assert_eq!(released.len(), 1);
    /// assert!(set.add("198.18.3.0/25".parse().unwrap(), "x", Duration::from_secs(60), Millis(2)).is_err());
    /// ```
    pub fn allow(&mut self, prefix: IpNet, now: Millis) -> Vec<Block> {
        let prefix = prefix.trunc();
        let mut hit: Vec<IpNet> = self.inside(&prefix);
        if let Some(cover) = self.covering(&prefix) {
            hit.push(cover.prefix);
        }
        if !self.config.allowlist.contains(&prefix) {
            self.config.allowlist.push(prefix);
        }
        hit.iter().filter_map(|p| self.release(p, now)).collect()
    }

    /// Extends the block of `prefix` (which exists) as a new sighting.
    fn extend(&mut self, prefix: IpNet, ttl: Duration, now: Millis) -> Millis {
        let block = self.blocks.get_mut(&prefix).expect("caller checked");
        block.last_seen = block.last_seen.max(now);
        let wanted = now + self.config.ttl_for_strike(ttl, block.strikes);
        let old = block.expires;
        if wanted > old {
            block.expires = wanted;
            self.by_expiry.remove(&(old, prefix));
            self.by_expiry.insert((wanted, prefix));
            self.touch(prefix);
        }
        wanted.max(old)
    }

    /// The blocked prefixes strictly inside `prefix`.
    fn inside(&self, prefix: &IpNet) -> Vec<IpNet> {
        let lo = Bound::Excluded(*prefix);
        let hi = Bound::Included(host_route(&last_of(prefix)));
        self.blocks
            .range((lo, hi))
            .map(|(p, _)| *p)
            .filter(|p| prefix.contains(p) && p != prefix)
            .collect()
    }

    /// Removes the block of `prefix` (which exists) and records why.
    fn take(&mut self, prefix: IpNet, cause: RemovalCause) -> Block {
        let block = self.blocks.remove(&prefix).expect("caller checked");
        self.by_expiry.remove(&(block.expires, prefix));
        self.left.insert(prefix, cause);
        self.touch(prefix);
        block
    }

    /// Marks `prefix` as changed since the last sync, if the firewall has or
    /// should have it.
    fn touch(&mut self, prefix: IpNet) {
        if self.blocks.contains_key(&prefix) || self.synced.contains_key(&prefix) {
            self.dirty.insert(prefix);
        } else {
            self.dirty.remove(&prefix);
            self.left.remove(&prefix);
        }
    }

    /// Remembers the strikes of an ended block until `forget_at`.
    fn remember(&mut self, prefix: IpNet, strikes: u32, forget_at: Millis) {
        if self.config.memory_capacity == 0 {
            return;
        }
        self.forget(&prefix);
        if self.memory.len() >= self.config.memory_capacity {
            if let Some(&(_, oldest)) = self.memory_by_forget.first() {
                self.forget(&oldest);
                self.stats.memories_evicted += 1;
            }
        }
        self.memory.insert(prefix, Memory { strikes, forget_at });
        self.memory_by_forget.insert((forget_at, prefix));
    }

    /// Drops the strike memory of `prefix`, returning it.
    fn forget(&mut self, prefix: &IpNet) -> Option<Memory> {
        let m = self.memory.remove(prefix)?;
        self.memory_by_forget.remove(&(m.forget_at, *prefix));
        Some(m)
    }
}

/// `prefix` with its longest prefix length: the smallest key of the ordered
/// map that sorts after every prefix starting at the same address.
fn host_route(prefix: &IpNet) -> IpNet {
    match prefix {
        IpNet::V4(n) => IpNet::V4(Ipv4Net::new_assert(n.network(), 32)),
        IpNet::V6(n) => IpNet::V6(Ipv6Net::new_assert(n.network(), 128)),
    }
}

/// The last address of `prefix`, as a host route.
fn last_of(prefix: &IpNet) -> IpNet {
    IpNet::from(prefix.broadcast())
}

/// `reason` cut to at most [`MAX_REASON`] bytes at a character boundary.
fn shorten(reason: &str) -> String {
    let mut end = reason.len().min(MAX_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

#[cfg(test)]
mod tests;
