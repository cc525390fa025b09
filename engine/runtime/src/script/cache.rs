//! A bounded least-recently-used cache of compiled scripts, keyed by dialect
//! and script text, so a task's script is parsed once, not once per instance.
//!
//! Lookups take a read lock and bump an atomic "last used" stamp; only an
//! insert takes the write lock, and eviction (a linear scan for the oldest
//! stamp) happens only when the cache is full — rare with a cap far above
//! the number of distinct scripts a deployment set holds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

pub struct Lru<K, V> {
    capacity: usize,
    clock: AtomicU64,
    entries: RwLock<HashMap<K, Entry<V>>>,
}

struct Entry<V> {
    value: Arc<V>,
    used: AtomicU64,
}

impl<K: std::hash::Hash + Eq + Clone, V> Lru<K, V> {
    pub fn new(capacity: usize) -> Self {
        Lru {
            capacity: capacity.max(1),
            clock: AtomicU64::new(0),
            entries: RwLock::default(),
        }
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed)
    }

    pub fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        // A poisoned lock only means another thread panicked mid-insert; the
        // map itself is still consistent, so keep using it.
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        entry.used.store(self.tick(), Ordering::Relaxed);
        Some(entry.value.clone())
    }

    pub fn insert(&self, key: K, value: Arc<V>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            key,
            Entry {
                value,
                used: AtomicU64::new(self.tick()),
            },
        );
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let lru = Lru::new(2);
        lru.insert("a", Arc::new(1));
        lru.insert("b", Arc::new(2));
        assert_eq!(lru.get("a").as_deref(), Some(&1));
        lru.insert("c", Arc::new(3));
        assert_eq!(lru.len(), 2);
        assert!(lru.get("b").is_none(), "b was least recently used");
        assert_eq!(lru.get("a").as_deref(), Some(&1));
        assert_eq!(lru.get("c").as_deref(), Some(&3));
    }
}
