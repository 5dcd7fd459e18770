//! Capturing one thread's logs at TRACE, in a test binary whose other tests run on other threads.
//!
//! The subscriber is global, installed before the first fake gateway or resolver of the binary
//! starts, and keeps only the events of threads that asked to be observed. Not a thread-local
//! default: tracing caches each call site's interest process-wide, and a call site first reached
//! by another test's thread while a thread-local default was being set could stay off for good.

use std::cell::Cell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once, OnceLock};

use tracing_subscriber::filter::dynamic_filter_fn;
use tracing_subscriber::prelude::*;

thread_local! {
    /// True on a thread whose logs are captured.
    static OBSERVED: Cell<bool> = const { Cell::new(false) };
}

/// Everything the observed threads logged.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// The captured text so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(Captured::default)
}

/// Installs the global subscriber (once; every fake gateway and resolver start calls this).
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let writer = captured().clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            // Dynamic: asked on every event. A plain `filter_fn` is cached per call site, so the
            // first thread to reach a call site would decide for all.
            .with_filter(dynamic_filter_fn(|_, _| OBSERVED.with(Cell::get)));
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("no other subscriber is set in this test binary");
    });
}

/// Captures this thread's logs from now on, at every level.
pub fn observe_this_thread() -> Captured {
    install();
    OBSERVED.with(|observed| observed.set(true));
    captured().clone()
}
