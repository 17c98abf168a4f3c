//! Where a run's time goes, on request: with `KDIAG_TIMINGS=1` in the
//! environment, each timed step prints `kdiag: timing <ms> <step>` on
//! stderr as it ends (the bundle's read, each table, each rule). Silent
//! otherwise, and then costs one relaxed load per step.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("KDIAG_TIMINGS").is_some_and(|v| v != "0"))
}

/// Runs `f`, printing how long it took under the name `what()` when
/// timings are on.
pub fn timed<T>(what: impl FnOnce() -> String, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let out = f();
    eprintln!(
        "kdiag: timing {:>8.1} ms {}",
        start.elapsed().as_secs_f64() * 1e3,
        what()
    );
    out
}
