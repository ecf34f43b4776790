use orbit_core::Timestamp;

/// The current time. Use cases never read the system clock directly.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// New identifiers and secrets.
pub trait IdGenerator: Send + Sync + 'static {
    /// A new unique, roughly time-ordered id.
    fn new_id(&self) -> String;
    /// `bytes` bytes from a cryptographically secure source, hex-encoded.
    fn secret_hex(&self, bytes: usize) -> String;
}
