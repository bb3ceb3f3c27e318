//! Tiny single-threaded synchronisation primitives for one executor: a
//! wake-up signal and a one-shot reply slot. Everything here lives on one
//! core, so `Cell`/`RefCell` suffice and nothing is `Send`.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::{Poll, Waker};

/// Wakes one waiting task; a notify with nobody waiting is remembered.
#[derive(Default)]
pub struct Signal {
    set: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Signal {
    pub fn notify(&self) {
        self.set.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    pub async fn wait(&self) {
        poll_fn(|cx| {
            if self.set.replace(false) {
                Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// A value filled in once by one task and awaited by another.
pub struct Slot<T> {
    value: RefCell<Option<T>>,
    waker: RefCell<Option<Waker>>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot { value: RefCell::new(None), waker: RefCell::new(None) }
    }
}

impl<T> Slot<T> {
    pub fn fill(&self, v: T) {
        *self.value.borrow_mut() = Some(v);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Whether a value is there; otherwise wakes this task when one arrives.
    pub fn poll_filled(&self, cx: &mut std::task::Context<'_>) -> bool {
        if self.value.borrow().is_some() {
            return true;
        }
        *self.waker.borrow_mut() = Some(cx.waker().clone());
        false
    }

    /// Waits until a value is there, leaving it for `take`.
    pub async fn filled(&self) {
        poll_fn(|cx| if self.poll_filled(cx) { Poll::Ready(()) } else { Poll::Pending }).await
    }

    pub async fn take(&self) -> T {
        poll_fn(|cx| match self.value.borrow_mut().take() {
            Some(v) => Poll::Ready(v),
            None => {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}
