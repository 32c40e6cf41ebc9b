//! moonwire with the `hash` extension linked in.

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // half the cores hash; the rest stay free for the workers' event loops
    let threads = std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1));
    moonwire::Server::builder()
        .extension(moonwire_ext_hash::module(threads))
        .run()
}
