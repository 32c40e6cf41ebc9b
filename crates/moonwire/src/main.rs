//! The stock `moonwire` binary: the command line with no extensions.

use std::process::ExitCode;

// Every request allocates (Lua tables, buffers); mimalloc's thread-local
// heaps cost a fraction of glibc malloc's instructions here (measured with callgrind).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    moonwire::Server::builder().run()
}
