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

/// This thread's context: the fields, in the order pushed, and for each the guard that
/// pushed it (guards' ids increase, so each guard's fields are one run, in id order).
struct Context {
    fields: Vec<OwnedField>,
    owners: Vec<u64>,
    next: u64,
}

thread_local! {
    static CONTEXT: RefCell<Context> = const {
        RefCell::new(Context {
            fields: Vec::new(),
            owners: Vec::new(),
            next: 0,
        })
    };
}

/// The id of a guard that pushed nothing.
const NONE: u64 = u64::MAX;

/// Removes the fields it pushed when dropped (only those: guards may be dropped in any
/// order). Not `Send`: it belongs to the thread whose context it changed.
#[must_use = "the fields are removed again when the guard is dropped"]
#[derive(Debug)]
pub struct ContextGuard {
    id: u64,
    _not_send: PhantomData<*const ()>,
}

/// Adds `fields` to this thread's context until the guard is dropped. Scopes nest; the
/// inner scope's fields come after the outer's.
pub fn push(fields: &[Field<'_>]) -> ContextGuard {
    let id = CONTEXT
        .try_with(|c| match c.try_borrow_mut() {
            Ok(mut c) => {
                let id = c.next;
                c.next += 1;
                c.fields.extend(fields.iter().map(|f| OwnedField::from(*f)));
                let n = c.fields.len() - c.owners.len();
                c.owners.extend(std::iter::repeat_n(id, n));
                id
            }
            // Called while a record is being formatted from a `Display` impl: the context
            // cannot change now; the guard then removes nothing.
            Err(_) => NONE,
        })
        .unwrap_or(NONE);
    ContextGuard {
        id,
        _not_send: PhantomData,
    }
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        if self.id == NONE {
            return;
        }
        let id = self.id;
        let _ = CONTEXT.try_with(|c| {
            let Ok(mut c) = c.try_borrow_mut() else {
                return;
            };
            let c = &mut *c;
            // Its run of fields: the last one when guards drop in the usual (LIFO) order.
            let start = c.owners.partition_point(|&o| o < id);
            let end = c.owners.partition_point(|&o| o <= id);
            c.owners.drain(start..end);
            c.fields.drain(start..end);
        });
    }
}

/// Whether this thread's context holds no field (or is being changed right now, when
/// [`with_fields`] gives none either): one thread-local read, so formatters can skip
/// the general field walk.
#[inline]
pub(crate) fn is_empty() -> bool {
    CONTEXT
        .try_with(|c| c.try_borrow().map_or(true, |c| c.fields.is_empty()))
        .unwrap_or(true)
}

/// Calls `f` with this thread's context fields (empty if none, or if the context is
/// being changed right now).
pub(crate) fn with_fields(f: &mut dyn FnMut(&[OwnedField])) {
    let done = CONTEXT
        .try_with(|c| match c.try_borrow() {
            Ok(c) => {
                f(&c.fields);
                true
            }
            Err(_) => false,
        })
        .unwrap_or(false);
    if !done {
        f(&[]);
    }
}
