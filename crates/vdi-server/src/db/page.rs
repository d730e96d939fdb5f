//! Deterministic page and FILESTREAM content.
//!
//! Nothing here stores bytes: a page is a pure function of (content key, page number, version),
//! so a database only keeps per-page versions. The generator writes u64s from a wyrand stream;
//! each 64-byte row holds 16 random bytes and 48 bytes of a per-page template, which makes pages
//! compress roughly 2:1 with LZ4 (random bytes alone would not compress at all).

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Size of a database page in bytes.
pub const PAGE_SIZE: usize = 8192;
/// FILESTREAM file content is generated in chunks of this many bytes.
pub const FS_CHUNK: usize = 8192;

const ROW: usize = 64;
const PAGE_HEADER: usize = 32;
const PAGE_MAGIC: u32 = 0x5041_4745; // "PAGE" read as a big-endian number

/// Mixes several words into one seed (splitmix64 finaliser over a running state).
#[must_use]
pub fn mix(words: &[u64]) -> u64 {
    let mut h = 0x9E37_79B9_7F4A_7C15u64;
    for &w in words {
        h ^= w;
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

/// The content key of a database: every page of it derives from this value.
#[must_use]
pub fn content_key(name: &str, seed: u64) -> u64 {
    mix(&[xxh3_64_with_seed(name.as_bytes(), 0x5644_4953), seed])
}

#[inline]
fn wyrand(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0xA076_1D64_78BD_642F);
    let t = u128::from(*state) * u128::from(*state ^ 0xE703_7ED1_A0B4_28DB);
    ((t >> 64) as u64) ^ (t as u64)
}

/// Fills `out` (a whole number of 64-byte rows) with the rows derived from `seed`.
fn fill_rows(seed: u64, out: &mut [u8]) {
    let mut state = seed;
    let mut template = [0u8; 48];
    for w in template.chunks_exact_mut(8) {
        w.copy_from_slice(&wyrand(&mut state).to_le_bytes());
    }
    for row in out.chunks_exact_mut(ROW) {
        row[0..8].copy_from_slice(&wyrand(&mut state).to_le_bytes());
        row[8..16].copy_from_slice(&wyrand(&mut state).to_le_bytes());
        row[16..64].copy_from_slice(&template);
    }
}

/// Writes the content of page `page` at `version` of the database with `key` into `out`.
///
/// # Panics
/// If `out.len() != PAGE_SIZE`.
pub fn fill_page(key: u64, page: u64, version: u32, out: &mut [u8]) {
    assert_eq!(out.len(), PAGE_SIZE, "fill_page needs exactly one page");
    let seed = mix(&[key, page, u64::from(version)]);
    out[0..8].copy_from_slice(&page.to_le_bytes());
    out[8..12].copy_from_slice(&version.to_le_bytes());
    out[12..16].copy_from_slice(&PAGE_MAGIC.to_le_bytes());
    out[16..24].copy_from_slice(&key.to_le_bytes());
    out[24..32].copy_from_slice(&seed.to_le_bytes());
    // The header takes half a row; the rest of the first row is still random + template.
    let (head, body) = out.split_at_mut(ROW);
    let mut first = [0u8; ROW];
    fill_rows(seed ^ 1, &mut first);
    head[PAGE_HEADER..].copy_from_slice(&first[PAGE_HEADER..]);
    fill_rows(seed, body);
}

/// The key from which the content of one FILESTREAM file derives.
#[must_use]
pub fn fs_file_key(key: u64, container: u16, file: u32) -> u64 {
    mix(&[key, 0xF11E_5743, u64::from(container), u64::from(file)])
}

/// Writes the FILESTREAM chunk `chunk` (bytes `chunk * FS_CHUNK ..`) of a file into `out`.
/// `out` may be shorter than `FS_CHUNK` (the tail of a file).
pub fn fill_fs_chunk(file_key: u64, version: u32, chunk: u64, out: &mut [u8]) {
    debug_assert!(out.len() <= FS_CHUNK);
    let seed = mix(&[file_key, chunk, u64::from(version)]);
    if out.len() == FS_CHUNK {
        fill_rows(seed, out);
    } else {
        let mut full = [0u8; FS_CHUNK];
        fill_rows(seed, &mut full);
        out.copy_from_slice(&full[..out.len()]);
    }
}

/// The digest of one page: xxh3-64 of its bytes seeded with its version.
#[must_use]
pub fn page_digest(version: u32, bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, u64::from(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_deterministic_and_distinct() {
        let mut a = vec![0u8; PAGE_SIZE];
        let mut b = vec![0u8; PAGE_SIZE];
        fill_page(7, 3, 1, &mut a);
        fill_page(7, 3, 1, &mut b);
        assert_eq!(a, b);
        fill_page(7, 3, 2, &mut b);
        assert_ne!(a, b);
        fill_page(8, 3, 1, &mut b);
        assert_ne!(a, b);
        fill_page(7, 4, 1, &mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn pages_compress() {
        let mut a = vec![0u8; PAGE_SIZE];
        fill_page(1, 2, 3, &mut a);
        let c = lz4_flex::block::compress(&a);
        assert!(c.len() < PAGE_SIZE * 3 / 4, "compressed to {}", c.len());
    }

    #[test]
    fn fs_tail_is_prefix_of_full_chunk() {
        let mut full = vec![0u8; FS_CHUNK];
        let mut tail = vec![0u8; 100];
        fill_fs_chunk(5, 1, 9, &mut full);
        fill_fs_chunk(5, 1, 9, &mut tail);
        assert_eq!(&full[..100], &tail[..]);
    }
}
