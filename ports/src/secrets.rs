//! Encryption of stored secrets (git host tokens).

use orbit_core::Secret;
use thiserror::Error;

/// An encrypted value as stored: the id of the key that sealed it and the ciphertext
/// (base64 of nonce ‖ ciphertext ‖ tag). Neither reveals the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub key_id: String,
    pub ciphertext: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SecretError {
    /// The value was sealed with a key this process does not have (rotated away, or the
    /// wrong key configured). The payload is the key id.
    #[error(
        "a stored secret was encrypted with the key '{0}', which is not configured (ORBIT_SECRET_KEY / ORBIT_SECRET_PREVIOUS_KEYS)"
    )]
    UnknownKey(String),
    /// The ciphertext does not decrypt: tampered with, truncated, or moved to another row.
    #[error("a stored secret cannot be decrypted: {0}")]
    Corrupt(String),
}

/// Seals and opens secrets with the configured keys (authenticated encryption).
///
/// `context` is bound to the ciphertext as associated data (e.g. the row's workspace and
/// id): a ciphertext copied to another row fails to open with [`SecretError::Corrupt`].
pub trait SecretCipher: Send + Sync + 'static {
    /// The id of the key new values are sealed with.
    fn current_key_id(&self) -> String;
    /// Encrypts with the current key and a fresh random nonce.
    fn seal(&self, value: &Secret, context: &str) -> Result<SealedSecret, SecretError>;
    /// Decrypts with whichever configured key `sealed.key_id` names.
    fn open(&self, sealed: &SealedSecret, context: &str) -> Result<Secret, SecretError>;
}
