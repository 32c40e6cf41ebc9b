//! Rough throughput check: `cargo run --release -p moonwire-cjson --example bench`.

use std::time::Instant;

fn main() -> mlua::Result<()> {
    let lua = mlua::Lua::new();
    lua_cjson::preload(&lua)?;
    let setup = r#"
        cjson = require "cjson"
        doc = {
            id = 12345, name = "moonwire", active = true, score = 98.6,
            tags = {"a", "b", "c", "d"}, empty = {},
            owner = {login = "someone", id = 42, url = "https://example.com/u/42"},
            items = {},
        }
        for i = 1, 20 do
            doc.items[i] = {id = i, title = "item number " .. i, price = i * 1.25, flags = {i, i + 1}}
        end
        text = cjson.encode(doc)
        nums = {} for i = 1, 100 do nums[i] = i end
        strs = {} for i = 1, 100 do strs[i] = "s" .. i end
        wide = {} for i = 1, 100 do wide["k" .. i] = i end
        small = {ok = true, id = 7}
        vars = {x = "42", user = "bench", host = "127.0.0.1:18080", n = 3}
        vars_text = cjson.encode(vars)
        floats = {} for i = 1, 100 do floats[i] = i * 1.25 end
    "#;
    lua.load(setup).exec()?;
    let len: usize = lua.load("return #text").eval()?;
    println!("document: {len} bytes");
    let env = |k: &str, d: u32| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let n = env("BENCH_N", 20_000);
    let runs = env("BENCH_RUNS", 5);
    let cases = [
        (
            "encode doc",
            "local e, d = cjson.encode, doc for i = 1, N do e(d) end",
        ),
        (
            "decode doc",
            "local dd, t = cjson.decode, text for i = 1, N do dd(t) end",
        ),
        (
            "encode vars",
            "local e, d = cjson.encode, vars for i = 1, N do e(d) end",
        ),
        (
            "decode vars",
            "local dd, t = cjson.decode, vars_text for i = 1, N do dd(t) end",
        ),
        (
            "encode {}",
            "local e, d = cjson.encode, {} for i = 1, N do e(d) end",
        ),
        (
            "encode 1",
            "local e = cjson.encode for i = 1, N do e(1) end",
        ),
        (
            "encode small",
            "local e, d = cjson.encode, small for i = 1, N do e(d) end",
        ),
        (
            "encode 100 ints",
            "local e, d = cjson.encode, nums for i = 1, N do e(d) end",
        ),
        (
            "encode 100 floats",
            "local e, d = cjson.encode, floats for i = 1, N do e(d) end",
        ),
        (
            "encode 100 strs",
            "local e, d = cjson.encode, strs for i = 1, N do e(d) end",
        ),
        (
            "encode 100 keys",
            "local e, d = cjson.encode, wide for i = 1, N do e(d) end",
        ),
    ];
    let only = std::env::args().nth(1);
    for (label, code) in cases {
        if only.as_deref().is_some_and(|o| label != o) {
            continue;
        }
        lua.globals().set("N", n)?;
        let f = lua.load(code).into_function()?;
        // Best of several runs: the machine is shared.
        let mut per = f64::MAX;
        for _ in 0..runs {
            let start = Instant::now();
            f.call::<()>(())?;
            per = per.min(start.elapsed().as_secs_f64() / n as f64 * 1e6);
        }
        println!("{label:>20}: {per:8.2} us/op");
    }
    Ok(())
}
