//! The node library as the engine's job handler: script and `noop` jobs go
//! to [`Builtin`], every other kind to `baton_nodes`' registry, with the
//! store's resources (secrets decrypted under the master key), node logs
//! written to the store as they stream, and cancellation of running nodes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use baton_nodes::resources::{
    Account, Auth, DataSource, HostKeyCheck, NewReport, ReportTemplate, ResResult, Script, Terminal,
};
use baton_nodes::{
    BoxFuture, Ctx, JobInfo, LogLine, MasterKey, NodeError, Registry, Resources, RunResult,
};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::{self, JobHandler};
use crate::handlers::Builtin;
use crate::job::{JobInput, JobResult};
use crate::store::{AccountRow, DataSourceRow, JobLogRow, ReportDataRow, Store};

pub use crate::tenancy::DEFAULT_COMPANY;

/// [`Resources`] over the store, for one company.
pub struct StoreResources {
    pub store: Store,
    pub key: MasterKey,
    pub company: String,
    pub roots: Vec<PathBuf>,
    /// Where report data files are kept (`reports/COMPANY/ID.xlsx` under it).
    pub data_dir: PathBuf,
}

fn store_err(e: crate::store::Error) -> String {
    e.to_string()
}

impl StoreResources {
    fn decrypt(&self, what: &str, enc: &str) -> ResResult<baton_nodes::Secret> {
        self.key.decrypt(enc).map_err(|e| format!("{what}: {e}"))
    }

    fn account_of(&self, t: &Terminal, a: AccountRow) -> ResResult<Account> {
        let what = format!(
            "the secret of account `{}` on terminal `{}`",
            a.username, t.name
        );
        let secret = self.decrypt(&what, &a.secret_enc)?;
        let auth = match a.auth_kind.as_str() {
            "key" => Auth::Key {
                private_key: secret,
                passphrase: a
                    .passphrase_enc
                    .as_deref()
                    .map(|p| self.decrypt(&what, p))
                    .transpose()?,
            },
            _ => Auth::Password(secret),
        };
        Ok(Account {
            id: a.id,
            terminal_id: a.terminal_id,
            username: a.username,
            auth,
            comments: a.comments,
        })
    }

    /// Stores a data source, encrypting its password.
    pub async fn save_data_source(
        &self,
        id: &str,
        name: &str,
        url: &str,
        username: Option<&str>,
        password: Option<&str>,
        comments: &str,
    ) -> crate::store::Result<()> {
        self.store
            .put_data_source(&DataSourceRow {
                id: id.into(),
                company_id: self.company.clone(),
                name: name.into(),
                url: url.into(),
                username: username.map(str::to_owned),
                password_enc: password.map(|p| self.key.encrypt(p)),
                comments: comments.into(),
            })
            .await
    }

    /// Stores a terminal account, encrypting its password or private key.
    pub async fn save_account(
        &self,
        id: &str,
        terminal_id: &str,
        username: &str,
        auth: &Auth,
        comments: &str,
    ) -> crate::store::Result<()> {
        let (kind, secret, passphrase) = match auth {
            Auth::Password(p) => ("password", self.key.encrypt(p.expose()), None),
            Auth::Key {
                private_key,
                passphrase,
            } => (
                "key",
                self.key.encrypt(private_key.expose()),
                passphrase.as_ref().map(|p| self.key.encrypt(p.expose())),
            ),
        };
        self.store
            .put_account(&AccountRow {
                id: id.into(),
                terminal_id: terminal_id.into(),
                username: username.into(),
                auth_kind: kind.into(),
                secret_enc: secret,
                passphrase_enc: passphrase,
                comments: comments.into(),
            })
            .await
    }
}

impl Resources for StoreResources {
    fn terminal<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ResResult<Option<Terminal>>> {
        Box::pin(async move {
            self.store
                .terminal(&self.company, key)
                .await
                .map_err(store_err)
        })
    }

    fn account<'a>(
        &'a self,
        terminal: &'a Terminal,
        key: Option<&'a str>,
    ) -> BoxFuture<'a, ResResult<Option<Account>>> {
        Box::pin(async move {
            match self
                .store
                .account(&terminal.id, key)
                .await
                .map_err(store_err)?
            {
                Some(a) => self.account_of(terminal, a).map(Some),
                None => Ok(None),
            }
        })
    }

    fn data_source<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ResResult<Option<DataSource>>> {
        Box::pin(async move {
            let Some(d) = self
                .store
                .data_source(&self.company, key)
                .await
                .map_err(store_err)?
            else {
                return Ok(None);
            };
            let password = d
                .password_enc
                .as_deref()
                .map(|p| self.decrypt(&format!("the password of data source `{}`", d.name), p))
                .transpose()?;
            Ok(Some(DataSource {
                id: d.id,
                name: d.name,
                url: d.url,
                username: d.username,
                password,
                comments: d.comments,
            }))
        })
    }

    fn script<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ResResult<Option<Script>>> {
        Box::pin(async move {
            self.store
                .script(&self.company, key)
                .await
                .map_err(store_err)
        })
    }

    fn globals(&self) -> BoxFuture<'_, ResResult<Map<String, Value>>> {
        Box::pin(async move { self.store.globals(&self.company).await.map_err(store_err) })
    }

    fn check_host_key<'a>(
        &'a self,
        host: &'a str,
        port: u16,
        key: &'a str,
    ) -> BoxFuture<'a, ResResult<HostKeyCheck>> {
        Box::pin(async move {
            let (pinned, first) = self
                .store
                .pin_host_key(host, port, key)
                .await
                .map_err(store_err)?;
            Ok(if first {
                HostKeyCheck::Pinned
            } else if pinned == key {
                HostKeyCheck::Matches
            } else {
                HostKeyCheck::Changed { pinned }
            })
        })
    }

    fn file_roots(&self) -> Vec<PathBuf> {
        self.roots.clone()
    }

    fn report_template<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, ResResult<Option<ReportTemplate>>> {
        Box::pin(async move {
            Ok(self
                .store
                .report_template(&self.company, key)
                .await
                .map_err(store_err)?
                .map(|(row, content)| ReportTemplate {
                    id: row.id,
                    name: row.name,
                    content,
                }))
        })
    }

    fn save_report(&self, report: NewReport) -> BoxFuture<'_, ResResult<String>> {
        Box::pin(self.keep_report(report))
    }
}

impl StoreResources {
    /// The file first (written beside, then renamed), then its row; a row
    /// that cannot be written takes the file with it.
    async fn keep_report(&self, report: NewReport) -> ResResult<String> {
        use sha2::Digest;
        let id = uuid::Uuid::now_v7().to_string();
        let rel = format!("reports/{}/{id}.xlsx", self.company);
        let path = self.data_dir.join(&rel);
        let definition_key = match self.store.load_instance(&report.instance_id).await {
            Ok(Some(i)) => match self.store.definition(&i.definition_id).await {
                Ok(Some(d)) => d.key,
                _ => i.definition_id,
            },
            _ => String::new(),
        };
        let row = ReportDataRow {
            id: id.clone(),
            company_id: self.company.clone(),
            template_id: report.template_id,
            name: report.name,
            comments: report.comments,
            instance_id: report.instance_id,
            definition_key,
            element_id: report.element_id,
            path: rel,
            size: report.content.len() as i64,
            sha256: sha2::Sha256::digest(&report.content)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            created_at: chrono::Utc::now().timestamp_millis(),
        };
        let write = async {
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            let tmp = path.with_extension("xlsx.tmp");
            tokio::fs::write(&tmp, &report.content).await?;
            tokio::fs::rename(&tmp, &path).await
        };
        write
            .await
            .map_err(|e| format!("writing the report {}: {e}", path.display()))?;
        if let Err(e) = self.store.insert_report_data(&row).await {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(store_err(e));
        }
        Ok(id)
    }
}

/// The deploy-time check of a job of `kind` with `props`: a built-in kind,
/// or a node whose properties the registry accepts.
pub fn check(registry: &Registry, kind: &str, props: &Map<String, Value>) -> Result<(), String> {
    if Builtin::supports(kind) {
        return Ok(());
    }
    if !registry.supports(kind) {
        return Err(format!(
            "no node of type `{kind}`: this element cannot run here"
        ));
    }
    registry
        .validate(kind, props)
        .map_err(|e| format!("`{kind}` node: {e}"))
}

/// Script tasks and `noop` ([`Builtin`]), and the node library.
pub struct NodeHandler {
    builtin: Builtin,
    registry: Arc<Registry>,
    resources: Arc<dyn Resources>,
    logs: Option<mpsc::UnboundedSender<LogLine>>,
    /// Cancellation of the nodes running here, by job id.
    running: Arc<Mutex<HashMap<String, CancellationToken>>>,
    /// Where jobs run ([`JobHandler::route`]); `None`: always here.
    store: Option<Store>,
    /// Recent route lookups: (company, `host:`/`terminal:` key) → host id.
    routes: Arc<Mutex<HashMap<(String, String), Route>>>,
}

/// A route lookup: the host id found (if any), and when.
type Route = (Option<String>, std::time::Instant);

/// How long a route lookup (a host or terminal name → host id) is reused.
const ROUTE_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// A literal (not `${}`), non-blank string property.
fn literal<'a>(props: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    let s = props.get(name)?.as_str()?.trim();
    (!s.is_empty() && !s.contains("${") && !s.contains("#{")).then_some(s)
}

/// `inCloud` says the server runs the node.
fn in_cloud(props: &Map<String, Value>) -> bool {
    match props.get("inCloud") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl NodeHandler {
    /// Nodes over `resources`; with `store`, node logs are written to it
    /// (batched) as they stream.
    pub fn new(registry: Registry, resources: Arc<dyn Resources>, store: Option<Store>) -> Self {
        let logs = store.clone().map(|s| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write_logs(s, rx));
            tx
        });
        NodeHandler {
            builtin: Builtin::default(),
            registry: Arc::new(registry),
            resources,
            logs,
            running: Arc::new(Mutex::new(HashMap::new())),
            store,
            routes: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        lock(&self.running)
    }
}

impl JobHandler for NodeHandler {
    fn supports(&self, kind: &str) -> bool {
        Builtin::supports(kind) || self.registry.supports(kind)
    }

    fn check(&self, kind: &str, props: &Map<String, Value>) -> Result<(), String> {
        check(&self.registry, kind, props)
    }

    fn idempotent(&self, kind: &str) -> bool {
        Builtin::supports(kind) || self.registry.idempotent(kind)
    }

    fn route(&self, company: &str, job: &JobInput) -> Option<engine::BoxFuture<Option<String>>> {
        let store = self.store.clone()?;
        // Built-ins run here, except a `noop` for a host: the relay has its
        // own `noop`, to probe a link end to end (scripts never leave).
        let probe = job.kind == "noop" && literal(&job.props, "host").is_some();
        if (Builtin::supports(&job.kind) && !probe) || in_cloud(&job.props) {
            return None;
        }
        let key = match (literal(&job.props, "host"), literal(&job.props, "terminal")) {
            (Some(h), _) => format!("host:{h}"),
            (None, Some(t)) => format!("terminal:{t}"),
            (None, None) => return None,
        };
        let cache_key = (company.to_owned(), key);
        if let Some((host, at)) = lock(&self.routes).get(&cache_key)
            && at.elapsed() < ROUTE_TTL
        {
            let host = host.clone();
            return Some(Box::pin(std::future::ready(host)));
        }
        let routes = self.routes.clone();
        Some(Box::pin(async move {
            let (company, key) = &cache_key;
            let found = match key.split_once(':') {
                Some(("host", h)) => store.host(company, h).await.map(|h| h.map(|h| h.id)),
                Some((_, t)) => store
                    .terminal(company, t)
                    .await
                    .map(|t| t.and_then(|t| t.host_id)),
                None => Ok(None),
            };
            match found {
                Ok(host) => {
                    lock(&routes)
                        .insert(cache_key.clone(), (host.clone(), std::time::Instant::now()));
                    host
                }
                Err(e) => {
                    tracing::warn!("routing a job ({key}): {e}");
                    None
                }
            }
        }))
    }

    fn run(&self, job: JobInput) -> engine::BoxFuture<JobResult> {
        if Builtin::supports(&job.kind) {
            return JobHandler::run(&self.builtin, job);
        }
        // A node naming a host runs here only when no such host exists.
        let host = job.props.get("host").and_then(Value::as_str).map(str::trim);
        if self.store.is_some()
            && !in_cloud(&job.props)
            && let Some(h) = host.filter(|h| !h.is_empty())
        {
            let message = if literal(&job.props, "host").is_some() {
                format!(
                    "property `host`: no Sub-Manager host `{h}` in this company (set `inCloud` to run on the server)"
                )
            } else {
                format!(
                    "property `host` is `{h}`: name the host literally (where a node runs is decided before it runs)"
                )
            };
            return Box::pin(std::future::ready(JobResult::technical(message)));
        }
        let cancel = CancellationToken::new();
        self.running().insert(job.id.clone(), cancel.clone());
        let info = JobInfo {
            job_id: job.id.clone(),
            instance_id: job.instance_id.clone(),
            element_id: job.element_id.clone(),
            name: job.name.clone(),
            attempt: job.attempt,
        };
        let mut ctx = Ctx::new(info, job.props, self.resources.clone())
            .with_vars(job.vars)
            .with_outputs(job.outputs)
            .with_cancel(cancel);
        if let Some(tx) = &self.logs {
            ctx = ctx.with_log(tx.clone());
        }
        let registry = self.registry.clone();
        let running = self.running.clone();
        let (kind, id) = (job.kind, job.id);
        Box::pin(async move {
            let result = registry.run(&kind, ctx).await;
            lock(&running).remove(&id);
            match result {
                RunResult::Done { outputs, vars } => JobResult::Done {
                    output: Some(Value::Object(outputs)),
                    vars,
                },
                RunResult::Failed(NodeError::Bpmn { code, message }) => {
                    JobResult::bpmn(code, message)
                }
                RunResult::Failed(e) => JobResult::technical(e.to_string()),
            }
        })
    }

    fn cancel(&self, job_id: &str) {
        if let Some(t) = self.running().remove(job_id) {
            t.cancel();
        }
    }
}

/// Writes node log lines to the store in batches as they arrive. `seq` is
/// a microsecond clock made strictly increasing: ordered and unique across
/// restarts (a re-run attempt appends after the interrupted one's lines).
async fn write_logs(store: Store, mut rx: mpsc::UnboundedReceiver<LogLine>) {
    let mut last = 0i64;
    let mut buf = Vec::new();
    while rx.recv_many(&mut buf, 512).await > 0 {
        let now = chrono::Utc::now();
        let rows: Vec<JobLogRow> = buf
            .drain(..)
            .map(|l| {
                last = (last + 1).max(now.timestamp_micros());
                JobLogRow {
                    job_id: l.job_id,
                    attempt: l.attempt as i32,
                    seq: last,
                    at: now.timestamp_millis(),
                    stream: format!("{:?}", l.stream).to_ascii_lowercase(),
                    line: l.text,
                }
            })
            .collect();
        if let Err(e) = store.append_job_logs(&rows).await {
            tracing::warn!("writing node logs: {e}");
        }
    }
}
