//! Shared contract suites: one per port, written once and run against every adapter
//! (`tests/contract_*.rs`), so the in-memory, SQLite and PostgreSQL stores (and every
//! cache) are held to exactly the same behaviour.

pub mod api_contract;
pub mod cache_contract;
pub mod git_host_contract;
pub mod githost_contract;
pub mod knowledge_contract;
pub mod postgres;
pub mod repository_contract;
pub mod search_contract;
pub mod storage_contract;
pub mod store_contract;
pub mod webhook_contract;
pub mod workflow_contract;
