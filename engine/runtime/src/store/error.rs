//! The store's error type.

use sea_orm::DbErr;

/// What went wrong in a store operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Somebody else got there first: an instance's version moved on, a job
    /// or timer was already completed, or a unique key was already taken.
    /// Nothing of the batch was applied; reload and retry.
    #[error("conflict: {what}")]
    Conflict { what: String },
    /// The database failed while doing `op`.
    #[error("store: {op} failed: {source}")]
    Db {
        op: &'static str,
        #[source]
        source: DbErr,
    },
    /// The input was rejected before anything was written (a schedule's
    /// cron expression, time zone, window or calendar; the text says where).
    #[error("invalid: {what}")]
    Invalid { what: String },
    /// The schema migrations could not be applied.
    #[error("store: migrating the schema failed: {0}")]
    Migration(#[source] DbErr),
    /// The database URL is not one the store understands. The message never
    /// repeats the URL itself: it may hold a password.
    #[error("store: bad database url: {reason}")]
    BadUrl { reason: String },
}

/// Attach the name of the operation to a database error.
pub(crate) trait Context<T> {
    fn during(self, op: &'static str) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, DbErr> {
    fn during(self, op: &'static str) -> Result<T, Error> {
        self.map_err(|source| Error::Db { op, source })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
