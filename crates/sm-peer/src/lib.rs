//! Service management's peer protocol: the message each controller sends
//! its peer on every path every period — who it is, which run of it
//! (`instance`, new at each start) and which message of that run (`seq`),
//! its clock (`sent_ms`), its interface-down flags, failover state, role,
//! generation, priority, flags and the paths on which it hears its peer — sealed with HMAC-SHA512 (RFC 2104, SM's
//! algorithm) under the cloud's SM key.
//!
//! Unlike StarlingX's SM, a datagram is authenticated before anything in
//! it is believed: [`Message::open`] checks the MAC (in constant time)
//! before a field is read, and only an authentic message reaches the
//! replay guard ([`Gate`]), so a forger cannot disturb it. The key comes
//! from a file only root can read ([`Key::load`]), never from the
//! database.

pub mod link;

use std::collections::BTreeMap;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;
use starling_sm::{Role, State};

const MAGIC: &[u8; 4] = b"STSM";
const VERSION: u8 = 3;
/// The MAC's length (SHA-512).
pub const MAC_LEN: usize = 64;
/// The longest node name.
pub const MAX_NAME: usize = 64;

/// The cloud's SM key: 64 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 64]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// A new random key.
    pub fn generate() -> Result<Key, String> {
        let mut k = [0u8; 64];
        getrandom::fill(&mut k).map_err(|e| format!("no randomness for a key: {e}"))?;
        Ok(Key(k))
    }

    /// The key's 128 hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A key from its 128 hex digits.
    pub fn from_hex(s: &str) -> Result<Key, String> {
        let s = s.trim();
        if s.len() != 128 || !s.is_ascii() {
            return Err("an SM key is 128 hex digits".into());
        }
        let mut k = [0u8; 64];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
                .map_err(|_| "an SM key is 128 hex digits".to_string())?;
        }
        Ok(Key(k))
    }

    /// The key in `path`: refused unless the file is readable by its owner
    /// only (mode 0600 or 0400) — both controllers hold the same key, and
    /// no one else may.
    pub fn load(path: &Path) -> Result<Key, String> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "{}: mode {mode:o}: the SM key must be readable by its owner only (chmod 600)",
                path.display()
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Key::from_hex(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn mac(&self, msg: &[u8]) -> [u8; MAC_LEN] {
        hmac_sha512(&self.0, msg)
    }
}

/// HMAC-SHA512 (RFC 2104) of `msg` under `key`.
fn hmac_sha512(key: &[u8], msg: &[u8]) -> [u8; MAC_LEN] {
    sealer(key).chain_update(msg).finalize().into_bytes().into()
}

/// The MAC of `key`, ready for a message (HMAC takes a key of any length).
fn sealer(key: &[u8]) -> Hmac<Sha512> {
    match <Hmac<Sha512> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes a key of any length"),
    }
}

/// One controller's message to its peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The sender's hostname.
    pub node: String,
    /// The sender's run (new at each start).
    pub instance: [u8; 16],
    /// Counts up within a run.
    pub seq: u64,
    /// The sender's clock, Unix milliseconds.
    pub sent_ms: u64,
    /// The sender's interface-down flags (`starling_sm::Down`).
    pub down: u8,
    pub state: State,
    pub role: Role,
    pub generation: u64,
    pub priority: u8,
    /// [`Message::SWACT`]: the sender yields its active role (a planned
    /// swact): the peer takes over once the sender is standby.
    pub flags: u8,
    /// The paths on which the sender hears its peer, as interface flags
    /// (`starling_sm::Down`'s bits): a path heard one way only shows
    /// here, and the peer learns it is not heard.
    pub heard: u8,
}

/// Why a datagram is not acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a message of this protocol and version, or cut short.
    Malformed,
    /// Its MAC is not the key's.
    Forged,
    /// Authentic, but not newer than what this node's peer already sent
    /// (a replay, or a datagram overtaken on another path).
    Replayed,
    /// Authentic, but its clock is too far from ours.
    Stale,
    /// Authentic, from a node that is not this controller's peer.
    Unexpected,
}

fn state_code(s: State) -> u8 {
    match s {
        State::Normal => 0,
        State::FailPending => 1,
        State::Failed => 2,
        State::Survived => 3,
    }
}

impl Message {
    /// The sender is giving its active role away.
    pub const SWACT: u8 = 0x1;

    /// The datagram: the fields, then their MAC.
    pub fn seal(&self, key: &Key) -> Vec<u8> {
        let name = self.node.as_bytes();
        let name = &name[..name.len().min(MAX_NAME)];
        let mut b = Vec::with_capacity(64 + name.len() + MAC_LEN);
        b.extend_from_slice(MAGIC);
        b.push(VERSION);
        b.push(name.len() as u8);
        b.extend_from_slice(name);
        b.extend_from_slice(&self.instance);
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(&self.sent_ms.to_be_bytes());
        b.push(self.down);
        b.push(state_code(self.state));
        b.push(match self.role {
            Role::Active => 1,
            Role::Standby => 0,
        });
        b.extend_from_slice(&self.generation.to_be_bytes());
        b.push(self.priority);
        b.push(self.flags);
        b.push(self.heard);
        let mac = key.mac(&b);
        b.extend_from_slice(&mac);
        b
    }

    /// The message in `datagram`, if it is authentic: the MAC is checked
    /// before any field is read.
    pub fn open(datagram: &[u8], key: &Key) -> Result<Message, Refusal> {
        if datagram.len() < MAC_LEN + 6 || &datagram[..4] != MAGIC {
            return Err(Refusal::Malformed);
        }
        let (body, mac) = datagram.split_at(datagram.len() - MAC_LEN);
        // Compared in constant time.
        if sealer(&key.0).chain_update(body).verify_slice(mac).is_err() {
            return Err(Refusal::Forged);
        }
        if body[4] != VERSION {
            return Err(Refusal::Malformed);
        }
        let n = usize::from(body[5]);
        let rest = body.get(6..).ok_or(Refusal::Malformed)?;
        if n > MAX_NAME || rest.len() != n + 16 + 8 + 8 + 3 + 8 + 3 {
            return Err(Refusal::Malformed);
        }
        let node = std::str::from_utf8(&rest[..n])
            .map_err(|_| Refusal::Malformed)?
            .to_string();
        let r = &rest[n..];
        let u64_at = |i: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&r[i..i + 8]);
            u64::from_be_bytes(x)
        };
        let mut instance = [0u8; 16];
        instance.copy_from_slice(&r[..16]);
        let state = match r[33] {
            0 => State::Normal,
            1 => State::FailPending,
            2 => State::Failed,
            3 => State::Survived,
            _ => return Err(Refusal::Malformed),
        };
        let role = match r[34] {
            0 => Role::Standby,
            1 => Role::Active,
            _ => return Err(Refusal::Malformed),
        };
        Ok(Message {
            node,
            instance,
            seq: u64_at(16),
            sent_ms: u64_at(24),
            down: r[32],
            state,
            role,
            generation: u64_at(35),
            priority: r[43],
            flags: r[44],
            heard: r[45],
        })
    }
}

/// What the gate remembers of one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Last {
    instance: [u8; 16],
    seq: u64,
    sent_ms: u64,
}

/// The replay guard, for authentic messages only: from a known run, a
/// message must be newer (`seq`); a new run is believed only if its clock
/// is later than the last message taken (so an old run's replayed
/// messages are refused); and any message must be within `window_ms` of
/// this controller's clock. Only the expected peers are let through.
#[derive(Debug)]
pub struct Gate {
    peers: BTreeMap<String, Option<Last>>,
    window_ms: u64,
    /// Messages refused, by reason (forged ones are counted by the caller,
    /// which sees them first).
    pub replayed: u64,
    pub stale: u64,
    pub unexpected: u64,
}

impl Gate {
    /// A gate for `peers` (hostnames), with the clock window.
    pub fn new(peers: &[&str], window_ms: u64) -> Gate {
        Gate {
            peers: peers.iter().map(|p| (p.to_string(), None)).collect(),
            window_ms,
            replayed: 0,
            stale: 0,
            unexpected: 0,
        }
    }

    /// Whether to act on `m` (authentic) at `now_ms`.
    pub fn admit(&mut self, m: &Message, now_ms: u64) -> Result<(), Refusal> {
        let Some(last) = self.peers.get_mut(&m.node) else {
            self.unexpected += 1;
            return Err(Refusal::Unexpected);
        };
        if m.sent_ms.abs_diff(now_ms) > self.window_ms {
            self.stale += 1;
            return Err(Refusal::Stale);
        }
        let newer = match last {
            None => true,
            Some(l) if l.instance == m.instance => m.seq > l.seq,
            Some(l) => m.sent_ms > l.sent_ms,
        };
        if !newer {
            self.replayed += 1;
            return Err(Refusal::Replayed);
        }
        *last = Some(Last {
            instance: m.instance,
            seq: m.seq,
            sent_ms: m.sent_ms,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn hmac_is_rfc_4231s() {
        // RFC 4231, test cases 1 and 2 (HMAC-SHA-512).
        assert_eq!(
            hex(&hmac_sha512(&[0x0b; 20], b"Hi There")),
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
             daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"
        );
        assert_eq!(
            hex(&hmac_sha512(b"Jefe", b"what do ya want for nothing?")),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
             9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        // Test case 6: a key longer than a block is hashed first.
        assert_eq!(
            hex(&hmac_sha512(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
             6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"
        );
    }

    fn message(seq: u64, sent_ms: u64) -> Message {
        Message {
            node: "controller-1".into(),
            instance: [9; 16],
            seq,
            sent_ms,
            down: 0x2,
            state: State::FailPending,
            role: Role::Active,
            generation: 7,
            priority: 230,
            flags: 0,
            heard: 0x5,
        }
    }

    #[test]
    fn messages_round_trip_and_anything_else_is_refused() {
        let key = Key::generate().unwrap();
        assert_eq!(Key::from_hex(&key.to_hex()).unwrap(), key);
        assert!(Key::from_hex("abc").is_err());
        let m = message(5, 1_000);
        let b = m.seal(&key);
        assert_eq!(Message::open(&b, &key), Ok(m.clone()));
        let other = Key::generate().unwrap();
        assert_eq!(Message::open(&b, &other), Err(Refusal::Forged));
        for i in 0..b.len() {
            let mut c = b.clone();
            c[i] ^= 1;
            assert!(Message::open(&c, &key).is_err(), "byte {i}");
        }
        assert_eq!(Message::open(&b[..10], &key), Err(Refusal::Malformed));
        assert_eq!(Message::open(b"", &key), Err(Refusal::Malformed));
        assert!(!format!("{key:?}").contains(&key.to_hex()[..8]));
    }

    #[test]
    fn the_gate_takes_newer_messages_and_new_runs_only() {
        let mut g = Gate::new(&["controller-1"], 5_000);
        let now = 100_000;
        assert_eq!(g.admit(&message(5, now), now), Ok(()));
        // Replayed, or overtaken: refused.
        assert_eq!(g.admit(&message(5, now), now), Err(Refusal::Replayed));
        assert_eq!(g.admit(&message(4, now), now), Err(Refusal::Replayed));
        assert_eq!(g.admit(&message(6, now + 100), now + 100), Ok(()));
        // A new run (the peer restarted): believed when its clock is later.
        let restarted = Message {
            instance: [1; 16],
            seq: 1,
            ..message(1, now + 200)
        };
        assert_eq!(g.admit(&restarted, now + 200), Ok(()));
        // The old run's messages, replayed after the restart: refused.
        assert_eq!(
            g.admit(&message(7, now + 150), now + 300),
            Err(Refusal::Replayed)
        );
        // Too far from our clock: refused.
        assert_eq!(
            g.admit(
                &Message {
                    instance: [1; 16],
                    ..message(2, now - 10_000)
                },
                now + 300
            ),
            Err(Refusal::Stale)
        );
        // Only the expected peer.
        let stranger = Message {
            node: "controller-9".into(),
            ..message(1, now)
        };
        assert_eq!(g.admit(&stranger, now), Err(Refusal::Unexpected));
        assert_eq!((g.replayed, g.stale, g.unexpected), (3, 1, 1));
    }

    #[test]
    fn the_key_file_must_be_its_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("starling-sm-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("sm-key");
        let key = Key::generate().unwrap();
        std::fs::write(&f, key.to_hex()).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Key::load(&f).unwrap_err();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(Key::load(&f).unwrap(), key);
        std::fs::write(&f, "not a key").unwrap();
        assert!(Key::load(&f).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
