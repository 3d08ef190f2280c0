//! The library's version.

use std::ffi::c_char;

/// The library's version as text (`"0.1.0"`); the header's
/// `HALFOPEN_VERSION` is the version it was generated for.
///
/// Ownership: a static string; never free it. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_version() -> *const c_char {
    ffi_fn! {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_version_macros_match_the_crate() {
        let toml = include_str!("../cbindgen.toml");
        let version = env!("CARGO_PKG_VERSION");
        let mut parts = version.split('.');
        for (name, part) in ["MAJOR", "MINOR", "PATCH"].iter().zip(&mut parts) {
            let line = format!("#define HALFOPEN_VERSION_{name} {part}");
            assert!(toml.contains(&line), "cbindgen.toml lacks {line:?}");
        }
        assert!(toml.contains(&format!("#define HALFOPEN_VERSION \\\"{version}\\\"")));
        let text = unsafe { std::ffi::CStr::from_ptr(ho_version()) };
        assert_eq!(text.to_str().unwrap(), version);
    }
}
