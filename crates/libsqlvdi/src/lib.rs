//! `libsqlvdi.so`: a drop-in replacement for the library of Microsoft's Linux VDI client SDK,
//! and a plain C API (`include/vdisim.h`), both thin shells over [`vdi_client`].
//!
//! A vendor's unchanged binary, built against the SDK's `vdi.h`, finds this library through
//! `LD_LIBRARY_PATH` and gets vdisim's client: the same calls, codes, misuse detection and
//! transcripts (`VDISIM_TRANSCRIPT=path`) as the Rust API. Nothing here decides a protocol
//! question; this crate only translates between the ABI and `vdi_client`.
//!
//! # Design: the C++ ABI is defined in Rust
//!
//! The SDK's classes have no virtual functions, no virtual bases and no inline members, so
//! each member function is an ordinary function whose first argument is `this` (Itanium
//! C++ ABI on x86_64 SysV; constructors and destructors return `void`). [`cpp`] therefore
//! defines every mangled symbol directly as `#[unsafe(export_name = "_ZN…")] extern "C" fn`,
//! instead of compiling a C++ shim with the `cc` crate that forwards to Rust:
//!
//! - the exported symbol *is* the function with the panic boundary and the NULL checks, so no
//!   C++ frame (and no C++ exception or unwinding rule) sits between the caller and Rust;
//! - a shim's symbols would be hidden by the version script rustc gives cdylibs (it exports
//!   only Rust-defined symbols), which needs whole-archive linking plus a linker-script
//!   workaround that is easy to break silently; here rustc exports the symbols itself;
//! - no C++ compiler or libstdc++ is needed to build or load the library;
//! - the risk — a mangled name or signature that does not match the SDK — is covered by
//!   tests: a C++ program compiled against our `vdi.h` links and calls every member through
//!   `libsqlvdi.so`, and `nm -D` must list every SDK symbol (including C2/D2).
//!
//! # Objects and handles
//!
//! Each C++ object holds one 8-byte member (the SDK's private pointer). The library stores a
//! generational handle there, never a pointer: a handle names an entry in a process-wide
//! registry, so an object used after its destructor, or one the library never constructed,
//! gives VD_E_INVALID instead of a wild dereference. Device objects are allocated by the
//! library and stay valid memory until their set object is destroyed; commands are
//! library-owned records found by address (C++) or by generational handle (C), never by
//! dereferencing what the caller passed. See `docs/libsqlvdi.md`.
#![warn(missing_docs)]

mod boundary;
pub mod capi;
mod commands;
pub mod cpp;
mod handles;
mod ops;
mod state;

pub use boundary::result_message;

// The object layout stores a 64-bit handle in the SDK's pointer member.
const _: () = assert!(std::mem::size_of::<*mut u8>() == 8);
