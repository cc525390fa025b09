//! A fresh store seeded with two companies and their objects, and the
//! API tokens of each role ([`seed`]).

use std::sync::OnceLock;

use baton_runtime::store::*;
use baton_web::AppState;
use baton_web::auth::{hash_password, sha256_hex};
use baton_web::perm::Function;
use serde_json::json;

use crate::common::{self, TempDir};
use crate::{DS_SECRET, PASSWORD, PROCESS, TASK_PROCESS, TEMPLATE, TERMINAL_SECRET, WECHAT_SECRET};

/// Ids of company A's objects (the ones routes with `{id}` name).
pub(crate) struct Seeded {
    pub(crate) state: AppState,
    /// Company A's running instance.
    pub(crate) instance: String,
    /// Company A's open user task (assigned to `manager`).
    pub(crate) task: String,
    pub(crate) tokens: std::collections::HashMap<&'static str, String>,
    pub(crate) a_ids: Vec<String>,
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
pub(crate) async fn seed(n: usize, relay: bool) -> Seeded {
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
