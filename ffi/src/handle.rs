//! Handles: values of the library handed to C behind an opaque pointer, and
//! freed again by the handle's `_free` function.

/// Moves `value` to the heap and writes its pointer through `out`, which the
/// caller checked is not NULL (`check_out!`).
pub(crate) fn hand_out<T>(value: T, out: *mut *mut T) {
    // SAFETY: `out` is non-NULL and points to writable memory for a pointer,
    // as every function's documentation demands of its out-parameter.
    unsafe { out.write(Box::into_raw(Box::new(value))) };
}

/// Frees a handle `hand_out` made; NULL does nothing.
pub(crate) fn free<T>(handle: *mut T) {
    if !handle.is_null() {
        // SAFETY: a non-NULL handle came from `hand_out` (documented on every
        // `_free` function) and is freed once.
        drop(unsafe { Box::from_raw(handle) });
    }
}
