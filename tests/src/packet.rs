//! Hand-built IPv4/IPv6 packets: TCP SYNs and ICMP echo requests, with
//! correct checksums, for raw sockets that include the IP header.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// TCP header length of our SYNs: 20 bytes plus one MSS option.
const TCP_LEN: usize = 24;
/// The MSS our SYNs announce.
const MSS: u16 = 1460;
/// The receive window our SYNs announce.
const WINDOW: u16 = 64240;

/// A TCP SYN from `src` to `dst`, IP header included, initial sequence
/// number `seq`. `src` and `dst` must be of the same family.
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// let src: SocketAddr = "198.18.0.7:4000".parse().unwrap();
/// let dst: SocketAddr = "198.19.1.1:80".parse().unwrap();
/// let p = halfopen_tests::syn_packet(src, dst, 1);
/// assert_eq!(p.len(), 44);
/// assert_eq!(p[9], 6); // TCP
/// assert_eq!(&p[12..16], &[198, 18, 0, 7]);
/// assert_eq!(p[20 + 13], 0x02); // SYN
/// assert_eq!(halfopen_tests::internet_checksum(&p[..20]), 0);
/// ```
pub fn syn_packet(src: SocketAddr, dst: SocketAddr, seq: u32) -> Vec<u8> {
    let mut tcp = [0u8; TCP_LEN];
    tcp[0..2].copy_from_slice(&src.port().to_be_bytes());
    tcp[2..4].copy_from_slice(&dst.port().to_be_bytes());
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    tcp[12] = ((TCP_LEN / 4) as u8) << 4;
    tcp[13] = 0x02;
    tcp[14..16].copy_from_slice(&WINDOW.to_be_bytes());
    tcp[20] = 2;
    tcp[21] = 4;
    tcp[22..24].copy_from_slice(&MSS.to_be_bytes());
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let sum = pseudo_sum_v4(s, d, libc::IPPROTO_TCP as u8, TCP_LEN);
            set_checksum(&mut tcp, 16, sum);
            ipv4_packet(s, d, libc::IPPROTO_TCP as u8, seq as u16, &tcp)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let sum = pseudo_sum_v6(s, d, libc::IPPROTO_TCP as u8, TCP_LEN);
            set_checksum(&mut tcp, 16, sum);
            ipv6_packet(s, d, libc::IPPROTO_TCP as u8, &tcp)
        }
        _ => panic!("syn_packet: {src} and {dst} are of different families"),
    }
}

/// An ICMP (IPv4) or ICMPv6 (IPv6) echo request from `src` to `dst` with
/// identifier `id`, sequence number `seq` and a 32-byte payload, IP header
/// included.
///
/// # Examples
///
/// ```
/// let p = halfopen_tests::echo_packet(
///     "2001:db8::1".parse().unwrap(),
///     "2001:db8:ffff:1::1".parse().unwrap(),
///     7,
///     1,
/// );
/// assert_eq!(p.len(), 40 + 8 + 32);
/// assert_eq!(p[6], 58); // ICMPv6
/// assert_eq!(p[40], 128); // echo request
/// ```
pub fn echo_packet(src: IpAddr, dst: IpAddr, id: u16, seq: u16) -> Vec<u8> {
    let mut icmp = [0u8; 8 + 32];
    icmp[4..6].copy_from_slice(&id.to_be_bytes());
    icmp[6..8].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in icmp[8..].iter_mut().enumerate() {
        *b = i as u8;
    }
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            icmp[0] = 8;
            set_checksum(&mut icmp, 2, 0);
            ipv4_packet(s, d, libc::IPPROTO_ICMP as u8, seq, &icmp)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            icmp[0] = 128;
            let sum = pseudo_sum_v6(s, d, libc::IPPROTO_ICMPV6 as u8, icmp.len());
            set_checksum(&mut icmp, 2, sum);
            ipv6_packet(s, d, libc::IPPROTO_ICMPV6 as u8, &icmp)
        }
        _ => panic!("echo_packet: {src} and {dst} are of different families"),
    }
}

/// The Internet checksum (RFC 1071) of `data`: 0 when `data` holds a
/// correct checksum.
///
/// # Examples
///
/// ```
/// assert_eq!(halfopen_tests::internet_checksum(&[0x45, 0x00, 0xba, 0xff]), 0);
/// assert_eq!(halfopen_tests::internet_checksum(&[0x00, 0x01]), 0xfffe);
/// ```
pub fn internet_checksum(data: &[u8]) -> u16 {
    fold(sum_words(data, 0))
}

fn sum_words(data: &[u8], mut sum: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Writes the checksum of `data` (with `pseudo` added) at `at`.
fn set_checksum(data: &mut [u8], at: usize, pseudo: u32) {
    data[at] = 0;
    data[at + 1] = 0;
    let sum = fold(sum_words(data, pseudo));
    data[at..at + 2].copy_from_slice(&sum.to_be_bytes());
}

fn pseudo_sum_v4(s: Ipv4Addr, d: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut p = [0u8; 12];
    p[0..4].copy_from_slice(&s.octets());
    p[4..8].copy_from_slice(&d.octets());
    p[9] = proto;
    p[10..12].copy_from_slice(&(len as u16).to_be_bytes());
    sum_words(&p, 0)
}

fn pseudo_sum_v6(s: Ipv6Addr, d: Ipv6Addr, proto: u8, len: usize) -> u32 {
    let mut p = [0u8; 40];
    p[0..16].copy_from_slice(&s.octets());
    p[16..32].copy_from_slice(&d.octets());
    p[32..36].copy_from_slice(&(len as u32).to_be_bytes());
    p[39] = proto;
    sum_words(&p, 0)
}

fn ipv4_packet(s: Ipv4Addr, d: Ipv4Addr, proto: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 20 + payload.len()];
    p[0] = 0x45;
    let total = p.len() as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[4..6].copy_from_slice(&id.to_be_bytes());
    p[6] = 0x40; // don't fragment
    p[8] = 64;
    p[9] = proto;
    p[12..16].copy_from_slice(&s.octets());
    p[16..20].copy_from_slice(&d.octets());
    set_checksum(&mut p[..20], 10, 0);
    p[20..].copy_from_slice(payload);
    p
}

fn ipv6_packet(s: Ipv6Addr, d: Ipv6Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 40 + payload.len()];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
    p[6] = proto;
    p[7] = 64;
    p[8..24].copy_from_slice(&s.octets());
    p[24..40].copy_from_slice(&d.octets());
    p[40..].copy_from_slice(payload);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_checksum_verifies_v4_and_v6() {
        for (s, d) in [
            ("198.18.3.4:1234", "198.19.1.1:80"),
            ("[2001:db8::abcd]:65535", "[2001:db8:ffff:1::1]:443"),
        ] {
            let (s, d): (SocketAddr, SocketAddr) = (s.parse().unwrap(), d.parse().unwrap());
            let p = syn_packet(s, d, 0xdead_beef);
            let (hdr, pseudo) = match (s.ip(), d.ip()) {
                (IpAddr::V4(a), IpAddr::V4(b)) => {
                    assert_eq!(internet_checksum(&p[..20]), 0);
                    (20, pseudo_sum_v4(a, b, 6, TCP_LEN))
                }
                (IpAddr::V6(a), IpAddr::V6(b)) => (40, pseudo_sum_v6(a, b, 6, TCP_LEN)),
                _ => unreachable!(),
            };
            assert_eq!(fold(sum_words(&p[hdr..], pseudo)), 0);
            assert_eq!(u16::from_be_bytes([p[hdr], p[hdr + 1]]), s.port());
            assert_eq!(
                u32::from_be_bytes(p[hdr + 4..hdr + 8].try_into().unwrap()),
                0xdead_beef
            );
        }
    }

    #[test]
    fn odd_length_checksum_pads_with_zero() {
        assert_eq!(internet_checksum(&[0x12]), !0x1200);
    }
}
