//! Every route, registered with its OpenAPI description, and [`ROUTES`]: the
//! permission each one needs (the permission-matrix test is generated from it).

pub mod approvals;
pub mod events;
pub mod forms;
pub mod holidays;
pub mod hosts;
pub mod instances;
pub mod languages;
pub mod node_logs;
pub mod nodes;
pub mod package;
pub mod processes;
pub mod reports;
pub mod resources;
pub mod schedules;
pub mod session;
pub mod system;
pub mod task_files;
pub mod task_helpers;
pub mod tasks;
pub mod terminals;
pub mod views;
pub mod wechat;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::perm::{Function, Level};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No sign-in (login, health).
    Anonymous,
    /// Any signed-in user (their own session, tokens, password).
    SignedIn,
    /// This permission in the caller's company.
    Needs(Function, Level),
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    /// OpenAPI path template (`{id}`).
    pub path: &'static str,
    pub access: Access,
}

const fn r(method: &'static str, path: &'static str, access: Access) -> Route {
    Route {
        method,
        path,
        access,
    }
}

use Access::{Anonymous, Needs, SignedIn};
use Function as F;
use Level::{Manage, View};

/// Every API route and the permission it checks.
pub const ROUTES: &[Route] = &[
    r("GET", "/api/v1/health", Anonymous),
    r("POST", "/api/v1/auth/login", Anonymous),
    r("POST", "/api/v1/auth/logout", SignedIn),
    r("GET", "/api/v1/auth/me", SignedIn),
    r("POST", "/api/v1/auth/password", SignedIn),
    r("GET", "/api/v1/auth/tokens", SignedIn),
    r("POST", "/api/v1/auth/tokens", SignedIn),
    r("DELETE", "/api/v1/auth/tokens/{id}", SignedIn),
    r("GET", "/api/v1/auth/wechat", SignedIn),
    r("DELETE", "/api/v1/auth/wechat", SignedIn),
    r("GET", "/api/v1/wechat/entry", Anonymous),
    r("GET", "/api/v1/wechat/callback", Anonymous),
    r("POST", "/api/v1/wechat/bind", Anonymous),
    r("GET", "/api/v1/companies", Needs(F::Companies, View)),
    r("POST", "/api/v1/companies", Needs(F::Companies, Manage)),
    r("GET", "/api/v1/companies/{id}", Needs(F::Companies, View)),
    r("PUT", "/api/v1/companies/{id}", Needs(F::Companies, Manage)),
    r(
        "DELETE",
        "/api/v1/companies/{id}",
        Needs(F::Companies, Manage),
    ),
    r("GET", "/api/v1/users", Needs(F::Users, View)),
    r("POST", "/api/v1/users", Needs(F::Users, Manage)),
    r("GET", "/api/v1/users/{id}", Needs(F::Users, View)),
    r("PUT", "/api/v1/users/{id}", Needs(F::Users, Manage)),
    r("DELETE", "/api/v1/users/{id}", Needs(F::Users, Manage)),
    r(
        "DELETE",
        "/api/v1/users/{id}/wechat",
        Needs(F::Users, Manage),
    ),
    r("GET", "/api/v1/groups", Needs(F::Users, View)),
    r("POST", "/api/v1/groups", Needs(F::Users, Manage)),
    r("GET", "/api/v1/groups/{id}", Needs(F::Users, View)),
    r("PUT", "/api/v1/groups/{id}", Needs(F::Users, Manage)),
    r("DELETE", "/api/v1/groups/{id}", Needs(F::Users, Manage)),
    r("GET", "/api/v1/audit", Needs(F::Users, View)),
    r("POST", "/api/v1/processes", Needs(F::Editor, Manage)),
    r("GET", "/api/v1/processes", Needs(F::Editor, View)),
    r("GET", "/api/v1/node-types", Needs(F::Editor, View)),
    r(
        "GET",
        "/api/v1/processes/{key}/diff",
        Needs(F::Editor, View),
    ),
    r(
        "DELETE",
        "/api/v1/processes/{key}/versions/{version}",
        Needs(F::Editor, Manage),
    ),
    r(
        "GET",
        "/api/v1/processes/{key}/versions/{version}",
        Needs(F::Editor, View),
    ),
    r("POST", "/api/v1/instances", Needs(F::Monitor, Manage)),
    r("POST", "/api/v1/conditions", Needs(F::Monitor, Manage)),
    r("GET", "/api/v1/instances", Needs(F::Monitor, View)),
    r("GET", "/api/v1/instances/{id}", Needs(F::Monitor, View)),
    r(
        "POST",
        "/api/v1/instances/{id}/pause",
        Needs(F::Monitor, Manage),
    ),
    r(
        "POST",
        "/api/v1/instances/{id}/resume",
        Needs(F::Monitor, Manage),
    ),
    r(
        "POST",
        "/api/v1/instances/{id}/terminate",
        Needs(F::Monitor, Manage),
    ),
    r(
        "POST",
        "/api/v1/instances/{id}/retry",
        Needs(F::Monitor, Manage),
    ),
    r(
        "POST",
        "/api/v1/instances/{id}/skip",
        Needs(F::Monitor, Manage),
    ),
    r(
        "GET",
        "/api/v1/instances/{id}/nodes/{element}/logs",
        Needs(F::Monitor, View),
    ),
    r(
        "GET",
        "/api/v1/instances/{id}/nodes/{element}/logs/stream",
        Needs(F::Monitor, View),
    ),
    r("GET", "/api/v1/events", Needs(F::Monitor, View)),
    r("GET", "/api/v1/tasks", Needs(F::Tasks, View)),
    r("POST", "/api/v1/tasks/{id}/link", Needs(F::Tasks, Manage)),
    r("GET", "/api/v1/approvals/{token}", Anonymous),
    r("POST", "/api/v1/approvals/{token}/complete", Anonymous),
    r("GET", "/api/v1/tasks/{id}", Needs(F::Tasks, View)),
    r("POST", "/api/v1/tasks/{id}/claim", Needs(F::Tasks, Manage)),
    r(
        "POST",
        "/api/v1/tasks/{id}/delegate",
        Needs(F::Tasks, Manage),
    ),
    r(
        "POST",
        "/api/v1/tasks/{id}/complete",
        Needs(F::Tasks, Manage),
    ),
    r(
        "POST",
        "/api/v1/tasks/{id}/helpers",
        Needs(F::Tasks, Manage),
    ),
    r(
        "DELETE",
        "/api/v1/tasks/{id}/helpers/{user}",
        Needs(F::Tasks, Manage),
    ),
    r("PUT", "/api/v1/tasks/{id}/due", Needs(F::Tasks, Manage)),
    r("POST", "/api/v1/tasks/{id}/files", Needs(F::Tasks, Manage)),
    r(
        "GET",
        "/api/v1/tasks/{id}/files/{fileId}",
        Needs(F::Tasks, View),
    ),
    r(
        "DELETE",
        "/api/v1/tasks/{id}/files/{fileId}",
        Needs(F::Tasks, Manage),
    ),
    r("POST", "/api/v1/approvals/{token}/files", Anonymous),
    r(
        "GET",
        "/api/v1/instances/{id}/files/{fileId}",
        Needs(F::Monitor, View),
    ),
    r(
        "POST",
        "/api/v1/schedules/preview",
        Needs(F::Schedules, View),
    ),
    r("GET", "/api/v1/schedules", Needs(F::Schedules, View)),
    r("POST", "/api/v1/schedules", Needs(F::Schedules, Manage)),
    r("GET", "/api/v1/schedules/{id}", Needs(F::Schedules, View)),
    r("PUT", "/api/v1/schedules/{id}", Needs(F::Schedules, Manage)),
    r(
        "DELETE",
        "/api/v1/schedules/{id}",
        Needs(F::Schedules, Manage),
    ),
    r("GET", "/api/v1/globals", Needs(F::Globals, View)),
    r("PUT", "/api/v1/globals/{name}", Needs(F::Globals, Manage)),
    r(
        "DELETE",
        "/api/v1/globals/{name}",
        Needs(F::Globals, Manage),
    ),
    r("GET", "/api/v1/scripts", Needs(F::Scripts, View)),
    r("POST", "/api/v1/scripts", Needs(F::Scripts, Manage)),
    r("GET", "/api/v1/scripts/{id}", Needs(F::Scripts, View)),
    r("PUT", "/api/v1/scripts/{id}", Needs(F::Scripts, Manage)),
    r("DELETE", "/api/v1/scripts/{id}", Needs(F::Scripts, Manage)),
    r("GET", "/api/v1/data-sources", Needs(F::DataSources, View)),
    r(
        "POST",
        "/api/v1/data-sources",
        Needs(F::DataSources, Manage),
    ),
    r(
        "GET",
        "/api/v1/data-sources/{id}",
        Needs(F::DataSources, View),
    ),
    r(
        "PUT",
        "/api/v1/data-sources/{id}",
        Needs(F::DataSources, Manage),
    ),
    r(
        "DELETE",
        "/api/v1/data-sources/{id}",
        Needs(F::DataSources, Manage),
    ),
    r(
        "POST",
        "/api/v1/data-sources/{id}/test",
        Needs(F::DataSources, View),
    ),
    r("GET", "/api/v1/forms", Needs(F::Forms, View)),
    r("POST", "/api/v1/forms", Needs(F::Forms, Manage)),
    r("GET", "/api/v1/forms/{id}", Needs(F::Forms, View)),
    r("PUT", "/api/v1/forms/{id}", Needs(F::Forms, Manage)),
    r("DELETE", "/api/v1/forms/{id}", Needs(F::Forms, Manage)),
    r("GET", "/api/v1/holidays", Needs(F::Holidays, View)),
    r("POST", "/api/v1/holidays", Needs(F::Holidays, Manage)),
    r("GET", "/api/v1/holidays/{id}", Needs(F::Holidays, View)),
    r("PUT", "/api/v1/holidays/{id}", Needs(F::Holidays, Manage)),
    r(
        "DELETE",
        "/api/v1/holidays/{id}",
        Needs(F::Holidays, Manage),
    ),
    r("GET", "/api/v1/languages", Needs(F::Languages, View)),
    r("GET", "/api/v1/ui-languages", SignedIn),
    r("POST", "/api/v1/languages", Needs(F::Languages, Manage)),
    r("GET", "/api/v1/languages/{code}", Needs(F::Languages, View)),
    r(
        "PUT",
        "/api/v1/languages/{code}",
        Needs(F::Languages, Manage),
    ),
    r(
        "DELETE",
        "/api/v1/languages/{code}",
        Needs(F::Languages, Manage),
    ),
    r(
        "GET",
        "/api/v1/report-templates",
        Needs(F::ReportTemplates, View),
    ),
    r(
        "POST",
        "/api/v1/report-templates",
        Needs(F::ReportTemplates, Manage),
    ),
    r(
        "GET",
        "/api/v1/report-templates/{id}",
        Needs(F::ReportTemplates, View),
    ),
    r(
        "PUT",
        "/api/v1/report-templates/{id}",
        Needs(F::ReportTemplates, Manage),
    ),
    r(
        "DELETE",
        "/api/v1/report-templates/{id}",
        Needs(F::ReportTemplates, Manage),
    ),
    r(
        "GET",
        "/api/v1/report-templates/{id}/file",
        Needs(F::ReportTemplates, View),
    ),
    r("GET", "/api/v1/reports", Needs(F::ReportData, View)),
    r(
        "GET",
        "/api/v1/reports/{id}/file",
        Needs(F::ReportData, View),
    ),
    r("GET", "/api/v1/host-groups", Needs(F::Hosts, View)),
    r("POST", "/api/v1/host-groups", Needs(F::Hosts, Manage)),
    r("PUT", "/api/v1/host-groups/{id}", Needs(F::Hosts, Manage)),
    r(
        "DELETE",
        "/api/v1/host-groups/{id}",
        Needs(F::Hosts, Manage),
    ),
    r("GET", "/api/v1/hosts", Needs(F::Hosts, View)),
    r("POST", "/api/v1/hosts", Needs(F::Hosts, Manage)),
    r("GET", "/api/v1/hosts/{id}", Needs(F::Hosts, View)),
    r("PUT", "/api/v1/hosts/{id}", Needs(F::Hosts, Manage)),
    r("DELETE", "/api/v1/hosts/{id}", Needs(F::Hosts, Manage)),
    r("PUT", "/api/v1/hosts/{id}/backups", Needs(F::Hosts, Manage)),
    r("POST", "/api/v1/hosts/{id}/token", Needs(F::Hosts, Manage)),
    r(
        "DELETE",
        "/api/v1/hosts/{id}/token",
        Needs(F::Hosts, Manage),
    ),
    r("GET", "/api/v1/hosts/{id}/package", Needs(F::Hosts, Manage)),
    r("GET", "/api/v1/failovers", Needs(F::Hosts, View)),
    r("GET", "/api/v1/terminals", Needs(F::Hosts, View)),
    r("POST", "/api/v1/terminals", Needs(F::Hosts, Manage)),
    r("GET", "/api/v1/terminals/{id}", Needs(F::Hosts, View)),
    r("PUT", "/api/v1/terminals/{id}", Needs(F::Hosts, Manage)),
    r("DELETE", "/api/v1/terminals/{id}", Needs(F::Hosts, Manage)),
    r(
        "POST",
        "/api/v1/terminals/{id}/accounts",
        Needs(F::Hosts, Manage),
    ),
    r(
        "PUT",
        "/api/v1/terminals/{id}/accounts/{accountId}",
        Needs(F::Hosts, Manage),
    ),
    r(
        "DELETE",
        "/api/v1/terminals/{id}/accounts/{accountId}",
        Needs(F::Hosts, Manage),
    ),
];

pub fn register(r: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    r.routes(routes!(health))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::me))
        .routes(routes!(session::change_password))
        .routes(routes!(session::list_tokens, session::create_token))
        .routes(routes!(session::delete_token))
        .routes(routes!(wechat::my_binding, wechat::unbind_mine))
        .routes(routes!(wechat::entry))
        .routes(routes!(wechat::callback))
        .routes(routes!(wechat::bind))
        .routes(routes!(wechat::unbind_user))
        .routes(routes!(system::list_companies, system::create_company))
        .routes(routes!(
            system::get_company,
            system::update_company,
            system::delete_company
        ))
        .routes(routes!(system::list_users, system::create_user))
        .routes(routes!(
            system::get_user,
            system::update_user,
            system::delete_user
        ))
        .routes(routes!(system::list_groups, system::create_group))
        .routes(routes!(
            system::get_group,
            system::update_group,
            system::delete_group
        ))
        .routes(routes!(system::list_audit))
        .routes(routes!(processes::deploy, processes::list_processes))
        .routes(routes!(nodes::list_node_types))
        .routes(routes!(processes::diff_versions))
        .routes(routes!(instances::evaluate_conditions))
        .routes(routes!(processes::get_version, processes::delete_version))
        .routes(routes!(instances::start, instances::list_instances))
        .routes(routes!(instances::get_instance))
        .routes(routes!(instances::terminate))
        .routes(routes!(instances::pause))
        .routes(routes!(instances::resume))
        .routes(routes!(instances::retry))
        .routes(routes!(instances::skip))
        .routes(routes!(node_logs::node_logs))
        .routes(routes!(node_logs::follow_node_logs))
        .routes(routes!(events::events))
        .routes(routes!(approvals::issue_link))
        .routes(routes!(approvals::open_link))
        .routes(routes!(approvals::complete_link))
        .routes(routes!(tasks::list_tasks))
        .routes(routes!(tasks::get_task))
        .routes(routes!(tasks::claim))
        .routes(routes!(tasks::delegate))
        .routes(routes!(tasks::complete))
        .routes(routes!(task_helpers::add_helper))
        .routes(routes!(task_helpers::remove_helper))
        .routes(routes!(task_helpers::set_due))
        .routes(routes!(task_files::upload_task_file))
        .routes(routes!(
            task_files::download_task_file,
            task_files::delete_task_file
        ))
        .routes(routes!(task_files::upload_approval_file))
        .routes(routes!(task_files::download_instance_file))
        .routes(routes!(schedules::preview))
        .routes(routes!(schedules::list, schedules::create))
        .routes(routes!(
            schedules::get,
            schedules::update,
            schedules::delete
        ))
        .routes(routes!(resources::list_globals))
        .routes(routes!(resources::put_global, resources::delete_global))
        .routes(routes!(resources::list_scripts, resources::create_script))
        .routes(routes!(
            resources::get_script,
            resources::update_script,
            resources::delete_script
        ))
        .routes(routes!(
            resources::list_data_sources,
            resources::create_data_source
        ))
        .routes(routes!(
            resources::get_data_source,
            resources::update_data_source,
            resources::delete_data_source
        ))
        .routes(routes!(resources::test_data_source))
        .routes(routes!(forms::list_forms, forms::create_form))
        .routes(routes!(
            forms::get_form,
            forms::update_form,
            forms::delete_form
        ))
        .routes(routes!(holidays::list_holidays, holidays::create_holiday))
        .routes(routes!(
            holidays::get_holiday,
            holidays::update_holiday,
            holidays::delete_holiday
        ))
        .routes(routes!(
            languages::list_languages,
            languages::create_language
        ))
        .routes(routes!(languages::ui_languages))
        .routes(routes!(
            languages::get_language,
            languages::update_language,
            languages::delete_language
        ))
        .routes(routes!(reports::list_templates, reports::upload_template))
        .routes(routes!(
            reports::get_template,
            reports::replace_template,
            reports::delete_template
        ))
        .routes(routes!(reports::download_template))
        .routes(routes!(reports::list_reports))
        .routes(routes!(reports::download_report))
        .routes(routes!(hosts::list_groups, hosts::create_group))
        .routes(routes!(hosts::update_group, hosts::delete_group))
        .routes(routes!(hosts::list_hosts, hosts::create_host))
        .routes(routes!(
            hosts::get_host,
            hosts::update_host,
            hosts::delete_host
        ))
        .routes(routes!(hosts::set_backups))
        .routes(routes!(hosts::reissue_token, hosts::revoke_token))
        .routes(routes!(package::download_package))
        .routes(routes!(hosts::list_failovers))
        .routes(routes!(
            terminals::list_terminals,
            terminals::create_terminal
        ))
        .routes(routes!(
            terminals::get_terminal,
            terminals::update_terminal,
            terminals::delete_terminal
        ))
        .routes(routes!(terminals::create_account))
        .routes(routes!(
            terminals::update_account,
            terminals::delete_account
        ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub store: String,
    /// Instances by status.
    #[schema(value_type = Object)]
    pub instances: std::collections::BTreeMap<String, i64>,
}

/// Liveness and instance counts (no sign-in).
#[utoipa::path(get, path = "/api/v1/health", tag = "system", responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    let store = format!("{:?}", state.store.dialect()).to_lowercase();
    Json(match state.store.count_instances_by_status().await {
        Ok(c) => Health {
            status: "ok",
            store,
            instances: c.into_iter().collect(),
        },
        Err(e) => {
            tracing::warn!("health: {e}");
            Health {
                status: "degraded",
                store,
                instances: Default::default(),
            }
        }
    })
}
