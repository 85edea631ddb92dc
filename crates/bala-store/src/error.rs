use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("unsupported database URL '{0}': use sqlite://<file> or postgres://…")]
    UnsupportedUrl(String),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: String,
        source: sqlx::Error,
    },
    #[error("migration {version} ({name}) was changed after it was applied to this database")]
    MigrationChanged { version: i64, name: String },
    #[error("the database was migrated by a newer Bala (version {0}); upgrade Bala")]
    DatabaseTooNew(i64),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
    /// A bulk write failed (ADR 0013); `unique` tells a duplicate key apart.
    #[error("bulk write failed: {message}")]
    Bulk { message: String, unique: bool },
}

/// True when the error is a violated UNIQUE or PRIMARY KEY constraint, in either database.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}
