//! moonwire with the `pg` extension linked in.

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    moonwire::Server::builder()
        .extension(moonwire_ext_postgres::module())
        .run()
}
