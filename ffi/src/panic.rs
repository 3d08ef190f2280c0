//! The panic boundary: no panic unwinds into C.

use std::any::Any;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{self, ho_result, Error};

/// What an entry point's body returns, and what the function returns to C
/// for it (or for a panic).
pub(crate) trait Boundary {
    /// The type the C function returns.
    type Out;
    /// The value returned for a body that finished.
    fn finish(self) -> Self::Out;
    /// The value returned for a body that panicked.
    fn on_panic() -> Self::Out;
}

impl Boundary for Result<(), Error> {
    type Out = ho_result;
    fn finish(self) -> ho_result {
        match self {
            Ok(()) => {
                error::clear();
                ho_result::HO_OK
            }
            Err(e) => error::record(e),
        }
    }
    fn on_panic() -> ho_result {
        ho_result::HO_PANIC
    }
}

macro_rules! passthrough {
    ($($ty:ty => $panic:expr),* $(,)?) => {
        $(
            impl Boundary for $ty {
                type Out = $ty;
                fn finish(self) -> $ty {
                    self
                }
                fn on_panic() -> $ty {
                    $panic
                }
            }
        )*
    };
}

passthrough! {
    () => (),
    bool => false,
    u32 => 0,
    i32 => 0,
    u64 => 0,
    usize => 0,
    *const c_char => std::ptr::null(),
    ho_result => ho_result::HO_PANIC,
    crate::table::ho_origin => crate::table::ho_origin::Buffer,
    f64 => f64::NAN,
}

/// Runs `body`, turning a panic into the return type's panic value and the
/// thread's last error into the panic's message.
pub(crate) fn boundary<T: Boundary>(body: impl FnOnce() -> T) -> T::Out {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value.finish(),
        Err(payload) => {
            error::record(Error::Panic(panic_message(payload.as_ref())));
            T::on_panic()
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("unknown panic payload")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn quiet<T>(f: impl FnOnce() -> T) -> T {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let out = f();
        std::panic::set_hook(hook);
        out
    }

    #[test]
    fn a_panic_becomes_ho_panic_with_its_message() {
        let code = quiet(|| boundary(|| -> Result<(), Error> { panic!("boom {}", 7) }));
        assert_eq!(code, ho_result::HO_PANIC);
        let msg = unsafe { CStr::from_ptr(error::ho_last_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "panic: boom 7");
    }

    #[test]
    fn a_panic_in_a_value_function_gives_its_neutral_value() {
        let n = quiet(|| boundary(|| -> usize { panic!("x") }));
        assert_eq!(n, 0);
        let p = quiet(|| boundary(|| -> *const c_char { panic!("x") }));
        assert!(p.is_null());
        let b = quiet(|| boundary(|| -> bool { panic!("x") }));
        assert!(!b);
    }

    /// Every exported function's body is one `ffi_fn!`: no entry point
    /// runs code outside the panic boundary.
    #[test]
    fn every_entry_point_is_behind_the_boundary() {
        let sources = [
            ("blockset.rs", include_str!("blockset.rs")),
            ("counters.rs", include_str!("counters.rs")),
            ("error.rs", include_str!("error.rs")),
            ("firewall.rs", include_str!("firewall.rs")),
            ("live.rs", include_str!("live.rs")),
            ("report.rs", include_str!("report.rs")),
            ("table.rs", include_str!("table.rs")),
            ("text.rs", include_str!("text.rs")),
            ("version.rs", include_str!("version.rs")),
        ];
        let mut exported = 0;
        let mut no_mangle = 0;
        for (file, text) in sources {
            no_mangle += text.matches("#[no_mangle]\npub extern \"C\" fn ").count();
            let mut rest = text;
            while let Some(at) = rest.find("pub extern \"C\" fn ") {
                rest = &rest[at..];
                let name = &rest[18..rest.find('(').unwrap()];
                let body = &rest[rest.find(") ").unwrap()..];
                let open = body.find("{\n").unwrap();
                let first = body[open + 2..].trim_start();
                assert!(
                    first.starts_with("ffi_fn! {"),
                    "{file}: {name} runs outside ffi_fn!"
                );
                exported += 1;
                rest = &rest[1..];
            }
        }
        let lib = include_str!("lib.rs");
        assert!(lib.lines().filter(|l| l.starts_with("pub mod ")).count() == sources.len());
        assert_eq!(exported, no_mangle, "an entry point without #[no_mangle]");
        assert!(exported >= 100, "found only {exported} entry points");
    }

    #[test]
    fn success_clears_the_last_error() {
        let _ = boundary(|| -> Result<(), Error> { Err(Error::NullParameter("x")) });
        let msg = unsafe { CStr::from_ptr(error::ho_last_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "null parameter: x");
        assert_eq!(
            boundary(|| -> Result<(), Error> { Ok(()) }),
            ho_result::HO_OK
        );
        let msg = unsafe { CStr::from_ptr(error::ho_last_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "");
    }
}
