//! The on-disk cache of compiled plugin builds.
//!
//! Compiling a build takes tens of milliseconds to seconds; a server with hundreds of
//! builds must not pay that on every start. Entries are keyed by the build's sha256
//! and the engine's compatibility fingerprint (a different wasmtime version or engine
//! setting gives a different file name), and each file is signed with a key the host
//! keeps in its database: a corrupt, truncated, foreign or edited entry fails the check
//! and is rebuilt, never loaded.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// What happened when a build was looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a valid cache entry.
    Hit,
    /// No entry: compiled and stored.
    Miss,
    /// An entry existed but failed its check: compiled again and replaced.
    Rebuilt,
    /// No cache configured: compiled.
    Disabled,
}

pub struct ArtifactCache {
    dir: PathBuf,
    key: Vec<u8>,
}

const TAG_LEN: usize = 32;

impl ArtifactCache {
    pub fn new(dir: impl Into<PathBuf>, key: &[u8]) -> std::io::Result<ArtifactCache> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(ArtifactCache { dir, key: key.to_vec() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a build's compiled form lives in for this engine.
    pub fn entry_path(&self, engine: &Engine, sha256: &str) -> PathBuf {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        self.dir.join(format!("{sha256}-{:016x}.cwasm", hasher.finish()))
    }

    /// The compiled component for `bytes`, from the cache when a valid entry exists.
    pub fn component(&self, engine: &Engine, sha256: &str, bytes: &[u8]) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self.entry_path(engine, sha256);
        let mut outcome = CacheOutcome::Miss;
        if let Ok(file) = std::fs::read(&path) {
            match self.open(engine, &file) {
                Some(component) => return Ok((component, CacheOutcome::Hit)),
                None => {
                    tracing::warn!(path = %path.display(), "compiled cache entry failed its check; rebuilding it");
                    outcome = CacheOutcome::Rebuilt;
                }
            }
        }
        let component = Component::new(engine, bytes)?;
        let serialized = component.serialize()?;
        let mut file = self.tag(&serialized).to_vec();
        file.extend_from_slice(&serialized);
        // Write beside, then rename: a crash never leaves a half-written entry in place.
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&temporary, &file).and_then(|()| std::fs::rename(&temporary, &path)).is_err() {
            tracing::warn!(path = %path.display(), "could not write the compiled cache entry");
            let _ = std::fs::remove_file(&temporary);
        }
        Ok((component, outcome))
    }

    fn open(&self, engine: &Engine, file: &[u8]) -> Option<Component> {
        if file.len() <= TAG_LEN {
            return None;
        }
        let (tag, payload) = file.split_at(TAG_LEN);
        if tag != self.tag(payload).as_slice() {
            return None;
        }
        // SAFETY: `Component::deserialize` runs the native code in `payload`, so it must
        // be an artifact this host produced with a compatible engine. The payload's tag
        // is an HMAC under a key only this host's database holds, so only bytes written
        // by `component` above pass; wasmtime checks engine compatibility itself.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, payload) };
        component.ok()
    }

    /// HMAC-SHA256 of the payload under the host's key.
    fn tag(&self, payload: &[u8]) -> [u8; TAG_LEN] {
        hmac_sha256(&self.key, payload)
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::hmac_sha256;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(tag), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
