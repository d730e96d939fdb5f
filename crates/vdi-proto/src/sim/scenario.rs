//! Whole BACKUP and RESTORE runs through a [`Pair`]: a minimal engine on the server side and a
//! well-behaved application on the client side, with a synthetic, seeded data stream.

use super::Pair;
use crate::client::{ClientSet, DeviceHandle};
use crate::config::ServerChoice;
use crate::consts::{VdcCode, vdf, win32};
use crate::ids::{CmdId, DeviceIndex};
use crate::layout::VdConfig;
use crate::server::{SendRequest, ServerOptions};
use crate::time::Tick;
use std::collections::{HashMap, VecDeque};
use std::task::Poll;

/// What to back up and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupSpec {
    /// Number of devices (stripes).
    pub devices: u16,
    /// Bytes in the synthetic stream.
    pub bytes: u64,
    /// BLOCKSIZE.
    pub block_size: u32,
    /// MAXTRANSFERSIZE.
    pub max_transfer: u32,
    /// Flushes sent in the middle of the stream (FILESTREAM-style).
    pub mid_stream_flushes: u32,
    /// Whether the client asks for VDC_Complete.
    pub request_complete: bool,
    /// Seed of the data pattern and of the restore's read sizes.
    pub seed: u64,
}

impl Default for BackupSpec {
    fn default() -> Self {
        BackupSpec {
            devices: 1,
            bytes: 1 << 20,
            block_size: 512,
            max_transfer: 64 * 1024,
            mid_stream_flushes: 0,
            request_complete: true,
            seed: 1,
        }
    }
}

/// The result of [`run_backup`].
#[derive(Debug)]
pub struct BackupOutcome {
    /// What the application stored, one byte vector per device.
    pub stripes: Vec<Vec<u8>>,
    /// Flush commands the application saw.
    pub flushes: u32,
    /// VDC_Complete commands the application saw.
    pub completes: u32,
    /// Commands the server sent.
    pub commands: u64,
    /// The pair, for its transcript and final states.
    pub pair: Pair,
}

/// The result of [`run_restore`].
#[derive(Debug)]
pub struct RestoreOutcome {
    /// Stream offset of the first byte that differs from the backed-up stream, if any.
    pub first_mismatch: Option<u64>,
    /// Read commands the server sent.
    pub reads: u64,
    /// Bytes the server read back.
    pub bytes: u64,
    /// The pair, for its transcript and final states.
    pub pair: Pair,
}

const SET_NAME: &str = "{5EC0DE00-0000-4000-8000-00000000D3A0}";
const DEPTH: u32 = crate::consts::MAX_IO_DEPTH;

/// The byte at `offset` of the synthetic stream for `seed`.
pub fn pattern_byte(seed: u64, offset: u64) -> u8 {
    let word = splitmix(seed ^ (offset / 8));
    (word >> ((offset % 8) * 8)) as u8
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn device_names(n: u16) -> Vec<String> {
    (0..n)
        .map(|i| {
            if i == 0 {
                SET_NAME.to_string()
            } else {
                format!("{SET_NAME}{i}")
            }
        })
        .collect()
}

/// Creates, configures and opens every device on both sides. Returns the client's devices.
fn connect(pair: &mut Pair, spec: &BackupSpec, features: u32) -> Vec<DeviceHandle> {
    let request = VdConfig {
        device_count: u32::from(spec.devices),
        features: if spec.request_complete {
            vdf::REQUEST_COMPLETE
        } else {
            0
        },
        ..VdConfig::default()
    };
    pair.client(|c, t| c.create(t, SET_NAME, &request))
        .expect("create");
    let found = Some(*pair.client.requested());
    pair.server(|s, t| s.open(t, SET_NAME, found))
        .expect("open");
    let choice = ServerChoice {
        features,
        block_size: spec.block_size,
        alignment: 0,
        max_transfer_size: spec.max_transfer,
        timeout_ms: 10_000,
    };
    pair.server(|s, t| s.begin_configuration(t, choice))
        .expect("begin");
    let buffers = u32::from(spec.devices) * DEPTH;
    pair.server(|s, t| s.request_buffers(t, spec.max_transfer, 0, buffers))
        .expect("buffers");
    let names = device_names(spec.devices);
    let config = pair
        .server(|s, t| s.end_configuration(t, &names))
        .expect("end");
    pair.area = vec![0; config.buffer_area_size as usize];
    pair.deliver();
    let got = pair.client(|c, t| c.get_configuration(t));
    assert!(matches!(got, Poll::Ready(Ok(_))), "{got:?}");
    let handles = names
        .iter()
        .map(|n| {
            pair.client(|c, t| c.open_device(t, n))
                .expect("open device")
        })
        .collect();
    for _ in 0..spec.devices {
        pair.server(|s, t| s.open_device(t))
            .expect("server open device");
    }
    pair.deliver();
    handles
}

/// Offsets of the buffers the server hands out, laid out as RequestBuffers sized them.
fn buffer_pool(config: &VdConfig, count: u32) -> Vec<u64> {
    let align = u64::from(config.alignment);
    let stride = (u64::from(config.prefix_zone_size) + u64::from(config.max_transfer_size))
        .div_ceil(align)
        * align;
    let first = u64::from(config.prefix_zone_size).div_ceil(align) * align;
    (0..u64::from(count)).map(|i| first + i * stride).collect()
}

enum Planned {
    Write { offset: u64, len: u32 },
    Control(VdcCode),
}

/// Backs a synthetic stream up over `spec.devices` devices, chunk `k` going to device `k % n`.
pub fn run_backup(spec: BackupSpec) -> BackupOutcome {
    let mut pair = Pair::new(ServerOptions::default(), 10);
    let devices = connect(&mut pair, &spec, vdf::WRITE_MEDIA);
    let config = *pair.server.configuration().expect("configured");
    let n = usize::from(spec.devices);
    let mut plans: Vec<VecDeque<Planned>> = (0..n).map(|_| VecDeque::new()).collect();
    let chunk = u64::from(spec.max_transfer);
    let chunks = spec.bytes.div_ceil(chunk);
    let flush_after: Vec<u64> = (1..=u64::from(spec.mid_stream_flushes))
        .map(|i| i * chunks / (u64::from(spec.mid_stream_flushes) + 1))
        .collect();
    for k in 0..chunks {
        let len = chunk.min(spec.bytes - k * chunk) as u32;
        plans[(k % n as u64) as usize].push_back(Planned::Write {
            offset: k * chunk,
            len,
        });
        if flush_after.contains(&(k + 1)) {
            plans
                .iter_mut()
                .for_each(|p| p.push_back(Planned::Control(VdcCode::Flush)));
        }
    }
    // The end as SQL Server sends it (docs/decisions.md #43): a final Flush, then VDC_Complete
    // when negotiated.
    let complete = config.features & vdf::COMPLETE_ENABLED != 0;
    for plan in &mut plans {
        plan.push_back(Planned::Control(VdcCode::Flush));
        if complete {
            plan.push_back(Planned::Control(VdcCode::Complete));
        }
    }

    let mut free = buffer_pool(&config, u32::from(spec.devices) * DEPTH);
    let mut in_flight: HashMap<CmdId, u64> = HashMap::new();
    let mut app = Application {
        stripes: vec![Vec::new(); n],
        flushes: 0,
        completes: 0,
        read_cursor: vec![0; n],
    };
    let mut commands = 0;
    while plans.iter().any(|p| !p.is_empty()) || pair.server.outstanding_total() > 0 {
        for (d, plan) in plans.iter_mut().enumerate() {
            let device = DeviceIndex(d as u16);
            while pair.server.outstanding(device) < DEPTH {
                let request = match plan.front() {
                    Some(Planned::Write { offset, len }) => {
                        let Some(buffer) = free.pop() else { break };
                        fill_pattern(
                            &mut pair.area[buffer as usize..][..*len as usize],
                            spec.seed,
                            *offset,
                        );
                        SendRequest {
                            code: VdcCode::Write,
                            size: *len,
                            position: 0,
                            buffer_offset: buffer,
                            context: *offset,
                        }
                    }
                    Some(Planned::Control(code)) => SendRequest::control(*code),
                    None => break,
                };
                plan.pop_front();
                let id = pair
                    .server(|s, t| s.send_command(t, device, request))
                    .expect("send");
                if request.code == VdcCode::Write {
                    in_flight.insert(id, request.buffer_offset);
                }
                commands += 1;
            }
        }
        pair.deliver();
        app.serve(&mut pair, &devices);
        pair.deliver();
        while let Some(done) = pair.server.poll_completion() {
            assert_eq!(done.completion_code, win32::ERROR_SUCCESS, "{done:?}");
            if let Some(buffer) = done.id.and_then(|id| in_flight.remove(&id)) {
                free.push(buffer);
            }
        }
    }
    finish(&mut pair, &devices);
    BackupOutcome {
        stripes: app.stripes,
        flushes: app.flushes,
        completes: app.completes,
        commands,
        pair,
    }
}

/// Reads `stripes` back with Read commands of seeded sizes and compares them with the stream.
pub fn run_restore(spec: BackupSpec, stripes: &[Vec<u8>]) -> RestoreOutcome {
    let mut pair = Pair::new(ServerOptions::default(), 10);
    let devices = connect(
        &mut pair,
        &BackupSpec {
            request_complete: false,
            ..spec
        },
        vdf::READ_MEDIA,
    );
    let config = *pair.server.configuration().expect("configured");
    let n = usize::from(spec.devices);
    let mut rng = fastrand::Rng::with_seed(spec.seed);
    let mut free = buffer_pool(&config, u32::from(spec.devices) * DEPTH);
    let mut in_flight: HashMap<CmdId, (u64, usize, u64)> = HashMap::new();
    let mut restored: Vec<Vec<u8>> = vec![Vec::new(); n];
    let mut next_offset = vec![0u64; n];
    let mut at_eof = vec![false; n];
    let mut app = Application {
        stripes: stripes.to_vec(),
        flushes: 0,
        completes: 0,
        read_cursor: vec![0; n],
    };
    let (mut reads, mut bytes) = (0, 0);
    let blocks_per_transfer = spec.max_transfer / spec.block_size;
    loop {
        for d in 0..n {
            let device = DeviceIndex(d as u16);
            while !at_eof[d] && pair.server.outstanding(device) < DEPTH {
                let Some(buffer) = free.pop() else { break };
                let size = spec.block_size * rng.u32(1..=blocks_per_transfer);
                let request = SendRequest {
                    code: VdcCode::Read,
                    size,
                    position: 0,
                    buffer_offset: buffer,
                    context: 0,
                };
                let id = pair
                    .server(|s, t| s.send_command(t, device, request))
                    .expect("send read");
                in_flight.insert(id, (buffer, d, next_offset[d]));
                next_offset[d] += u64::from(size);
                reads += 1;
            }
        }
        pair.deliver();
        app.serve(&mut pair, &devices);
        pair.deliver();
        while let Some(done) = pair.server.poll_completion() {
            let Some((buffer, d, start)) = done.id.and_then(|id| in_flight.remove(&id)) else {
                continue;
            };
            free.push(buffer);
            if matches!(
                done.completion_code,
                win32::ERROR_SUCCESS | win32::ERROR_HANDLE_EOF
            ) {
                let got = &pair.area[buffer as usize..][..done.bytes_transferred as usize];
                let end = start as usize + got.len();
                if restored[d].len() < end {
                    restored[d].resize(end, 0);
                }
                restored[d][start as usize..end].copy_from_slice(got);
                bytes += got.len() as u64;
            }
            if done.completion_code != win32::ERROR_SUCCESS {
                at_eof[d] = true;
            }
        }
        if at_eof.iter().all(|e| *e) && pair.server.outstanding_total() == 0 {
            break;
        }
    }
    finish(&mut pair, &devices);
    let first_mismatch = compare_with_stream(&spec, &restored);
    RestoreOutcome {
        first_mismatch,
        reads,
        bytes,
        pair,
    }
}

/// CloseDevice on every device, VD_E_CLOSE on the client, then both sides Close.
fn finish(pair: &mut Pair, devices: &[DeviceHandle]) {
    for d in 0..devices.len() {
        pair.server(|s, t| s.close_device(t, DeviceIndex(d as u16)))
            .expect("close device");
    }
    pair.deliver();
    for dev in devices {
        let got = pair.client(|c, t| c.get_command(t, *dev));
        assert!(
            matches!(got, Poll::Ready(Err(e)) if e.code == crate::consts::VdCode::Close),
            "{got:?}"
        );
    }
    pair.client(|c, t| c.close(t)).expect("client close");
    pair.deliver();
    pair.server(|s, t| s.close(t)).expect("server close");
    pair.deliver();
}

fn fill_pattern(buf: &mut [u8], seed: u64, offset: u64) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = pattern_byte(seed, offset + i as u64);
    }
}

fn compare_with_stream(spec: &BackupSpec, stripes: &[Vec<u8>]) -> Option<u64> {
    let n = stripes.len() as u64;
    let chunk = u64::from(spec.max_transfer);
    let chunks = spec.bytes.div_ceil(chunk);
    let total: u64 = stripes.iter().map(|s| s.len() as u64).sum();
    for k in 0..chunks {
        let stripe = &stripes[(k % n) as usize];
        let start = (k / n) * chunk;
        let len = chunk.min(spec.bytes - k * chunk);
        for i in 0..len {
            let got = stripe.get((start + i) as usize);
            if got != Some(&pattern_byte(spec.seed, k * chunk + i)) {
                return Some(k * chunk + i);
            }
        }
    }
    (total != spec.bytes).then_some(spec.bytes.min(total))
}

/// A well-behaved application: stores writes, serves reads, acknowledges Flush and Complete.
struct Application {
    stripes: Vec<Vec<u8>>,
    flushes: u32,
    completes: u32,
    read_cursor: Vec<usize>,
}

impl Application {
    fn serve(&mut self, pair: &mut Pair, devices: &[DeviceHandle]) {
        for (d, dev) in devices.iter().enumerate() {
            loop {
                let now = pair.now().plus_micros(10);
                let got = pair.client(|c: &mut ClientSet, t: Tick| c.get_command(t.max(now), *dev));
                let Poll::Ready(Ok(cmd)) = got else { break };
                let off = cmd.buffer_offset as usize;
                let (code, bytes) = match cmd.code {
                    VdcCode::Write => {
                        self.stripes[d].extend_from_slice(&pair.area[off..][..cmd.size as usize]);
                        (win32::ERROR_SUCCESS, u64::from(cmd.size))
                    }
                    VdcCode::Read => {
                        let stripe = &self.stripes[d];
                        let n = (cmd.size as usize).min(stripe.len() - self.read_cursor[d]);
                        pair.area[off..][..n].copy_from_slice(&stripe[self.read_cursor[d]..][..n]);
                        self.read_cursor[d] += n;
                        let code = if n < cmd.size as usize {
                            win32::ERROR_HANDLE_EOF
                        } else {
                            win32::ERROR_SUCCESS
                        };
                        (code, n as u64)
                    }
                    VdcCode::Flush => {
                        self.flushes += 1;
                        (win32::ERROR_SUCCESS, 0)
                    }
                    VdcCode::Complete => {
                        self.completes += 1;
                        (win32::ERROR_SUCCESS, 0)
                    }
                    VdcCode::ClearError => (win32::ERROR_SUCCESS, 0),
                    _ => (win32::ERROR_NOT_SUPPORTED, 0),
                };
                pair.client(|c, t| c.complete_command(t, *dev, cmd.handle, code, bytes, 0))
                    .expect("complete");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_then_restore_round_trips_across_three_devices() {
        let spec = BackupSpec {
            devices: 3,
            bytes: 1_000_000,
            mid_stream_flushes: 2,
            ..BackupSpec::default()
        };
        let backup = run_backup(spec);
        assert_eq!(
            backup.stripes.iter().map(Vec::len).sum::<usize>(),
            1_000_000
        );
        // 2 mid-stream Flushes and the final one, on each of 3 devices.
        assert_eq!(backup.flushes, 3 * 3);
        assert_eq!(backup.completes, 3);
        let restore = run_restore(spec, &backup.stripes);
        assert_eq!(restore.first_mismatch, None);
        assert_eq!(restore.bytes, 1_000_000);
    }

    #[test]
    fn a_flipped_byte_is_found_at_its_stream_offset() {
        let spec = BackupSpec {
            devices: 2,
            bytes: 300_000,
            ..BackupSpec::default()
        };
        let mut backup = run_backup(spec);
        backup.stripes[1][10] ^= 0x40;
        let restore = run_restore(spec, &backup.stripes);
        // Stripe 1 starts with chunk 1, which begins at stream offset 65536.
        assert_eq!(restore.first_mismatch, Some(65536 + 10));
    }

    #[test]
    fn without_complete_the_last_command_is_a_flush() {
        let spec = BackupSpec {
            request_complete: false,
            bytes: 200_000,
            ..BackupSpec::default()
        };
        let backup = run_backup(spec);
        assert_eq!(backup.completes, 0);
        assert_eq!(backup.flushes, 1);
    }
}
