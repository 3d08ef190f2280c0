//! Text handed to C: copied into a caller's buffer, or a string the library
//! owns until `ho_string_free`.

use std::ffi::{c_char, CString};

use crate::error::Error;

/// Copies `text` and a NUL into the caller's `buf` of `capacity` bytes and
/// writes its length (without the NUL) to `out_len`.
///
/// `out_len` gets the length also when the buffer is too small, so the
/// caller can grow it; `buf` may then be NULL.
pub(crate) fn copy_out(
    text: &str,
    buf: *mut c_char,
    capacity: usize,
    out_len: *mut usize,
) -> Result<(), Error> {
    check_out!(out_len);
    write_out!(out_len, text.len());
    if buf.is_null() || capacity <= text.len() {
        return Err(Error::BufferTooSmall {
            needed: text.len() + 1,
            capacity,
        });
    }
    // SAFETY: `buf` holds `capacity` > text.len() writable bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        buf.add(text.len()).write(0);
    }
    Ok(())
}

/// Hands `text` to C as a NUL-terminated string the library owns until
/// `ho_string_free`.
pub(crate) fn into_owned(text: String) -> Result<*mut c_char, Error> {
    CString::new(text)
        .map(CString::into_raw)
        .map_err(|_| Error::InvalidArgument(String::from("text holds a NUL byte")))
}

/// Frees a string the library handed out (the JSON of a report, a rendered
/// firewall batch). NULL does nothing.
///
/// Ownership: `s` must come from this library and not have been freed; it
/// is invalid after this call. Threads: any thread, once per string.
#[no_mangle]
pub extern "C" fn ho_string_free(s: *mut c_char) {
    ffi_fn! {
        if !s.is_null() {
            // SAFETY: `s` came from `CString::into_raw` in `into_owned`.
            drop(unsafe { CString::from_raw(s) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_out_needs_room_for_the_nul() {
        let mut buf = [1 as c_char; 4];
        let mut len = 0;
        assert!(matches!(
            copy_out("abcd", buf.as_mut_ptr(), 4, &mut len),
            Err(Error::BufferTooSmall {
                needed: 5,
                capacity: 4
            })
        ));
        assert_eq!(len, 4);
        assert_eq!(buf, [1; 4]);
        let mut buf = [1 as c_char; 5];
        copy_out("abcd", buf.as_mut_ptr(), 5, &mut len).unwrap();
        assert_eq!(buf.map(|c| c as u8), *b"abcd\0");
    }

    #[test]
    fn owned_strings_round_trip() {
        let s = into_owned(String::from("nft")).unwrap();
        assert_eq!(
            unsafe { std::ffi::CStr::from_ptr(s) }.to_str().unwrap(),
            "nft"
        );
        ho_string_free(s);
        ho_string_free(std::ptr::null_mut());
        assert!(into_owned(String::from("a\0b")).is_err());
    }
}
