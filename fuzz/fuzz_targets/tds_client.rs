//! The TDS client side (crate `tds`, `tds::client`: what `vdisim sqlcmd -S host,port` runs) on
//! arbitrary bytes from a server: packets cut at any read size, then the incremental token
//! decoder (messages, COLMETADATA, ROW/NBCROW of every type, DONE, ENVCHANGE, LOGINACK …).
//! The first byte picks the read size.
//!
//! Checks: no panic, no hang; an error ends the stream (as it ends the connection).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tds::client::{PacketReader, TokenDecoder};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(mode % 64) + 1;
    let mut packets = PacketReader::new();
    let mut decoder = TokenDecoder::new();
    for piece in rest.chunks(chunk) {
        if packets.handle_bytes(piece).is_err() {
            return;
        }
        while let Some(p) = packets.poll_packet() {
            if decoder.handle_payload(&p.body, p.end_of_message).is_err() {
                return;
            }
            loop {
                match decoder.poll_token() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => return,
                }
            }
        }
    }
});
