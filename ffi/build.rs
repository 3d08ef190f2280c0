//! Gives the shared library its soname, so programs linked against one ABI
//! version keep loading it across compatible updates: `libhalfopen.so.<major>`,
//! or `libhalfopen.so.0.<minor>` before 1.0 (where a minor release may break
//! the ABI), as cargo-c names them.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let abi = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhalfopen.so.{abi}");
    println!("cargo:rerun-if-changed=build.rs");
}
