//! Orbit's object storage adapters (the `ObjectStore` port): [`FilesystemStore`], the
//! embedded default, keeps objects as files under a directory; [`S3Store`] keeps them in an
//! S3-compatible bucket.

mod fs;
mod s3;

pub use fs::FilesystemStore;
pub use s3::{S3Config, S3Store};
