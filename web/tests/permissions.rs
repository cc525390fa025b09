//! The permission matrix, generated from `baton_web::ROUTES`: every route ×
//! (anonymous, no permission, view, manage, admin, another company's admin)
//! gives the expected answer — 401, 403, 404 for another company's object,
//! or through the gate (any other status below 500). Each cell runs on a
//! fresh store (SQLite file) seeded with two companies and their objects, so
//! one cell's changes cannot pass or fail another. No response anywhere
//! contains a stored secret. Plus the completeness check: every operation in
//! the OpenAPI document is in the table and the other way round.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use axum::http::StatusCode;
use baton_runtime::store::*;
use baton_web::auth::{hash_password, sha256_hex};
use baton_web::perm::{Function, Level};
use baton_web::routes::Access;
use baton_web::{AppState, ROUTES};
use http_body_util::BodyExt;
use serde_json::json;

use common::TempDir;

const PASSWORD: &str = "Matrix-pass-123";
const DS_SECRET: &str = "S3cret-datasource-pw";
const WECHAT_SECRET: &str = "S3cret-wechat-appsecret";
const TERMINAL_SECRET: &str = "S3cret-terminal-pw";
const TEMPLATE: &[u8] = include_bytes!("../../templates/reports/lwams-example.xlsx");
/// A process whose instances wait (the engine here is a client: it runs no job).
const PROCESS: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="pd" targetNamespace="t">
  <process id="p" isExecutable="true"><startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="w"/>
  <serviceTask id="w" baton:type="noop"/><sequenceFlow id="f2" sourceRef="w" targetRef="e"/><endEvent id="e"/></process>
</definitions>"#;

/// A process with an approval assigned to the `manager` user.
const TASK_PROCESS: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="td" targetNamespace="t">
  <process id="pt" isExecutable="true" baton:owner="tests"><startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="u"/>
  <userTask id="u" baton:assignee="manager" baton:candidateGroups="g-manage" baton:formKey="form-a"/><sequenceFlow id="f2" sourceRef="u" targetRef="e"/><endEvent id="e"/></process>
</definitions>"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    NoPermission,
    Viewer,
    Manager,
    Admin,
    OtherCompany,
}

const ROLES: [Role; 6] = [
    Role::Anonymous,
    Role::NoPermission,
    Role::Viewer,
    Role::Manager,
    Role::Admin,
    Role::OtherCompany,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Unauthenticated,
    Forbidden,
    NotFound,
    Through,
}

/// What `role` must get from `route`.
fn expect(route: &baton_web::routes::Route, role: Role) -> Expect {
    let on_object = route.path.contains('{');
    match (route.access, role) {
        (Access::Anonymous, _) => Expect::Through,
        (_, Role::Anonymous) => Expect::Unauthenticated,
        // Only the root company's admins manage companies, whichever it is.
        (Access::Needs(Function::Companies, Level::Manage), r) => {
            if r == Role::Admin {
                Expect::Through
            } else {
                Expect::Forbidden
            }
        }
        // Another company's object is invisible; its own lists show only its own.
        (_, Role::OtherCompany) if on_object => {
            // PUT of a global by name creates the caller's own variable.
            if route.method == "PUT" && route.path.ends_with("{name}") {
                Expect::Through
            } else {
                Expect::NotFound
            }
        }
        (Access::SignedIn, _) => Expect::Through,
        (Access::Needs(_, level), r) => {
            let has = match r {
                Role::NoPermission => Level::None,
                Role::Viewer => Level::View,
                _ => Level::Manage,
            };
            if has >= level {
                Expect::Through
            } else {
                Expect::Forbidden
            }
        }
    }
}

/// Ids of company A's objects (the ones routes with `{id}` name).
struct Seeded {
    state: AppState,
    /// Company A's running instance.
    instance: String,
    /// Company A's open user task (assigned to `manager`).
    task: String,
    tokens: std::collections::HashMap<&'static str, String>,
    a_ids: Vec<String>,
    _dir: TempDir,
}

fn hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password(PASSWORD).unwrap())
}

fn user(id: &str, company: &str, admin: bool) -> UserRow {
    UserRow {
        id: id.into(),
        company_id: company.into(),
        username: id.into(),
        name: id.into(),
        email: format!("{id}@example.com"),
        phone: String::new(),
        password_hash: hash().to_owned(),
        admin,
        submanager_login: false,
        must_change_password: false,
        disabled: false,
        created_at: 1,
        updated_at: 1,
    }
}

fn all_at(level: &str) -> serde_json::Map<String, serde_json::Value> {
    Function::ALL
        .iter()
        .map(|f| (f.key().to_owned(), json!(level)))
        .collect()
}

/// `relay`: with a relay hub (the package download needs one).
async fn seed(n: usize, relay: bool) -> Seeded {
    let dir = TempDir::new(&format!("matrix-{n}"));
    std::fs::create_dir_all(dir.join("data/reports/default")).unwrap();
    let store = common::sqlite(&dir).await;
    let key = common::key();
    for (id, code) in [("default", "default"), ("other", "other")] {
        store
            .put_company(&CompanyRow {
                id: id.into(),
                code: code.into(),
                name: code.into(),
                wechat_appid: "wx1".into(),
                wechat_secret_enc: Some(key.encrypt(WECHAT_SECRET)),
                created_at: 1,
                updated_at: 1,
            })
            .await
            .unwrap();
    }
    let users = [
        ("nobody", "default", false),
        ("viewer", "default", false),
        ("manager", "default", false),
        ("admin", "default", true),
        ("b-admin", "other", true),
        ("target", "default", false),
        ("b-target", "other", false),
    ];
    for (id, company, admin) in users {
        store.put_user(&user(id, company, admin)).await.unwrap();
    }
    for (gid, company, level, member) in [
        ("g-view", "default", "view", "viewer"),
        ("g-manage", "default", "manage", "manager"),
        ("g-b", "other", "view", "b-target"),
    ] {
        store
            .put_group(&GroupRow {
                id: gid.into(),
                company_id: company.into(),
                name: gid.into(),
                permissions: all_at(level),
                comments: String::new(),
                updated_at: 1,
            })
            .await
            .unwrap();
        store.set_members(gid, &[member.to_owned()]).await.unwrap();
    }
    let mut tokens = std::collections::HashMap::new();
    for (role, uid) in [
        ("nobody", "nobody"),
        ("viewer", "viewer"),
        ("manager", "manager"),
        ("admin", "admin"),
        ("b-admin", "b-admin"),
        ("target", "target"),
    ] {
        let token = format!("baton_matrix_{uid}");
        store
            .insert_token(&TokenRow {
                id: format!("tok-{uid}"),
                hash: sha256_hex(&token),
                user_id: uid.into(),
                name: "matrix".into(),
                created_at: 1,
                expires_at: None,
                last_used_at: None,
            })
            .await
            .unwrap();
        tokens.insert(role, token);
    }
    for company in ["default", "other"] {
        let tag = if company == "default" { "a" } else { "b" };
        store
            .put_script(
                company,
                &baton_nodes::resources::Script {
                    id: format!("script-{tag}"),
                    name: format!("script-{tag}"),
                    language: "sh".into(),
                    content: "echo hi".into(),
                    comments: String::new(),
                },
            )
            .await
            .unwrap();
        store
            .put_data_source(&DataSourceRow {
                id: format!("ds-{tag}"),
                company_id: company.into(),
                name: format!("ds-{tag}"),
                url: "postgres://u@127.0.0.1:1/db".into(),
                username: Some("u".into()),
                password_enc: Some(key.encrypt(DS_SECRET)),
                comments: String::new(),
            })
            .await
            .unwrap();
        store
            .put_global(company, &format!("global_{tag}"), &json!(1), "")
            .await
            .unwrap();
        store
            .put_form(&FormRow {
                id: format!("form-{tag}"),
                company_id: company.into(),
                key: format!("form-{tag}"),
                name: format!("form-{tag}"),
                fields: json!([{"id": "ok", "label": "OK", "type": "switch"},
                               {"id": "att", "label": "Attachment", "type": "file"}]),
                comments: String::new(),
                updated_at: 1,
            })
            .await
            .unwrap();
        store
            .put_holiday_calendar(&HolidayCalendarRow {
                id: format!("hol-{tag}"),
                company_id: company.into(),
                calendar: baton_schedule::calendar::HolidayCalendar::from_json(&format!(
                    r#"{{"name": "hol-{tag}", "ranges": [{{"start": "2026-01-01", "end": "2026-01-01"}}]}}"#
                ))
                .unwrap(),
                updated_at: 1,
            })
            .await
            .unwrap();
        store
            .put_language(&LanguageRow {
                company_id: company.into(),
                code: if tag == "a" { "fr" } else { "de" }.into(),
                name: format!("lang-{tag}"),
                enabled: true,
                messages: Default::default(),
                updated_at: 1,
            })
            .await
            .unwrap();
        store
            .put_host_group(&HostGroupRow {
                id: format!("hg-{tag}"),
                company_id: company.into(),
                name: format!("hg-{tag}"),
                comments: String::new(),
            })
            .await
            .unwrap();
        store
            .put_host(&HostRow::new(
                &format!("host-{tag}"),
                company,
                &format!("host-{tag}"),
            ))
            .await
            .unwrap();
        store
            .put_terminal(
                company,
                &baton_nodes::resources::Terminal {
                    id: format!("term-{tag}"),
                    name: format!("term-{tag}"),
                    host_name: String::new(),
                    host_address: "10.0.0.1".into(),
                    port: 22,
                    connection_type: "ssh".into(),
                    os_name: String::new(),
                    os_version: String::new(),
                    comments: String::new(),
                    host_id: None,
                },
            )
            .await
            .unwrap();
        store
            .put_account(&AccountRow {
                id: format!("acct-{tag}"),
                terminal_id: format!("term-{tag}"),
                username: "ops".into(),
                auth_kind: "password".into(),
                secret_enc: key.encrypt(TERMINAL_SECRET),
                passphrase_enc: None,
                comments: String::new(),
            })
            .await
            .unwrap();
        store
            .put_report_template(
                &ReportTemplateRow {
                    id: format!("rt-{tag}"),
                    company_id: company.into(),
                    name: format!("rt-{tag}"),
                    file_name: "t.xlsx".into(),
                    placeholders: json!([]),
                    comments: String::new(),
                    updated_at: 1,
                },
                TEMPLATE,
            )
            .await
            .unwrap();
        let path = format!("reports/{company}/rd-{tag}.xlsx");
        std::fs::create_dir_all(dir.join("data").join(format!("reports/{company}"))).unwrap();
        std::fs::write(dir.join("data").join(&path), TEMPLATE).unwrap();
        store
            .insert_report_data(&ReportDataRow {
                id: format!("rd-{tag}"),
                company_id: company.into(),
                template_id: format!("rt-{tag}"),
                name: format!("rd-{tag}"),
                comments: String::new(),
                instance_id: "i1".into(),
                definition_key: "p".into(),
                element_id: "rep".into(),
                path,
                size: TEMPLATE.len() as i64,
                sha256: String::new(),
                created_at: 1,
            })
            .await
            .unwrap();
    }
    let engine = baton_runtime::engine::Engine::start(
        store.clone(),
        std::sync::Arc::new(baton_runtime::engine::SystemClock),
        std::sync::Arc::new(baton_runtime::handlers::Builtin::default()),
        baton_runtime::engine::Options {
            work: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    engine.deploy(PROCESS, Some("p")).await.unwrap();
    engine.deploy(PROCESS, Some("other/pb")).await.unwrap();
    let instance = engine
        .start_instance("p", Default::default(), "api")
        .await
        .unwrap();
    engine
        .start_instance("other/pb", Default::default(), "api")
        .await
        .unwrap();
    engine.deploy(TASK_PROCESS, Some("pt")).await.unwrap();
    engine
        .deploy(TASK_PROCESS, Some("other/ptb"))
        .await
        .unwrap();
    let with_task = engine
        .start_instance("pt", Default::default(), "api")
        .await
        .unwrap();
    engine
        .start_instance("other/ptb", Default::default(), "api")
        .await
        .unwrap();
    let task = store.tasks_of(&with_task).await.unwrap()[0].id.clone();
    // Files of a form's `file` field: company A's task's, A's instance's, B's.
    std::fs::create_dir_all(dir.join("data/task-files")).unwrap();
    for (id, company, task_id, instance_id) in [
        ("tf-a", "default", task.as_str(), with_task.as_str()),
        ("tfi-a", "default", "x:1", instance.as_str()),
        ("tf-b", "other", "y:1", "y"),
    ] {
        std::fs::write(dir.join("data/task-files").join(id), b"file").unwrap();
        store
            .insert_task_file(&TaskFileRow {
                id: id.into(),
                company_id: company.into(),
                task_id: task_id.into(),
                instance_id: instance_id.into(),
                name: format!("{id}.txt"),
                size: 4,
                content_type: "text/plain".into(),
                sha256: String::new(),
                path: format!("task-files/{id}"),
                created_by: "manager".into(),
                created_at: 1,
            })
            .await
            .unwrap();
    }
    for (id, key) in [("sched-a", "p"), ("sched-b", "other/pb")] {
        engine
            .save_schedule(ScheduleRow {
                id: id.into(),
                name: id.into(),
                process_key: key.into(),
                process_version: None,
                vars: Default::default(),
                spec: baton_schedule::ScheduleSpec::new("0 0 9 * * ?", "UTC").unwrap(),
                enabled: true,
                overlap: Overlap::Allow,
                next_fire_at: None,
                last_fired_at: None,
                last_instance: None,
                created_at: 0,
                updated_at: 0,
            })
            .await
            .unwrap();
    }
    let hub = relay.then(|| {
        let binary = dir.join("sub-manager-bin");
        std::fs::write(&binary, b"fake binary").unwrap();
        baton_web::relay::RelayHub::new(
            store.clone(),
            key.clone(),
            engine.clone(),
            baton_web::relay::RelayConfig {
                server: "matrix".into(),
                heartbeat: std::time::Duration::from_secs(10),
                lost_after: std::time::Duration::from_secs(3600),
                thresholds: Default::default(),
                lease: std::time::Duration::from_secs(60),
                poll: std::time::Duration::from_secs(1),
                window: 16,
                public_host: "relay.example.com".into(),
                public_port: 18443,
                binaries: [("linux".to_owned(), binary)].into(),
            },
            "00".repeat(32),
        )
    });
    let state = AppState::new(store, key, dir.join("data")).with_engine(engine);
    if let Some(hub) = hub {
        let _ = state.relay.set(hub);
    }
    let mut a_ids = [
        "default",
        "target",
        "g-view",
        "script-a",
        "ds-a",
        "global_a",
        "form-a",
        "hol-a",
        "fr",
        "rt-a",
        "rd-a",
        "tok-target",
        "hg-a",
        "host-a",
        "term-a",
        "acct-a",
    ]
    .map(str::to_owned)
    .to_vec();
    a_ids.extend([
        instance.clone(),
        "sched-a".to_owned(),
        task.clone(),
        "tf-a".to_owned(),
        "tfi-a".to_owned(),
    ]);
    Seeded {
        state,
        instance: instance.clone(),
        task,
        tokens,
        a_ids,
        _dir: dir,
    }
}

/// The path with company A's object for its parameter.
fn concrete(path: &str, instance: &str, task: &str) -> String {
    if path.starts_with("/api/v1/processes/") {
        let p = path.replace("{key}", "p").replace("{version}", "1");
        return if p.ends_with("/diff") {
            format!("{p}?from=1&to=1")
        } else {
            p
        };
    }
    let id = if path.starts_with("/api/v1/instances/") {
        instance
    } else if path.starts_with("/api/v1/tasks/") {
        task
    } else if path.starts_with("/api/v1/schedules/") {
        "sched-a"
    } else if path.starts_with("/api/v1/companies/") {
        "default"
    } else if path.starts_with("/api/v1/users/") {
        "target"
    } else if path.starts_with("/api/v1/groups/") {
        "g-view"
    } else if path.starts_with("/api/v1/scripts/") {
        "script-a"
    } else if path.starts_with("/api/v1/data-sources/") {
        "ds-a"
    } else if path.starts_with("/api/v1/globals/") {
        "global_a"
    } else if path.starts_with("/api/v1/forms/") {
        "form-a"
    } else if path.starts_with("/api/v1/holidays/") {
        "hol-a"
    } else if path.starts_with("/api/v1/languages/") {
        "fr"
    } else if path.starts_with("/api/v1/report-templates/") {
        "rt-a"
    } else if path.starts_with("/api/v1/reports/") {
        "rd-a"
    } else if path.starts_with("/api/v1/auth/tokens/") {
        "tok-target"
    } else if path.starts_with("/api/v1/host-groups/") {
        "hg-a"
    } else if path.starts_with("/api/v1/hosts/") {
        "host-a"
    } else if path.starts_with("/api/v1/terminals/") {
        "term-a"
    } else {
        ""
    };
    let query = if path.ends_with("/package") {
        "?os=linux"
    } else {
        ""
    };
    path.replace("{id}", id)
        .replace("{name}", id)
        .replace("{code}", id)
        .replace("{accountId}", "acct-a")
        .replace(
            "{fileId}",
            if path.starts_with("/api/v1/instances/") {
                "tfi-a"
            } else {
                "tf-a"
            },
        )
        .replace("{user}", "target")
        .replace("{element}", "w")
        + query
}

fn multipart(bytes: &[u8]) -> (String, Vec<u8>) {
    let b = "baton-matrix-boundary";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nuploaded\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

/// A plausible body for the route, so that a caller through the gate does real work.
fn body_for(method: &str, path: &str) -> Option<(String, Vec<u8>)> {
    let j =
        |v: serde_json::Value| Some(("application/json".to_owned(), v.to_string().into_bytes()));
    match (method, path) {
        ("POST", "/api/v1/auth/login") => j(json!({"username": "admin", "password": PASSWORD})),
        ("POST", "/api/v1/auth/password") => {
            j(json!({"current": PASSWORD, "password": "Another-pass-123"}))
        }
        ("POST", "/api/v1/auth/tokens") => j(json!({"name": "t2"})),
        ("POST", "/api/v1/companies") | ("PUT", "/api/v1/companies/{id}") => {
            j(json!({"code": "c-new", "name": "New"}))
        }
        ("POST", "/api/v1/users") => j(json!({"username": "u-new", "password": "Password-123"})),
        ("PUT", "/api/v1/users/{id}") => j(json!({"username": "target", "name": "T"})),
        ("POST", "/api/v1/groups") | ("PUT", "/api/v1/groups/{id}") => {
            j(json!({"name": "g-new", "permissions": {"editor": "view"}}))
        }
        ("PUT", "/api/v1/globals/{name}") => j(json!({"value": 2})),
        ("POST", "/api/v1/processes") => j(json!({"xml": PROCESS, "key": "p2"})),
        ("POST", "/api/v1/instances") => j(json!({"process": "p", "variables": {"n": 1}})),
        ("POST", "/api/v1/schedules") | ("PUT", "/api/v1/schedules/{id}") => {
            j(json!({"process": "p", "cron": "0 0/10 * * * ?", "tz": "Asia/Shanghai"}))
        }
        ("POST", "/api/v1/instances/{id}/retry") | ("POST", "/api/v1/instances/{id}/skip") => {
            j(json!({}))
        }
        ("POST", "/api/v1/tasks/{id}/delegate") => j(json!({"userId": "target"})),
        ("POST", "/api/v1/tasks/{id}/complete") => j(json!({"values": {"ok": true}})),
        ("POST", "/api/v1/tasks/{id}/link") => j(json!({"hours": 1})),
        ("POST", "/api/v1/tasks/{id}/files") | ("POST", "/api/v1/approvals/{token}/files") => {
            let b = "baton-matrix-file";
            Some((
                format!("multipart/form-data; boundary={b}"),
                format!(
                    "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--{b}--\r\n"
                )
                .into_bytes(),
            ))
        }
        ("POST", "/api/v1/tasks/{id}/helpers") => j(json!({"user": "target"})),
        ("PUT", "/api/v1/tasks/{id}/due") => j(json!({"due": "P2D"})),
        ("POST", "/api/v1/conditions") => j(json!({"variables": {"x": 1}})),
        ("POST", "/api/v1/approvals/{token}/complete") => j(json!({"values": {}})),
        ("POST", "/api/v1/schedules/preview") => {
            j(json!({"cron": "0 0 9 ? * MON-FRI", "tz": "Asia/Shanghai", "n": 3}))
        }
        ("POST", "/api/v1/scripts") | ("PUT", "/api/v1/scripts/{id}") => {
            j(json!({"name": "s-new", "language": "sh", "content": "echo ${x}"}))
        }
        ("POST", "/api/v1/data-sources") | ("PUT", "/api/v1/data-sources/{id}") => {
            j(json!({"name": "d-new", "url": "postgres://x@127.0.0.1:1/x", "password": "pw-new"}))
        }
        ("POST", "/api/v1/forms") | ("PUT", "/api/v1/forms/{id}") => j(json!({
            "key": "f-new", "name": "F",
            "fields": [{"id": "ok", "label": "OK", "type": "select",
                        "options": [{"value": "y", "label": "Yes"}]}]
        })),
        ("POST", "/api/v1/holidays") | ("PUT", "/api/v1/holidays/{id}") => j(json!({
            "name": "h-new", "ranges": [{"start": "2026-05-01", "end": "2026-05-05"}]
        })),
        ("POST", "/api/v1/languages") => j(json!({"code": "es", "name": "Español"})),
        ("PUT", "/api/v1/languages/{code}") => j(json!({"enabled": true, "messages": {"k": "v"}})),
        ("POST", "/api/v1/report-templates") | ("PUT", "/api/v1/report-templates/{id}") => {
            Some(multipart(TEMPLATE))
        }
        ("POST", "/api/v1/host-groups") | ("PUT", "/api/v1/host-groups/{id}") => {
            j(json!({"name": "hg-new"}))
        }
        ("POST", "/api/v1/hosts") | ("PUT", "/api/v1/hosts/{id}") => j(json!({"name": "host-new"})),
        ("PUT", "/api/v1/hosts/{id}/backups") => j(json!({"backups": []})),
        ("POST", "/api/v1/terminals") | ("PUT", "/api/v1/terminals/{id}") => {
            j(json!({"name": "term-new", "hostAddress": "10.0.0.9"}))
        }
        ("POST", "/api/v1/terminals/{id}/accounts")
        | ("PUT", "/api/v1/terminals/{id}/accounts/{accountId}") => {
            j(json!({"username": "u-new", "password": "pw-new"}))
        }
        _ => None,
    }
}

async fn call(s: &Seeded, method: &str, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let uri = concrete(path, &s.instance, &s.task);
    let res = common::respond(&s.state, method, &uri, token, &[], body_for(method, path)).await;
    let status = res.status();
    let stream = res
        .headers()
        .get("content-type")
        .is_some_and(|c| c == "text/event-stream");
    let mut body = res.into_body();
    let bytes = if stream {
        // A live stream never ends: what it sent in its first moments.
        let mut got = Vec::new();
        while let Ok(Some(Ok(f))) =
            tokio::time::timeout(std::time::Duration::from_millis(50), body.frame()).await
        {
            if let Ok(d) = f.into_data() {
                got.extend_from_slice(&d);
            }
        }
        got.into()
    } else {
        body.collect().await.unwrap().to_bytes()
    };
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_every_role() {
    let mut failures = Vec::new();
    let mut cells = 0;
    for (i, route) in ROUTES.iter().enumerate() {
        for (j, role) in ROLES.iter().enumerate() {
            let s = seed(i * 10 + j, route.path.ends_with("/package")).await;
            let token = match role {
                Role::Anonymous => None,
                Role::NoPermission => Some(&s.tokens["nobody"]),
                Role::Viewer => Some(&s.tokens["viewer"]),
                Role::Manager => Some(&s.tokens["manager"]),
                Role::Admin => Some(&s.tokens["admin"]),
                Role::OtherCompany => Some(&s.tokens["b-admin"]),
            };
            let (status, body) =
                call(&s, route.method, route.path, token.map(String::as_str)).await;
            cells += 1;
            let want = expect(route, *role);
            let ok = match want {
                Expect::Unauthenticated => status == StatusCode::UNAUTHORIZED,
                Expect::Forbidden => status == StatusCode::FORBIDDEN,
                Expect::NotFound => status == StatusCode::NOT_FOUND,
                Expect::Through => {
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !status.is_server_error()
                }
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {role:?}: expected {want:?}, got {status} {}",
                    route.method,
                    route.path,
                    body.chars().take(200).collect::<String>()
                ));
            }
            for secret in [
                DS_SECRET,
                WECHAT_SECRET,
                TERMINAL_SECRET,
                "pw-new",
                PASSWORD,
            ] {
                if body.contains(secret) {
                    failures.push(format!(
                        "{} {} as {role:?}: the response holds a secret",
                        route.method, route.path
                    ));
                }
            }
            if *role == Role::OtherCompany && route.method == "GET" && status.is_success() {
                for id in &s.a_ids {
                    if id != "default" && body.contains(&format!("\"{id}\"")) {
                        failures.push(format!(
                            "GET {} as another company shows `{id}`",
                            route.path
                        ));
                    }
                }
            }
            if status.is_server_error() {
                failures.push(format!(
                    "{} {} as {role:?}: {status} {body}",
                    route.method, route.path
                ));
            }
        }
    }
    assert_eq!(cells, ROUTES.len() * ROLES.len());
    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_and_the_openapi_document_list_the_same_routes() {
    let dir = TempDir::new("doc");
    let store = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(common::sqlite(&dir));
    let (_, doc) = baton_web::api(AppState::new(store, common::key(), PathBuf::from("data")));
    let doc = serde_json::to_value(doc).unwrap();
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let table: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, table);
}
