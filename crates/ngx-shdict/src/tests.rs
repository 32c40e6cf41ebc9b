use std::sync::Arc;

use super::*;

const NOW: u64 = 1_000_000;

fn get(d: &ShDict, k: &str, now: u64) -> Option<(String, u32)> {
    d.get(k.as_bytes(), false, now, |f| {
        f.map(|f| {
            let v = match f.value {
                ValueRef::Str(s) => String::from_utf8_lossy(s).into_owned(),
                ValueRef::Num(n) => format!("{n}"),
                ValueRef::Bool(b) => format!("{b}"),
                ValueRef::List => "<list>".into(),
            };
            (v, f.flags)
        })
    })
}

fn val(d: &ShDict, k: &str) -> Option<String> {
    get(d, k, NOW).map(|(v, _)| v)
}

fn set(d: &ShDict, k: &str, v: Value<'_>) -> Result<bool, Failure> {
    d.store(Mode::Set, k.as_bytes(), Some(v), 0, 0, NOW)
}

fn err(e: Error) -> Failure {
    Failure {
        err: e,
        forcible: false,
    }
}

#[test]
fn slab_classes_and_usable_sizes() {
    assert_eq!(slab_size(1), 8);
    assert_eq!(slab_size(89), 128);
    assert_eq!(slab_size(2048), 2048);
    assert_eq!(slab_size(2049), 4096);
    assert_eq!(slab_size(5079), 8192);
    assert_eq!(entry_cost(6, 10), 128);
    // 1m: 256 pages, 2 for the slab header, 1 for the dict's bookkeeping
    assert_eq!(usable_bytes(1 << 20), 253 * 4096);
    assert_eq!(usable_bytes(16 << 10), 2 * 4096);
    assert_eq!(usable_bytes(12 << 10), 4096);
    assert_eq!(usable_bytes(8 << 10), 4096);
}

#[test]
fn value_types_flags_and_delete() {
    let d = ShDict::new("d", 1 << 20);
    assert_eq!(set(&d, "s", Value::Str(b"abc")), Ok(false));
    assert_eq!(set(&d, "n", Value::Num(1.5)), Ok(false));
    assert_eq!(set(&d, "b", Value::Bool(false)), Ok(false));
    d.store(Mode::Set, b"f", Some(Value::Str(b"x")), 0, 7, NOW)
        .unwrap();
    assert_eq!(val(&d, "s").as_deref(), Some("abc"));
    assert_eq!(val(&d, "n").as_deref(), Some("1.5"));
    assert_eq!(val(&d, "b").as_deref(), Some("false"));
    assert_eq!(get(&d, "f", NOW), Some(("x".into(), 7)));
    // a set without flags clears them; a same-size value is updated in place
    set(&d, "f", Value::Str(b"y")).unwrap();
    assert_eq!(get(&d, "f", NOW), Some(("y".into(), 0)));
    // type changes
    set(&d, "s", Value::Num(3.0)).unwrap();
    assert_eq!(val(&d, "s").as_deref(), Some("3"));
    let used = d.used();
    assert_eq!(d.store(Mode::Set, b"s", None, 0, 0, NOW), Ok(false));
    assert_eq!(val(&d, "s"), None);
    assert_eq!(d.used(), used - entry_cost(1, 8));
    // deleting a missing key is fine
    assert_eq!(d.store(Mode::Set, b"s", None, 0, 0, NOW), Ok(false));
}

#[test]
fn add_replace_and_their_errors() {
    let d = ShDict::new("d", 1 << 20);
    let add = |k: &str, v, now| d.store(Mode::Add, k.as_bytes(), Some(v), 0, 0, now);
    assert_eq!(add("a", Value::Num(1.0), NOW), Ok(false));
    assert_eq!(add("a", Value::Num(2.0), NOW), Err(err(Error::Exists)));
    assert_eq!(
        d.store(Mode::SafeAdd, b"a", Some(Value::Num(2.0)), 0, 0, NOW),
        Err(err(Error::Exists))
    );
    assert_eq!(
        d.store(Mode::Replace, b"zz", Some(Value::Num(2.0)), 0, 0, NOW),
        Err(err(Error::NotFound))
    );
    assert_eq!(
        d.store(Mode::Replace, b"a", Some(Value::Str(b"new")), 0, 0, NOW),
        Ok(false)
    );
    assert_eq!(val(&d, "a").as_deref(), Some("new"));
    assert_eq!(
        d.store(Mode::Add, b"a", None, 0, 0, NOW),
        Err(err(Error::NilValue))
    );
    assert_eq!(
        d.store(Mode::Replace, b"a", None, 0, 0, NOW),
        Err(err(Error::NilValue))
    );
    // an expired key: add succeeds, replace does not
    d.store(Mode::Set, b"e", Some(Value::Num(1.0)), 10, 0, NOW)
        .unwrap();
    assert_eq!(
        d.store(Mode::Replace, b"e", Some(Value::Num(2.0)), 0, 0, NOW + 10),
        Err(err(Error::NotFound))
    );
    assert_eq!(add("e", Value::Num(3.0), NOW + 10), Ok(false));
    assert_eq!(get(&d, "e", NOW + 10_000), Some(("3".into(), 0)));
}

#[test]
fn expiry_is_lazy_and_stale_reads_see_it() {
    let d = ShDict::new("d", 1 << 20);
    d.store(Mode::Set, b"k", Some(Value::Str(b"v")), 100, 3, NOW)
        .unwrap();
    assert_eq!(d.ttl(b"k", NOW), Some(100));
    assert_eq!(d.ttl(b"k", NOW + 40), Some(60));
    assert!(get(&d, "k", NOW + 99).is_some());
    let stale = d.get(b"k", true, NOW + 100, |f| f.map(|f| (f.flags, f.stale)));
    assert_eq!(stale, Some((3, true)));
    // still there: ttl goes negative, expire revives it
    assert_eq!(d.ttl(b"k", NOW + 118), Some(-18));
    assert!(d.expire(b"k", 1000, NOW + 118));
    assert!(get(&d, "k", NOW + 118).is_some());
    assert!(d.expire(b"k", 0, NOW + 118));
    assert_eq!(d.ttl(b"k", NOW + 118), Some(0));
    // a plain get frees expired entries at its shard's LRU tail: here, the entry itself
    d.expire(b"k", 1, NOW);
    assert_eq!(get(&d, "k", NOW + 1), None);
    assert!(d.get(b"k", true, NOW + 1, |f| f.is_none()));
    assert_eq!(d.used(), 0);
    assert!(!d.expire(b"missing", 10, NOW));
    assert_eq!(d.ttl(b"missing", NOW), None);
    assert!(d.get(b"missing", true, NOW, |f| f.is_none()));
}

#[test]
fn incr_semantics() {
    let d = ShDict::new("d", 1 << 20);
    assert_eq!(d.incr(b"c", 1.0, None, 0, NOW), Err(err(Error::NotFound)));
    assert_eq!(d.incr(b"c", 1.0, Some(10.0), 0, NOW), Ok((11.0, false)));
    assert_eq!(d.incr(b"c", -2.5, Some(10.0), 0, NOW), Ok((8.5, false)));
    set(&d, "s", Value::Str(b"12")).unwrap();
    assert_eq!(
        d.incr(b"s", 1.0, Some(0.0), 0, NOW),
        Err(err(Error::NotANumber))
    );
    // flags and expiry of an existing number stay
    d.store(Mode::Set, b"f", Some(Value::Num(5.0)), 100, 3, NOW)
        .unwrap();
    assert_eq!(d.incr(b"f", 1.0, Some(0.0), 5, NOW), Ok((6.0, false)));
    assert_eq!(get(&d, "f", NOW), Some(("6".into(), 3)));
    assert_eq!(d.ttl(b"f", NOW), Some(100));
    // an expired number restarts from init, with init_ttl and no flags
    assert_eq!(
        d.incr(b"f", 1.0, None, 0, NOW + 100),
        Err(err(Error::NotFound))
    );
    assert_eq!(
        d.incr(b"f", 1.0, Some(0.0), 50, NOW + 100),
        Ok((1.0, false))
    );
    assert_eq!(get(&d, "f", NOW + 100), Some(("1".into(), 0)));
    assert_eq!(d.ttl(b"f", NOW + 100), Some(50));
    // an expired string becomes a number
    d.store(Mode::Set, b"x", Some(Value::Str(b"abc")), 1, 0, NOW)
        .unwrap();
    assert_eq!(d.incr(b"x", 2.0, Some(1.0), 0, NOW + 5), Ok((3.0, false)));
    assert_eq!(d.ttl(b"x", NOW + 5), Some(0));
}

#[test]
fn lists() {
    let d = ShDict::new("d", 1 << 20);
    let push = |k: &str, it, left| d.push(k.as_bytes(), it, left, NOW);
    assert_eq!(push("l", ItemRef::Str(b"a"), true), Ok(1));
    assert_eq!(push("l", ItemRef::Num(2.0), false), Ok(2));
    assert_eq!(push("l", ItemRef::Str(b"c"), true), Ok(3));
    assert_eq!(d.llen(b"l", NOW), Ok(3));
    assert_eq!(val(&d, "l").as_deref(), Some("<list>"));
    assert_eq!(d.incr(b"l", 1.0, None, 0, NOW), Err(err(Error::NotANumber)));
    assert_eq!(d.pop(b"l", false, NOW), Ok(Some(Item::Num(2.0))));
    assert_eq!(d.pop(b"l", true, NOW), Ok(Some(Item::Str((*b"c").into()))));
    assert_eq!(d.pop(b"l", true, NOW), Ok(Some(Item::Str((*b"a").into()))));
    // the empty list is gone, with all its bytes
    assert_eq!(d.used(), 0);
    assert_eq!(d.pop(b"l", true, NOW), Ok(None));
    assert_eq!(d.llen(b"l", NOW), Ok(0));
    set(&d, "s", Value::Str(b"x")).unwrap();
    assert_eq!(
        push("s", ItemRef::Num(1.0), true),
        Err(err(Error::NotAList))
    );
    assert_eq!(d.pop(b"s", true, NOW), Err(err(Error::NotAList)));
    assert_eq!(d.llen(b"s", NOW), Err(err(Error::NotAList)));
    // a set replaces a list
    push("l2", ItemRef::Str(b"x"), true).unwrap();
    set(&d, "l2", Value::Str(b"y")).unwrap();
    assert_eq!(val(&d, "l2").as_deref(), Some("y"));
    // an expired list or value restarts as a new list
    push("l3", ItemRef::Str(b"x"), true).unwrap();
    push("l3", ItemRef::Str(b"y"), true).unwrap();
    assert!(d.expire(b"l3", 1, NOW));
    assert_eq!(d.llen(b"l3", NOW + 1), Ok(0));
    assert_eq!(d.push(b"l3", ItemRef::Str(b"z"), false, NOW + 1), Ok(1));
    assert_eq!(d.ttl(b"l3", NOW + 1), Some(0));
    assert_eq!(
        d.push(b"s", ItemRef::Str(b"z"), false, NOW),
        Err(err(Error::NotAList))
    );
    d.expire(b"s", 1, NOW);
    assert_eq!(d.push(b"s", ItemRef::Str(b"z"), false, NOW + 1), Ok(1));
    // an element that cannot fit: the new, empty list goes too
    let huge = vec![0u8; 2 << 20];
    assert_eq!(
        d.push(b"big", ItemRef::Str(&huge), true, NOW),
        Err(err(Error::NoMemoryForElement))
    );
    assert_eq!(d.llen(b"big", NOW), Ok(0));
}

#[test]
fn accounting_is_exact_after_churn() {
    let d = ShDict::new("d", 1 << 20);
    for i in 0..500 {
        let k = format!("k{i}");
        set(&d, &k, Value::Str(&vec![b'x'; i % 300])).unwrap();
        d.push(
            format!("l{}", i % 7).as_bytes(),
            ItemRef::Num(1.0),
            true,
            NOW,
        )
        .unwrap();
    }
    let expected: usize = (0..500)
        .map(|i| entry_cost(format!("k{i}").len(), i % 300))
        .sum::<usize>()
        + (0..7)
            .map(|i| {
                let n = (0..500).filter(|j| j % 7 == i).count();
                list_head_cost(2) + n * list_item_cost(8)
            })
            .sum::<usize>();
    assert_eq!(d.used(), expected);
    d.flush_all();
    assert_eq!(d.flush_expired(0, NOW), 507 - 3);
    assert_eq!(d.used(), 0);
}

#[test]
fn capacity_matches_openresty_counts() {
    // entries of a 6-byte key: how many fit in 1m before safe_set says "no memory"
    for (vlen, want) in [
        (10, 8096),
        (200, 2024),
        (1000, 506),
        (3000, 253),
        (5000, 126),
    ] {
        let d = ShDict::new("d", 1 << 20);
        let v = vec![b'v'; vlen];
        let mut n = 0;
        while d
            .store(
                Mode::SafeSet,
                format!("k{n:05}").as_bytes(),
                Some(Value::Str(&v)),
                0,
                0,
                NOW,
            )
            .is_ok()
        {
            n += 1;
        }
        assert_eq!(n, want, "value length {vlen}");
        assert!(d.free_space() < entry_cost(6, vlen));
    }
    let d = ShDict::new("d", 1 << 20);
    assert_eq!(d.capacity(), 1 << 20);
    assert_eq!(d.free_space(), 253 * 4096);
}

#[test]
fn eviction_is_lru_and_forcible() {
    let d = ShDict::new("d", 12 << 10); // one page: 32 entries of 128 bytes
    for i in 0..32 {
        assert_eq!(
            set(&d, &format!("k{i:02}"), Value::Num(i as f64)),
            Ok(false)
        );
    }
    assert_eq!(d.free_space(), 0);
    // touch k00 so k01 is the least recently used
    assert!(val(&d, "k00").is_some());
    assert_eq!(set(&d, "new", Value::Num(1.0)), Ok(true));
    assert_eq!(val(&d, "k01"), None);
    assert!(val(&d, "k00").is_some());
    assert!(val(&d, "new").is_some());
    // safe stores never evict
    assert_eq!(
        d.store(Mode::SafeSet, b"new2", Some(Value::Num(1.0)), 0, 0, NOW),
        Err(err(Error::NoMemory))
    );
    assert_eq!(
        d.store(Mode::SafeAdd, b"new2", Some(Value::Num(1.0)), 0, 0, NOW),
        Err(err(Error::NoMemory))
    );
    // nor do list pushes
    assert_eq!(
        d.push(b"list", ItemRef::Num(1.0), true, NOW),
        Err(err(Error::NoMemory))
    );
    assert_eq!(d.llen(b"list", NOW), Ok(0));
    // incr with init evicts like set
    assert_eq!(d.incr(b"cnt", 1.0, Some(0.0), 0, NOW), Ok((1.0, true)));
    assert_eq!(val(&d, "k02"), None);
    // a value larger than the dict fails without evicting anything
    let big = vec![0u8; 8192];
    assert_eq!(set(&d, "big", Value::Str(&big)), Err(err(Error::NoMemory)));
    assert_eq!(d.get_keys(0, NOW).len(), 32);
    // a 1000-byte value (2048 bytes charged) evicts 16 entries
    let v = vec![0u8; 1000];
    assert_eq!(set(&d, "mid", Value::Str(&v)), Ok(true));
    assert_eq!(d.get_keys(0, NOW).len(), 17);
    assert_eq!(d.used(), d.usable());
}

#[test]
fn expired_entries_are_reclaimed_before_valid_ones_and_not_forcibly() {
    let d = ShDict::new("d", 12 << 10); // 32 entries
    for i in 0..32 {
        // the 8 oldest expire at NOW + 5
        let ttl = if i < 8 { 5 } else { 0 };
        d.store(
            Mode::Set,
            format!("k{i:02}").as_bytes(),
            Some(Value::Num(0.0)),
            ttl,
            0,
            NOW,
        )
        .unwrap();
    }
    let later = NOW + 10;
    for i in 0..8 {
        assert_eq!(
            d.store(
                Mode::SafeSet,
                format!("n{i}").as_bytes(),
                Some(Value::Num(1.0)),
                0,
                0,
                later
            ),
            Ok(false),
            "entry {i}"
        );
    }
    assert_eq!(d.get_keys(0, later).len(), 32);
    assert_eq!(
        d.store(Mode::SafeSet, b"full", Some(Value::Num(1.0)), 0, 0, later),
        Err(err(Error::NoMemory))
    );
    // a valid entry goes only for a plain set, which says so
    assert_eq!(
        d.store(Mode::Set, b"full", Some(Value::Num(1.0)), 0, 0, later),
        Ok(true)
    );
    assert_eq!(val(&d, "k08"), None);
}

#[test]
fn flush_all_keeps_stale_values_and_flush_expired_counts() {
    let d = ShDict::new("d", 1 << 20);
    for i in 0..10 {
        set(&d, &format!("k{i}"), Value::Num(i as f64)).unwrap();
    }
    d.flush_all();
    assert_eq!(d.get_keys(0, NOW).len(), 0);
    // the three least recently used were freed
    assert!(d.get(b"k0", true, NOW, |f| f.is_none()));
    assert!(d.get(b"k2", true, NOW, |f| f.is_none()));
    assert!(d.get(b"k3", true, NOW, |f| f.is_some_and(|f| f.stale)));
    assert_eq!(d.flush_expired(2, NOW), 2);
    assert_eq!(d.flush_expired(0, NOW), 5);
    assert_eq!(d.flush_expired(0, NOW), 0);
    assert_eq!(d.used(), 0);
}

#[test]
fn get_keys_oldest_first_with_limit() {
    let d = ShDict::new("d", 1 << 20);
    for i in 0..100 {
        set(&d, &format!("k{i}"), Value::Num(0.0)).unwrap();
    }
    val(&d, "k0");
    d.expire(b"k1", 1, NOW);
    let keys: Vec<String> = d
        .get_keys(3, NOW + 1)
        .iter()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert_eq!(keys, ["k2", "k3", "k4"]);
    let all = d.get_keys(0, NOW + 1);
    assert_eq!(all.len(), 99);
    assert_eq!(&*all[98], b"k0");
}

#[test]
fn concurrent_incr_is_exact() {
    let d = Arc::new(ShDict::new("d", 1 << 20));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let d = d.clone();
            std::thread::spawn(move || {
                for i in 0..20_000 {
                    d.incr(b"hits", 1.0, Some(0.0), 0, NOW).unwrap();
                    // other keys in other shards at the same time
                    d.incr(
                        format!("t{t}-{}", i % 50).as_bytes(),
                        1.0,
                        Some(0.0),
                        0,
                        NOW,
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(val(&d, "hits").as_deref(), Some("80000"));
    assert_eq!(val(&d, "t3-49").as_deref(), Some("400"));
}

#[test]
fn concurrent_eviction_keeps_the_byte_bound_and_never_deadlocks() {
    let d = Arc::new(ShDict::new("d", 64 << 10));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let d = d.clone();
            std::thread::spawn(move || {
                let v = vec![b'x'; 100 + t * 50];
                for i in 0..20_000u32 {
                    let k = format!("{t}:{}", i % 3000);
                    let forcible = d
                        .store(Mode::Set, k.as_bytes(), Some(Value::Str(&v)), 0, 0, NOW)
                        .expect("set evicts to make room");
                    let _ = forcible;
                    d.get(k.as_bytes(), false, NOW, |_| ());
                    if i % 7 == 0 {
                        let _ = d.push(b"q", ItemRef::Num(1.0), true, NOW);
                        let _ = d.pop(b"q", false, NOW);
                    }
                    assert!(d.used() <= d.usable());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let n = d.get_keys(0, NOW).len();
    assert!(n > 100, "{n} entries");
    d.flush_all();
    d.flush_expired(0, NOW);
    assert_eq!(d.used(), 0);
}
