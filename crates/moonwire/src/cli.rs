//! The `moonwire` command (nginx's command line), as a library so that a
//! custom binary can add native extensions before running it:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     let m = moonwire::ext::Module::new("hello")
//!         .function("greet", |_| Ok(vec!["hi".into()]));
//!     moonwire::Server::builder().extension(m).run()
//! }
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::{self, LoadOpts};
use crate::ext::Module;

/// The server as a program: see [`Server::builder`].
pub struct Server;

impl Server {
    pub fn builder() -> Builder {
        Builder {
            modules: Vec::new(),
        }
    }
}

/// Collects the extensions of a custom binary, then runs the command line.
pub struct Builder {
    modules: Vec<Module>,
}

impl Builder {
    /// Make `m` loadable with `require` in every Lua VM of the process.
    pub fn extension(mut self, m: Module) -> Builder {
        self.modules.push(m);
        self
    }

    /// Run with the process's arguments (`-p`, `-c`, `-s reload` ...) until
    /// the server stops. Call it once, from `main`.
    pub fn run(self) -> ExitCode {
        self.run_args(std::env::args().skip(1).collect())
    }

    /// Like [`run`](Self::run) with explicit arguments (without the program name).
    pub fn run_args(self, args: Vec<String>) -> ExitCode {
        if let Err(e) = crate::ext::set_modules(self.modules) {
            eprintln!("nginx: [emerg] {e}");
            return ExitCode::from(1);
        }
        main(args)
    }
}

const USAGE: &str = "Usage: moonwire [-?hvVtTq] [-s signal] [-p prefix]
             [-e filename] [-c filename] [-g directives]

Options:
  -?,-h         : this help
  -v            : show version and exit
  -V            : show version and configure options then exit
  -t            : test configuration and exit
  -T            : test configuration, dump it and exit
  -q            : suppress non-error messages during configuration testing
  -s signal     : send signal to a master process: stop, quit, reopen, reload
  -p prefix     : set prefix path (default: current directory)
  -e filename   : set error log file (default: logs/error.log)
  -c filename   : set configuration file (default: conf/nginx.conf)
  -g directives : set global directives out of configuration file
";

#[derive(Default)]
struct Cli {
    help: bool,
    version: bool,
    version_full: bool,
    test: bool,
    dump: bool,
    quiet: bool,
    signal: Option<String>,
    prefix: Option<String>,
    error_log: Option<String>,
    conf: Option<String>,
    globals: Option<String>,
}

fn parse_cli(args: &[String]) -> Result<Cli, String> {
    let mut cli = Cli::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let Some(flags) = a.strip_prefix('-') else {
            return Err(format!("invalid option: \"{a}\""));
        };
        let mut chars = flags.char_indices();
        while let Some((pos, c)) = chars.next() {
            let take_value = |i: &mut usize| -> Result<String, String> {
                let rest = &flags[pos + 1..];
                if !rest.is_empty() {
                    return Ok(rest.to_string());
                }
                *i += 1;
                args.get(*i).cloned().ok_or_else(|| {
                    format!(
                        "option \"-{c}\" requires {}",
                        match c {
                            's' => "signal name",
                            'p' => "directory name",
                            'e' | 'c' => "file name",
                            _ => "parameter",
                        }
                    )
                })
            };
            match c {
                '?' | 'h' => cli.help = true,
                'v' => cli.version = true,
                'V' => {
                    cli.version = true;
                    cli.version_full = true;
                }
                't' => cli.test = true,
                'T' => {
                    cli.test = true;
                    cli.dump = true;
                }
                'q' => cli.quiet = true,
                's' | 'p' | 'e' | 'c' | 'g' => {
                    let v = take_value(&mut i)?;
                    match c {
                        's' => cli.signal = Some(v),
                        'p' => cli.prefix = Some(v),
                        'e' => cli.error_log = Some(v),
                        'c' => cli.conf = Some(v),
                        _ => cli.globals = Some(v),
                    }
                    break;
                }
                _ => return Err(format!("invalid option: \"{}\"", &flags[pos..])),
            }
            let _ = &mut chars;
        }
        i += 1;
    }
    Ok(cli)
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

fn main(args: Vec<String>) -> ExitCode {
    // keep the exported nginx helpers in the binary for LuaJIT's ffi.C
    std::hint::black_box(crate::ffi_exports::ngx_hex_dump as *const ());
    std::hint::black_box(crate::ffi_exports::ngx_atoi as *const ());
    let cli = match parse_cli(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("nginx: {e}");
            return ExitCode::from(1);
        }
    };
    if cli.version || cli.help {
        eprintln!(
            "nginx version: nginx/{} (moonwire {})",
            crate::NGINX_VERSION,
            env!("CARGO_PKG_VERSION")
        );
        if cli.version_full {
            eprintln!("built with rustc and LuaJIT (mlua 0.12)");
            eprintln!("configure arguments: {}", crate::CONFIGURE_ARGS);
        }
        if cli.help {
            eprintln!("{USAGE}");
        }
        return ExitCode::SUCCESS;
    }
    if let Some(sig) = &cli.signal {
        if !["stop", "quit", "reopen", "reload"].contains(&sig.as_str()) {
            eprintln!("nginx: invalid option: \"-s {sig}\"");
            return ExitCode::from(1);
        }
    }
    let prefix = absolute(Path::new(cli.prefix.as_deref().unwrap_or(".")));
    let conf_file = match &cli.conf {
        Some(c) if Path::new(c).is_absolute() => PathBuf::from(c),
        Some(c) => prefix.join(c),
        None => prefix.join("conf/nginx.conf"),
    };
    let opts = LoadOpts {
        prefix: prefix.clone(),
        conf_file: conf_file.clone(),
        global_directives: cli.globals.clone(),
    };
    let loaded = config::load(&opts);
    let mut cfg = match loaded {
        Ok(c) => c,
        Err(e) => {
            eprintln!("nginx: [emerg] {e}");
            if cli.test {
                eprintln!(
                    "nginx: configuration file {} test failed",
                    conf_file.display()
                );
            }
            return ExitCode::from(1);
        }
    };
    if let Some(e) = &cli.error_log {
        cfg.error_log.path = if e == "stderr" {
            PathBuf::from("stderr")
        } else {
            absolute(&prefix.join(e))
        };
    }
    if cli.test {
        if !cli.quiet {
            eprintln!(
                "nginx: the configuration file {} syntax is ok",
                conf_file.display()
            );
            eprintln!(
                "nginx: configuration file {} test is successful",
                conf_file.display()
            );
        }
        if cli.dump {
            for (path, text) in &cfg.files {
                println!("# configuration file {}:", path.display());
                println!("{text}");
            }
        }
        return ExitCode::SUCCESS;
    }
    if let Some(sig) = &cli.signal {
        return match crate::server::signal(&cfg, sig) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("nginx: [error] {e}");
                ExitCode::from(1)
            }
        };
    }
    match crate::server::run(cfg, opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nginx: [emerg] {e}");
            crate::log::log(crate::log::Level::Emerg, &e);
            ExitCode::from(1)
        }
    }
}
