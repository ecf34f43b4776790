//! AES-256-GCM sealing of stored secrets, behind the `SecretCipher` port.
//!
//! Keys are 32 random bytes, written as base64. A key's id is the first 8 bytes of
//! SHA-256("orbit-secret-key" ‖ key) in hex: stored beside each ciphertext, it says which
//! key opens it without revealing anything about the key. Every value gets a fresh random
//! 96-bit nonce; the ciphertext is base64(nonce ‖ ciphertext ‖ tag). The row's context
//! (workspace and id) is bound as associated data, so a ciphertext moved to another row
//! does not open.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use orbit_core::Secret;
use orbit_ports::{SealedSecret, SecretCipher, SecretError};
use sha2::{Digest, Sha256};
use std::path::Path;

/// One 256-bit key.
#[derive(Clone)]
pub struct SecretKey {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

impl SecretKey {
    /// Parses a base64 key of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<SecretKey, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "the secret key is not valid base64".to_owned())?;
        if bytes.len() != 32 {
            return Err(format!(
                "the secret key must be 32 bytes (44 base64 characters); it has {} bytes",
                bytes.len()
            ));
        }
        let id = hex8(
            &Sha256::new()
                .chain_update(b"orbit-secret-key")
                .chain_update(&bytes)
                .finalize(),
        );
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|e| e.to_string())?;
        Ok(SecretKey { id, cipher })
    }

    /// A new random key, as base64.
    pub fn generate_base64() -> String {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        STANDARD.encode(bytes)
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

fn hex8(digest: &[u8]) -> String {
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The current key (seals and opens) and previous keys (open only).
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: SecretKey,
    previous: Vec<SecretKey>,
}

impl KeyRing {
    pub fn new(current: SecretKey, previous: Vec<SecretKey>) -> Self {
        KeyRing { current, previous }
    }

    /// Reads the key file (one base64 key per line: the first is current, the others
    /// previous), creating it with a new random key and mode 0600 when it does not exist.
    pub fn load_or_create_file(path: &Path) -> Result<KeyRing, String> {
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            write_key_file(path, &[SecretKey::generate_base64()])?;
            tracing::info!(path = %path.display(), "generated a new secret key for stored credentials");
        }
        Self::from_file(path)
    }

    pub fn from_file(path: &Path) -> Result<KeyRing, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the secret key file {}: {e}", path.display()))?;
        let mut keys = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(SecretKey::from_base64);
        let current = keys
            .next()
            .ok_or_else(|| format!("the secret key file {} holds no key", path.display()))??;
        let previous = keys.collect::<Result<Vec<_>, _>>()?;
        Ok(KeyRing { current, previous })
    }

    pub fn current(&self) -> &SecretKey {
        &self.current
    }

    /// The same keys with `new` as the current one (the old current becomes previous).
    pub fn rotated_to(&self, new: SecretKey) -> KeyRing {
        let mut previous = vec![self.current.clone()];
        previous.extend(self.previous.iter().cloned());
        previous.retain(|k| k.id != new.id);
        KeyRing {
            current: new,
            previous,
        }
    }
}

/// Writes a key file atomically with mode 0600 (owner read/write only).
pub fn write_key_file(path: &Path, keys_base64: &[String]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let body = format!(
        "# Orbit's key for stored secrets (AES-256-GCM). Keep it secret; back it up with the database.\n{}\n",
        keys_base64.join("\n")
    );
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        f.write_all(body.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

impl SecretCipher for KeyRing {
    fn current_key_id(&self) -> String {
        self.current.id.clone()
    }

    fn seal(&self, value: &Secret, context: &str) -> Result<SealedSecret, SecretError> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let ct = self
            .current
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: value.expose().as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Corrupt("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(SealedSecret {
            key_id: self.current.id.clone(),
            ciphertext: STANDARD.encode(out),
        })
    }

    fn open(&self, sealed: &SealedSecret, context: &str) -> Result<Secret, SecretError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| SecretError::UnknownKey(sealed.key_id.clone()))?;
        let bytes = STANDARD
            .decode(&sealed.ciphertext)
            .map_err(|_| SecretError::Corrupt("not base64".into()))?;
        if bytes.len() < 12 + 16 {
            return Err(SecretError::Corrupt("too short".into()));
        }
        let (nonce, ct) = bytes.split_at(12);
        let plain = key
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Corrupt("authentication failed".into()))?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| SecretError::Corrupt("not UTF-8".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new(
            SecretKey::from_base64(&SecretKey::generate_base64()).unwrap(),
            vec![],
        )
    }

    #[test]
    fn seal_and_open() {
        let ring = ring();
        let secret = Secret::new("ghp_0123456789abcdef");
        let a = ring.seal(&secret, "ws/1").unwrap();
        let b = ring.seal(&secret, "ws/1").unwrap();
        assert_ne!(a.ciphertext, b.ciphertext, "a fresh nonce every time");
        assert!(!a.ciphertext.contains("ghp_"));
        assert_eq!(a.key_id, ring.current_key_id());
        assert_eq!(a.key_id.len(), 16);
        assert_eq!(ring.open(&a, "ws/1").unwrap(), secret);
        // Another row's context, a flipped byte, another key: refused.
        assert!(matches!(
            ring.open(&a, "ws/2"),
            Err(SecretError::Corrupt(_))
        ));
        let mut bytes = STANDARD.decode(&a.ciphertext).unwrap();
        bytes[20] ^= 1;
        let tampered = SealedSecret {
            key_id: a.key_id.clone(),
            ciphertext: STANDARD.encode(bytes),
        };
        assert!(matches!(
            ring.open(&tampered, "ws/1"),
            Err(SecretError::Corrupt(_))
        ));
        assert!(matches!(
            super::tests::ring().open(&a, "ws/1"),
            Err(SecretError::UnknownKey(_))
        ));
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = ring();
        let sealed = old.seal(&Secret::new("token-value"), "c").unwrap();
        let new = old.rotated_to(SecretKey::from_base64(&SecretKey::generate_base64()).unwrap());
        assert_ne!(new.current_key_id(), old.current_key_id());
        assert_eq!(new.open(&sealed, "c").unwrap().expose(), "token-value");
        assert_eq!(
            new.seal(&Secret::new("x"), "c").unwrap().key_id,
            new.current_key_id()
        );
    }

    #[test]
    fn bad_keys_are_explained() {
        assert!(
            SecretKey::from_base64("not base64!")
                .unwrap_err()
                .contains("base64")
        );
        assert!(
            SecretKey::from_base64("AAAA")
                .unwrap_err()
                .contains("32 bytes")
        );
    }

    #[test]
    fn key_files_are_private() {
        let dir = std::env::temp_dir().join(format!("orbit-keyfile-{}", std::process::id()));
        let path = dir.join("secret.key");
        let _ = std::fs::remove_file(&path);
        let ring = KeyRing::load_or_create_file(&path).unwrap();
        let again = KeyRing::load_or_create_file(&path).unwrap();
        assert_eq!(ring.current_key_id(), again.current_key_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
