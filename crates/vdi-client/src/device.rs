//! `ClientVirtualDevice` and the commands it hands out.

use crate::link::{BufferMemory, ClientLink};
use crate::set::{Shared, wait_for};
use std::sync::Arc;
use vdi_proto::{CommandHandle, DeviceHandle, VdResult, VdcCode};

/// The SDK's `ClientVirtualDevice`: driven by one thread at a time, movable between threads.
#[derive(Debug)]
pub struct ClientVirtualDevice {
    shared: Arc<Shared>,
    handle: DeviceHandle,
    /// Keeps the buffer mapping alive for commands handed out, even past Close.
    link: Arc<dyn ClientLink>,
}

/// A command from GetCommand. Its buffer belongs to the application until it is completed.
#[derive(Debug)]
pub struct Command {
    handle: CommandHandle,
    code: VdcCode,
    size: u32,
    position: u64,
    buffer_offset: u64,
    memory: Option<Arc<dyn BufferMemory>>,
}

impl Command {
    /// The command code.
    pub fn code(&self) -> VdcCode {
        self.code
    }

    /// The size field: bytes to transfer for Read/Write, a count or whence for others.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The position field.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The generational handle (what CompleteCommand checks).
    pub fn handle(&self) -> CommandHandle {
        self.handle
    }

    fn data_len(&self) -> usize {
        if self.code.transfers_data() {
            self.size as usize
        } else {
            0
        }
    }

    /// Copies the Write data (exactly `size` bytes) into `dst`, which must be that long.
    pub fn read_data(&self, dst: &mut [u8]) -> bool {
        dst.len() == self.data_len()
            && self
                .memory
                .as_ref()
                .is_some_and(|m| m.read(self.buffer_offset, dst))
    }

    /// Fills the Read buffer from `src` (at most `size` bytes) and returns how many were copied.
    pub fn write_data(&self, src: &[u8]) -> usize {
        let n = src.len().min(self.data_len());
        match &self.memory {
            Some(m) if m.write(self.buffer_offset, &src[..n]) => n,
            _ => 0,
        }
    }

    /// Runs `f` on the Write data in place, without a copy (`None` if the command carries no
    /// data or its buffer cannot be reached). The bytes belong to the application until the
    /// command is completed.
    pub fn with_data<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let lease = self
            .memory
            .as_ref()?
            .lease(self.buffer_offset, self.data_len() as u64)?;
        Some(f(&lease))
    }

    /// Runs `f` on the Read buffer in place (all `size` bytes), without a copy; `f` fills it
    /// and the application reports how many bytes it produced in CompleteCommand.
    pub fn with_data_mut<R>(&self, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        let mut lease = self
            .memory
            .as_ref()?
            .lease(self.buffer_offset, self.data_len() as u64)?;
        Some(f(&mut lease))
    }

    /// The buffer's address in this process (for the C ABI and GetBufferHandle).
    pub fn buffer_address(&self) -> Option<*mut u8> {
        let len = self.data_len() as u64;
        if len == 0 {
            return None;
        }
        self.memory
            .as_ref()
            .and_then(|m| m.address(self.buffer_offset, len))
    }
}

impl ClientVirtualDevice {
    pub(crate) fn new(
        shared: Arc<Shared>,
        handle: DeviceHandle,
        link: Arc<dyn ClientLink>,
    ) -> ClientVirtualDevice {
        ClientVirtualDevice {
            shared,
            handle,
            link,
        }
    }

    /// The device's index within the set.
    pub fn index(&self) -> u16 {
        self.handle.index().0
    }

    /// `GetCommand`: waits up to `timeout` (ms; 0 polls, negative waits for ever).
    pub fn get_command(&self, timeout: i64) -> VdResult<Command> {
        let handle = self.handle;
        let delivered = wait_for(
            &self.shared,
            Some(handle.index()),
            timeout,
            &mut |state, now| state.proto.get_command(now, handle),
            |state, now| state.proto.get_command_timed_out(now, handle),
        )?;
        let memory = if delivered.code.transfers_data() {
            self.link.buffers()
        } else {
            None
        };
        Ok(Command {
            handle: delivered.handle,
            code: delivered.code,
            size: delivered.size,
            position: delivered.position,
            buffer_offset: delivered.buffer_offset,
            memory,
        })
    }

    /// `CompleteCommand`: hands the command (and its buffer) back to the server.
    pub fn complete_command(
        &self,
        command: &Command,
        completion_code: u32,
        bytes_transferred: u64,
        position: u64,
    ) -> VdResult<()> {
        self.complete_handle(command.handle, completion_code, bytes_transferred, position)
    }

    /// CompleteCommand by handle (the C ABI's path; a stale or repeated handle is refused).
    pub fn complete_handle(
        &self,
        command: CommandHandle,
        completion_code: u32,
        bytes_transferred: u64,
        position: u64,
    ) -> VdResult<()> {
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        let result = state.proto.complete_command(
            now,
            self.handle,
            command,
            completion_code,
            bytes_transferred,
            position,
        );
        state.flush();
        result
    }
}
