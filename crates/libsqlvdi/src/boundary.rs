//! The ABI boundary: result codes, the panic guard and the thread's last rule.

use std::cell::Cell;
use std::ffi::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind};
use vdi_proto::{Rule, VdCode, VdError};

/// Why an exported call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The client library refused the call (the documented code and its rule).
    Vd(VdError),
    /// A NULL, foreign or otherwise unusable argument caught at the ABI, before the protocol.
    Invalid,
    /// The library could not allocate an object.
    Memory,
}

impl From<VdError> for Failure {
    fn from(e: VdError) -> Failure {
        Failure::Vd(e)
    }
}

impl Failure {
    fn code(self) -> c_int {
        match self {
            Failure::Vd(e) => e.linux_code(),
            Failure::Invalid => VdCode::Invalid.linux_code(),
            Failure::Memory => VdCode::Memory.linux_code(),
        }
    }
}

/// The result of an exported call before it becomes an `int`.
pub(crate) type FfiResult = Result<(), Failure>;

thread_local! {
    static LAST_RULE: Cell<Option<Rule>> = const { Cell::new(None) };
}

/// Runs an exported call: a panic becomes VD_E_UNEXPECTED, success 0, a failure its code.
pub(crate) fn guard(call: impl FnOnce() -> FfiResult) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(call));
    let rule = match &outcome {
        Ok(Err(Failure::Vd(e))) => Some(e.rule),
        _ => None,
    };
    // Reached only from the exports; try_with: never fail during thread teardown.
    let _ = LAST_RULE.try_with(|r| r.set(rule));
    match outcome {
        Ok(Ok(())) => 0,
        Ok(Err(f)) => f.code(),
        Err(_) => VdCode::Unexpected.linux_code(),
    }
}

/// Runs an exported call that returns nothing (constructors, destructors): a panic is
/// swallowed, because it must not unwind into the caller's frames.
pub(crate) fn guard_void(call: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(call));
}

/// The rule behind the last failed call on this thread.
pub(crate) fn last_rule() -> Option<Rule> {
    LAST_RULE.try_with(Cell::get).ok().flatten()
}

/// The message for a result code: `NAME (0xXXXXXXXX): meaning`.
pub fn result_message(code: i32) -> String {
    if code == 0 {
        return "NOERROR (0x00000000): success".to_string();
    }
    match VdCode::from_linux_code(code) {
        Some(c) => format!("{c}: {}", c.meaning()),
        None => format!("unknown code {code} (0x{:08X})", code as u32),
    }
}

/// Copies `text` into a caller's buffer like `snprintf`: NUL-terminated, truncated to fit,
/// returning the full length.
///
/// # Safety
/// `buf` must be NULL or valid for writes of `len` bytes.
pub(crate) unsafe fn copy_out(text: &str, buf: *mut u8, len: usize) -> c_int {
    if !buf.is_null() && len > 0 {
        let n = text.len().min(len - 1);
        // SAFETY: the caller guarantees `buf` is writable for `len` bytes and n + 1 <= len;
        // `text` is a distinct Rust allocation, so the ranges do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf, n);
            buf.add(n).write(0);
        }
    }
    c_int::try_from(text.len()).unwrap_or(c_int::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_vd_e_unexpected() {
        let code = guard(|| panic!("boom"));
        assert_eq!(code, VdCode::Unexpected.linux_code());
        guard_void(|| panic!("boom"));
    }

    #[test]
    fn codes_and_last_rule() {
        assert_eq!(guard(|| Ok(())), 0);
        assert_eq!(last_rule(), None);
        let e = VdError::new(Rule::CloseNotOpen);
        assert_eq!(guard(|| Err(e.into())), VdCode::Protocol.linux_code());
        assert_eq!(last_rule(), Some(Rule::CloseNotOpen));
        assert_eq!(
            guard(|| Err(Failure::Invalid)),
            VdCode::Invalid.linux_code()
        );
        assert_eq!(last_rule(), None);
    }

    #[test]
    fn messages_name_the_code() {
        assert!(
            result_message(VdCode::Timeout.linux_code()).starts_with("VD_E_TIMEOUT (0x80770003)")
        );
        assert!(result_message(0).starts_with("NOERROR"));
        assert!(result_message(42).starts_with("unknown code 42"));
        let mut buf = [0xFFu8; 8];
        // SAFETY: buf is 8 writable bytes.
        let n = unsafe { copy_out("VD_E_TIMEOUT", buf.as_mut_ptr(), buf.len()) };
        assert_eq!(n, 12);
        assert_eq!(&buf, b"VD_E_TI\0");
    }
}
