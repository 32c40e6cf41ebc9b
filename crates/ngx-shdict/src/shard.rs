//! One shard of a dict: a hash table of nodes and their LRU list.
//!
//! Nodes live in a slab (`Vec<Node>`) and are linked by index, so a node
//! keeps its index until it is removed and the LRU moves are pointer swaps.

use std::collections::VecDeque;

use hashbrown::HashTable;

const NIL: u32 = u32::MAX;

/// A stored value.
#[derive(Debug)]
pub(crate) enum Stored {
    Str(Box<[u8]>),
    Num(f64),
    Bool(bool),
    List(VecDeque<Item>),
}

/// An element of a list value.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Str(Box<[u8]>),
    Num(f64),
}

#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) hash: u64,
    pub(crate) key: Box<[u8]>,
    pub(crate) val: Stored,
    pub(crate) flags: u32,
    /// Wall-clock milliseconds; 0 = never.
    pub(crate) expires: u64,
    /// Dict-wide touch order, to compare the LRU tails of different shards.
    pub(crate) stamp: u64,
    /// Bytes charged against the dict's capacity (a list: head and elements).
    pub(crate) cost: usize,
    prev: u32,
    next: u32,
}

impl Node {
    pub(crate) fn new(hash: u64, key: &[u8], val: Stored, cost: usize) -> Node {
        Node {
            hash,
            key: key.into(),
            val,
            flags: 0,
            expires: 0,
            stamp: 0,
            cost,
            prev: NIL,
            next: NIL,
        }
    }

    pub(crate) fn expired(&self, now: u64) -> bool {
        self.expires != 0 && self.expires <= now
    }
}

#[derive(Debug, Default)]
pub(crate) struct Shard {
    table: HashTable<u32>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    /// Most recently used.
    head: Option<u32>,
    /// Least recently used.
    tail: Option<u32>,
}

impl Shard {
    pub(crate) fn find(&self, hash: u64, key: &[u8]) -> Option<u32> {
        let nodes = &self.nodes;
        self.table
            .find(hash, |&i| *nodes[i as usize].key == *key)
            .copied()
    }

    pub(crate) fn node(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    pub(crate) fn node_mut(&mut self, i: u32) -> &mut Node {
        &mut self.nodes[i as usize]
    }

    pub(crate) fn tail(&self) -> Option<u32> {
        self.tail
    }

    /// Add `node` as the most recently used.
    pub(crate) fn insert(&mut self, mut node: Node, stamp: u64) -> u32 {
        node.stamp = stamp;
        let hash = node.hash;
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let nodes = &self.nodes;
        self.table
            .insert_unique(hash, i, |&j| nodes[j as usize].hash);
        self.link_head(i);
        i
    }

    /// Take node `i` out; its slot is reused by a later insert.
    pub(crate) fn remove(&mut self, i: u32) -> Node {
        self.unlink(i);
        let hash = self.nodes[i as usize].hash;
        if let Ok(e) = self.table.find_entry(hash, |&j| j == i) {
            e.remove();
        }
        self.free.push(i);
        let vacant = Node::new(0, &[], Stored::Bool(false), 0);
        std::mem::replace(&mut self.nodes[i as usize], vacant)
    }

    /// Mark node `i` as the most recently used.
    pub(crate) fn touch(&mut self, i: u32, stamp: u64) {
        self.nodes[i as usize].stamp = stamp;
        if self.head != Some(i) {
            self.unlink(i);
            self.link_head(i);
        }
    }

    /// Live node indices from the least recently used on.
    pub(crate) fn lru(&self) -> impl Iterator<Item = u32> + '_ {
        let mut cur = self.tail;
        std::iter::from_fn(move || {
            let i = cur?;
            let prev = self.nodes[i as usize].prev;
            cur = (prev != NIL).then_some(prev);
            Some(i)
        })
    }

    /// Call `f` on every live node, from the least recently used on.
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(&mut Node)) {
        let mut cur = self.tail;
        while let Some(i) = cur {
            let n = &mut self.nodes[i as usize];
            f(n);
            cur = (n.prev != NIL).then_some(n.prev);
        }
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = {
            let n = &self.nodes[i as usize];
            (n.prev, n.next)
        };
        match prev {
            NIL => self.head = (next != NIL).then_some(next),
            p => self.nodes[p as usize].next = next,
        }
        match next {
            NIL => self.tail = (prev != NIL).then_some(prev),
            n => self.nodes[n as usize].prev = prev,
        }
        let n = &mut self.nodes[i as usize];
        n.prev = NIL;
        n.next = NIL;
    }

    fn link_head(&mut self, i: u32) {
        let old = self.head;
        {
            let n = &mut self.nodes[i as usize];
            n.prev = NIL;
            n.next = old.unwrap_or(NIL);
        }
        match old {
            Some(h) => self.nodes[h as usize].prev = i,
            None => self.tail = Some(i),
        }
        self.head = Some(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(k: &str) -> Node {
        Node::new(k.len() as u64, k.as_bytes(), Stored::Num(1.0), 8)
    }

    fn order(s: &Shard) -> Vec<String> {
        s.lru()
            .map(|i| String::from_utf8_lossy(&s.node(i).key).into_owned())
            .collect()
    }

    #[test]
    fn lru_order_follows_touches_and_removals() {
        let mut s = Shard::default();
        let a = s.insert(node("a"), 1);
        let b = s.insert(node("bb"), 2);
        let c = s.insert(node("ccc"), 3);
        assert_eq!(order(&s), ["a", "bb", "ccc"]);
        s.touch(a, 4);
        assert_eq!(order(&s), ["bb", "ccc", "a"]);
        s.remove(c);
        assert_eq!(order(&s), ["bb", "a"]);
        assert_eq!(s.find(3, b"ccc"), None);
        assert_eq!(s.find(2, b"bb"), Some(b));
        // the freed slot is reused
        let d = s.insert(node("dddd"), 5);
        assert_eq!(d, c);
        assert_eq!(order(&s), ["bb", "a", "dddd"]);
        s.remove(b);
        s.remove(a);
        s.remove(d);
        assert_eq!(s.tail(), None);
        assert_eq!(s.lru().count(), 0);
        let mut n = 0;
        s.for_each_mut(|_| n += 1);
        assert_eq!(n, 0);
    }
}
