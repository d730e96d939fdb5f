//! Stable rule IDs: every documented return value and every misuse the core detects.
//!
//! A rule ties a behaviour to the section of the specification (vdi-facts.md) it comes from and
//! to the code a caller gets. Later layers print this table and report against it.

use crate::consts::VdCode;
use serde::{Serialize, Serializer};

/// Whether hitting a rule is the caller's fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A documented, legal outcome (NOERROR, VD_E_CLOSE at the end, a timeout the caller asked for).
    Outcome,
    /// A call that breaks the protocol; a conformance run counts it against the caller.
    Misuse,
    /// Something the peer did wrong (hostile or corrupted shared memory, a dead process).
    Peer,
}

/// Which side of the set a rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSide {
    /// The backup application's side.
    Client,
    /// SQL Server's side.
    Server,
}

/// One row of the rule table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// The stable ID, e.g. `VDI-CLOSE-003`.
    pub id: &'static str,
    /// Where in vdi-facts.md the behaviour is specified.
    pub section: &'static str,
    /// The code the caller gets; `None` is NOERROR.
    pub code: Option<VdCode>,
    /// Outcome, misuse or peer fault.
    pub kind: RuleKind,
    /// Client or server side.
    pub side: RuleSide,
    /// One line saying what the rule is.
    pub summary: &'static str,
}

macro_rules! rules {
    ($( $variant:ident = $id:literal, $side:ident, $section:literal, $code:ident, $kind:ident, $summary:literal; )*) => {
        /// Every rule the core knows. `Rule::info()` gives its row of the table.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)]
        pub enum Rule { $( $variant, )* }

        /// The whole rule table, in ID order.
        pub static RULES: &[RuleInfo] = &[
            $( RuleInfo {
                id: $id,
                section: $section,
                code: rules!(@code $code),
                kind: RuleKind::$kind,
                side: RuleSide::$side,
                summary: $summary,
            }, )*
        ];

        impl Rule {
            /// Every rule, in table order.
            pub const ALL: &'static [Rule] = &[ $( Rule::$variant, )* ];
        }
    };
    (@code NOERROR) => { None };
    (@code $code:ident) => { Some(VdCode::$code) };
}

impl Rule {
    /// The rule's row of [`RULES`].
    pub fn info(self) -> &'static RuleInfo {
        &RULES[self as usize]
    }

    /// The stable ID.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// Looks a rule up by its ID.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

rules! {
    // Create / CreateEx
    CreateOk = "VDI-CREATE-001", Client, "3.3 Create; 8.1", NOERROR, Outcome, "Create from DNE succeeds and the set becomes Configurable";
    CreateTwice = "VDI-CREATE-002", Client, "3.3 Create; 8.1", Protocol, Misuse, "Create on a set that already exists returns VD_E_PROTOCOL";
    CreateBadConfig = "VDI-CREATE-003", Client, "3.3 Create; 5; 5.1", NotSupported, Misuse, "Create with an invalid or unsupported configuration returns VD_E_NOTSUPPORTED";
    CreateBadName = "VDI-CREATE-004", Client, "3.3 Create", Invalid, Misuse, "a set name that is empty, too long or contains a backslash returns VD_E_INVALID";
    CreateBadInstance = "VDI-CREATE-005", Client, "3.3 CreateEx", InstanceName, Misuse, "an instance name with a machine prefix, or unknown, returns VD_E_INSTANCE_NAME";
    CreateNameInUse = "VDI-CREATE-006", Client, "3.3 Create; 8.6", Busy, Misuse, "a set name already in use by a live set returns VD_E_BUSY (a crashed set's name is reclaimed and Create succeeds)";
    CreateNameForeign = "VDI-CREATE-007", Client, "3.3 Create; 7 Permissions", Security, Outcome, "a set name whose control region exists and belongs to another user returns VD_E_SECURITY; the region is not touched";
    // GetConfiguration
    ConfigOk = "VDI-CONFIG-001", Client, "3.3 GetConfiguration; 8.1", NOERROR, Outcome, "GetConfiguration in Configurable waits for the server's configuration and moves to Initializing";
    ConfigAgain = "VDI-CONFIG-002", Client, "3.3 GetConfiguration; 8.1", NOERROR, Outcome, "GetConfiguration in Initializing, Active or NormallyTerminated returns the configuration again";
    ConfigNotCreated = "VDI-CONFIG-003", Client, "8.1", Protocol, Misuse, "GetConfiguration before Create returns VD_E_PROTOCOL";
    ConfigAborted = "VDI-CONFIG-004", Client, "3.3 GetConfiguration; 8.1", Abort, Outcome, "GetConfiguration in Abort returns VD_E_ABORT";
    ConfigTimeout = "VDI-CONFIG-005", Client, "3.3 GetConfiguration; 8.3", Timeout, Outcome, "GetConfiguration returns VD_E_TIMEOUT when the server does not configure in time; the state is unchanged";
    // OpenDevice
    OpenOk = "VDI-OPEN-001", Client, "3.3 OpenDevice; 8.1", NOERROR, Outcome, "OpenDevice of an unopened device after GetConfiguration succeeds; the set becomes Active";
    OpenAllOpen = "VDI-OPEN-002", Client, "3.3 OpenDevice", Open, Outcome, "OpenDevice when every device is open returns VD_E_OPEN";
    OpenAlreadyOpen = "VDI-OPEN-003", Client, "3.3 OpenDevice", Protocol, Misuse, "OpenDevice of a device that is already open returns VD_E_PROTOCOL";
    OpenUnknownName = "VDI-OPEN-004", Client, "3.3 OpenDevice", Invalid, Misuse, "OpenDevice with a name that is not one of the set's devices returns VD_E_INVALID";
    OpenWrongState = "VDI-OPEN-005", Client, "3.3 OpenDevice; 8.1", Protocol, Misuse, "OpenDevice before GetConfiguration succeeded, or after normal termination, returns VD_E_PROTOCOL";
    OpenAborted = "VDI-OPEN-006", Client, "3.3 OpenDevice; 8.1", Abort, Outcome, "OpenDevice in Abort returns VD_E_ABORT";
    // GetCommand
    GetCommandOk = "VDI-GETCMD-001", Client, "3.3 GetCommand; 8.1", NOERROR, Outcome, "GetCommand on an open device returns the next command";
    GetCommandClose = "VDI-GETCMD-002", Client, "3.3 GetCommand; 4.2", Close, Outcome, "GetCommand returns VD_E_CLOSE once the server closed the device and every earlier command was delivered";
    GetCommandTimeout = "VDI-GETCMD-003", Client, "3.3 GetCommand; 8.3", Timeout, Outcome, "GetCommand returns VD_E_TIMEOUT when no command arrives in time; the state is unchanged";
    GetCommandAborted = "VDI-GETCMD-004", Client, "3.3 GetCommand; 8.2", Abort, Outcome, "GetCommand in Abort returns VD_E_ABORT and delivers no command";
    GetCommandWrongState = "VDI-GETCMD-005", Client, "8.1", Protocol, Misuse, "GetCommand on a device that is not open (or a stale device handle) returns VD_E_PROTOCOL";
    GetCommandAfterClose = "VDI-GETCMD-006", Client, "8.1", Protocol, Misuse, "GetCommand after the device returned VD_E_CLOSE returns VD_E_PROTOCOL";
    GetCommandCloseWithHeld = "VDI-GETCMD-007", Client, "3.3 CompleteCommand; 4.2", Close, Misuse, "commands the client still held when it reached VD_E_CLOSE are completed as aborted";
    // CompleteCommand
    CompleteOk = "VDI-COMPLETE-001", Client, "3.3 CompleteCommand; 8.1", NOERROR, Outcome, "CompleteCommand of an outstanding command succeeds and hands the buffer back";
    CompleteNotActive = "VDI-COMPLETE-002", Client, "3.3 CompleteCommand", Invalid, Misuse, "CompleteCommand of a command that is not active (completed, stale or forged) returns VD_E_INVALID";
    CompleteWrongDevice = "VDI-COMPLETE-003", Client, "3.3 CompleteCommand", Invalid, Misuse, "CompleteCommand of another device's command returns VD_E_INVALID";
    CompleteTooManyBytes = "VDI-COMPLETE-004", Client, "2.4; 3.3 CompleteCommand", Invalid, Misuse, "CompleteCommand reporting more bytes than the command's size returns VD_E_INVALID";
    CompleteWrongState = "VDI-COMPLETE-005", Client, "3.3 CompleteCommand; 8.1", Protocol, Misuse, "CompleteCommand when the set is not Active (or with a stale device handle) returns VD_E_PROTOCOL";
    CompleteAborted = "VDI-COMPLETE-006", Client, "3.3 CompleteCommand; 8.2", Abort, Outcome, "CompleteCommand in Abort returns VD_E_ABORT";
    CompleteAfterClose = "VDI-COMPLETE-007", Client, "8.1", Protocol, Misuse, "CompleteCommand on a device past VD_E_CLOSE returns VD_E_PROTOCOL";
    // SignalAbort
    AbortOk = "VDI-ABORT-001", Client, "3.3 SignalAbort; 8.2", NOERROR, Outcome, "SignalAbort moves the set to Abort; outstanding commands complete with ERROR_OPERATION_ABORTED";
    AbortAgain = "VDI-ABORT-002", Client, "3.3 SignalAbort; 8.1", NOERROR, Outcome, "SignalAbort in Abort returns NOERROR";
    AbortNotCreated = "VDI-ABORT-003", Client, "8.1", Protocol, Misuse, "SignalAbort before Create returns VD_E_PROTOCOL";
    // Close
    CloseOk = "VDI-CLOSE-001", Client, "3.3 Close; 8.1", NOERROR, Outcome, "Close releases the set and returns to DNE; Create may be called again";
    CloseNotOpen = "VDI-CLOSE-002", Client, "3.3 Close", Protocol, Misuse, "Close of a set that is not open (never created, or closed) returns VD_E_PROTOCOL and does nothing";
    CloseDevicesOpen = "VDI-CLOSE-003", Client, "3.3 Close; 7; 8.6", Open, Misuse, "Close with devices still open returns VD_E_OPEN, aborts the set and releases it anyway";
    CloseAfterAbort = "VDI-CLOSE-004", Client, "3.3 Close", NOERROR, Outcome, "after an abort Close may be called without waiting for VD_E_CLOSE";
    CloseWithHeldCommands = "VDI-CLOSE-005", Client, "3.3 Close; 8.6", Open, Misuse, "commands left uncompleted at Close are completed as aborted";
    StaleDevice = "VDI-CLOSE-006", Client, "3.3 Close", Protocol, Misuse, "a device handle from before Close is invalid; using it returns VD_E_PROTOCOL";
    CloseBeforeServer = "VDI-CLOSE-007", Client, "3.3 Close; 8.2", NOERROR, Misuse, "Close while the server is still working (not every device closed) makes the server abort";
    // OpenInSecondary
    SecondaryOk = "VDI-SECONDARY-001", Client, "3.3 OpenInSecondary", NOERROR, Outcome, "OpenInSecondary of a configured set succeeds";
    SecondaryNotReady = "VDI-SECONDARY-002", Client, "3.3 OpenInSecondary", Protocol, Misuse, "OpenInSecondary of a set that does not exist, is not configured yet, or is already open here returns VD_E_PROTOCOL";
    SecondaryAborted = "VDI-SECONDARY-003", Client, "3.3 OpenInSecondary", Abort, Outcome, "OpenInSecondary of an aborted set returns VD_E_ABORT";
    // Buffer handles
    BufferHandleOk = "VDI-BUFFER-001", Client, "3.3 GetBufferHandle", NOERROR, Outcome, "GetBufferHandle of a command's buffer returns a process-independent handle";
    BufferHandleNotOpen = "VDI-BUFFER-002", Client, "3.3 GetBufferHandle", Protocol, Misuse, "GetBufferHandle or MapBufferHandle on a set that is not open returns VD_E_PROTOCOL";
    BufferHandleBadAddress = "VDI-BUFFER-003", Client, "3.3 GetBufferHandle", Invalid, Misuse, "GetBufferHandle of an address that is not a buffer returns VD_E_INVALID";
    MapBufferOk = "VDI-BUFFER-004", Client, "3.3 MapBufferHandle", NOERROR, Outcome, "MapBufferHandle of a handle of this set returns the buffer's address";
    MapBufferBadHandle = "VDI-BUFFER-005", Client, "3.3 MapBufferHandle", Invalid, Misuse, "MapBufferHandle of a handle that is not valid in this set returns VD_E_INVALID";
    // IO-ERROR as the client sees it
    IoErrorSwallow = "VDI-IOERR-001", Client, "6 error protocol", NOERROR, Outcome, "after an error completion, queued commands complete with ERROR_IO_DEVICE without reaching the client";
    IoErrorClearDelivered = "VDI-IOERR-002", Client, "6 error protocol", NOERROR, Outcome, "ClearError is delivered only after every command outstanding at the error was completed";
    // Configuration rules
    CfgDeviceCount = "VDI-CFG-001", Client, "5", NotSupported, Misuse, "deviceCount must be 1 to 64";
    CfgFeatures = "VDI-CFG-002", Client, "1.3; 5.1", NotSupported, Misuse, "features must be a supported combination: pipe, tape or disk mode plus optional flags";
    CfgServerBits = "VDI-CFG-003", Client, "1.3; 5", NotSupported, Misuse, "a client may not set VDF_WriteMedia, VDF_ReadMedia or VDF_CompleteEnabled";
    CfgAlignment = "VDI-CFG-004", Client, "5", NotSupported, Misuse, "a client alignment must be 0 or a power of two of at most 64 KiB";
    CfgBlockSize = "VDI-CFG-005", Server, "3.4 BeginConfiguration; 5", Invalid, Misuse, "blockSize must be a power of two from 512 to 65536";
    CfgServerAlignment = "VDI-CFG-006", Server, "3.4 BeginConfiguration", Invalid, Misuse, "the server alignment must be 0 (= blockSize) or a power of two from blockSize to 64 KiB";
    CfgMaxTransfer = "VDI-CFG-007", Server, "3.4 BeginConfiguration; 5", Invalid, Misuse, "maxTransferSize must be a multiple of 64 KiB from 64 KiB to 4 MiB";
    CfgDirection = "VDI-CFG-008", Server, "3.4 BeginConfiguration", Invalid, Misuse, "BeginConfiguration features must be exactly one of VDF_WriteMedia and VDF_ReadMedia";
    CfgCompleteEnabled = "VDI-CFG-009", Server, "1.3; KB3188454", NOERROR, Outcome, "VDF_CompleteEnabled is returned only when the client asked for VDF_RequestComplete";
    // Server set
    SrvOpenOk = "VDI-SRV-OPEN-001", Server, "3.4 Open", NOERROR, Outcome, "Open of a created set connects the server (DNE to Connected)";
    SrvOpenNoSet = "VDI-SRV-OPEN-002", Server, "3.4 Open", Invalid, Outcome, "Open of a name with no accessible set returns VD_E_INVALID";
    SrvOpenTwice = "VDI-SRV-OPEN-003", Server, "3.4 Open", Protocol, Misuse, "Open when not in DNE returns VD_E_PROTOCOL";
    SrvGetConfigOk = "VDI-SRV-CONFIG-001", Server, "3.4 GetConfiguration", NOERROR, Outcome, "the server reads the client's requested configuration";
    SrvBeginConfigOk = "VDI-SRV-CONFIG-002", Server, "3.4 BeginConfiguration", NOERROR, Outcome, "BeginConfiguration in Connected moves to Configurable";
    SrvBeginConfigState = "VDI-SRV-CONFIG-003", Server, "3.4 BeginConfiguration", Protocol, Misuse, "BeginConfiguration when not Connected returns VD_E_PROTOCOL";
    SrvRequestBuffersOk = "VDI-SRV-CONFIG-004", Server, "3.4 RequestBuffers", NOERROR, Outcome, "RequestBuffers declares buffers (summed until EndConfiguration, immediate afterwards)";
    SrvRequestBuffersState = "VDI-SRV-CONFIG-005", Server, "3.4 RequestBuffers", Protocol, Misuse, "RequestBuffers before BeginConfiguration returns VD_E_PROTOCOL";
    SrvEndConfigOk = "VDI-SRV-CONFIG-006", Server, "3.4 EndConfiguration", NOERROR, Outcome, "EndConfiguration allocates the buffer area and moves to Initializing; the client's GetConfiguration returns";
    SrvEndConfigState = "VDI-SRV-CONFIG-007", Server, "3.4 EndConfiguration", Protocol, Misuse, "EndConfiguration when not Configurable returns VD_E_PROTOCOL";
    SrvEndConfigMemory = "VDI-SRV-CONFIG-008", Server, "3.4 EndConfiguration", Memory, Outcome, "EndConfiguration that cannot get the memory returns VD_E_MEMORY and stays Configurable with no buffer space";
    SrvBufferSquatted = "VDI-SRV-CONFIG-009", Server, "3.4 EndConfiguration; 7 Permissions", Security, Peer, "EndConfiguration when the buffer region's unguessable name is taken by an object this server did not create returns VD_E_SECURITY; nothing is written to it";
    SrvBufferOk = "VDI-SRV-BUFFER-001", Server, "3.4 AllocateBuffer", NOERROR, Outcome, "AllocateBuffer hands out an aligned buffer with the prefix zone before it";
    SrvBufferMemory = "VDI-SRV-BUFFER-002", Server, "3.4 AllocateBuffer", Memory, Outcome, "AllocateBuffer with no free space returns VD_E_MEMORY";
    SrvBufferInvalid = "VDI-SRV-BUFFER-003", Server, "3.4 AllocateBuffer; FreeBuffer", Invalid, Misuse, "a bad alignment, size or freed address returns VD_E_INVALID";
    SrvOpenDeviceOk = "VDI-SRV-OPENDEV-001", Server, "3.4 OpenDevice", NOERROR, Outcome, "server OpenDevice returns the next unopened device";
    SrvOpenDeviceAll = "VDI-SRV-OPENDEV-002", Server, "3.4 OpenDevice", Open, Outcome, "server OpenDevice after deviceCount devices returns VD_E_OPEN";
    SrvOpenDeviceState = "VDI-SRV-OPENDEV-003", Server, "3.4 OpenDevice", Protocol, Misuse, "server OpenDevice before EndConfiguration returns VD_E_PROTOCOL";
    SrvSendOk = "VDI-SRV-SEND-001", Server, "3.4 SendCommand", NOERROR, Outcome, "SendCommand queues the command to the client";
    SrvSendQueueFull = "VDI-SRV-SEND-002", Server, "3.4 SendCommand", QueueFull, Outcome, "SendCommand beyond maxIODepth outstanding returns VD_E_QUEUE_FULL; the callback gets ERROR_NO_SYSTEM_RESOURCES";
    SrvSendIoError = "VDI-SRV-SEND-003", Server, "3.4 SendCommand; 6", IoError, Outcome, "SendCommand (other than ClearError) to a device in IO-ERROR returns VD_E_IO_ERROR; the callback gets ERROR_IO_DEVICE";
    SrvSendProtocol = "VDI-SRV-SEND-004", Server, "3.4 SendCommand", Protocol, Misuse, "SendCommand to a device that is not active returns VD_E_PROTOCOL; the callback gets ERROR_INVALID_HANDLE";
    SrvSendAborted = "VDI-SRV-SEND-005", Server, "3.4 SendCommand; 8.2", Abort, Outcome, "SendCommand in Abort returns VD_E_ABORT; the callback gets ERROR_OPERATION_ABORTED";
    SrvSendBadCommand = "VDI-SRV-SEND-006", Server, "2.4; 3.4 SendCommand", Invalid, Misuse, "a command whose size or buffer does not fit the buffer area returns VD_E_INVALID";
    SrvIoErrorEnter = "VDI-SRV-IOERR-001", Server, "6 error protocol", NOERROR, Outcome, "an error completion puts the device into IO-ERROR";
    SrvIoErrorClearHeld = "VDI-SRV-IOERR-002", Server, "6 error protocol", NOERROR, Outcome, "ClearError is held until every outstanding command is completed";
    SrvIoErrorCleared = "VDI-SRV-IOERR-003", Server, "6 error protocol", NOERROR, Outcome, "a successful ClearError completion returns the device to Active";
    SrvCloseDeviceOk = "VDI-SRV-CLOSEDEV-001", Server, "3.4 CloseDevice", NOERROR, Outcome, "CloseDevice: the client sees VD_E_CLOSE after every earlier command";
    SrvCloseDeviceTwice = "VDI-SRV-CLOSEDEV-002", Server, "3.4 CloseDevice", Close, Misuse, "CloseDevice of a closed device returns VD_E_CLOSE";
    SrvCloseDeviceAborted = "VDI-SRV-CLOSEDEV-003", Server, "3.4 CloseDevice", Abort, Outcome, "CloseDevice after SignalAbort does nothing and returns VD_E_ABORT";
    SrvAbortOk = "VDI-SRV-ABORT-001", Server, "3.4 SignalAbort; 8.2", NOERROR, Outcome, "server SignalAbort completes every outstanding command with ERROR_OPERATION_ABORTED and ignores later completions";
    SrvCloseOk = "VDI-SRV-CLOSE-001", Server, "3.4 Close", NOERROR, Outcome, "server Close with every device closed returns NOERROR";
    SrvCloseDevicesOpen = "VDI-SRV-CLOSE-002", Server, "3.4 Close", Protocol, Misuse, "server Close with devices open returns VD_E_PROTOCOL and performs the abort processing";
    SrvTimeout = "VDI-SRV-TIMEOUT-001", Server, "5 serverTimeOut; 8.3", NOERROR, Peer, "the server aborts after 2 x serverTimeOut with commands pending and none completing";
    SrvClientGone = "VDI-SRV-PEER-001", Server, "3.3 Close; 8.2", NOERROR, Peer, "the client closed or died while the server was working: the set is aborted";
    SrvBadCompletion = "VDI-SRV-PEER-002", Server, "3.3 CompleteCommand", NOERROR, Peer, "a completion for an unknown, stale or duplicate command, or with more bytes than sent, is refused";
    ClientServerGone = "VDI-PEER-001", Client, "8.2; 8.3", Abort, Peer, "the server closed or died while the client was working: the set is aborted";
    ClientBadMessage = "VDI-PEER-002", Client, "8.2", Abort, Peer, "a malformed message from the server (bad index, offset, length or code) aborts the set";
    ClientForeignRegion = "VDI-PEER-003", Client, "7 Permissions; 8.2", Abort, Peer, "a buffer region the server names but did not create (another owner or creator) is neither read nor written: the set is aborted";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for info in RULES {
            assert!(seen.insert(info.id), "duplicate rule id {}", info.id);
            assert!(info.id.starts_with("VDI-"), "{}", info.id);
            let number = info.id.rsplit('-').next().unwrap();
            assert_eq!(number.len(), 3, "{}", info.id);
            assert!(number.chars().all(|c| c.is_ascii_digit()), "{}", info.id);
        }
    }

    #[test]
    fn enum_and_table_agree() {
        assert_eq!(Rule::ALL.len(), RULES.len());
        for (i, rule) in Rule::ALL.iter().enumerate() {
            assert_eq!(*rule as usize, i);
            assert_eq!(Rule::from_id(rule.id()), Some(*rule));
        }
    }

    #[test]
    fn misuse_rules_all_carry_an_error_code_except_documented_notices() {
        for info in RULES.iter().filter(|i| i.kind == RuleKind::Misuse) {
            // VDI-CLOSE-007 is recorded beside the NOERROR that Close returns.
            if info.id != "VDI-CLOSE-007" {
                assert!(info.code.is_some(), "{} is a misuse with NOERROR", info.id);
            }
        }
    }
}
