//! Location matching in nginx's order: exact `=`, then the longest prefix
//! (descending into its nested locations), then regexes in config order
//! unless the prefix was `^~`.

use std::collections::HashMap;
use std::sync::Arc;

use nginx_conf::Directive;

use super::{err_at, ConfError, LocConf, Result};

/// Byte spans of a regex location's captures (index 0 is the whole match).
pub type Captures = Vec<Option<(usize, usize)>>;

#[derive(Debug, Clone)]
pub enum LocationMatch {
    Exact(String),
    Prefix(String),
    /// `^~`: a prefix match that suppresses regex checks.
    PrefixNoRegex(String),
    Regex(Arc<pcre2::bytes::Regex>),
    Named(String),
}

#[derive(Debug)]
pub struct Location {
    pub matcher: LocationMatch,
    /// As written, for messages: `= /t`, `~ \.php$`, `@fallback`.
    pub display: String,
    pub conf: Arc<LocConf>,
    pub children: Locations,
}

#[derive(Debug, Default)]
pub struct Locations {
    exact: Vec<Arc<Location>>,
    prefix: Vec<Arc<Location>>,
    regex: Vec<Arc<Location>>,
    pub named: HashMap<String, Arc<Location>>,
}

impl Locations {
    /// How the location whose settings are `conf` is written (`= /t`), for messages.
    pub fn name_of(&self, conf: &Arc<LocConf>) -> Option<&str> {
        let all = self.exact.iter().chain(&self.prefix).chain(&self.regex);
        for l in all.chain(self.named.values()) {
            if Arc::ptr_eq(&l.conf, conf) {
                return Some(&l.display);
            }
            if let Some(n) = l.children.name_of(conf) {
                return Some(n);
            }
        }
        None
    }
}

pub fn parse_match(d: &Directive) -> Result<LocationMatch> {
    let a = &d.args;
    let (modifier, pat) = if a.len() == 2 {
        (a[0].value.as_str(), a[1].value.as_str())
    } else {
        let v = a[0].value.as_str();
        // nginx also accepts the modifier glued to the pattern: `location =/t`
        if let Some(p) = v.strip_prefix("^~") {
            ("^~", p)
        } else if let Some(p) = v.strip_prefix("~*") {
            ("~*", p)
        } else if let Some(p) = v.strip_prefix('~') {
            ("~", p)
        } else if let Some(p) = v.strip_prefix('=') {
            ("=", p)
        } else {
            ("", v)
        }
    };
    let regex = |caseless: bool| -> Result<LocationMatch> {
        pcre2::bytes::RegexBuilder::new()
            .caseless(caseless)
            .jit_if_available(true)
            .build(pat)
            .map(|r| LocationMatch::Regex(Arc::new(r)))
            .map_err(|e| {
                ConfError(format!(
                    "pcre2_compile() failed: {} in \"{}\" in {}",
                    e,
                    pat,
                    d.location()
                ))
            })
    };
    Ok(match modifier {
        "=" => LocationMatch::Exact(pat.to_string()),
        "^~" => LocationMatch::PrefixNoRegex(pat.to_string()),
        "~" => regex(false)?,
        "~*" => regex(true)?,
        "" if pat.starts_with('@') => LocationMatch::Named(pat.to_string()),
        "" => LocationMatch::Prefix(pat.to_string()),
        m => return err_at(d, format_args!("invalid location modifier \"{m}\"")),
    })
}

impl Locations {
    pub fn add(
        &mut self,
        d: &Directive,
        m: LocationMatch,
        conf: Arc<LocConf>,
        children: Locations,
    ) -> Result<()> {
        let display = d
            .args
            .iter()
            .map(|a| a.value.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let dup = |list: &[Arc<Location>], p: &str| {
            list.iter().any(|l| match &l.matcher {
                LocationMatch::Exact(x)
                | LocationMatch::Prefix(x)
                | LocationMatch::PrefixNoRegex(x) => x == p,
                _ => false,
            })
        };
        let loc = |m| {
            Arc::new(Location {
                matcher: m,
                display: display.clone(),
                conf,
                children,
            })
        };
        match &m {
            LocationMatch::Exact(p) => {
                if dup(&self.exact, p) {
                    return err_at(d, format_args!("duplicate location \"{p}\""));
                }
                self.exact.push(loc(m));
            }
            LocationMatch::Prefix(p) | LocationMatch::PrefixNoRegex(p) => {
                if dup(&self.prefix, p) {
                    return err_at(d, format_args!("duplicate location \"{p}\""));
                }
                self.prefix.push(loc(m));
            }
            LocationMatch::Regex(_) => self.regex.push(loc(m)),
            LocationMatch::Named(n) => {
                if self.named.contains_key(n) {
                    return err_at(d, format_args!("duplicate location \"{n}\""));
                }
                let n = n.clone();
                self.named.insert(n, loc(m));
            }
        }
        Ok(())
    }

    /// The location for `uri` (already normalized), or `None` when nothing matches
    /// (nginx then uses the server-level configuration).
    pub fn find(&self, uri: &[u8]) -> Option<Arc<Location>> {
        self.find_captures(uri).0
    }

    /// The location and, when a regex location matched, its capture spans
    /// (index 0 is the whole match) for `$1`... and `ngx.var[1]`...
    pub fn find_captures(&self, uri: &[u8]) -> (Option<Arc<Location>>, Captures) {
        let mut found = None;
        let mut caps = Vec::new();
        self.find_in(uri, &mut found, &mut caps);
        (found, caps)
    }

    /// Returns true when the match is final (exact, or a regex matched).
    fn find_in(
        &self,
        uri: &[u8],
        found: &mut Option<Arc<Location>>,
        caps: &mut Vec<Option<(usize, usize)>>,
    ) -> bool {
        if let Some(l) = self
            .exact
            .iter()
            .find(|l| matches!(&l.matcher, LocationMatch::Exact(p) if p.as_bytes() == uri))
        {
            *found = Some(l.clone());
            return true;
        }
        let mut best: Option<&Arc<Location>> = None;
        for l in &self.prefix {
            let p = match &l.matcher {
                LocationMatch::Prefix(p) | LocationMatch::PrefixNoRegex(p) => p.as_bytes(),
                _ => continue,
            };
            if uri.starts_with(p) && best.is_none_or(|b| prefix_len(b) < p.len()) {
                best = Some(l);
            }
        }
        let mut noregex = false;
        if let Some(b) = best {
            *found = Some(b.clone());
            noregex = matches!(b.matcher, LocationMatch::PrefixNoRegex(_));
            if b.children.find_in(uri, found, caps) {
                return true;
            }
        }
        if !noregex {
            for l in &self.regex {
                if let LocationMatch::Regex(re) = &l.matcher {
                    if let Ok(Some(c)) = re.captures(uri) {
                        *found = Some(l.clone());
                        caps.clear();
                        caps.extend((0..c.len()).map(|i| c.get(i).map(|m| (m.start(), m.end()))));
                        l.children.find_in(uri, found, caps);
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Named locations are looked up at the server level only (as in nginx).
    pub fn named(&self, name: &str) -> Option<Arc<Location>> {
        self.named.get(name).cloned()
    }
}

fn prefix_len(l: &Location) -> usize {
    match &l.matcher {
        LocationMatch::Prefix(p) | LocationMatch::PrefixNoRegex(p) => p.len(),
        _ => 0,
    }
}
