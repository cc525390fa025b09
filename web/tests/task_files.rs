//! Files for `file` form fields through the API (SQLite, a real engine):
//! upload for an open task (kept byte for byte under the data directory, no
//! temporary file left), too large (413 on `body.file`, nothing kept), the
//! wrong task or caller, completing with a reference to another task's or
//! another company's file refused, the reference made the process variable
//! `{id, name, size}` whatever name or size was sent, unused uploads removed
//! at completion, removal before completion, downloads scoped to whoever
//! sees the task or monitors the instance (another company: 404), and an
//! upload through an approval link.

mod common;

use axum::http::StatusCode;
use baton_web::routes::task_files::MAX_FILE_BYTES;
use serde_json::{Value, json};

use common::{Answer, Api, TempDir};

/// One approval (form `evidence`) assigned to ASSIGNEE and offered to the
/// group `g-act` (bob sees it, may not act on it), then the end.
const EVIDENCE: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="d1" targetNamespace="t">
  <process id="evidence" isExecutable="true" baton:owner="tests">
    <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="approve"/>
    <userTask id="approve" name="Attach the evidence" baton:assignee="ASSIGNEE" baton:candidateGroups="g-act" baton:formKey="evidence"/>
    <sequenceFlow id="f2" sourceRef="approve" targetRef="e"/><endEvent id="e"/>
  </process></definitions>"#;

/// The same task with a form that has no file field.
const PLAIN: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="d2" targetNamespace="t">
  <process id="plain" isExecutable="true" baton:owner="tests">
    <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="approve"/>
    <userTask id="approve" baton:assignee="alice" baton:formKey="plain"/>
    <sequenceFlow id="f2" sourceRef="approve" targetRef="e"/><endEvent id="e"/>
  </process></definitions>"#;

fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let b = "baton-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        let disposition = match file_name {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(
            format!(
                "--{b}\r\nContent-Disposition: {disposition}\r\nContent-Type: text/plain\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

impl Api {
    /// A request with an optional token and a raw body.
    async fn send(
        &self,
        token: Option<&str>,
        method: &str,
        uri: &str,
        body: Option<(String, Vec<u8>)>,
    ) -> Answer {
        common::send(&self.state, method, uri, token, &[], body).await
    }

    /// `GET uri` as `who`.
    async fn get(&self, who: &str, uri: &str) -> Answer {
        self.send(Some(who), "GET", uri, None).await
    }

    /// `DELETE` the file `file` of `task` as `who`.
    async fn delete_file(&self, who: &str, task: &str, file: &str) -> Answer {
        let uri = format!("/api/v1/tasks/{task}/files/{file}");
        self.send(Some(who), "DELETE", &uri, None).await
    }

    /// A raw body (content type, bytes) posted to the files of `task` as `token`.
    async fn post_files(&self, token: &str, task: &str, body: (String, Vec<u8>)) -> Answer {
        let uri = format!("/api/v1/tasks/{task}/files");
        self.send(Some(token), "POST", &uri, Some(body)).await
    }

    /// A raw body posted to `/api/v1/approvals/{path}` with no credentials
    /// but the link's token in the path.
    async fn post_by_link(&self, path: &str, body: (String, Vec<u8>)) -> Answer {
        let uri = format!("/api/v1/approvals/{path}");
        self.send(None, "POST", &uri, Some(body)).await
    }

    /// An instance's detail, as the admin reads it.
    async fn instance(&self, id: &str) -> Value {
        let uri = format!("/api/v1/instances/{id}");
        self.ok("admin", "GET", &uri, None, StatusCode::OK).await
    }

    async fn upload(&self, token: &str, task: &str, name: &str, bytes: &[u8]) -> Answer {
        self.post_files(token, task, multipart(&[("file", Some(name), bytes)]))
            .await
    }

    /// Upload that must succeed: the file's id.
    async fn uploaded(&self, token: &str, task: &str, name: &str, bytes: &[u8]) -> String {
        let a = self.upload(token, task, name, bytes).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
        a.json()["id"].as_str().unwrap().to_owned()
    }

    /// The open task of a new instance of `process` started by `token`: (instance, task).
    async fn task(&self, token: &str, process: &str) -> (String, String) {
        let i = self
            .ok(
                token,
                "POST",
                "/api/v1/instances",
                Some(json!({"process": process})),
                StatusCode::CREATED,
            )
            .await;
        let instance = i["id"].as_str().unwrap().to_owned();
        let store = &self.state.store;
        let tasks = store.tasks_of(&instance).await.unwrap();
        (instance, tasks[0].id.clone())
    }

    /// The files under the data directory (names).
    fn on_disk(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.join("data/task-files"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

async fn setup() -> Api {
    let dir = TempDir::new("task-files");
    let store = common::sqlite(&dir).await;
    common::default_and_acme(&store, &["alice", "bob", "watcher"]).await;
    common::group(
        &store,
        "default",
        "g-act",
        "g-act",
        json!({"tasks": "manage"}),
        &["alice", "bob"],
    )
    .await;
    common::group(
        &store,
        "default",
        "g-watch",
        "g-watch",
        json!({"monitor": "view", "tasks": "view"}),
        &["watcher"],
    )
    .await;
    let api = Api::with_engine(store, dir).await;
    let form = json!({"key": "evidence", "fields": [
        {"id": "evidence", "label": "Evidence", "type": "file", "required": true},
        {"id": "more", "label": "More", "type": "file"},
        {"id": "note", "label": "Note", "type": "text"}
    ]});
    for (token, assignee) in [("admin", "alice"), ("zed", "zed")] {
        api.ok(
            token,
            "POST",
            "/api/v1/forms",
            Some(form.clone()),
            StatusCode::CREATED,
        )
        .await;
        api.deploy(token, &EVIDENCE.replace("ASSIGNEE", assignee))
            .await;
    }
    api.ok(
        "admin",
        "POST",
        "/api/v1/forms",
        Some(json!({"key": "plain", "fields": [{"id": "ok", "label": "OK", "type": "switch"}]})),
        StatusCode::CREATED,
    )
    .await;
    api.deploy("admin", PLAIN).await;
    api
}

fn refused(a: &Answer, status: StatusCode, field: Option<&str>) {
    let v = a.json();
    assert_eq!((a.status, v["field"].as_str()), (status, field), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_complete_download() {
    let api = setup().await;
    let (instance, task) = api.task("admin", "evidence").await;
    let (instance2, task2) = api.task("admin", "evidence").await;
    let (_, plain_task) = api.task("admin", "plain").await;
    let (_, acme_task) = api.task("zed", "evidence").await;

    // Upload: the answer describes the file; the bytes are kept exactly, no temporary left.
    let content: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let a = api
        .upload("alice", &task, "C:\\scans\\变更 evidence.bin", &content)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let up = a.json();
    let f1 = up["id"].as_str().unwrap().to_owned();
    assert_eq!(up["name"], "变更 evidence.bin");
    assert_eq!(up["size"], 100_000);
    assert_eq!(up["contentType"], "text/plain");
    assert_eq!(up["taskId"], task.as_str());
    assert_eq!(up["instanceId"], instance.as_str());
    assert_eq!(up["createdBy"], "alice");
    {
        use sha2::Digest;
        let sha: String = sha2::Sha256::digest(&content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(up["sha256"], sha.as_str());
    }
    assert_eq!(
        std::fs::read(api.dir.join("data/task-files").join(&f1)).unwrap(),
        content
    );
    assert_eq!(api.on_disk(), vec![f1.clone()]);

    // Too large: 413 naming the field, nothing kept (neither file nor row).
    let big = vec![b'x'; MAX_FILE_BYTES as usize + 1];
    let a = api.upload("alice", &task, "big.bin", &big).await;
    refused(&a, StatusCode::PAYLOAD_TOO_LARGE, Some("body.file"));
    assert_eq!(a.json()["code"], "payload_too_large");
    assert_eq!(api.on_disk(), vec![f1.clone()]);
    assert_eq!(api.state.store.task_files(&task).await.unwrap().len(), 1);
    // Exactly the limit is fine.
    let at_limit = api
        .uploaded("alice", &task, "limit.bin", &big[..MAX_FILE_BYTES as usize])
        .await;

    // Bad forms name the field.
    let a = api
        .post_files("alice", &task, multipart(&[("name", None, b"x")]))
        .await;
    refused(&a, StatusCode::BAD_REQUEST, Some("body.name"));
    let a = api.post_files("alice", &task, multipart(&[])).await;
    refused(&a, StatusCode::BAD_REQUEST, Some("body.file"));
    let a = api
        .post_files("alice", &task, ("application/json".into(), b"{}".to_vec()))
        .await;
    refused(&a, StatusCode::BAD_REQUEST, Some("body"));

    // The wrong task: a form without a file field (400), another company's
    // task (404), a task held by somebody else (403), no such task (404).
    refused(
        &api.upload("alice", &plain_task, "a.txt", b"a").await,
        StatusCode::BAD_REQUEST,
        Some("body.file"),
    );
    refused(
        &api.upload("alice", &acme_task, "a.txt", b"a").await,
        StatusCode::NOT_FOUND,
        None,
    );
    refused(
        &api.upload("zed", &task, "a.txt", b"a").await,
        StatusCode::NOT_FOUND,
        None,
    );
    refused(
        &api.upload("bob", &task, "a.txt", b"a").await,
        StatusCode::FORBIDDEN,
        None,
    );
    refused(
        &api.upload("alice", "nope:1", "a.txt", b"a").await,
        StatusCode::NOT_FOUND,
        None,
    );
    refused(
        &api.upload("watcher", &task, "a.txt", b"a").await,
        StatusCode::FORBIDDEN,
        None,
    );

    // Downloads: the exact bytes as an attachment with the name; scoped.
    let f1_of_task = format!("/api/v1/tasks/{task}/files/{f1}");
    let f1_of_instance = format!("/api/v1/instances/{instance}/files/{f1}");
    let a = api.get("alice", &f1_of_task).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.bytes, content);
    assert_eq!(a.header("content-type"), "application/octet-stream");
    let disposition = a.header("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E5%8F%98%E6%9B%B4%20evidence.bin"),
        "{disposition}"
    );
    for (who, uri) in [
        ("zed", format!("/api/v1/tasks/{task}/files/{f1}")),
        ("zed", format!("/api/v1/instances/{instance}/files/{f1}")),
        ("alice", format!("/api/v1/tasks/{task2}/files/{f1}")),
        (
            "watcher",
            format!("/api/v1/instances/{instance2}/files/{f1}"),
        ),
        ("alice", format!("/api/v1/tasks/{task}/files/nope")),
        // Tasks permission, but not somebody the task is offered to.
        ("watcher", format!("/api/v1/tasks/{task}/files/{f1}")),
    ] {
        let a = api.get(who, &uri).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{who} {uri}");
        assert_ne!(a.bytes, content);
    }
    let a = api.get("watcher", &f1_of_instance).await;
    assert_eq!((a.status, a.bytes == content), (StatusCode::OK, true));
    // Bob is offered the task (he may not act on it): he sees its files.
    let a = api.get("bob", &f1_of_task).await;
    assert_eq!((a.status, a.bytes == content), (StatusCode::OK, true));

    // Completing with a reference that is not this task's own upload: 400 on the field.
    let f2 = api
        .uploaded("alice", &task2, "other.txt", b"task two")
        .await;
    let acme_file = api.uploaded("zed", &acme_task, "acme.txt", b"acme").await;
    let complete = format!("/api/v1/tasks/{task}/complete");
    for (values, field) in [
        (json!({"evidence": {"id": f2}}), "body.values.evidence"),
        (json!({"evidence": acme_file}), "body.values.evidence"),
        (json!({"evidence": "made-up"}), "body.values.evidence"),
        (
            json!({"evidence": {"name": "x.pdf"}}),
            "body.values.evidence",
        ),
        (
            json!({"evidence": f1, "more": [f1, f2]}),
            "body.values.more",
        ),
        (json!({"note": "no file"}), "body.values.evidence"),
    ] {
        let (s, v) = api
            .call("alice", "POST", &complete, Some(json!({"values": values})))
            .await;
        assert_eq!(
            (s, v["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{values}: {v}"
        );
    }

    // Removal before completion: gone from the store and the disk; twice is 404.
    let spare = api.uploaded("alice", &task, "spare.txt", b"spare").await;
    let a = api.delete_file("alice", &task, &spare).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(!api.on_disk().contains(&spare));
    let a = api.delete_file("alice", &task, &spare).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = api.delete_file("alice", &task, &f2).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "another task's file");

    // Completed with its own file (a forged name and size are replaced): the
    // variable is the reference; the unused upload goes.
    let done = api
        .ok(
            "alice",
            "POST",
            &complete,
            Some(json!({"values": {"evidence": {"id": f1, "name": "forged.exe", "size": 1}, "note": "ok"}})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(done["state"], "completed", "{done}");
    let reference = json!({"id": f1, "name": "变更 evidence.bin", "size": 100_000});
    assert_eq!(done["values"]["evidence"], reference);
    let detail = api.instance(&instance).await;
    assert_eq!(detail["status"], "completed", "{detail}");
    assert_eq!(detail["variables"]["evidence"], reference, "{detail}");
    let disk = api.on_disk();
    assert!(disk.contains(&f1) && !disk.contains(&at_limit), "{disk:?}");
    let a = api
        .get("alice", &format!("/api/v1/tasks/{task}/files/{at_limit}"))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // The completed instance keeps its file, for the task's people and the monitor.
    let a = api.get("alice", &f1_of_task).await;
    assert_eq!((a.status, a.bytes == content), (StatusCode::OK, true));
    let a = api.get("watcher", &f1_of_instance).await;
    assert_eq!((a.status, a.bytes == content), (StatusCode::OK, true));
    // A completed task takes no more uploads and loses no file.
    refused(
        &api.upload("alice", &task, "late.txt", b"late").await,
        StatusCode::CONFLICT,
        None,
    );
    let a = api.delete_file("alice", &task, &f1).await;
    assert_eq!(a.status, StatusCode::CONFLICT);

    // Through an approval link (no sign-in): upload, then complete with it.
    let link = api
        .ok(
            "alice",
            "POST",
            &format!("/api/v1/tasks/{task2}/link"),
            Some(json!({"hours": 1})),
            StatusCode::CREATED,
        )
        .await;
    let token = link["token"].as_str().unwrap();
    let a = api
        .post_by_link(
            &format!("{token}/files"),
            multipart(&[("file", Some("link.txt"), b"via link")]),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let via_link = a.json()["id"].as_str().unwrap().to_owned();
    let a = api
        .post_by_link(
            "not-a-token/files",
            multipart(&[("file", Some("x.txt"), b"x")]),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = api
        .post_by_link(
            &format!("{token}/complete"),
            common::json_body(&json!({"values": {"evidence": via_link}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    let detail = api.instance(&instance2).await;
    assert_eq!(
        detail["variables"]["evidence"],
        json!({"id": via_link, "name": "link.txt", "size": 8})
    );
    // f2 was task two's, never named: removed at its completion.
    assert!(!api.on_disk().contains(&f2));
    // The other company's file is untouched.
    assert!(api.on_disk().contains(&acme_file));
}

/// A task cancelled while its form was being filled in (the instance was
/// terminated) leaves uploads nothing can name: the sweep removes their rows
/// and bytes, and nothing of an open or a completed task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_of_cancelled_tasks_are_swept() {
    let api = setup().await;
    let (gone_instance, gone_task) = api.task("admin", "evidence").await;
    let (_, open_task) = api.task("admin", "evidence").await;
    let (done_instance, done_task) = api.task("admin", "evidence").await;
    let gone = api
        .uploaded("alice", &gone_task, "draft.txt", b"draft")
        .await;
    let kept_open = api.uploaded("alice", &open_task, "open.txt", b"open").await;
    let kept_done = api.uploaded("alice", &done_task, "done.txt", b"done").await;
    api.ok(
        "alice",
        "POST",
        &format!("/api/v1/tasks/{done_task}/complete"),
        Some(json!({"values": {"evidence": {"id": kept_done}}})),
        StatusCode::OK,
    )
    .await;
    let uri = format!("/api/v1/instances/{gone_instance}/terminate");
    api.ok("admin", "POST", &uri, None, StatusCode::ACCEPTED)
        .await;
    // The engine ends the instance and cancels its task.
    let mut state = String::new();
    for _ in 0..200 {
        let t = api.state.store.user_task(&gone_task).await.unwrap();
        state = t.unwrap().state;
        if state == "cancelled" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(state, "cancelled");

    assert_eq!(
        baton_web::routes::task_files::sweep_cancelled(&api.state).await,
        1
    );
    let mut kept = vec![kept_open.clone(), kept_done.clone()];
    kept.sort();
    assert_eq!(api.on_disk(), kept, "{gone} is gone");
    assert!(
        api.state
            .store
            .task_files(&gone_task)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        api.state.store.task_files(&open_task).await.unwrap().len(),
        1
    );
    // The completed task's file is still the instance's variable, and downloads.
    let v = api.instance(&done_instance).await;
    assert_eq!(v["variables"]["evidence"]["id"], kept_done.as_str(), "{v}");
    let a = api
        .get(
            "alice",
            &format!("/api/v1/tasks/{done_task}/files/{kept_done}"),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.bytes, b"done");
    // Nothing left to do.
    assert_eq!(
        baton_web::routes::task_files::sweep_cancelled(&api.state).await,
        0
    );
}
