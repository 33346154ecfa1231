//! `archway build`: today the Dockerfile front end only. `--print-ast FILE` parses a
//! Dockerfile as BuildKit does and prints BuildKit's AST dump (what the conformance
//! tests compare); a syntax error is `FILE:LINE: message` and exit 1. Building images
//! is not implemented yet and says so.

use archway_build::dockerfile::parse_bytes;
use clap::Args;
use std::io::Read;
use std::path::PathBuf;

/// Examples, for `archway build --help`.
pub const EXAMPLES: &str = "\
Examples:
  archway build --print-ast Dockerfile     # the instructions as BuildKit's parser sees them
  archway build --print-ast - < Dockerfile

Building images (--platform, -t, -o) is not implemented yet: only --print-ast works.";

/// The options of `archway build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Parse this Dockerfile (`-` for standard input) and print BuildKit's AST dump.
    #[arg(long, value_name = "FILE")]
    pub print_ast: Option<PathBuf>,
}

/// Run `archway build`; the process exit code.
pub fn run(args: &BuildArgs) -> i32 {
    let Some(file) = &args.print_ast else {
        eprintln!("archway build: building images is not implemented yet; only --print-ast FILE works");
        return 2;
    };
    let (name, bytes) = match read(file) {
        Ok(read) => read,
        Err(message) => {
            eprintln!("archway build: {message}");
            return 2;
        }
    };
    match parse_bytes(&bytes) {
        Ok(dockerfile) => {
            for warning in &dockerfile.warnings {
                eprintln!("[WARNING]: {name}:{}: {}", warning.line, warning.message);
            }
            print!("{}", dockerfile.dump());
            0
        }
        Err(error) => {
            eprintln!("archway build: {}", error.located(&name));
            1
        }
    }
}

/// The file's name for messages and its bytes.
fn read(file: &PathBuf) -> Result<(String, Vec<u8>), String> {
    if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(|e| format!("reading standard input: {e}"))?;
        return Ok(("Dockerfile".to_owned(), bytes));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok((file.display().to_string(), bytes))
}
