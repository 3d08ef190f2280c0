//! The kernel's own counters, sampled every few seconds.
//!
//! With SYN cookies on (the Linux default), once a listener's SYN queue is
//! full the kernel answers with a cookie and keeps no half-open entry: past
//! that point a flood is invisible in `/proc/net/tcp`, and only the
//! kernel's counters see it. Port scans and ping floods leave no table
//! entry at all. This module reads those counters, turns them into rates
//! and raises alerts that name the counter.
//!
//! - [`Counter`]: the counters sampled, from `netstat` (TcpExt), `snmp`
//!   (Tcp, Icmp, Udp) and `snmp6` (Icmp6, Udp6); [`InterfaceCounters`] from
//!   `dev`;
//! - [`SampleReader`] reads a [`Sample`] of a namespace's `net` directory
//!   (`/proc/thread-self/net` or `/proc/<pid>/net`); [`parse_netstat`],
//!   [`parse_snmp`], [`parse_snmp6`] and [`parse_dev`] parse the texts;
//! - [`Rates`] between two samples (wraps and resets handled, see
//!   [`Delta`]) and [`History`], a ring buffer of the last samples;
//! - [`AlertRules`]: a [`SpikeRule`] per counter, full queues, and
//!   [`undercount`], why the half-open table misses SYNs;
//! - [`Settings`] (the sysctls) and [`ListenerQueue`]s (backlogs through
//!   [`listener_backlogs`], as `/proc` does not show them), read and explained;
//! - [`Sampler`] ties them together into a [`CounterReport`].
//!
//! Everything a sample reads comes from one namespace's `net` directory;
//! the settings come from `/proc/sys/net`, entered from that namespace
//! (see [`Settings::read`]).

mod alerts;
mod backlog;
mod error;
mod names;
mod parse;
mod rates;
mod sample;
mod sampler;
mod settings;

pub use alerts::{
    undercount, Alert, AlertKind, AlertRules, SpikeRule, UndercountReason, DEFAULT_K,
};
pub use backlog::listener_backlogs;
pub use error::{CounterError, CounterParseError, RateError};
pub use names::{Counter, PerCounter, Section};
pub use parse::{parse_dev, parse_netstat, parse_snmp, parse_snmp6, InterfaceCounters};
pub use rates::{Delta, History, InterfaceRates, Rates};
pub use sample::{monotonic, net_dir, Sample, SampleReader};
pub use sampler::{CounterReport, Sampler};
pub use settings::{read_listener_queues, ListenerQueue, ListenerQueues, SettingNote, Settings};
