//! Row mapping of definitions, instances and their history.

use sea_orm::{DbErr, QueryResult, Value};

use super::Decode;
use crate::store::read::{DefinitionSummary, InstanceSummary};
use crate::store::rows::{DefinitionRow, HistoryRow, InstanceRow};
use crate::store::sql::Insert;

const DEFINITION: &[&str] = &["id", "key", "version", "name", "xml", "hash", "deployed_at"];

impl Insert for DefinitionRow {
    const TABLE: &'static str = "definitions";
    const COLUMNS: &'static [&'static str] = DEFINITION;
    fn bind_values(&self, out: &mut Vec<Value>) {
        out.extend([
            self.id.clone().into(),
            self.key.clone().into(),
            self.version.into(),
            self.name.clone().into(),
            self.xml.clone().into(),
            self.hash.clone().into(),
            self.deployed_at.into(),
        ]);
    }
}

impl Decode for DefinitionRow {
    const COLUMNS: &'static [&'static str] = DEFINITION;
    fn decode(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(DefinitionRow {
            id: r.try_get_by_index(0)?,
            key: r.try_get_by_index(1)?,
            version: r.try_get_by_index(2)?,
            name: r.try_get_by_index(3)?,
            xml: r.try_get_by_index(4)?,
            hash: r.try_get_by_index(5)?,
            deployed_at: r.try_get_by_index(6)?,
        })
    }
}

impl Decode for DefinitionSummary {
    const COLUMNS: &'static [&'static str] =
        &["id", "key", "version", "name", "hash", "deployed_at"];
    fn decode(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(DefinitionSummary {
            id: r.try_get_by_index(0)?,
            key: r.try_get_by_index(1)?,
            version: r.try_get_by_index(2)?,
            name: r.try_get_by_index(3)?,
            hash: r.try_get_by_index(4)?,
            deployed_at: r.try_get_by_index(5)?,
        })
    }
}

const INSTANCE: &[&str] = &[
    "id",
    "definition_id",
    "process_id",
    "status",
    "state",
    "business_key",
    "start_way",
    "parent_instance",
    "parent_exec",
    "started_at",
    "ended_at",
    "version",
];

impl Insert for InstanceRow {
    const TABLE: &'static str = "instances";
    const COLUMNS: &'static [&'static str] = INSTANCE;
    fn bind_values(&self, out: &mut Vec<Value>) {
        out.push(self.id.clone().into());
        bind_instance_fields(self, out);
    }
}

/// Every instance column but `id`, in [`INSTANCE`] order.
pub(crate) fn bind_instance_fields(row: &InstanceRow, out: &mut Vec<Value>) {
    out.extend([
        row.definition_id.clone().into(),
        row.process_id.clone().into(),
        row.status.clone().into(),
        row.state.clone().into(),
        row.business_key.clone().into(),
        row.start_way.clone().into(),
        row.parent_instance.clone().into(),
        row.parent_exec.into(),
        row.started_at.into(),
        row.ended_at.into(),
        row.version.into(),
    ]);
}

impl Decode for InstanceRow {
    const COLUMNS: &'static [&'static str] = INSTANCE;
    fn decode(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(InstanceRow {
            id: r.try_get_by_index(0)?,
            definition_id: r.try_get_by_index(1)?,
            process_id: r.try_get_by_index(2)?,
            status: r.try_get_by_index(3)?,
            state: r.try_get_by_index(4)?,
            business_key: r.try_get_by_index(5)?,
            start_way: r.try_get_by_index(6)?,
            parent_instance: r.try_get_by_index(7)?,
            parent_exec: r.try_get_by_index(8)?,
            started_at: r.try_get_by_index(9)?,
            ended_at: r.try_get_by_index(10)?,
            version: r.try_get_by_index(11)?,
        })
    }
}

impl Decode for InstanceSummary {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "definition_id",
        "process_id",
        "status",
        "business_key",
        "start_way",
        "parent_instance",
        "parent_exec",
        "started_at",
        "ended_at",
        "version",
    ];
    fn decode(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(InstanceSummary {
            id: r.try_get_by_index(0)?,
            definition_id: r.try_get_by_index(1)?,
            process_id: r.try_get_by_index(2)?,
            status: r.try_get_by_index(3)?,
            business_key: r.try_get_by_index(4)?,
            start_way: r.try_get_by_index(5)?,
            parent_instance: r.try_get_by_index(6)?,
            parent_exec: r.try_get_by_index(7)?,
            started_at: r.try_get_by_index(8)?,
            ended_at: r.try_get_by_index(9)?,
            version: r.try_get_by_index(10)?,
        })
    }
}

const HISTORY: &[&str] = &[
    "instance_id",
    "seq",
    "exec",
    "element_id",
    "kind",
    "data",
    "at",
];

impl Insert for HistoryRow {
    const TABLE: &'static str = "history";
    const COLUMNS: &'static [&'static str] = HISTORY;
    fn bind_values(&self, out: &mut Vec<Value>) {
        out.extend([
            self.instance_id.clone().into(),
            self.seq.into(),
            self.exec.into(),
            self.element_id.clone().into(),
            self.kind.clone().into(),
            self.data.clone().into(),
            self.at.into(),
        ]);
    }
}

impl Decode for HistoryRow {
    const COLUMNS: &'static [&'static str] = HISTORY;
    fn decode(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(HistoryRow {
            instance_id: r.try_get_by_index(0)?,
            seq: r.try_get_by_index(1)?,
            exec: r.try_get_by_index(2)?,
            element_id: r.try_get_by_index(3)?,
            kind: r.try_get_by_index(4)?,
            data: r.try_get_by_index(5)?,
            at: r.try_get_by_index(6)?,
        })
    }
}
