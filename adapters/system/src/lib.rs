//! The operating system's clock and randomness, behind the `Clock` and `IdGenerator` ports.

mod secrets;

pub use secrets::{KeyRing, SecretKey, write_key_file};

use orbit_core::Timestamp;
use orbit_ports::{Clock, IdGenerator};

/// The operating system's wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(since.as_millis() as i64)
    }
}

/// Ids are UUIDv7 (unique, time-ordered); secrets come from a CSPRNG seeded by the OS.
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_id(&self) -> String {
        uuid::Uuid::now_v7().to_string()
    }

    fn secret_hex(&self, bytes: usize) -> String {
        use rand::RngCore;
        let mut buf = vec![0u8; bytes];
        rand::rng().fill_bytes(&mut buf);
        buf.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_secrets_have_the_asked_length() {
        let ids = UuidV7Ids;
        assert_ne!(ids.new_id(), ids.new_id());
        let secret = ids.secret_hex(32);
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, ids.secret_hex(32));
        assert!(SystemClock.now().millis() > 1_600_000_000_000);
    }
}
