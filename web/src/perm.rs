//! Permissions: the fifteen functions of SPEC.md §2 in their four modules;
//! groups grant `none`, `view` or `manage` on each; a user's grants are the
//! highest any of its groups gives. A company admin manages every function
//! of its company; only an admin of the root company manages companies.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The four modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Module {
    Process,
    Report,
    Resource,
    System,
}

/// The fifteen functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Function {
    Editor,
    Monitor,
    Tasks,
    Schedules,
    ReportTemplates,
    ReportData,
    Scripts,
    DataSources,
    Forms,
    Globals,
    Companies,
    Users,
    Hosts,
    Holidays,
    Languages,
}

impl Function {
    pub const ALL: [Function; 15] = [
        Function::Editor,
        Function::Monitor,
        Function::Tasks,
        Function::Schedules,
        Function::ReportTemplates,
        Function::ReportData,
        Function::Scripts,
        Function::DataSources,
        Function::Forms,
        Function::Globals,
        Function::Companies,
        Function::Users,
        Function::Hosts,
        Function::Holidays,
        Function::Languages,
    ];

    /// The name used in group permissions and error messages.
    pub fn key(self) -> &'static str {
        match self {
            Function::Editor => "editor",
            Function::Monitor => "monitor",
            Function::Tasks => "tasks",
            Function::Schedules => "schedules",
            Function::ReportTemplates => "reportTemplates",
            Function::ReportData => "reportData",
            Function::Scripts => "scripts",
            Function::DataSources => "dataSources",
            Function::Forms => "forms",
            Function::Globals => "globals",
            Function::Companies => "companies",
            Function::Users => "users",
            Function::Hosts => "hosts",
            Function::Holidays => "holidays",
            Function::Languages => "languages",
        }
    }

    pub fn from_key(s: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.key() == s)
    }

    pub fn module(self) -> Module {
        use Function::*;
        match self {
            Editor | Monitor | Tasks | Schedules => Module::Process,
            ReportTemplates | ReportData => Module::Report,
            Scripts | DataSources | Forms | Globals => Module::Resource,
            Companies | Users | Hosts | Holidays | Languages => Module::System,
        }
    }
}

/// How much a grant allows; ordered.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Level {
    None,
    View,
    Manage,
}

impl Level {
    pub fn key(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::View => "view",
            Level::Manage => "manage",
        }
    }

    pub fn from_key(s: &str) -> Option<Level> {
        match s {
            "none" => Some(Level::None),
            "view" => Some(Level::View),
            "manage" => Some(Level::Manage),
            _ => None,
        }
    }
}

/// A user's effective grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants(HashMap<Function, Level>);

impl Grants {
    /// Everything (a company admin).
    pub fn all() -> Grants {
        Grants(
            Function::ALL
                .into_iter()
                .map(|f| (f, Level::Manage))
                .collect(),
        )
    }

    /// The highest grant each function gets from any of the groups' permission maps.
    pub fn from_groups<'a>(groups: impl IntoIterator<Item = &'a Map<String, Value>>) -> Grants {
        let mut g = Grants::default();
        for perms in groups {
            for (k, v) in perms {
                if let (Some(f), Some(l)) =
                    (Function::from_key(k), v.as_str().and_then(Level::from_key))
                {
                    let e = g.0.entry(f).or_insert(Level::None);
                    *e = (*e).max(l);
                }
            }
        }
        g
    }

    pub fn level(&self, f: Function) -> Level {
        self.0.get(&f).copied().unwrap_or(Level::None)
    }

    pub fn allows(&self, f: Function, l: Level) -> bool {
        self.level(f) >= l
    }

    /// `{"editor": "manage", ...}` for every function.
    pub fn to_json(&self) -> Map<String, Value> {
        Function::ALL
            .into_iter()
            .map(|f| (f.key().to_owned(), Value::from(self.level(f).key())))
            .collect()
    }
}

/// A group's permission map checked: known functions, known levels.
pub fn check_permissions(perms: &Map<String, Value>) -> Result<(), String> {
    for (k, v) in perms {
        if Function::from_key(k).is_none() {
            return Err(format!(
                "`{k}` is not a function (one of {})",
                Function::ALL.map(Function::key).join(", ")
            ));
        }
        if v.as_str().and_then(Level::from_key).is_none() {
            return Err(format!("`{k}`: {v} is not none, view or manage"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fifteen_functions_in_four_modules() {
        assert_eq!(Function::ALL.len(), 15);
        for f in Function::ALL {
            assert_eq!(Function::from_key(f.key()), Some(f));
        }
        let system = Function::ALL
            .iter()
            .filter(|f| f.module() == Module::System)
            .count();
        assert_eq!(system, 5);
    }

    #[test]
    fn the_highest_grant_wins() {
        let a = json!({"editor": "view", "users": "manage"});
        let b = json!({"editor": "manage", "users": "none", "monitor": "view"});
        let g = Grants::from_groups([a.as_object().unwrap(), b.as_object().unwrap()]);
        assert_eq!(g.level(Function::Editor), Level::Manage);
        assert_eq!(g.level(Function::Users), Level::Manage);
        assert_eq!(g.level(Function::Monitor), Level::View);
        assert_eq!(g.level(Function::Hosts), Level::None);
        assert!(g.allows(Function::Monitor, Level::View));
        assert!(!g.allows(Function::Monitor, Level::Manage));
    }

    #[test]
    fn permission_maps_are_checked() {
        assert!(check_permissions(json!({"editor": "view"}).as_object().unwrap()).is_ok());
        assert!(check_permissions(json!({"edit": "view"}).as_object().unwrap()).is_err());
        assert!(check_permissions(json!({"editor": "all"}).as_object().unwrap()).is_err());
        assert!(check_permissions(json!({"editor": 1}).as_object().unwrap()).is_err());
    }
}
