//! Start-up's freed heap, given back to the system.
//!
//! Loading the app allocates and frees tens of MiB in small pieces: above all
//! ONNX Runtime building its sessions, which parses every tree node of the
//! engagement model. glibc's malloc keeps freed pieces mapped unless they sit
//! at the very top of the heap, so they stayed in the server's resident
//! memory for its whole life. One `malloc_trim(0)`, once the app is loaded
//! and before the first request, returns the free pages: the app's idle RSS
//! falls by the amount the README's Benchmarks section gives.

/// Returns free heap pages to the system; `true` when some were released.
/// A no-op (`false`) where the C library is not glibc.
#[allow(unsafe_code)]
pub fn release_freed_pages() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` takes no pointers and only walks glibc's own
        // arenas under their locks; it is safe to call from any thread at
        // any time.
        let released = unsafe { libc::malloc_trim(0) } != 0;
        tracing::debug!(released, "malloc_trim after loading the app");
        released
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
