//! Request-scoped context: fields attached to every record logged on this thread while a
//! [`ContextGuard`] lives.
//!
//! ```
//! use lethe_std::logger::{context, Field};
//!
//! let _request = context::push(&[Field::new("request_id", "r-42")]);
//! // every record logged on this thread now carries request_id="r-42"
//! ```
//!
//! The context is per thread: in async code, where a task moves between threads, bind
//! request fields to a child logger ([`Logger::with_fields`]) instead.
//!
//! [`Logger::with_fields`]: crate::logger::Logger::with_fields

use std::cell::RefCell;
use std::marker::PhantomData;

use super::field::{Field, OwnedField};

thread_local! {
    static CONTEXT: RefCell<Vec<OwnedField>> = const { RefCell::new(Vec::new()) };
}

/// Removes the fields it pushed when dropped. Not `Send`: it belongs to the thread whose
/// context it changed.
#[must_use = "the fields are removed again when the guard is dropped"]
#[derive(Debug)]
pub struct ContextGuard {
    depth: usize,
    _not_send: PhantomData<*const ()>,
}

/// Adds `fields` to this thread's context until the guard is dropped. Scopes nest; the
/// inner scope's fields come after the outer's.
pub fn push(fields: &[Field<'_>]) -> ContextGuard {
    let depth = CONTEXT
        .try_with(|c| match c.try_borrow_mut() {
            Ok(mut c) => {
                let depth = c.len();
                c.extend(fields.iter().map(|f| OwnedField::from(*f)));
                depth
            }
            // Called while a record is being formatted from a `Display` impl: the context
            // cannot change now; the guard then restores nothing.
            Err(_) => usize::MAX,
        })
        .unwrap_or(usize::MAX);
    ContextGuard {
        depth,
        _not_send: PhantomData,
    }
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        if self.depth == usize::MAX {
            return;
        }
        let _ = CONTEXT.try_with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                c.truncate(self.depth);
            }
        });
    }
}

/// Whether this thread's context holds no field (or is being changed right now, when
/// [`with_fields`] gives none either): one thread-local read, so formatters can skip
/// the general field walk.
#[inline]
pub(crate) fn is_empty() -> bool {
    CONTEXT
        .try_with(|c| c.try_borrow().map_or(true, |c| c.is_empty()))
        .unwrap_or(true)
}

/// Calls `f` with this thread's context fields (empty if none, or if the context is
/// being changed right now).
pub(crate) fn with_fields(f: &mut dyn FnMut(&[OwnedField])) {
    let done = CONTEXT
        .try_with(|c| match c.try_borrow() {
            Ok(c) => {
                f(&c);
                true
            }
            Err(_) => false,
        })
        .unwrap_or(false);
    if !done {
        f(&[]);
    }
}
