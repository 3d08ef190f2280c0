//! The guards every entry point uses: the panic boundary and the checks of
//! pointer arguments.

/// Runs an entry point's body behind the panic boundary.
///
/// The body evaluates to a value of a type implementing
/// `crate::panic::Boundary`: a `Result<(), Error>` becomes an `ho_result`
/// (recording the error as the thread's last error), plain values pass
/// through. A panic becomes `HO_PANIC`, NULL, 0 or false, with the panic's
/// message as the last error.
macro_rules! ffi_fn {
    ($($body:tt)*) => {
        $crate::panic::boundary(move || { $($body)* })
    };
}

/// Borrows `*ptr` as a shared reference, or returns
/// `Err(Error::NullParameter)` naming the argument.
macro_rules! try_ref {
    ($ptr:ident) => {
        // SAFETY: the caller passes NULL or a pointer the library handed out
        // (or a valid C object), as every function's documentation demands.
        match unsafe { $ptr.as_ref() } {
            Some(r) => r,
            None => return Err($crate::error::Error::NullParameter(stringify!($ptr))),
        }
    };
}

/// Borrows `*ptr` as a unique reference, or returns
/// `Err(Error::NullParameter)` naming the argument.
macro_rules! try_mut {
    ($ptr:ident) => {
        // SAFETY: as for `try_ref!`; the documentation forbids concurrent use
        // of a handle a function changes.
        match unsafe { $ptr.as_mut() } {
            Some(r) => r,
            None => return Err($crate::error::Error::NullParameter(stringify!($ptr))),
        }
    };
}

/// Borrows `len` bytes at `ptr` as a slice, or returns
/// `Err(Error::NullParameter)` when `ptr` is NULL.
macro_rules! try_slice {
    ($ptr:ident, $len:expr) => {
        if $ptr.is_null() {
            return Err($crate::error::Error::NullParameter(stringify!($ptr)));
        } else {
            // SAFETY: the caller promises `len` readable bytes at `ptr`.
            unsafe { std::slice::from_raw_parts($ptr, $len) }
        }
    };
}

/// Borrows a NUL-terminated C string as `&str`, or returns
/// `Err(Error::NullParameter)` for NULL and `Err(Error::InvalidArgument)` for
/// text that is not UTF-8.
macro_rules! try_str {
    ($ptr:ident) => {
        if $ptr.is_null() {
            return Err($crate::error::Error::NullParameter(stringify!($ptr)));
        } else {
            // SAFETY: the caller passes a NUL-terminated string.
            match unsafe { std::ffi::CStr::from_ptr($ptr) }.to_str() {
                Ok(s) => s,
                Err(_) => {
                    return Err($crate::error::Error::InvalidArgument(format!(
                        "{} is not UTF-8 text",
                        stringify!($ptr)
                    )))
                }
            }
        }
    };
}

/// Writes `value` through the out-pointer `out` (checked non-NULL before).
macro_rules! write_out {
    ($out:ident, $value:expr) => {{
        let value = $value;
        // SAFETY: `out` was checked non-NULL by `check_out!` and points to
        // writable memory of the right type, as the documentation demands.
        unsafe { $out.write(value) };
    }};
}

/// Checks that an out-pointer is not NULL, before any work is done.
macro_rules! check_out {
    ($($out:ident),+) => {
        $(
            if $out.is_null() {
                return Err($crate::error::Error::NullParameter(stringify!($out)));
            }
        )+
    };
}
