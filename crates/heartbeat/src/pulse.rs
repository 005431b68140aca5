//! The pulse on the wire: one small datagram for the controller's request
//! and the host's answer, authenticated with HMAC-SHA256 under the cloud's
//! heartbeat key.
//!
//! Layout (big-endian): `STHB`, version 1, kind (1 request, 2 response),
//! network, flags (u32), sequence (u64), nonce (16 bytes), host name length
//! (u8) and the name (at most 64 bytes; empty in a request), then the MAC of
//! everything before it (32 bytes).
//!
//! Version 2 is a witness probe ([`Witness`]) and its answer: service
//! management on each controller asks the hosts whether they still hear
//! the other controller. After the name it carries the name asked about
//! (length and bytes, at most 64) and, in an answer, the milliseconds since
//! the host last had a probe from that controller (u32; `u32::MAX`: never
//! or too long ago); the request's name is the asking controller's. A
//! responder answers each version in its own, so maintenance's version 1
//! pulses and the hosts' agents of either version keep working together.
//!
//! Flag [`REBOOT`] in a request asks the host to reboot (its sequence is
//! then the controller's clock, Unix milliseconds: see
//! [`crate::Responder`]); in an answer it acknowledges the reboot.
//!
//! A request carries a fresh sequence number and random nonce each period;
//! an answer counts only if it echoes both, so a recorded answer replayed
//! later is stale, and one made without the key is forged: both are dropped
//! and counted, never taken as a heartbeat.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const MAGIC: &[u8; 4] = b"STHB";
const VERSION: u8 = 1;
const WITNESS_VERSION: u8 = 2;
const MAC_LEN: usize = 32;
/// Longest host name a pulse carries.
pub const MAX_HOST: usize = 64;
/// Largest pulse.
pub const MAX_LEN: usize = 4 + 1 + 1 + 1 + 4 + 8 + 16 + 1 + MAX_HOST + 1 + MAX_HOST + 4 + MAC_LEN;

/// Flag: a request to reboot, or (in an answer) its acknowledgement.
pub const REBOOT: u32 = 1;

/// The cloud's heartbeat key: 32 random bytes, kept as hex.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// A new random key.
    pub fn generate() -> Result<Key, String> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| format!("no randomness: {e}"))?;
        Ok(Key(k))
    }

    /// A key from its 64 hex digits (surrounding white space ignored).
    pub fn from_hex(s: &str) -> Result<Key, String> {
        let s = s.trim();
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("a heartbeat key is 64 hexadecimal digits".into());
        }
        let mut k = [0u8; 32];
        for (i, byte) in k.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
                .map_err(|_| "a heartbeat key is 64 hexadecimal digits".to_string())?;
        }
        Ok(Key(k))
    }

    /// The key's 64 hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn mac(&self, msg: &[u8]) -> [u8; MAC_LEN] {
        hmac_sha256(&self.0, msg)
    }
}

/// HMAC-SHA256 (RFC 2104) of `msg` under `key`.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; MAC_LEN] {
    sealer(key).chain_update(msg).finalize().into_bytes().into()
}

/// The MAC of `key`, ready for a message (HMAC takes a key of any length).
fn sealer(key: &[u8]) -> Hmac<Sha256> {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes a key of any length"),
    }
}

/// Which way a pulse goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Request,
    Response,
}

/// One pulse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pulse {
    pub kind: Kind,
    /// The network's number (`starling_mtce::Network::code`).
    pub network: u8,
    pub flags: u32,
    pub seq: u64,
    pub nonce: [u8; 16],
    /// The answering host's name (in a request: empty, or the asking
    /// controller's in a witness probe).
    pub host: String,
    /// A witness probe or its answer (version 2).
    pub witness: Option<Witness>,
}

/// What a witness probe asks, and its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// The controller asked about (the asker's peer).
    pub about: String,
    /// In an answer: milliseconds since the host last had a probe from
    /// `about` ([`NEVER`]: never, or longer ago than a u32 holds). 0 in a
    /// request.
    pub age_ms: u32,
}

/// [`Witness::age_ms`] of a controller never heard.
pub const NEVER: u32 = u32::MAX;

/// Why a datagram is not a pulse to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a pulse of this version (or cut short).
    Malformed,
    /// Its MAC is not the key's: forged, or made with another key.
    Forged,
}

impl Pulse {
    /// The datagram, with its MAC.
    pub fn encode(&self, key: &Key) -> Vec<u8> {
        let cut = |s: &str| -> Vec<u8> { s.as_bytes()[..s.len().min(MAX_HOST)].to_vec() };
        let host = cut(&self.host);
        let mut b = Vec::with_capacity(MAX_LEN);
        b.extend_from_slice(MAGIC);
        b.push(if self.witness.is_some() {
            WITNESS_VERSION
        } else {
            VERSION
        });
        b.push(match self.kind {
            Kind::Request => 1,
            Kind::Response => 2,
        });
        b.push(self.network);
        b.extend_from_slice(&self.flags.to_be_bytes());
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(&self.nonce);
        b.push(host.len() as u8);
        b.extend_from_slice(&host);
        if let Some(w) = &self.witness {
            let about = cut(&w.about);
            b.push(about.len() as u8);
            b.extend_from_slice(&about);
            b.extend_from_slice(&w.age_ms.to_be_bytes());
        }
        let mac = key.mac(&b);
        b.extend_from_slice(&mac);
        b
    }

    /// The pulse in `b`, if it is one and `key` made it.
    pub fn decode(b: &[u8], key: &Key) -> Result<Pulse, Refusal> {
        const HEAD: usize = 4 + 1 + 1 + 1 + 4 + 8 + 16 + 1;
        if b.len() < HEAD + MAC_LEN
            || b.len() > MAX_LEN
            || &b[..4] != MAGIC
            || !(b[4] == VERSION || b[4] == WITNESS_VERSION)
        {
            return Err(Refusal::Malformed);
        }
        let host_len = usize::from(b[HEAD - 1]);
        // Where the MAC begins, by the version's layout.
        let body_len = if b[4] == VERSION {
            HEAD + host_len
        } else {
            let at = HEAD + host_len;
            let about_len = usize::from(*b.get(at).ok_or(Refusal::Malformed)?);
            if about_len > MAX_HOST {
                return Err(Refusal::Malformed);
            }
            at + 1 + about_len + 4
        };
        if host_len > MAX_HOST || b.len() != body_len + MAC_LEN {
            return Err(Refusal::Malformed);
        }
        let (body, mac) = b.split_at(body_len);
        // Compared in constant time.
        if sealer(&key.0).chain_update(body).verify_slice(mac).is_err() {
            return Err(Refusal::Forged);
        }
        let kind = match b[5] {
            1 => Kind::Request,
            2 => Kind::Response,
            _ => return Err(Refusal::Malformed),
        };
        let word = |at: usize, n: usize| {
            b[at..at + n]
                .iter()
                .fold(0u64, |a, x| a << 8 | u64::from(*x))
        };
        let text = |at: usize, n: usize| {
            std::str::from_utf8(&b[at..at + n])
                .map(str::to_string)
                .map_err(|_| Refusal::Malformed)
        };
        let mut nonce = [0u8; 16];
        nonce.copy_from_slice(&b[19..35]);
        let host = text(HEAD, host_len)?;
        let witness = if b[4] == WITNESS_VERSION {
            let at = HEAD + host_len;
            let about_len = usize::from(b[at]);
            Some(Witness {
                about: text(at + 1, about_len)?,
                age_ms: word(at + 1 + about_len, 4) as u32,
            })
        } else {
            None
        };
        Ok(Pulse {
            kind,
            network: b[6],
            flags: word(7, 4) as u32,
            seq: word(11, 8),
            nonce,
            host,
            witness,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_is_rfc_4231s() {
        // RFC 4231, test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn pulses_round_trip_and_anything_else_is_refused() {
        let key = Key::generate().unwrap();
        assert_eq!(Key::from_hex(&key.to_hex()).unwrap(), key);
        assert!(Key::from_hex("abc").is_err());
        let p = Pulse {
            kind: Kind::Response,
            network: 1,
            flags: 0x8000_0001,
            seq: 0x0102_0304_0506_0708,
            nonce: [7; 16],
            host: "worker-0".into(),
            witness: None,
        };
        let b = p.encode(&key);
        assert!(b.len() <= MAX_LEN);
        assert_eq!(Pulse::decode(&b, &key), Ok(p.clone()));
        let other = Key::generate().unwrap();
        assert_eq!(Pulse::decode(&b, &other), Err(Refusal::Forged));
        // One bit changed anywhere: refused.
        for i in 0..b.len() {
            let mut c = b.clone();
            c[i] ^= 1;
            assert!(Pulse::decode(&c, &key).is_err(), "byte {i}");
        }
        assert_eq!(
            Pulse::decode(&b[..b.len() - 1], &key),
            Err(Refusal::Malformed)
        );
        assert_eq!(Pulse::decode(b"", &key), Err(Refusal::Malformed));
        let request = Pulse {
            kind: Kind::Request,
            host: String::new(),
            ..p
        };
        assert_eq!(Pulse::decode(&request.encode(&key), &key), Ok(request));
    }

    #[test]
    fn witness_probes_round_trip_and_anything_else_is_refused() {
        let key = Key::generate().unwrap();
        let probe = Pulse {
            kind: Kind::Request,
            network: 1,
            flags: 0,
            seq: 9,
            nonce: [3; 16],
            host: "controller-0".into(),
            witness: Some(Witness {
                about: "controller-1".into(),
                age_ms: 0,
            }),
        };
        let answer = Pulse {
            kind: Kind::Response,
            host: "4f1e0c8a-worker-2".into(),
            witness: Some(Witness {
                about: "controller-1".into(),
                age_ms: 123_456,
            }),
            ..probe.clone()
        };
        for p in [&probe, &answer] {
            let b = p.encode(&key);
            assert_eq!(b[4], WITNESS_VERSION);
            assert!(b.len() <= MAX_LEN);
            assert_eq!(Pulse::decode(&b, &key).as_ref(), Ok(p));
            for i in 0..b.len() {
                let mut c = b.clone();
                c[i] ^= 1;
                assert!(Pulse::decode(&c, &key).is_err(), "byte {i}");
            }
            for cut in [1, 4, 5] {
                assert_eq!(
                    Pulse::decode(&b[..b.len() - cut], &key),
                    Err(Refusal::Malformed)
                );
            }
        }
        // The longest names fit; longer ones are cut to them.
        let long = Pulse {
            host: "h".repeat(80),
            witness: Some(Witness {
                about: "a".repeat(80),
                age_ms: NEVER,
            }),
            ..answer
        };
        let b = long.encode(&key);
        assert_eq!(b.len(), MAX_LEN);
        let back = Pulse::decode(&b, &key).unwrap();
        assert_eq!(back.host.len(), MAX_HOST);
        assert_eq!(back.witness.unwrap().about.len(), MAX_HOST);
    }
}
