//! `kdiag collect`: runs the collector script that is built into the binary
//! (`collector/kdiag-collect`), so a support engineer can ship one file.

use anyhow::{Context, Result};
use clap::Args;

/// The collector, byte for byte as in `collector/kdiag-collect`.
pub const SCRIPT: &str = include_str!("../../../collector/kdiag-collect");

#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct CollectArgs {
    /// Print the collector script instead of running it (to send it to a
    /// customer: `kdiag collect --print-script > kdiag-collect`).
    #[arg(long)]
    print_script: bool,
    /// Options for the collector; `kdiag collect --help` lists them.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "OPTIONS"
    )]
    args: Vec<String>,
}

/// Runs the script with `bash`, passing the options through. On Unix the
/// binary replaces itself with bash, so Ctrl-C and the exit code belong to
/// the collector alone.
pub fn run(args: &CollectArgs) -> Result<u8> {
    if args.print_script {
        use std::io::Write;
        std::io::stdout().lock().write_all(SCRIPT.as_bytes())?;
        return Ok(crate::exit::OK);
    }
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg("kdiag-collect")
        .args(&args.args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(err).context("cannot run bash (the collector needs bash >= 4.2)")
    }
    #[cfg(not(unix))]
    {
        let status = cmd
            .status()
            .context("cannot run bash (the collector needs bash >= 4.2)")?;
        Ok(status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1))
    }
}
