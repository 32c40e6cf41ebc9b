//! Whatever the pattern, options, subject and offset: no panic, and every
//! reported group lies inside the subject (the Lua binding slices with them).

use ngx_re::{Matcher, Options, Regex, Template};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn groups_stay_inside_the_subject(
        pat in r"[ab().*+?|\\dKz$^{}0-9\[\]<>n-]{0,14}",
        opts in proptest::sample::subsequence(b"ijmsuUxadDJ".to_vec(), 0..5),
        subj in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'1'), Just(0xe4), Just(0xbd), Just(0xff), Just(b'\n')], 0..20),
        start in 0usize..24,
        tpl in r"[$0-9{}ab]{0,8}",
    ) {
        let Ok(o) = Options::parse(&opts) else { return Ok(()) };
        let Ok(re) = Regex::new(pat.as_bytes(), o) else { return Ok(()) };
        let mut m = Matcher::new(100_000);
        if let Ok(Some(n)) = m.exec(&re, &subj, start) {
            for i in 0..n {
                if let Some((a, b)) = m.group(i) {
                    prop_assert!(a <= b && b <= subj.len(), "group {} = {}..{} of {}", i, a, b, subj.len());
                }
            }
            let mut t = Template::default();
            if t.parse(tpl.as_bytes()).is_ok() {
                let mut out = Vec::new();
                t.expand(tpl.as_bytes(), &subj, &m, n, &mut out);
            }
        }
    }
}
