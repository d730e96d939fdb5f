//! Standard output for the commands: a closed stdout (`vdisim rules | head -1`) ends the
//! command quietly with exit code 0 instead of a panic.

use std::io::{self, Write};

/// Writes `text`; exits with 0 if stdout was closed, with 1 on another write error.
pub fn print(text: &str) {
    if let Err(e) = write(text) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("vdisim: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// Writes `text`, ignoring a closed stdout (where exiting early would skip clean-up).
pub fn print_or_ignore(text: &str) {
    let _ = write(text);
}

fn write(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// `println!` that ends the command quietly when stdout is closed.
macro_rules! outln {
    () => {
        $crate::out::print("\n")
    };
    ($($arg:tt)*) => {
        $crate::out::print(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that ends the command quietly when stdout is closed.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::print(&format!($($arg)*))
    };
}

pub(crate) use {out, outln};
