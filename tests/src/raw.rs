//! HTTP on a raw socket, for tests that must control exactly what is sent and when
//! (half a body, a slow head) and read what comes back.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};

/// How long a raw read waits before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A response read off a raw socket.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    /// The head, lowercased.
    pub head: String,
    pub body: Value,
}

impl Raw {
    /// The response must be the problem `slug` with `status`; its body.
    pub fn problem(&self, status: u16, slug: &str) -> &Value {
        assert_eq!(self.status, status, "{self:?}");
        assert!(
            self.head.contains("content-type: application/problem+json"),
            "{self:?}"
        );
        assert_eq!(
            self.body["type"],
            format!("urn:motcua:problem:{slug}"),
            "{self:?}"
        );
        &self.body
    }
}

/// Reads one response (head and a `Content-Length` body); `None` if the server closed
/// the connection without one.
pub async fn read_response<R: AsyncRead + Unpin>(stream: &mut R) -> Option<Raw> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match tokio::time::timeout(PATIENCE, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return None,
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("no response within {PATIENCE:?}"),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status code");
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse().expect("content length"));
    while buffer.len() < head_end + length {
        match tokio::time::timeout(PATIENCE, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("no body within {PATIENCE:?}"),
        }
    }
    let body = serde_json::from_slice(&buffer[head_end..]).unwrap_or(Value::Null);
    Some(Raw { status, head, body })
}
