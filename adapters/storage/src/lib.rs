//! Orbit's object storage adapters (the `ObjectStore` port): [`FilesystemStore`], the
//! embedded default, keeps objects as files under a directory.

mod fs;

pub use fs::FilesystemStore;
