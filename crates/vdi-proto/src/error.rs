//! The error every fallible call returns: the documented VD_E_* code plus the rule that chose it.

use crate::consts::VdCode;
use crate::rules::Rule;

/// A VD_E_* code together with the rule ID that explains why it was returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{code} [{rule}]: {}", rule.info().summary)]
pub struct VdError {
    /// The documented code the caller gets.
    pub code: VdCode,
    /// The rule that produced it.
    pub rule: Rule,
}

impl VdError {
    /// An error for `rule`, with the code the rule table gives it.
    ///
    /// Rules whose table code is NOERROR cannot be errors; asking for one is a bug in the core.
    pub fn new(rule: Rule) -> VdError {
        let code = rule.info().code.unwrap_or(VdCode::Unexpected);
        debug_assert!(rule.info().code.is_some(), "{rule} has no error code");
        VdError { code, rule }
    }

    /// The HRESULT (`0x8077xxxx`).
    pub fn hresult(&self) -> u32 {
        self.code.hresult()
    }

    /// The Linux SDK's negative `int`.
    pub fn linux_code(&self) -> i32 {
        self.code.linux_code()
    }
}

impl From<VdError> for VdCode {
    fn from(e: VdError) -> VdCode {
        e.code
    }
}

/// The result type of every fallible call in the core.
pub type VdResult<T> = Result<T, VdError>;
