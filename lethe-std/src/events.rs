//! [`RotateEvent`]: what the `on_rotate` hook receives.

use std::path::Path;

/// A finished rotation, as passed to the `on_rotate` hook of
/// [`RotatingFile`](crate::RotatingFile), [`Writer`](crate::Writer) and
/// [`SyncWriter`](crate::SyncWriter).
///
/// The hook runs on the thread that rotated (the `Writer`'s consumer thread, the caller of
/// `rotate`, or, for `SyncWriter`, the last writer to leave the finished file), after the
/// rename and the opening of the new file and before the finished file's compression is
/// queued, so `previous` exists when the hook starts. With compression on it is replaced by
/// `previous` + `.gz` soon after. The hook must not call back into the writer that runs it
/// (it would wait for itself); a slow hook delays the writing it runs between. A hook that
/// owns a clone of its writer keeps that writer open until the hook is replaced.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotateEvent<'a> {
    /// The backup the finished file was renamed to (`app.0000000042.20261123T004107Z.log`).
    pub previous: &'a Path,
    /// The active file, now a new, empty file (the configured path).
    pub active: &'a Path,
    /// The backup's sequence number (the 10-digit part of its name).
    pub sequence: u64,
    /// Bytes in the finished file. For [`SyncWriter`](crate::SyncWriter), whose writers
    /// may still be finishing records into the old file when it is renamed, the hook runs
    /// when the last of them has left it, so this count is final.
    pub bytes: u64,
}

/// The hook's type.
pub(crate) type RotateHook = Box<dyn FnMut(&RotateEvent<'_>) + Send>;
