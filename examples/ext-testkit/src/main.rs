//! moonwire with the `testkit` extension modules (see lib.rs).

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    moonwire::Server::builder()
        .extension(moonwire_ext_testkit::module())
        .extension(moonwire_ext_testkit::timed_module())
        .run()
}
