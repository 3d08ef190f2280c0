//! Saving and restoring a block set: a versioned, checksummed text file,
//! written atomically.
//!
//! ```
//! use halfopen::blockset::state_file::decode;
//! use halfopen::blockset::{BlockConfig, Millis};
//!
//! let text = "\
//! halfopen-blockset 1
//! crc32 1496a462
//! records 2 saved 3600000
//! block 198.18.0.0/16 59000 2 1000 0 syn%20flood
//! memory 198.18.7.0/24 1 86340000
//! end
//! ";
//! let set = decode(text.as_bytes(), BlockConfig::default(), Millis(0))?.set;
//! let block = set.get(&"198.18.0.0/16".parse().unwrap()).unwrap();
//! assert_eq!((block.expires, block.strikes, block.reason.as_str()), (Millis(59_000), 2, "syn flood"));
//! assert_eq!(set.strikes(&"198.18.7.0/24".parse().unwrap(), Millis(0)), 1);
//! # Ok::<(), halfopen::blockset::state_file::StateError>(())
//! ```
//!
//! - line 1 names the format and its version;
//! - line 2 holds the CRC-32 (IEEE) of every byte after it, so an altered
//!   file is detected;
//! - line 3 holds the number of records (a truncated file is detected) and
//!   the caller's instant of the save;
//! - `block <prefix> <remaining ms> <strikes> <first seen, ms ago>
//!   <last seen, ms ago> <reason>` — times are relative to the instant of the
//!   save (a sighting from before the restoring clock's zero is restored
//!   as zero); the reason is percent-escaped, `-` when empty;
//! - `memory <prefix> <strikes> <forgotten in, ms>` — strike counts kept
//!   after their block ended;
//! - `synced <prefix> <remaining ms>` — what the firewall was last told
//!   (see [`BlockSet::sync_diff`]), so a program run again on the same clock
//!   continues with incremental syncs;
//! - `end`.
//!
//! Restoring ([`decode_with`], [`Resume`]) either keeps the TTLs as they
//! were at the save, so the time between save and restore does not count
//! (a monotonic clock that restarted with the machine), or, when the
//! caller's clock is the same one the save used (wall-clock milliseconds,
//! for a program run from cron), counts that time, so blocks end when they
//! would have.
//!
//! [`save_file`] writes a temporary file beside the target, syncs it to
//! disk, renames it over the target and syncs the directory: a process
//! killed at any point leaves either the previous file or the new one.
//! Reading never yields a silently empty or partial set: every defect is a
//! [`StateError`] naming the line and what is wrong.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;

use super::{Block, BlockConfig, BlockError, BlockSet, Memory, Millis};

/// The format version this build writes and reads.
pub const VERSION: u32 = 1;

const MAGIC: &str = "halfopen-blockset";

/// Why a state file could not be read or written.
///
/// # Examples
///
/// ```
/// use halfopen::blockset::state_file::{decode, StateError};
/// use halfopen::blockset::{BlockConfig, Millis};
///
/// let err = decode(b"halfopen-blockset 1\ncrc32 00000000\nrecords 1 saved 0\n", BlockConfig::default(), Millis(0))
///     .unwrap_err();
/// assert!(matches!(err, StateError::Truncated { expected: 1, found: 0 }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Reading, writing, syncing or renaming a file failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`, `sync`, `rename`).
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// The file is empty.
    #[error("empty state file")]
    Empty,
    /// Line 1 does not name this format.
    #[error("line 1: not a halfopen block set state file (found {found:?})")]
    NotAStateFile {
        /// The start of line 1, shortened.
        found: String,
    },
    /// The file is of a version this build does not read.
    #[error("line 1: state file version {found:?}, this build reads version {supported}")]
    Version {
        /// The version text found, shortened.
        found: String,
        /// The version this build reads.
        supported: u32,
    },
    /// A field could not be read.
    #[error("line {line}: bad {field}: {found:?}")]
    Bad {
        /// The 1-based line number.
        line: usize,
        /// The field's name.
        field: &'static str,
        /// The offending text, shortened.
        found: String,
    },
    /// The file ends before its `end` line.
    #[error("truncated state file: {found} of {expected} records, no end line")]
    Truncated {
        /// The records the header announced.
        expected: usize,
        /// The complete records present.
        found: usize,
    },
    /// The contents do not match the header's checksum.
    #[error("checksum mismatch: header says {expected:08x}, contents give {actual:08x}")]
    Checksum {
        /// The checksum in the header.
        expected: u32,
        /// The checksum of the contents.
        actual: u32,
    },
    /// Two blocks in the file overlap (the set never holds such blocks).
    #[error("line {line}: block {prefix} overlaps {other}")]
    Overlap {
        /// The 1-based line number of the second block.
        line: usize,
        /// Its prefix.
        prefix: IpNet,
        /// The earlier block it overlaps.
        other: IpNet,
    },
}

/// A restored set, with the saved blocks the current settings refused
/// (allowlisted since, or beyond a smaller capacity).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::state_file::{decode, encode};
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
///
/// let mut set = BlockSet::new(BlockConfig::default());
/// set.add("198.18.0.0/16".parse().unwrap(), "x", Duration::from_secs(60), Millis(0)).unwrap();
/// let text = encode(&set, Millis(0));
/// let config = BlockConfig { allowlist: vec!["198.18.0.0/24".parse().unwrap()], ..BlockConfig::default() };
/// let restored = decode(text.as_bytes(), config, Millis(0)).unwrap();
/// assert!(restored.set.is_empty());
/// assert_eq!(restored.refused.len(), 1);
/// ```
#[derive(Debug)]
pub struct Restored {
    /// The set, as saved, with times moved to the restore's clock.
    pub set: BlockSet,
    /// Saved blocks the set refused, with why.
    pub refused: Vec<BlockError>,
}

/// The state file text of `set` as of `now`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::state_file::encode;
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
///
/// let mut set = BlockSet::new(BlockConfig::default());
/// set.add("198.18.0.0/16".parse().unwrap(), "syn flood", Duration::from_secs(60), Millis(1_000)).unwrap();
/// let text = encode(&set, Millis(2_000));
/// assert!(text.starts_with("halfopen-blockset 1\ncrc32 "));
/// assert!(text.contains("\nblock 198.18.0.0/16 59000 1 1000 1000 syn%20flood\n"));
/// assert!(text.ends_with("\nend\n"));
/// ```
pub fn encode(set: &BlockSet, now: Millis) -> String {
    let mut body = String::new();
    let mut records = 0usize;
    for b in set.blocks.values() {
        let _ = writeln!(
            body,
            "block {} {} {} {} {} {}",
            b.prefix,
            b.expires.since(now).as_millis(),
            b.strikes,
            now.since(b.first_seen).as_millis(),
            now.since(b.last_seen).as_millis(),
            escape(&b.reason)
        );
        records += 1;
    }
    let mut memories: Vec<(&IpNet, &Memory)> = set.memory.iter().collect();
    memories.sort_by_key(|(p, _)| **p);
    for (p, m) in memories {
        if m.forget_at > now {
            let _ = writeln!(
                body,
                "memory {p} {} {}",
                m.strikes,
                m.forget_at.since(now).as_millis()
            );
            records += 1;
        }
    }
    let mut synced: Vec<(&IpNet, &Millis)> = set.synced.iter().collect();
    synced.sort();
    for (p, e) in synced {
        let _ = writeln!(body, "synced {p} {}", e.since(now).as_millis());
        records += 1;
    }
    body.push_str("end\n");
    let body = format!("records {records} saved {}\n{body}", now.0);
    format!(
        "{MAGIC} {VERSION}\ncrc32 {:08x}\n{body}",
        crc32(body.as_bytes())
    )
}

/// How a restore places the saved times on the caller's clock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::state_file::{decode_with, encode, Resume};
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
///
/// let p = "198.18.0.0/16".parse().unwrap();
/// let mut set = BlockSet::new(BlockConfig::default());
/// set.add(p, "x", Duration::from_secs(60), Millis(1_000_000)).unwrap();
/// let text = encode(&set, Millis(1_010_000));
///
/// // 20 s later on the same clock: 30 s left.
/// let same = decode_with(text.as_bytes(), BlockConfig::default(), Millis(1_030_000), Resume::SameClock)?;
/// assert_eq!(same.set.get(&p).unwrap().expires, Millis(1_060_000));
/// // After a reboot, on a clock that started again: the 50 s left at the save.
/// let kept = decode_with(text.as_bytes(), BlockConfig::default(), Millis(5_000), Resume::KeepRemaining)?;
/// assert_eq!(kept.set.get(&p).unwrap().expires, Millis(55_000));
/// # Ok::<(), halfopen::blockset::state_file::StateError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Resume {
    /// Every block keeps the TTL it had left at the save, counted from the
    /// restore's `now`: the time in between does not count. The firewall's
    /// timeouts no longer match, so the set counts the firewall as knowing
    /// nothing: apply a full render (which replaces the table), then
    /// [`BlockSet::mark_synced`].
    #[default]
    KeepRemaining,
    /// `now` is on the same clock as the save's instant: the time since the
    /// save counts, and blocks keep their original expiry (those already
    /// past end at the next [`BlockSet::expire`]). What the firewall was
    /// told is restored too, so the next [`BlockSet::sync_diff`] continues
    /// incrementally. If `now` is before the save's instant, the clock has
    /// restarted and this acts as [`Resume::KeepRemaining`].
    SameClock,
}

/// Reads a state file's text into a set with `config`, its times moved to
/// `now` on the caller's clock as [`Resume::KeepRemaining`] does.
///
/// # Errors
///
/// A [`StateError`] naming the first defect: wrong magic or version, a bad
/// field (with its line), a truncated file, a checksum mismatch, or
/// overlapping blocks.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::state_file::{decode, encode, StateError};
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
///
/// let mut set = BlockSet::new(BlockConfig::default());
/// set.add("2001:db8::/32".parse().unwrap(), "x", Duration::from_secs(60), Millis(0)).unwrap();
/// let text = encode(&set, Millis(10_000));
///
/// // Restored on another clock: 50 s left.
/// let back = decode(text.as_bytes(), BlockConfig::default(), Millis(500)).unwrap().set;
/// assert_eq!(back.get(&"2001:db8::/32".parse().unwrap()).unwrap().expires, Millis(50_500));
///
/// let cut = &text.as_bytes()[..text.len() - 3];
/// assert!(decode(cut, BlockConfig::default(), Millis(0)).is_err());
/// ```
pub fn decode(text: &[u8], config: BlockConfig, now: Millis) -> Result<Restored, StateError> {
    decode_with(text, config, now, Resume::KeepRemaining)
}

/// Reads a state file's text into a set with `config`, placing its times on
/// the caller's clock at `now` as `resume` says.
///
/// # Errors
///
/// As [`decode`].
///
/// # Examples
///
/// See [`Resume`].
pub fn decode_with(
    text: &[u8],
    config: BlockConfig,
    now: Millis,
    resume: Resume,
) -> Result<Restored, StateError> {
    if text.is_empty() {
        return Err(StateError::Empty);
    }
    let (line1, rest) = split_line(text);
    let line1 = line1.ok_or_else(|| StateError::NotAStateFile {
        found: shorten(rest),
    })?;
    let mut words = line1.split(|&b| b == b' ');
    if words.next() != Some(MAGIC.as_bytes()) {
        return Err(StateError::NotAStateFile {
            found: shorten(line1),
        });
    }
    let version = words.next().unwrap_or_default();
    if version != VERSION.to_string().as_bytes() || words.next().is_some() {
        return Err(StateError::Version {
            found: shorten(version),
            supported: VERSION,
        });
    }
    let (line2, body) = split_line(rest);
    let line2 = line2.ok_or_else(|| bad(2, "checksum line", rest))?;
    let expected_crc = parse_crc(line2)?;
    let (line3, records) = split_line(body);
    let line3 = line3.ok_or(StateError::Truncated {
        expected: 0,
        found: 0,
    })?;
    let (expected_records, saved) = parse_counts(line3)?;

    let mut fields = Vec::new();
    let mut found = 0usize;
    let mut ended = false;
    let mut cursor = records;
    let mut line_no = 3;
    while !cursor.is_empty() {
        let (line, rest) = split_line(cursor);
        line_no += 1;
        let Some(line) = line else {
            break; // a last line without its newline: truncated
        };
        cursor = rest;
        if ended {
            return Err(bad(line_no, "line after end", line));
        }
        if line == b"end" {
            ended = true;
            continue;
        }
        fields.push((line_no, parse_record(line_no, line)?));
        found += 1;
    }
    if !ended || found != expected_records {
        return Err(StateError::Truncated {
            expected: expected_records,
            found,
        });
    }
    let actual = crc32(body);
    if actual != expected_crc {
        return Err(StateError::Checksum {
            expected: expected_crc,
            actual,
        });
    }
    let (base, keep_synced) = match resume {
        Resume::SameClock if saved <= now => (saved, true),
        _ => (now, false),
    };
    build(fields, config, base, keep_synced)
}

/// Writes `set`'s state as of `now` to `path` atomically: a temporary file
/// beside it, synced, renamed over it, and the directory synced. A process
/// killed at any point leaves the previous file or the new one, never a
/// mix; a stale temporary file is overwritten by the next save.
///
/// # Errors
///
/// [`StateError::Io`] naming the step and file; the previous file is
/// untouched then.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::state_file::{load_file, save_file};
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
///
/// let dir = std::env::temp_dir().join(format!("ho-doc-state-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("blocks.state");
/// let mut set = BlockSet::new(BlockConfig::default());
/// set.add("198.18.0.0/16".parse().unwrap(), "x", Duration::from_secs(60), Millis(0)).unwrap();
/// save_file(&set, Millis(0), &path).unwrap();
/// let back = load_file(&path, BlockConfig::default(), Millis(0)).unwrap();
/// assert_eq!(back.set.len(), 1);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn save_file(set: &BlockSet, now: Millis, path: &Path) -> Result<(), StateError> {
    let text = encode(set, now);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(path.file_name().unwrap_or_default());
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io("create", &tmp))?;
        f.write_all(text.as_bytes()).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("sync", &tmp))?;
        fs::rename(&tmp, path).map_err(io("rename", path))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
        return written;
    }
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync", &dir))
}

/// Reads the state file at `path` (see [`decode`]).
///
/// # Errors
///
/// [`StateError::Io`] if the file cannot be read, else as [`decode`].
///
/// # Examples
///
/// ```
/// use halfopen::blockset::state_file::{load_file, StateError};
/// use halfopen::blockset::{BlockConfig, Millis};
///
/// let err = load_file("/nonexistent/blocks.state".as_ref(), BlockConfig::default(), Millis(0));
/// assert!(matches!(err, Err(StateError::Io { op: "read", .. })));
/// ```
pub fn load_file(path: &Path, config: BlockConfig, now: Millis) -> Result<Restored, StateError> {
    load_file_with(path, config, now, Resume::KeepRemaining)
}

/// Reads the state file at `path` (see [`decode_with`]).
///
/// # Errors
///
/// [`StateError::Io`] if the file cannot be read, else as [`decode`].
///
/// # Examples
///
/// ```
/// use halfopen::blockset::state_file::{load_file_with, Resume};
/// use halfopen::blockset::{BlockConfig, Millis};
/// let r = load_file_with("/nonexistent".as_ref(), BlockConfig::default(), Millis(0), Resume::SameClock);
/// assert!(r.is_err());
/// ```
pub fn load_file_with(
    path: &Path,
    config: BlockConfig,
    now: Millis,
    resume: Resume,
) -> Result<Restored, StateError> {
    let text = fs::read(path).map_err(|source| StateError::Io {
        op: "read",
        path: path.to_path_buf(),
        source,
    })?;
    decode_with(&text, config, now, resume)
}

enum Record {
    Block {
        prefix: IpNet,
        remaining: u64,
        strikes: u32,
        first_ago: u64,
        last_ago: u64,
        reason: String,
    },
    Memory {
        prefix: IpNet,
        strikes: u32,
        forget_in: u64,
    },
    Synced {
        prefix: IpNet,
        remaining: u64,
    },
}

fn parse_crc(line: &[u8]) -> Result<u32, StateError> {
    let w: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    if w.len() != 2 || w[0] != b"crc32" {
        return Err(bad(2, "checksum line", line));
    }
    let crc = std::str::from_utf8(w[1])
        .ok()
        .filter(|s| s.len() == 8 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|s| u32::from_str_radix(s, 16).ok())
        .ok_or_else(|| bad(2, "checksum", w[1]))?;
    Ok(crc)
}

fn parse_counts(line: &[u8]) -> Result<(usize, Millis), StateError> {
    let w: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    if w.len() != 4 || w[0] != b"records" || w[2] != b"saved" {
        return Err(bad(3, "record count line", line));
    }
    let records = number(3, "record count", w[1])?;
    let saved = number(3, "save instant", w[3])?;
    Ok((records, Millis(saved)))
}

fn parse_record(line_no: usize, line: &[u8]) -> Result<Record, StateError> {
    let w: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let prefix = |i: usize| -> Result<IpNet, StateError> {
        let text = w.get(i).copied().unwrap_or_default();
        let net: IpNet = std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(line_no, "prefix", text))?;
        if net != net.trunc() {
            return Err(bad(line_no, "prefix (host bits set)", text));
        }
        Ok(net)
    };
    let strikes = |i: usize| -> Result<u32, StateError> {
        let text = w.get(i).copied().unwrap_or_default();
        number::<u32>(line_no, "strikes", text)
            .ok()
            .filter(|&s| s > 0)
            .ok_or_else(|| bad(line_no, "strikes", text))
    };
    let num = |i: usize, field| number(line_no, field, w.get(i).copied().unwrap_or_default());
    match w[0] {
        b"block" if w.len() == 7 => Ok(Record::Block {
            prefix: prefix(1)?,
            remaining: num(2, "remaining")?,
            strikes: strikes(3)?,
            first_ago: num(4, "first seen")?,
            last_ago: num(5, "last seen")?,
            reason: unescape(w[6]).ok_or_else(|| bad(line_no, "reason", w[6]))?,
        }),
        b"memory" if w.len() == 4 => Ok(Record::Memory {
            prefix: prefix(1)?,
            strikes: strikes(2)?,
            forget_in: num(3, "forget time")?,
        }),
        b"synced" if w.len() == 3 => Ok(Record::Synced {
            prefix: prefix(1)?,
            remaining: num(2, "synced remaining")?,
        }),
        _ => Err(bad(line_no, "record", line)),
    }
}

fn build(
    records: Vec<(usize, Record)>,
    config: BlockConfig,
    now: Millis,
    keep_synced: bool,
) -> Result<Restored, StateError> {
    let mut set = BlockSet::new(config);
    let mut refused = Vec::new();
    for (line, record) in records {
        match record {
            Record::Block {
                prefix,
                remaining,
                strikes,
                first_ago,
                last_ago,
                reason,
            } => {
                let probe = set.covering(&prefix).map(|b| b.prefix);
                let inside = set.inside(&prefix);
                if let Some(other) = probe.or(inside.first().copied()) {
                    return Err(StateError::Overlap {
                        line,
                        prefix,
                        other,
                    });
                }
                if let Some(allowed) = set
                    .config
                    .allowlist
                    .iter()
                    .find(|a| a.contains(&prefix) || prefix.contains(*a))
                {
                    set.stats.refused_allowlisted += 1;
                    refused.push(BlockError::Allowlisted {
                        prefix,
                        allowed: *allowed,
                    });
                    continue;
                }
                if set.blocks.len() >= set.config.capacity {
                    set.stats.refused_full += 1;
                    refused.push(BlockError::Full {
                        prefix,
                        capacity: set.config.capacity,
                    });
                    continue;
                }
                let block = Block {
                    prefix,
                    expires: now + Duration::from_millis(remaining),
                    reason,
                    first_seen: now.back(Duration::from_millis(first_ago)),
                    last_seen: now.back(Duration::from_millis(last_ago)),
                    strikes,
                };
                set.by_expiry.insert((block.expires, prefix));
                set.blocks.insert(prefix, block);
                set.touch(prefix);
            }
            Record::Memory {
                prefix,
                strikes,
                forget_in,
            } => set.remember(prefix, strikes, now + Duration::from_millis(forget_in)),
            Record::Synced { prefix, remaining } => {
                if keep_synced {
                    set.synced
                        .insert(prefix, now + Duration::from_millis(remaining));
                }
            }
        }
    }
    // Whatever differs from what the firewall holds goes into the next diff.
    set.dirty = set
        .blocks
        .keys()
        .chain(set.synced.keys())
        .copied()
        .collect();
    Ok(Restored { set, refused })
}

/// A mapper of an I/O error into [`StateError::Io`] for `op` on `path`.
fn io(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StateError {
    let path = path.to_path_buf();
    move |source| StateError::Io { op, path, source }
}

/// The line before the first `\n` (None if there is no `\n`) and the rest.
fn split_line(text: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match memchr::memchr(b'\n', text) {
        Some(i) => (Some(&text[..i]), &text[i + 1..]),
        None => (None, text),
    }
}

fn number<T: std::str::FromStr>(
    line: usize,
    field: &'static str,
    text: &[u8],
) -> Result<T, StateError> {
    std::str::from_utf8(text)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(line, field, text))
}

fn bad(line: usize, field: &'static str, text: &[u8]) -> StateError {
    StateError::Bad {
        line,
        field,
        found: shorten(text),
    }
}

/// At most 48 bytes of `text`, escaped.
fn shorten(text: &[u8]) -> String {
    let mut s = text[..text.len().min(48)].escape_ascii().to_string();
    if text.len() > 48 {
        s.push_str("...");
    }
    s
}

/// `reason` with `%`, `-` at the start, spaces, controls and non-ASCII
/// bytes percent-escaped; `-` for an empty reason.
fn escape(reason: &str) -> String {
    if reason.is_empty() {
        return "-".to_owned();
    }
    let mut out = String::with_capacity(reason.len());
    for (i, b) in reason.bytes().enumerate() {
        if b.is_ascii_graphic() && b != b'%' && !(i == 0 && b == b'-') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn unescape(text: &[u8]) -> Option<String> {
    if text == b"-" {
        return Some(String::new());
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 3;
            }
            b if b.is_ascii_graphic() => {
                out.push(b);
                i += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// CRC-32 (IEEE 802.3, reflected, as zlib and `cksum -a crc32b` compute it).
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = !0u32;
    for &b in bytes {
        c = TABLE[usize::from((c as u8) ^ b)] ^ (c >> 8);
    }
    !c
}

impl BlockSet {
    /// Saves the set atomically to `path` (see [`save_file`]).
    ///
    /// # Errors
    ///
    /// As [`save_file`].
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    /// let dir = std::env::temp_dir().join(format!("ho-doc-save-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// BlockSet::new(BlockConfig::default()).save(&dir.join("s"), Millis(0)).unwrap();
    /// let back = BlockSet::load(&dir.join("s"), BlockConfig::default(), Millis(0)).unwrap();
    /// assert!(back.set.is_empty());
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn save(&self, path: &Path, now: Millis) -> Result<(), StateError> {
        save_file(self, now, path)
    }

    /// Restores a set from `path` (see [`load_file`]).
    ///
    /// # Errors
    ///
    /// As [`load_file`].
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    /// assert!(BlockSet::load("/nonexistent".as_ref(), BlockConfig::default(), Millis(0)).is_err());
    /// ```
    pub fn load(path: &Path, config: BlockConfig, now: Millis) -> Result<Restored, StateError> {
        load_file(path, config, now)
    }

    /// Restores a set from `path`, placing its times as `resume` says (see
    /// [`load_file_with`]).
    ///
    /// # Errors
    ///
    /// As [`load_file`].
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::state_file::Resume;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    /// let r = BlockSet::load_with("/nonexistent".as_ref(), BlockConfig::default(), Millis(0), Resume::SameClock);
    /// assert!(r.is_err());
    /// ```
    pub fn load_with(
        path: &Path,
        config: BlockConfig,
        now: Millis,
        resume: Resume,
    ) -> Result<Restored, StateError> {
        load_file_with(path, config, now, resume)
    }
}

#[cfg(test)]
mod tests;
