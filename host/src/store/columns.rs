//! Reading a row's columns the same way from sqlx and from rusqlite (`lite.rs`), so a
//! record is decoded by one function whichever connection read it.

use super::writer::{Param, bind};
use super::{Backend, Result, Store, StoreError};

/// The columns of one row, by position.
pub(super) trait Columns {
    fn text(&self, index: usize) -> Result<String>;
    fn opt_text(&self, index: usize) -> Result<Option<String>>;
    fn int(&self, index: usize) -> Result<i64>;
    fn opt_int(&self, index: usize) -> Result<Option<i64>>;
    fn flag(&self, index: usize) -> Result<bool> {
        Ok(self.int(index)? != 0)
    }
}

impl Columns for sqlx::any::AnyRow {
    fn text(&self, index: usize) -> Result<String> {
        Ok(sqlx::Row::try_get(self, index)?)
    }
    fn opt_text(&self, index: usize) -> Result<Option<String>> {
        Ok(sqlx::Row::try_get(self, index)?)
    }
    fn int(&self, index: usize) -> Result<i64> {
        Ok(sqlx::Row::try_get(self, index)?)
    }
    fn opt_int(&self, index: usize) -> Result<Option<i64>> {
        Ok(sqlx::Row::try_get(self, index)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, index: usize) -> Result<String> {
        Ok(self.get(index)?)
    }
    fn opt_text(&self, index: usize) -> Result<Option<String>> {
        Ok(self.get(index)?)
    }
    fn int(&self, index: usize) -> Result<i64> {
        Ok(self.get(index)?)
    }
    fn opt_int(&self, index: usize) -> Result<Option<i64>> {
        Ok(self.get(index)?)
    }
}

impl Store {
    /// Runs a short query by key and decodes its rows: on SQLite on a direct connection
    /// where the caller runs (`lite.rs`), on PostgreSQL on the pool.
    pub(super) async fn fetch<T>(
        &self,
        sql: &'static str,
        params: &[Param],
        decode: impl Fn(&dyn Columns) -> Result<T>,
    ) -> Result<Vec<T>> {
        match (&self.readers, self.backend) {
            (Some(readers), Backend::Sqlite) => readers
                .read(|connection| super::lite::query(connection, sql, params, |row| decode(row))),
            _ => {
                let rows = match &self.hot {
                    Some(hot) => {
                        hot.with(async |connection| {
                            Ok(bind(sqlx::query(sql), params)
                                .fetch_all(&mut *connection)
                                .await?)
                        })
                        .await?
                    }
                    None => bind(sqlx::query(sql), params).fetch_all(&self.pool).await?,
                };
                rows.iter().map(|row| decode(row)).collect()
            }
        }
    }

    /// `fetch` for at most one row; on PostgreSQL read in a group with the same reads
    /// waiting.
    pub(super) async fn fetch_one<T>(
        &self,
        sql: &'static str,
        params: &[Param],
        decode: impl Fn(&dyn Columns) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut rows = match &self.reads {
            // PostgreSQL: read with the same reads waiting (`read_groups.rs`).
            Some(reads) => reads
                .read(sql, params.to_vec())
                .await?
                .iter()
                .map(|row| decode(row))
                .collect::<Result<Vec<T>>>()?,
            None => self.fetch(sql, params, decode).await?,
        };
        if rows.len() > 1 {
            return Err(StoreError::Corrupt(format!(
                "{} rows where one was expected: {sql}",
                rows.len()
            )));
        }
        Ok(rows.pop())
    }
}
