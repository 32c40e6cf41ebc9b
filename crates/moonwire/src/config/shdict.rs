//! `lua_shared_dict NAME SIZE` and the zones that outlive a reload.
//!
//! nginx keeps a shared memory zone across a reload when the new config
//! declares it with the same name and size; a different size gets a fresh,
//! empty zone. Zones here are `Arc<ShDict>`s found again by name and size
//! among those some loaded config still holds, so the new generation of
//! workers shares the old one's dicts while both run.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use nginx_conf::Directive;
use ngx_shdict::ShDict;

use super::{err_at, Result};

/// Every zone a config made, while a config holds it.
static ZONES: Mutex<Vec<Weak<ShDict>>> = Mutex::new(Vec::new());

fn zone(name: &str, size: usize) -> Arc<ShDict> {
    let mut all = ZONES.lock().unwrap_or_else(PoisonError::into_inner);
    all.retain(|z| z.strong_count() > 0);
    if let Some(z) = all
        .iter()
        .filter_map(Weak::upgrade)
        .find(|z| z.name() == name && z.capacity() == size)
    {
        return z;
    }
    let z = Arc::new(ShDict::new(name, size));
    all.push(Arc::downgrade(&z));
    z
}

/// nginx's `ngx_parse_size`: digits with an optional k/K/m/M suffix.
fn parse_size(s: &str) -> Option<usize> {
    let (num, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1024),
        b'm' | b'M' => (&s[..s.len() - 1], 1024 * 1024),
        _ => (s, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<usize>().ok()?.checked_mul(mult)
}

/// Lower one `lua_shared_dict` into `dicts`, with OpenResty's errors.
pub(super) fn declare(d: &Directive, dicts: &mut Vec<(String, Arc<ShDict>)>) -> Result<()> {
    let name = &d.args[0].value;
    if name.is_empty() {
        return err_at(d, format_args!("invalid lua shared dict name \"{name}\""));
    }
    let raw = &d.args[1].value;
    let size = match parse_size(raw) {
        Some(n) if n > 8191 => n,
        _ => return err_at(d, format_args!("invalid lua shared dict size \"{raw}\"")),
    };
    if let Some((_, old)) = dicts.iter().find(|(n, _)| n == name) {
        if old.capacity() != size {
            return err_at(
                d,
                format_args!(
                    "the size {size} of shared memory zone \"{name}\" conflicts with already declared size {}",
                    old.capacity()
                ),
            );
        }
        return err_at(
            d,
            format_args!("lua_shared_dict \"{name}\" is already defined as \"{name}\""),
        );
    }
    dicts.push((name.clone(), zone(name, size)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_nginx_parses_them() {
        assert_eq!(parse_size("8192"), Some(8192));
        assert_eq!(parse_size("12k"), Some(12 << 10));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("1g"), None);
        assert_eq!(parse_size("1.5m"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("k"), None);
        assert_eq!(parse_size("99999999999999999999"), None);
    }

    #[test]
    fn zones_are_reused_by_name_and_size_while_held() {
        let a = zone("shdict-test-reuse", 1 << 20);
        let b = zone("shdict-test-reuse", 1 << 20);
        assert!(Arc::ptr_eq(&a, &b));
        let c = zone("shdict-test-reuse", 2 << 20);
        assert!(!Arc::ptr_eq(&a, &c));
        drop((a, b));
        // once no config holds it, the same name and size start empty
        let d = zone("shdict-test-reuse", 1 << 20);
        assert_eq!(d.used(), 0);
        assert!(Arc::ptr_eq(&c, &zone("shdict-test-reuse", 2 << 20)));
    }
}
