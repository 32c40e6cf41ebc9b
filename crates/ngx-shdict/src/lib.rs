//! The store behind `ngx.shared.DICT`, knowing nothing about Lua.
//!
//! A [`ShDict`] is shared by every worker thread (`Arc<ShDict>`). Every call
//! is atomic: it runs under the lock of the one shard its key hashes to (16
//! shards, each a hash table plus an LRU list), so calls on different keys
//! rarely contend and there is no dict-wide lock on any per-key path. Only
//! eviction, `flush_all`, `flush_expired` and `get_keys` visit every shard.
//!
//! # Semantics (lua-nginx-module's `ngx_http_lua_shdict.c`)
//!
//! - Values are strings, numbers (`f64`), booleans and lists of strings and
//!   numbers, each with 32-bit user `flags` (lists: none) and an optional
//!   expiry in wall-clock milliseconds. Callers pass `now` (nginx's cached
//!   time) to every call, which keeps the store deterministic under test.
//! - Expiry is lazy: an expired entry stays (readable by [`ShDict::get`] with
//!   `stale`, counted by [`ShDict::ttl`]) until it is overwritten, deleted,
//!   reclaimed for space or removed by [`ShDict::flush_expired`]; and, as
//!   nginx frees up to two expired entries at the dict's LRU tail before
//!   each lookup, every call but `get_stale`, `ttl` and `expire` frees up to
//!   two at the LRU tail of its key's shard.
//! - Every access that finds a key makes it the most recently used. When a
//!   store does not fit, expired entries are reclaimed first (oldest first,
//!   looking at every shard's LRU tail), then the least recently used valid
//!   entries are evicted (at most 30, as nginx) unless the call is a
//!   `safe_*` one or a list push; evicting a valid entry makes `forcible`
//!   true.
//!
//! # Capacity
//!
//! nginx keeps a dict in a slab allocator inside a shared memory zone of the
//! configured size. The store charges each entry what that allocator would
//! take, so that about as many entries fit as in OpenResty:
//!
//! - an entry costs `slab(73 + key_len + value_len)`, where 73 is the size
//!   of nginx's rbtree node header plus the dict node header on 64-bit
//!   systems and `value_len` is the string length, 8 for a number, 1 for a
//!   boolean;
//! - a list costs `slab(align8(73 + key_len + 16))` for its head plus
//!   `slab(21 + len)` per element;
//! - `slab(n)` is the slab size class: the next power of two (at least 8)
//!   up to half a page, whole 4 KiB pages above that.
//!
//! Of a zone of `size` bytes, the slab allocator's own header and page table
//! take `ceil((704 + 24 * pages) / 4096)` of its `pages = size / 4096`
//! pages, and the dict's bookkeeping one more; the rest is
//! [`ShDict::usable`] (at least one page). `capacity()` is the configured
//! size and `free_space()` the unused part of `usable` rounded down to whole
//! pages. A 1 MiB dict takes 8,096 entries of a 6-byte key and a 10-byte
//! string (OpenResty: 8,095) and 2,024 of a 200-byte string (2,016).

mod shard;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use shard::{Node, Shard, Stored};

pub use shard::Item;

const SHARDS: usize = 16;
/// Valid entries one store may evict before it gives up (nginx: 30 rounds).
const MAX_FORCED: usize = 30;

const PAGE: usize = 4096;
/// `offsetof(ngx_rbtree_node_t, color) + offsetof(ngx_http_lua_shdict_node_t, data)`.
const NODE_OVERHEAD: usize = 73;
/// The `ngx_queue_t` a list head holds.
const LIST_HEAD: usize = 16;
/// `offsetof(ngx_http_lua_shdict_list_node_t, data)`.
const LIST_NODE_OVERHEAD: usize = 21;

/// nginx's slab size class for an allocation of `n` bytes.
pub fn slab_size(n: usize) -> usize {
    if n <= 8 {
        8
    } else if n <= PAGE / 2 {
        n.next_power_of_two()
    } else {
        n.div_ceil(PAGE) * PAGE
    }
}

/// Bytes a string, number or boolean entry is charged.
pub fn entry_cost(key_len: usize, value_len: usize) -> usize {
    slab_size(NODE_OVERHEAD + key_len + value_len)
}

fn list_head_cost(key_len: usize) -> usize {
    slab_size((NODE_OVERHEAD + key_len + LIST_HEAD).next_multiple_of(8))
}

fn list_item_cost(value_len: usize) -> usize {
    slab_size(LIST_NODE_OVERHEAD + value_len)
}

/// The bytes entries may use in a dict of `size` bytes (see the crate docs).
pub fn usable_bytes(size: usize) -> usize {
    let pages = size / PAGE;
    let meta = (704 + 24 * pages).div_ceil(PAGE);
    pages.saturating_sub(meta + 1).max(1) * PAGE
}

/// A value to store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Str(&'a [u8]),
    Num(f64),
    Bool(bool),
}

impl Value<'_> {
    fn len(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::Num(_) => 8,
            Value::Bool(_) => 1,
        }
    }
}

/// A list element to push.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ItemRef<'a> {
    Str(&'a [u8]),
    Num(f64),
}

impl Item {
    fn len(&self) -> usize {
        match self {
            Item::Str(s) => s.len(),
            Item::Num(_) => 8,
        }
    }
}

/// A stored value as [`ShDict::get`] shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Str(&'a [u8]),
    Num(f64),
    Bool(bool),
    List,
}

/// What [`ShDict::get`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found<'a> {
    pub value: ValueRef<'a>,
    pub flags: u32,
    /// The entry has expired (only returned when asking for stale entries).
    pub stale: bool,
}

impl Stored {
    fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Stored::Str(s) => ValueRef::Str(s),
            Stored::Num(n) => ValueRef::Num(*n),
            Stored::Bool(b) => ValueRef::Bool(*b),
            Stored::List(_) => ValueRef::List,
        }
    }

    /// Overwrite with `v`, reusing the string buffer when the length matches.
    fn assign(&mut self, v: Value<'_>) {
        match (self, v) {
            (Stored::Str(old), Value::Str(new)) if old.len() == new.len() => {
                old.copy_from_slice(new)
            }
            (this, v) => *this = v.into(),
        }
    }
}

impl From<Value<'_>> for Stored {
    fn from(v: Value<'_>) -> Stored {
        match v {
            Value::Str(s) => Stored::Str(s.into()),
            Value::Num(n) => Stored::Num(n),
            Value::Bool(b) => Stored::Bool(b),
        }
    }
}

/// How [`ShDict::store`] treats an existing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `set`: store, or delete when the value is `None`.
    Set,
    /// `safe_set`: like `Set`, never evicting valid entries.
    SafeSet,
    /// `add`: only when the key is absent or expired.
    Add,
    /// `safe_add`: like `Add`, never evicting valid entries.
    SafeAdd,
    /// `replace`: only when the key holds a valid entry.
    Replace,
}

/// Why a call failed; `as_str` is the message OpenResty returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    NoMemory,
    /// A list element did not fit (OpenResty returns it as `nil`, not `false`).
    NoMemoryForElement,
    Exists,
    NotFound,
    NotANumber,
    NotAList,
    IsAList,
    NilValue,
}

impl Error {
    pub fn as_str(self) -> &'static str {
        match self {
            Error::NoMemory | Error::NoMemoryForElement => "no memory",
            Error::Exists => "exists",
            Error::NotFound => "not found",
            Error::NotANumber => "not a number",
            Error::NotAList => "value not a list",
            Error::IsAList => "value is a list",
            Error::NilValue => "attempt to add or replace nil values",
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed call: the error and whether valid entries were evicted on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub err: Error,
    pub forcible: bool,
}

fn fail<T>(err: Error) -> Result<T, Failure> {
    Err(Failure {
        err,
        forcible: false,
    })
}

/// The expiry time of an entry stored at `now` for `ms` milliseconds (0: never).
fn deadline(ms: u64, now: u64) -> u64 {
    if ms > 0 {
        now.saturating_add(ms)
    } else {
        0
    }
}

/// A shard lock on its own cache lines, so shards do not slow each other down.
#[repr(align(128))]
#[derive(Default)]
struct Lane(Mutex<Shard>);

/// One `lua_shared_dict` zone.
pub struct ShDict {
    name: Box<str>,
    size: usize,
    usable: usize,
    used: AtomicUsize,
    /// Touch counter: entries' LRU order across shards.
    tick: AtomicU64,
    hasher: foldhash::fast::RandomState,
    shards: Box<[Lane]>,
}

impl std::fmt::Debug for ShDict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShDict")
            .field("name", &self.name)
            .field("size", &self.size)
            .field("used", &self.used.load(Relaxed))
            .finish()
    }
}

impl ShDict {
    /// An empty dict of `size` bytes (`lua_shared_dict NAME SIZE`).
    pub fn new(name: &str, size: usize) -> ShDict {
        ShDict {
            name: name.into(),
            size,
            usable: usable_bytes(size),
            used: AtomicUsize::new(0),
            tick: AtomicU64::new(1),
            hasher: foldhash::fast::RandomState::default(),
            shards: (0..SHARDS).map(|_| Lane::default()).collect(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `capacity()`: the configured size in bytes.
    pub fn capacity(&self) -> usize {
        self.size
    }

    /// The bytes entries may use (see the crate docs).
    pub fn usable(&self) -> usize {
        self.usable
    }

    /// The bytes entries use now.
    pub fn used(&self) -> usize {
        self.used.load(Relaxed)
    }

    /// `free_space()`: the unused bytes, in whole 4 KiB pages as nginx counts them.
    pub fn free_space(&self) -> usize {
        self.usable.saturating_sub(self.used()) / PAGE * PAGE
    }

    fn locate(&self, key: &[u8]) -> (u64, usize) {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(key);
        (hash, (hash >> 48) as usize % SHARDS)
    }

    fn lock(&self, i: usize) -> MutexGuard<'_, Shard> {
        // a panic under the lock cannot leave a shard half-linked: keep serving
        self.shards[i]
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn stamp(&self) -> u64 {
        self.tick.fetch_add(1, Relaxed)
    }

    fn try_reserve(&self, cost: usize) -> bool {
        self.used
            .fetch_update(Relaxed, Relaxed, |u| {
                u.checked_add(cost).filter(|&n| n <= self.usable)
            })
            .is_ok()
    }

    fn release(&self, cost: usize) {
        self.used.fetch_sub(cost, Relaxed);
    }

    fn unlink(&self, sh: &mut Shard, i: u32) {
        let n = sh.remove(i);
        self.release(n.cost);
    }

    /// Free up to two expired entries at the shard's LRU tail, as nginx
    /// does before each lookup (`ngx_http_lua_shdict_expire(ctx, 1)`).
    fn reap(&self, sh: &mut Shard, now: u64) {
        for _ in 0..2 {
            match sh.tail() {
                Some(t) if sh.node(t).expired(now) => self.unlink(sh, t),
                _ => return,
            }
        }
    }

    /// Charge `cost` bytes, making room when needed: expired entries first,
    /// then (with `evict`) valid ones. `Ok(forcible)`.
    fn reserve(
        &self,
        own: &mut Shard,
        si: usize,
        cost: usize,
        evict: bool,
        now: u64,
    ) -> Result<bool, Failure> {
        if self.try_reserve(cost) {
            return Ok(false);
        }
        if cost > self.usable {
            return fail(Error::NoMemory);
        }
        let mut room = Room::new(self, si, own);
        let mut forced = 0;
        loop {
            let Some((j, valid)) = room.pick(now, evict && forced < MAX_FORCED) else {
                return Err(Failure {
                    err: Error::NoMemory,
                    forcible: forced > 0,
                });
            };
            room.evict(self, j);
            if valid {
                forced += 1;
            }
            if self.try_reserve(cost) {
                return Ok(forced > 0);
            }
        }
    }

    /// `get` (`stale` false) and `get_stale` (true). `f` sees the value with
    /// the shard locked: copy what it needs and do not call into the dict.
    pub fn get<R>(
        &self,
        key: &[u8],
        stale: bool,
        now: u64,
        f: impl FnOnce(Option<Found<'_>>) -> R,
    ) -> R {
        let (hash, si) = self.locate(key);
        let mut sh = self.lock(si);
        if !stale {
            self.reap(&mut sh, now);
        }
        let Some(i) = sh.find(hash, key) else {
            return f(None);
        };
        sh.touch(i, self.stamp());
        let n = sh.node(i);
        let expired = n.expired(now);
        if expired && !stale {
            return f(None);
        }
        f(Some(Found {
            value: n.val.as_ref(),
            flags: n.flags,
            stale: expired,
        }))
    }

    /// `set`, `safe_set`, `add`, `safe_add`, `replace`, and `delete` (`Set`
    /// with `None`). `exptime_ms` 0 means no expiry. `Ok(forcible)`.
    pub fn store(
        &self,
        mode: Mode,
        key: &[u8],
        value: Option<Value<'_>>,
        exptime_ms: u64,
        flags: u32,
        now: u64,
    ) -> Result<bool, Failure> {
        let add = matches!(mode, Mode::Add | Mode::SafeAdd);
        let replace = mode == Mode::Replace;
        let safe = matches!(mode, Mode::SafeSet | Mode::SafeAdd);
        if value.is_none() && (add || replace) {
            return fail(Error::NilValue);
        }
        let expires = deadline(exptime_ms, now);
        let (hash, si) = self.locate(key);
        let mut sh = self.lock(si);
        self.reap(&mut sh, now);
        match sh.find(hash, key) {
            Some(i) => {
                let expired = sh.node(i).expired(now);
                if replace && expired {
                    return fail(Error::NotFound);
                }
                if add && !expired {
                    return fail(Error::Exists);
                }
                let Some(v) = value else {
                    self.unlink(&mut sh, i);
                    return Ok(false);
                };
                let n = sh.node_mut(i);
                if n.cost == entry_cost(key.len(), v.len()) && !matches!(n.val, Stored::List(_)) {
                    // same size class: update in place, as nginx reuses a node of the same size
                    n.val.assign(v);
                    n.flags = flags;
                    n.expires = expires;
                    let stamp = self.stamp();
                    sh.touch(i, stamp);
                    return Ok(false);
                }
                self.unlink(&mut sh, i);
            }
            None if replace => return fail(Error::NotFound),
            None => {}
        }
        let Some(v) = value else {
            return Ok(false);
        };
        let cost = entry_cost(key.len(), v.len());
        let forcible = self.reserve(&mut sh, si, cost, !safe, now)?;
        let mut node = Node::new(hash, key, v.into(), cost);
        node.flags = flags;
        node.expires = expires;
        sh.insert(node, self.stamp());
        Ok(forcible)
    }

    /// `incr(key, by, init, init_ttl)`: add `by` to a number. A missing or
    /// expired key fails with `NotFound` unless `init` is given; then it
    /// becomes `init + by` (flags 0, expiring after `init_ttl_ms` if > 0).
    /// `Ok((new value, forcible))`.
    pub fn incr(
        &self,
        key: &[u8],
        by: f64,
        init: Option<f64>,
        init_ttl_ms: u64,
        now: u64,
    ) -> Result<(f64, bool), Failure> {
        let (hash, si) = self.locate(key);
        let mut sh = self.lock(si);
        self.reap(&mut sh, now);
        let found = sh.find(hash, key);
        if let Some(i) = found {
            if !sh.node(i).expired(now) {
                let Stored::Num(n) = &mut sh.node_mut(i).val else {
                    return fail(Error::NotANumber);
                };
                *n += by;
                let v = *n;
                let stamp = self.stamp();
                sh.touch(i, stamp);
                return Ok((v, false));
            }
        }
        let Some(init) = init else {
            return fail(Error::NotFound);
        };
        let num = by + init;
        let expires = deadline(init_ttl_ms, now);
        let cost = entry_cost(key.len(), 8);
        if let Some(i) = found {
            let n = sh.node_mut(i);
            if n.cost == cost && !matches!(n.val, Stored::List(_)) {
                n.val = Stored::Num(num);
                n.flags = 0;
                n.expires = expires;
                let stamp = self.stamp();
                sh.touch(i, stamp);
                return Ok((num, false));
            }
            self.unlink(&mut sh, i);
        }
        let forcible = self.reserve(&mut sh, si, cost, true, now)?;
        let mut node = Node::new(hash, key, Stored::Num(num), cost);
        node.expires = expires;
        sh.insert(node, self.stamp());
        Ok((num, forcible))
    }

    /// `lpush` (`left`) and `rpush`: the list's new length. An expired list
    /// starts afresh. Never evicts valid entries (OpenResty's lists do not).
    pub fn push(
        &self,
        key: &[u8],
        item: ItemRef<'_>,
        left: bool,
        now: u64,
    ) -> Result<usize, Failure> {
        let (hash, si) = self.locate(key);
        let mut sh = self.lock(si);
        self.reap(&mut sh, now);
        let mut list = None;
        if let Some(i) = sh.find(hash, key) {
            let expired = sh.node(i).expired(now);
            let head_cost = list_head_cost(key.len());
            let n = sh.node_mut(i);
            match &mut n.val {
                Stored::List(items) => {
                    if expired {
                        items.clear();
                        let freed = n.cost - head_cost;
                        n.cost = head_cost;
                        n.expires = 0;
                        self.release(freed);
                    }
                    let stamp = self.stamp();
                    sh.touch(i, stamp);
                    list = Some(i);
                }
                _ if !expired => return fail(Error::NotAList),
                _ => self.unlink(&mut sh, i),
            }
        }
        let i = match list {
            Some(i) => i,
            None => {
                let cost = list_head_cost(key.len());
                self.reserve(&mut sh, si, cost, false, now)?;
                let node = Node::new(hash, key, Stored::List(Default::default()), cost);
                sh.insert(node, self.stamp())
            }
        };
        let item = match item {
            ItemRef::Str(s) => Item::Str(s.into()),
            ItemRef::Num(n) => Item::Num(n),
        };
        let cost = list_item_cost(item.len());
        if self.reserve(&mut sh, si, cost, false, now).is_err() {
            if matches!(&sh.node(i).val, Stored::List(l) if l.is_empty()) {
                self.unlink(&mut sh, i);
            }
            return fail(Error::NoMemoryForElement);
        }
        let n = sh.node_mut(i);
        n.cost += cost;
        let Stored::List(items) = &mut n.val else {
            unreachable!("node {i} was checked to be a list")
        };
        if left {
            items.push_front(item);
        } else {
            items.push_back(item);
        }
        Ok(items.len())
    }

    /// `lpop` (`left`) and `rpop`: `None` for a missing or expired key. A
    /// list is removed with its last element.
    pub fn pop(&self, key: &[u8], left: bool, now: u64) -> Result<Option<Item>, Failure> {
        let (hash, si) = self.locate(key);
        let mut sh = self.lock(si);
        self.reap(&mut sh, now);
        let Some(i) = sh.find(hash, key) else {
            return Ok(None);
        };
        let n = sh.node_mut(i);
        if n.expired(now) {
            return Ok(None);
        }
        let Stored::List(items) = &mut n.val else {
            return fail(Error::NotAList);
        };
        let item = if left {
            items.pop_front()
        } else {
            items.pop_back()
        };
        let empty = items.is_empty();
        if let Some(it) = &item {
            let cost = list_item_cost(it.len());
            n.cost -= cost;
            self.release(cost);
        }
        if empty {
            self.unlink(&mut sh, i);
        } else {
            let stamp = self.stamp();
            sh.touch(i, stamp);
        }
        Ok(item)
    }

    /// `llen`: 0 for a missing or expired key.
    pub fn llen(&self, key: &[u8], now: u64) -> Result<usize, Failure> {
        let (hash, si) = self.locate(key);
        let mut sh = self.lock(si);
        self.reap(&mut sh, now);
        let Some(i) = sh.find(hash, key) else {
            return Ok(0);
        };
        let n = sh.node(i);
        if n.expired(now) {
            return Ok(0);
        }
        let Stored::List(items) = &n.val else {
            return fail(Error::NotAList);
        };
        let len = items.len();
        let stamp = self.stamp();
        sh.touch(i, stamp);
        Ok(len)
    }

    /// `ttl`: milliseconds left (0: no expiry; negative once expired but not
    /// yet removed, as in OpenResty), `None` for a missing key.
    pub fn ttl(&self, key: &[u8], now: u64) -> Option<i64> {
        let (hash, si) = self.locate(key);
        let sh = self.lock(si);
        let n = sh.node(sh.find(hash, key)?);
        Some(match n.expires {
            0 => 0,
            e => e as i64 - now as i64,
        })
    }

    /// `expire`: a new expiry (0: never) for an existing entry, expired or
    /// not. `false` for a missing key.
    pub fn expire(&self, key: &[u8], exptime_ms: u64, now: u64) -> bool {
        let (hash, si) = self.locate(key);
        let mut sh = self.lock(si);
        let Some(i) = sh.find(hash, key) else {
            return false;
        };
        sh.node_mut(i).expires = deadline(exptime_ms, now);
        true
    }

    /// `flush_all`: every entry expires now. As nginx does, the three least
    /// recently used are freed at once and the rest when space is needed or
    /// by `flush_expired`; until then `get_stale` still sees them.
    pub fn flush_all(&self) {
        let mut first = self.lock(0);
        let mut room = Room::new(self, 0, &mut first);
        for j in 0..SHARDS {
            if let Some(sh) = room.shard(j) {
                sh.for_each_mut(|n| n.expires = 1);
            }
        }
        for _ in 0..3 {
            match room.pick(1, false) {
                Some((j, _)) => room.evict(self, j),
                None => break,
            }
        }
    }

    /// `flush_expired(max)`: remove expired entries (at most `max`, 0: all);
    /// the number removed.
    pub fn flush_expired(&self, max: usize, now: u64) -> usize {
        let mut freed = 0;
        for si in 0..SHARDS {
            let mut sh = self.lock(si);
            let expired: Vec<u32> = sh.lru().filter(|&i| sh.node(i).expired(now)).collect();
            for i in expired {
                self.unlink(&mut sh, i);
                freed += 1;
                if freed == max {
                    return freed;
                }
            }
        }
        freed
    }

    /// `get_keys(max)`: the keys of valid entries, least recently used first
    /// (at most `max`, 0: all). Shards are read one after the other, so the
    /// list is not one atomic snapshot of a dict in use.
    pub fn get_keys(&self, max: usize, now: u64) -> Vec<Box<[u8]>> {
        let mut all = Vec::new();
        for si in 0..SHARDS {
            let sh = self.lock(si);
            for i in sh.lru() {
                let n = sh.node(i);
                if !n.expired(now) {
                    all.push((n.stamp, n.key.clone()));
                }
            }
        }
        all.sort_unstable_by_key(|&(stamp, _)| stamp);
        if max > 0 {
            all.truncate(max);
        }
        all.into_iter().map(|(_, k)| k).collect()
    }
}

/// Every shard's LRU tail within reach, to reclaim space dict-wide while the
/// caller holds shard `own`.
///
/// Deadlock freedom: a thread blocks only on shards with a higher index than
/// every shard it holds (the caller's own, then ascending), and merely tries
/// lower ones, skipping those that are busy.
struct Room<'a> {
    slots: [Option<Slot<'a>>; SHARDS],
}

enum Slot<'a> {
    Own(&'a mut Shard),
    Held(MutexGuard<'a, Shard>),
}

impl<'a> Room<'a> {
    fn new(dict: &'a ShDict, own_index: usize, own: &'a mut Shard) -> Room<'a> {
        let mut own = Some(own);
        let slots = std::array::from_fn(|j| {
            if j == own_index {
                return own.take().map(Slot::Own);
            }
            let lock = &dict.shards[j].0;
            if j > own_index {
                return Some(Slot::Held(
                    lock.lock().unwrap_or_else(PoisonError::into_inner),
                ));
            }
            match lock.try_lock() {
                Ok(g) => Some(Slot::Held(g)),
                Err(TryLockError::Poisoned(p)) => Some(Slot::Held(p.into_inner())),
                Err(TryLockError::WouldBlock) => None,
            }
        });
        Room { slots }
    }

    fn shard(&mut self, j: usize) -> Option<&mut Shard> {
        match self.slots[j].as_mut()? {
            Slot::Own(s) => Some(s),
            Slot::Held(g) => Some(g),
        }
    }

    /// The shard whose tail to take: the oldest expired tail, else (when
    /// allowed) the oldest valid one. `(shard, the tail is valid)`.
    fn pick(&self, now: u64, valid_ok: bool) -> Option<(usize, bool)> {
        let mut expired: Option<(u64, usize)> = None;
        let mut valid: Option<(u64, usize)> = None;
        for (j, slot) in self.slots.iter().enumerate() {
            let sh: &Shard = match slot {
                Some(Slot::Own(s)) => s,
                Some(Slot::Held(g)) => g,
                None => continue,
            };
            let Some(t) = sh.tail() else { continue };
            let n = sh.node(t);
            let best = if n.expired(now) {
                &mut expired
            } else {
                &mut valid
            };
            if best.is_none_or(|(s, _)| n.stamp < s) {
                *best = Some((n.stamp, j));
            }
        }
        match (expired, valid) {
            (Some((_, j)), _) => Some((j, false)),
            (None, Some((_, j))) if valid_ok => Some((j, true)),
            _ => None,
        }
    }

    fn evict(&mut self, dict: &ShDict, j: usize) {
        if let Some(sh) = self.shard(j) {
            if let Some(t) = sh.tail() {
                dict.unlink(sh, t);
            }
        }
    }
}

#[cfg(test)]
mod tests;
