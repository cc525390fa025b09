//! One node's log lines, for the monitor: the lines of every job an element
//! of an instance ran (each activity instance, multi-instance body and
//! attempt), read by a cursor on `seq` so a client can page and follow.
//!
//! An element's jobs are found through its `started` history rows: a job is
//! keyed `instance:exec` and each run of an activity has its own `exec`.

use super::Store;
use super::error::Result;
use super::resources::JobLogRow;
use super::sql::Sql;

impl Store {
    /// The log lines of `element_id`'s jobs in `instance_id` whose `seq` is
    /// above `after`, in `seq` order, at most `limit`. `seq` is a
    /// microsecond clock made strictly increasing by each log writer, so the
    /// order is the order the lines were written in.
    pub async fn node_logs(
        &self,
        instance_id: &str,
        element_id: &str,
        after: i64,
        limit: u64,
    ) -> Result<Vec<JobLogRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "SELECT job_id, attempt, seq, at, stream, line FROM job_logs WHERE job_id IN \
             (SELECT instance_id || ':' || CAST(exec AS TEXT) FROM history WHERE instance_id = ",
        )
        .bind(instance_id.to_owned())
        .push(" AND element_id = ")
        .bind(element_id.to_owned())
        .push(" AND kind = 'started') AND seq > ")
        .bind(after)
        .push(" ORDER BY seq, job_id, attempt LIMIT ")
        .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        self.log_rows(sql).await
    }

    /// Whether `element_id` of `instance_id` has a job now (waiting, running
    /// or held): its log may still grow.
    pub async fn node_has_job(&self, instance_id: &str, element_id: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT 1 FROM jobs WHERE instance_id = ")
            .bind(instance_id.to_owned())
            .push(" AND element_id = ")
            .bind(element_id.to_owned())
            .push(" LIMIT 1");
        Ok(!self.rows(sql, "node jobs").await?.is_empty())
    }
}
