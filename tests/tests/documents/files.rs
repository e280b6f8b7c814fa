//! The files the tests upload: small but real PDF, PNG, JPEG and GIF bytes, each
//! carrying a label so every file of a test is its own, and the filings declaring them.

pub(crate) use motcua_e2e::storage::samples::{self, sha256};
use serde_json::{Value, json};

/// A small PDF whose text carries `label`, so every file of a test is its own.
pub(crate) fn pdf(label: &str) -> Vec<u8> {
    samples::pdf(label, 0)
}

/// A PDF of more than `size` bytes: a scan's worth of content.
pub(crate) fn large_pdf(label: &str, size: usize) -> Vec<u8> {
    samples::pdf(label, size)
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A 1×1 grey PNG with `label` in a text chunk.
pub(crate) fn png(label: &str) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut checked = kind.to_vec();
        checked.extend_from_slice(data);
        out.extend_from_slice(&checked);
        out.extend_from_slice(&crc32(&checked).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    // Width 1, height 1, 8-bit greyscale.
    chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(label.as_bytes());
    chunk(&mut out, b"tEXt", &text);
    // One scanline (filter 0, one grey pixel) in a stored deflate block.
    let raw = [0u8, 0x80];
    let (mut a, mut b) = (1u32, 0u32);
    for byte in raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    let mut zlib = vec![0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff];
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A JPEG (JFIF) head with `label` in a comment segment.
pub(crate) fn jpeg(label: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xd8];
    out.extend_from_slice(&[
        0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00,
    ]);
    let comment = label.as_bytes();
    out.extend_from_slice(&[0xff, 0xfe]);
    out.extend_from_slice(&((comment.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(comment);
    out.extend_from_slice(&[0xff, 0xd9]);
    out
}

/// A GIF: a real image type, but not one the server accepts by default.
pub(crate) fn gif(label: &str) -> Vec<u8> {
    let mut out = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
    // A comment extension, then the trailer.
    out.extend_from_slice(&[0x21, 0xfe, label.len().min(255) as u8]);
    out.extend_from_slice(&label.as_bytes()[..label.len().min(255)]);
    out.extend_from_slice(&[0x00, 0x3b]);
    out
}

/// A component declaring `bytes`. The client claims it is digitized, which the server
/// ignores: a component is digitized once its file is stored.
pub(crate) fn component(kind: &str, name: &str, bytes: &[u8]) -> Value {
    json!({
        "kind": kind, "name": name, "sha256": sha256(bytes), "size": bytes.len(), "digitized": true,
    })
}

pub(crate) fn birth(unit: &str, documents: Vec<Value>) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    let filings: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json");
    let mut body = filings["birth"].clone();
    body["receiving_unit"] = json!(unit);
    body["documents"] = json!(documents);
    body
}

/// A birth registration at Xuân Hòa with its two required scans declared.
pub(crate) fn birth_with_scans(certificate: &[u8], id_card: &[u8]) -> Value {
    birth(
        "xuan-hoa",
        vec![
            component("hospital-birth-certificate", "Giấy chứng sinh", certificate),
            component("citizen-id-card", "Căn cước công dân của mẹ", id_card),
        ],
    )
}
