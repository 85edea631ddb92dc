//! One prepared SQLite INSERT whose text values are bound without a copy.
//!
//! rusqlite binds every string with `SQLITE_TRANSIENT`, so SQLite copies each
//! value into its own buffer before the row is written. For a register's
//! load that is ten million small copies on the write thread, which is the
//! import's bottleneck: `perf` put `sqlite3_bind_text` and its `memmove` at
//! 13 % of the time spent in the insert loop (docs/benchmarks.md,
//! 2026-12-07). This binds with `SQLITE_STATIC` instead, which SQLite allows
//! when the caller keeps the bytes alive and unchanged until they are
//! rebound or the statement is finalized; [`Insert`] borrows the values for
//! that long, so the borrow checker holds the caller to it.

use crate::query::Value;
use rusqlite::ffi;
use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::ptr;

/// A prepared statement on `conn`, finalized when dropped. `'v` is the
/// lifetime of every value bound to it.
pub(crate) struct Insert<'c, 'v> {
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
    _conn: PhantomData<&'c rusqlite::Connection>,
    _values: PhantomData<&'v Value>,
}

impl<'c, 'v> Insert<'c, 'v> {
    pub(crate) fn prepare(conn: &'c rusqlite::Connection, sql: &str) -> rusqlite::Result<Self> {
        // SAFETY: the handle is only used while `conn` is borrowed, on the
        // thread that runs this call (the bulk session's blocking call).
        let db = unsafe { conn.handle() };
        let mut stmt = ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| {
            rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_TOOBIG), None)
        })?;
        // SAFETY: `sql` is valid for `len` bytes; `stmt` receives a statement
        // or null.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(db, sql.as_ptr().cast(), len, &mut stmt, ptr::null_mut())
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, rc));
        }
        Ok(Insert {
            db,
            stmt,
            _conn: PhantomData,
            _values: PhantomData,
        })
    }

    /// Binds `v` to parameter `i` (1-based). Text is not copied: it must,
    /// and by `'v` does, outlive the statement.
    pub(crate) fn bind(&mut self, i: usize, v: &'v Value) -> rusqlite::Result<()> {
        let i = i as c_int;
        // SAFETY: `self.stmt` is a live statement; a text pointer stays valid
        // for `'v`, which outlives `self`, and SQLite reads at most `len`
        // bytes of it.
        let rc = unsafe {
            match v {
                Value::Text(None) | Value::Int(None) | Value::Float(None) => {
                    ffi::sqlite3_bind_null(self.stmt, i)
                }
                Value::Text(Some(s)) => match c_int::try_from(s.len()) {
                    Ok(len) => ffi::sqlite3_bind_text(
                        self.stmt,
                        i,
                        s.as_ptr().cast(),
                        len,
                        ffi::SQLITE_STATIC(),
                    ),
                    Err(_) => ffi::SQLITE_TOOBIG,
                },
                Value::Int(Some(n)) => ffi::sqlite3_bind_int64(self.stmt, i, *n),
                Value::Float(Some(f)) => ffi::sqlite3_bind_double(self.stmt, i, *f),
            }
        };
        self.check(rc)
    }

    /// Writes one row with the current bindings (which stay for the next).
    pub(crate) fn execute(&mut self) -> rusqlite::Result<()> {
        // SAFETY: `self.stmt` is a live statement.
        let rc = unsafe { ffi::sqlite3_step(self.stmt) };
        // Reset even after a failure, so the statement can run again; the
        // error (a constraint, say) is the step's.
        // SAFETY: `self.stmt` is a live statement; reset keeps its bindings,
        // whose values outlive it by `'v`.
        let reset = unsafe { ffi::sqlite3_reset(self.stmt) };
        match rc {
            ffi::SQLITE_DONE => self.check(reset),
            ffi::SQLITE_ROW => Err(rusqlite::Error::ExecuteReturnedResults),
            _ => Err(error(self.db, rc)),
        }
    }

    fn check(&self, rc: c_int) -> rusqlite::Result<()> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error(self.db, rc))
        }
    }
}

impl Drop for Insert<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: finalized exactly once; null is a no-op.
        unsafe {
            ffi::sqlite3_finalize(self.stmt);
        }
    }
}

/// The connection's error for `rc`, with its extended code and message (so
/// a unique violation is told apart, see `bulk::sqlite_err`).
fn error(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Error {
    // SAFETY: `db` is a live connection; its message is copied out at once.
    let (code, message) = unsafe {
        let code = ffi::sqlite3_extended_errcode(db);
        let msg = ffi::sqlite3_errmsg(db);
        let message = (!msg.is_null()).then(|| CStr::from_ptr(msg).to_string_lossy().into_owned());
        (code, message)
    };
    // The extended code belongs to the last failed call, which is this one
    // unless SQLite reported the failure only through `rc`.
    let code = if code & 0xff == rc & 0xff { code } else { rc };
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of `t` as read back.
    type Stored = (Option<String>, Option<i64>, Option<f64>, String);

    fn table() -> rusqlite::Connection {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (k TEXT UNIQUE, n INTEGER, f REAL, c TEXT)")
            .unwrap();
        c
    }

    #[test]
    fn every_kind_of_value_is_stored_as_bound() {
        let c = table();
        let rows = [
            [
                Value::from("Қазақстан"),
                Value::Int(Some(-7)),
                Value::Float(Some(0.5)),
            ],
            [Value::from(""), Value::Int(None), Value::Float(None)],
            [
                Value::Text(None),
                Value::Int(Some(i64::MAX)),
                Value::Float(Some(-1e300)),
            ],
        ];
        let constant = Value::from("same");
        {
            let mut st =
                Insert::prepare(&c, "INSERT INTO t (k, n, f, c) VALUES (?1, ?2, ?3, ?4)").unwrap();
            st.bind(4, &constant).unwrap();
            for row in &rows {
                for (i, v) in row.iter().enumerate() {
                    st.bind(i + 1, v).unwrap();
                }
                st.execute().unwrap();
            }
        }
        let got: Vec<Stored> = c
            .prepare("SELECT k, n, f, c FROM t ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("Қазақстан".into()), Some(-7), Some(0.5), "same".into()),
                (Some(String::new()), None, None, "same".into()),
                (None, Some(i64::MAX), Some(-1e300), "same".into()),
            ]
        );
    }

    #[test]
    fn a_failed_row_says_why_and_the_statement_goes_on() {
        let c = table();
        let (a, b) = (Value::from("a"), Value::from("b"));
        let mut st = Insert::prepare(&c, "INSERT INTO t (k) VALUES (?1)").unwrap();
        st.bind(1, &a).unwrap();
        st.execute().unwrap();
        let err = st.execute().unwrap_err();
        let rusqlite::Error::SqliteFailure(f, Some(message)) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(f.extended_code, ffi::SQLITE_CONSTRAINT_UNIQUE);
        assert!(message.contains("t.k"), "{message}");
        st.bind(1, &b).unwrap();
        st.execute().unwrap();
        drop(st);
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        assert!(Insert::prepare(&c, "INSERT INTO nowhere VALUES (1)").is_err());
    }
}
