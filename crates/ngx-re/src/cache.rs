//! The bounded cache behind the `o` option (`lua_regex_cache_max_entries`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// What [`Cache::insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    Stored,
    /// The cache is full: the value was not kept. `first` is true the first
    /// time this happens, when lua-nginx-module logs its one warning
    /// (`lua exceeding regex cache max entries (N)`).
    Full {
        first: bool,
    },
    /// `lua_regex_cache_max_entries 0`: caching is off.
    Disabled,
}

/// Compiled regexes by key, never evicted: once `max` entries are in,
/// further regexes are compiled for their call only, as the directive's
/// documentation describes.
#[derive(Debug)]
pub struct Cache<K, V> {
    map: HashMap<K, V, BuildHasherDefault<WordHasher>>,
    max: usize,
    overflowed: bool,
}

impl<K: Hash + Eq, V> Cache<K, V> {
    pub fn new(max: usize) -> Self {
        Cache {
            map: HashMap::default(),
            max,
            overflowed: false,
        }
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k)
    }

    pub fn insert(&mut self, k: K, v: V) -> Insert {
        if self.max == 0 {
            return Insert::Disabled;
        }
        if self.map.len() >= self.max {
            let first = !self.overflowed;
            self.overflowed = true;
            return Insert::Full { first };
        }
        self.map.insert(k, v);
        Insert::Stored
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Change the bound; entries already in stay (even beyond it).
    pub fn set_max(&mut self, max: usize) {
        self.max = max;
    }
}

/// Keys here are a few machine words (string addresses, option bits):
/// a multiply-rotate hash is enough and much cheaper than SipHash.
#[derive(Default)]
pub struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_with_one_warning() {
        let mut c = Cache::new(2);
        assert_eq!(c.insert((1usize, 2usize), "a"), Insert::Stored);
        assert_eq!(c.insert((3, 4), "b"), Insert::Stored);
        assert_eq!(c.insert((5, 6), "c"), Insert::Full { first: true });
        assert_eq!(c.insert((7, 8), "d"), Insert::Full { first: false });
        assert_eq!(c.get(&(1, 2)), Some(&"a"));
        assert_eq!(c.get(&(5, 6)), None);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn zero_disables() {
        let mut c = Cache::new(0);
        assert_eq!(c.insert(1u32, ()), Insert::Disabled);
        assert!(c.is_empty());
    }
}
