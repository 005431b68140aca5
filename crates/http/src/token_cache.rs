//! A short-lived cache of successful token validations.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::Principal;
use starling_common::Timestamp;

struct Entry {
    principal: Arc<Principal>,
    expires_at: Timestamp,
    cached_at: Instant,
}

/// Successful validations by token hash, each trusted for `ttl` (and never
/// past the token's own expiry). A `ttl` of zero turns caching off.
pub struct TokenCache {
    ttl: Duration,
    capacity: usize,
    map: RwLock<HashMap<String, Entry>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("ttl", &self.ttl)
            .field("len", &self.len())
            .finish()
    }
}

impl TokenCache {
    /// Default trust time of a cached validation: a revocation elsewhere takes
    /// effect within this.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(5);
    /// Default number of tokens kept.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// A cache trusting entries for `ttl`, holding at most `capacity` tokens.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TokenCache {
            ttl,
            capacity: capacity.max(1),
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The cached principal of `hash`, if it is fresh and the token has not expired.
    pub fn get(&self, hash: &str, now: Timestamp) -> Option<Arc<Principal>> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        let e = map.get(hash)?;
        (e.cached_at.elapsed() < self.ttl && e.expires_at > now).then(|| e.principal.clone())
    }

    /// Remembers a successful validation.
    pub fn put(&self, hash: String, principal: Arc<Principal>, expires_at: Timestamp) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity && !map.contains_key(&hash) {
            let ttl = self.ttl;
            map.retain(|_, e| e.cached_at.elapsed() < ttl);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(
            hash,
            Entry {
                principal,
                expires_at,
                cached_at: Instant::now(),
            },
        );
    }

    /// Forgets one token (it was revoked here).
    pub fn evict(&self, hash: &str) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(hash);
    }

    /// Forgets everything (roles, users or projects changed here).
    pub fn clear(&self) {
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Tokens held.
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn p(n: &str) -> Arc<Principal> {
        Arc::new(Principal {
            user_id: n.into(),
            user: n.into(),
            project: "admin".into(),
            project_domain_id: "default".into(),
            roles: vec!["admin".into()],
            agent: None,
        })
    }

    #[test]
    fn fresh_entries_hit_until_ttl_or_expiry() {
        let c = TokenCache::new(Duration::from_secs(60), 10);
        let t0 = Timestamp::from_micros(1_000_000);
        c.put("h".into(), p("a"), t0.plus_micros(10));
        assert_eq!(c.get("h", t0).unwrap().user, "a");
        assert!(c.get("h", t0.plus_micros(10)).is_none(), "token expired");
        assert!(c.get("other", t0).is_none());
        c.evict("h");
        assert!(c.get("h", t0).is_none());

        let short = TokenCache::new(Duration::from_millis(1), 10);
        short.put("h".into(), p("a"), t0.plus_micros(1_000_000_000));
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get("h", t0).is_none(), "stale after ttl");

        let off = TokenCache::new(Duration::ZERO, 10);
        off.put("h".into(), p("a"), t0.plus_micros(10));
        assert!(off.get("h", t0).is_none());
        assert!(off.is_empty());
    }

    #[test]
    fn capacity_is_bounded() {
        let c = TokenCache::new(Duration::from_secs(60), 3);
        let far = Timestamp::from_micros(i64::MAX / 2);
        for i in 0..10 {
            c.put(format!("h{i}"), p("a"), far);
            assert!(c.len() <= 3);
        }
        assert!(c.get("h9", Timestamp::from_micros(0)).is_some());
    }
}
