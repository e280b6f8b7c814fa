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
use std::sync::atomic::{AtomicU64, Ordering};

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
    writes: AtomicU64,
}

/// What a lookup found.
pub enum Lookup {
    Hit(Component),
    Missing,
    /// An entry existed but failed its check; it must be rebuilt.
    Bad,
}

const TAG_LEN: usize = 32;

impl ArtifactCache {
    /// Opens (creating, readable by this user only) the cache directory and removes
    /// what no current engine can use: entries of other engine fingerprints and
    /// temporary files a crash left behind.
    pub fn new(
        dir: impl Into<PathBuf>,
        key: &[u8],
        engine: &Engine,
    ) -> std::io::Result<ArtifactCache> {
        let dir = dir.into();
        create_private_dir(&dir)?;
        let cache = ArtifactCache {
            dir,
            key: key.to_vec(),
            writes: AtomicU64::new(0),
        };
        let suffix = format!("-{}.cwasm", cache.fingerprint(engine));
        for entry in std::fs::read_dir(&cache.dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.contains(".tmp") || (name.ends_with(".cwasm") && !name.ends_with(&suffix)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(cache)
    }

    fn fingerprint(&self, engine: &Engine) -> String {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }

    /// The file a build's compiled form lives in for this engine.
    pub fn entry_path(&self, engine: &Engine, sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{sha256}-{}.cwasm", self.fingerprint(engine)))
    }

    /// The compiled component for build `sha256`, if a valid entry exists.
    pub fn lookup(&self, engine: &Engine, sha256: &str) -> Lookup {
        let path = self.entry_path(engine, sha256);
        let Ok(file) = std::fs::read(&path) else {
            return Lookup::Missing;
        };
        match self.open(engine, sha256, &file) {
            Some(component) => Lookup::Hit(component),
            None => {
                tracing::warn!(path = %path.display(), "compiled cache entry failed its check; rebuilding it");
                Lookup::Bad
            }
        }
    }

    /// Stores a compiled build; called only once the build passed every check.
    pub fn store(&self, engine: &Engine, sha256: &str, component: &Component) {
        let path = self.entry_path(engine, sha256);
        let Ok(serialized) = component.serialize() else {
            tracing::warn!(
                build = sha256,
                "could not serialise a compiled build for the cache"
            );
            return;
        };
        let mut file = self.tag(engine, sha256, &serialized).to_vec();
        file.extend_from_slice(&serialized);
        // Write beside, then rename: a crash never leaves a half-written entry in place,
        // and two writers of one entry never share a temporary file.
        let write = self.writes.fetch_add(1, Ordering::Relaxed);
        let temporary = self
            .dir
            .join(format!("{sha256}.tmp{}-{write}", std::process::id()));
        if std::fs::write(&temporary, &file)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .is_err()
        {
            tracing::warn!(path = %path.display(), "could not write the compiled cache entry");
            let _ = std::fs::remove_file(&temporary);
        }
    }

    fn open(&self, engine: &Engine, sha256: &str, file: &[u8]) -> Option<Component> {
        if file.len() <= TAG_LEN {
            return None;
        }
        let (tag, payload) = file.split_at(TAG_LEN);
        if tag != self.tag(engine, sha256, payload).as_slice() {
            return None;
        }
        // SAFETY: `Component::deserialize` runs the native code in `payload`, so it must
        // be an artifact this host produced with a compatible engine, for this build. The
        // tag is an HMAC, under a key only this host's database holds, over the build's
        // sha256, the engine fingerprint and the payload: only bytes written by `store`
        // for this very build pass, not another build's entry under this name.
        // Wasmtime checks engine compatibility itself as well.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, payload) };
        component.ok()
    }

    /// HMAC-SHA256 of (build, engine fingerprint, payload) under the host's key.
    fn tag(&self, engine: &Engine, sha256: &str, payload: &[u8]) -> [u8; TAG_LEN] {
        let mut message = Vec::with_capacity(payload.len() + 96);
        message.extend_from_slice(sha256.as_bytes());
        message.push(0);
        message.extend_from_slice(self.fingerprint(engine).as_bytes());
        message.push(0);
        message.extend_from_slice(payload);
        hmac_sha256(&self.key, &message)
    }
}

/// Creates the directory readable and writable by this user only (on Unix).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o022 != 0 {
            return Err(std::io::Error::other(format!(
                "{} is writable by other users; the compiled-plugin cache needs a private directory",
                dir.display()
            )));
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
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
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
