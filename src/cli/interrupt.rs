//! Ctrl-C: the first one asks the run to stop cleanly (files in progress
//! are finished and written, no new file is started, and mend says how far
//! it got); a second one exits at once. Outputs are written atomically, so
//! even then no half-written file is left (see `write`).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once per process) and returns the flag it sets.
pub(crate) fn install() -> &'static AtomicBool {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // If a handler cannot be installed, Ctrl-C keeps its default
        // meaning (exit at once), which atomic writes make safe too.
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(crate::EXIT_INTERRUPTED));
            }
            eprintln!("\nmend: stopping after the files in progress (Ctrl-C again to quit now)");
        });
    });
    &INTERRUPTED
}

/// Whether Ctrl-C was pressed (false if the handler was never installed).
pub(crate) fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}
