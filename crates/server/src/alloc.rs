//! A counting global allocator: INFO's `used_memory` is the sum, over cores,
//! of the bytes each core's thread has allocated and not freed. Counters are
//! per thread (no shared cache line on the allocation path); memory freed on
//! another thread than the one that allocated it simply moves between the
//! counters, and the sum stays right.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, Ordering};

pub struct CountingAlloc;

thread_local! {
    static THREAD_BYTES: Cell<i64> = const { Cell::new(0) };
}

/// Bytes counted on threads that cannot use their thread-local any more.
static ORPHAN_BYTES: AtomicI64 = AtomicI64::new(0);

fn add(delta: i64) {
    if THREAD_BYTES.try_with(|c| c.set(c.get() + delta)).is_err() {
        ORPHAN_BYTES.fetch_add(delta, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        add(-(layout.size() as i64));
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            add(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

/// Net bytes allocated by the calling thread.
pub fn thread_allocated() -> i64 {
    THREAD_BYTES.try_with(|c| c.get()).unwrap_or(0)
}

/// Resident set size of the process, in bytes.
pub fn rss_bytes() -> u64 {
    let page = 4096u64;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map(|pages| pages * page)
        .unwrap_or(0)
}
