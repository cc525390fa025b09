//! The node schemas in Simplified Chinese: the zh-CN text of every `title`
//! and `description` the schemas carry, keyed by the English text.
//!
//! Keyed by the English rather than by node kind and property so that
//! changing a schema's English text, or adding a property, leaves it without
//! a translation — and the test below (every text of every schema has one,
//! every entry is used) fails until the Chinese is written too. At run time a
//! text without a translation is served in English, never dropped.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

/// English → zh-CN. Titles first, then descriptions, node by node.
const ZH: &[(&str, &str)] = &[
    // Every node (schema::common).
    ("Timeout (s)", "超时（秒）"),
    (
        "Stop the work after this many seconds.",
        "超过此秒数即停止执行。",
    ),
    ("Result variable", "结果变量"),
    (
        "Also store the outputs as this process variable.",
        "同时将节点输出存入此流程变量。",
    ),
    ("In cloud", "在云端执行"),
    (
        "Run on the server (true) or on the chosen host's Sub-Manager.",
        "在服务器上执行（true），或在所选主机的 Sub-Manager 上执行。",
    ),
    ("Host", "主机"),
    (
        "The Sub-Manager host (id or name) that runs this node; empty: the \
         terminal's host, or the server when the terminal has none.",
        "执行此节点的 Sub-Manager 主机（ID 或名称）；为空：终端机所属的主机，终端机未指定主机时为服务器。",
    ),
    // local-command
    ("Local command", "本地命令"),
    ("Command", "命令"),
    (
        "Run by `sh -c` (`cmd /C` on Windows). `${}` is rendered first.",
        "由 `sh -c` 执行（Windows 上为 `cmd /C`），执行前先渲染其中的 `${}`。",
    ),
    ("Script", "脚本"),
    (
        "A script-library entry to run instead of `command`.",
        "改为执行脚本库中的此脚本（代替 `command`）。",
    ),
    ("Working directory", "工作目录"),
    (
        "Empty: the directory Baton (or the Sub-Manager) runs in.",
        "为空：Baton（或 Sub-Manager）自身的运行目录。",
    ),
    ("Allow a non-zero exit", "允许非零退出码"),
    (
        "Complete the node whatever the exit code.",
        "无论退出码为何，节点均视为完成。",
    ),
    // remote-command
    ("Remote command", "远程命令"),
    ("Terminal", "终端机"),
    ("The machine to run the command on.", "执行命令的机器。"),
    ("Account", "终端机用户"),
    (
        "The terminal's account (id or user name); empty: its first account.",
        "终端机的用户（ID 或用户名）；为空：其第一个用户。",
    ),
    ("Connection", "连接方式"),
    (
        "Run by the account's login shell. `${}` is rendered first.",
        "由该用户的登录 shell 执行，执行前先渲染其中的 `${}`。",
    ),
    (
        "On the terminal; empty: the account's home directory.",
        "终端机上的目录；为空：该用户的主目录。",
    ),
    // file-distribution
    ("File distribution", "文件分发"),
    (
        "The machine to copy from or to.",
        "复制文件的来源或目标机器。",
    ),
    ("Direction", "方向"),
    ("Protocol", "协议"),
    ("Local file", "本地文件"),
    (
        "On the machine running the node: the source of a PUT, the target of a GET.",
        "执行此节点的机器上的文件：PUT 时为源文件，GET 时为目标文件。",
    ),
    ("Remote file", "远程文件"),
    (
        "On the terminal: the target of a PUT (a directory keeps the local name), the source of a GET.",
        "终端机上的文件：PUT 时为目标（若为目录则沿用本地文件名），GET 时为源文件。",
    ),
    // sql
    ("SQL", "SQL"),
    ("Data source", "数据源"),
    (
        "The database: a data source's id or name (PostgreSQL, MySQL/MariaDB, SQLite, SQL Server).",
        "目标数据库：数据源的 ID 或名称（PostgreSQL、MySQL/MariaDB、SQLite、SQL Server）。",
    ),
    (
        "One statement. Each `${…}` is sent as a bound parameter, never pasted into the text (a `${…}` inside '…' makes the whole literal one parameter); table and column names cannot come from variables. In PostgreSQL text parameters are `text`: cast them where another type is needed (`${day}::date`).",
        "一条语句。每个 `${…}` 都作为绑定参数发送，绝不拼接进 SQL 文本（'…' 中的 `${…}` 使整个字面量成为一个参数）；表名和列名不能来自变量。PostgreSQL 中文本参数的类型为 `text`：需要其他类型时请显式转换（`${day}::date`）。",
    ),
    ("Returns rows", "返回结果集"),
    (
        "true: a query; outputs `rows` (objects by column: integers and floats as numbers, decimals as numbers when exact else strings, dates and timestamps as ISO 8601, bytes as base64), `columns` and `rowCount`, at most 100,000 rows (`truncated`). false: a statement; outputs `affectedRows`.",
        "true：查询，输出 `rows`（每行一个以列名为键的对象：整数和浮点数为数字，小数能精确表示时为数字、否则为字符串，日期和时间戳为 ISO 8601，二进制为 base64）、`columns` 和 `rowCount`，最多 100,000 行（超出时 `truncated` 为 true）。false：非查询语句，输出 `affectedRows`。",
    ),
    // http
    ("HTTP request", "HTTP 请求"),
    ("URL", "URL"),
    ("`http://` or `https://`.", "`http://` 或 `https://` 地址。"),
    ("Method", "请求方法"),
    ("Headers", "请求头"),
    (
        "A JSON object (`{\"Accept\": \"application/json\"}`) or `Name: value` lines.",
        "JSON 对象（`{\"Accept\": \"application/json\"}`），或每行一个 `名称: 值`。",
    ),
    ("Body", "请求体"),
    (
        "Sent as is; `Content-Type` defaults to JSON when it parses as JSON, else text.",
        "原样发送；能解析为 JSON 时 `Content-Type` 默认为 JSON，否则为纯文本。",
    ),
    ("Verify TLS certificates", "校验 TLS 证书"),
    (
        "Default true. False accepts any certificate (self-signed test servers).",
        "默认 true。false 接受任何证书（用于自签名证书的测试服务器）。",
    ),
    ("Fail on status codes", "视为失败的状态码"),
    (
        "Default `400-599`. A list like `400-499,503` or `4XX, 500`, or `none`.",
        "默认 `400-599`。可写作 `400-499,503` 或 `4XX, 500` 这样的列表，或 `none`。",
    ),
    ("BPMN error on status codes", "抛出 BPMN 错误的状态码"),
    (
        "Same form as failStatusCodes: these statuses throw BPMN error `HTTP<status>` (e.g. `HTTP404`) for an error boundary event.",
        "写法同 failStatusCodes：这些状态码抛出 BPMN 错误 `HTTP<状态码>`（如 `HTTP404`），供错误边界事件捕获。",
    ),
    ("Follow redirects", "跟随重定向"),
    ("Default true (up to 10).", "默认 true（最多 10 次）。"),
    ("Ignore errors", "忽略错误"),
    (
        "Complete the node on a failed request or failing status; the reason is the output `errorMessage`.",
        "请求失败或状态码表示失败时节点仍然完成；原因见输出 `errorMessage`。",
    ),
    // mail
    ("Send mail", "发送邮件"),
    ("SMTP server", "SMTP 服务器"),
    ("Host name or address.", "主机名或地址。"),
    ("SMTP port", "SMTP 端口"),
    ("Default 25.", "默认 25。"),
    ("Connection security", "连接加密"),
    ("SMTP user", "SMTP 用户"),
    ("Empty: no login.", "为空：不登录。"),
    ("SMTP password", "SMTP 密码"),
    ("From", "发件人"),
    (
        "`Name <address>` or an address.",
        "`姓名 <地址>`，或仅地址。",
    ),
    ("To", "收件人"),
    ("Comma-separated addresses.", "以逗号分隔的地址。"),
    ("Cc", "抄送"),
    ("Bcc", "密送"),
    ("Subject", "主题"),
    ("Text", "正文"),
    ("The plain-text body.", "纯文本正文。"),
    ("HTML", "HTML 正文"),
    (
        "The HTML body (with `text`: both, as alternatives).",
        "HTML 正文（与 `text` 同时填写时，两者作为可选格式一并发送）。",
    ),
    ("Attachments", "附件"),
    (
        "File paths, comma- or newline-separated, inside the configured file roots.",
        "文件路径，以逗号或换行分隔，须位于配置的文件根目录内。",
    ),
    // file-operation
    ("File operation", "文件操作"),
    ("Operation", "操作"),
    ("File", "文件"),
    (
        "Inside a configured file root; a relative name is in the first root.",
        "须位于配置的文件根目录内；相对路径位于第一个根目录下。",
    ),
    ("New name", "新名称"),
    (
        "rename / move: where the file goes (inside a root; replaced if it exists).",
        "rename / move：文件的新位置（须在根目录内；已存在则覆盖）。",
    ),
    ("Content", "内容"),
    ("write: the text to write.", "write：要写入的文本。"),
    ("Append", "追加"),
    (
        "write: add to the end instead of replacing.",
        "write：追加到文件末尾，而非覆盖。",
    ),
    // report
    ("Report", "报表"),
    ("Report template", "报表模版"),
    ("The template's id or name.", "模版的 ID 或名称。"),
    ("Report name", "报表名称"),
    (
        "The filled report's name (default: the template's name).",
        "生成的报表名称（默认：模版名称）。",
    ),
    ("Comments", "备注"),
    ("Kept with the report.", "与报表一同保存。"),
    // call-process (schema::call_process)
    ("Call process", "调用流程"),
    ("Process key", "流程键"),
    (
        "The deployed process to start and wait for.",
        "要启动并等待其结束的已部署流程。",
    ),
    ("Version", "版本"),
    (
        "Its version; empty: the latest.",
        "其版本；为空：最新版本。",
    ),
    ("Parameter", "参数"),
    (
        "Given to the child as LWAMS_CALL_PARAM.",
        "以 LWAMS_CALL_PARAM 传给子流程。",
    ),
];

static TABLE: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| ZH.iter().copied().collect());

/// The zh-CN text of an English schema text (`None`: not translated).
pub fn text(en: &str) -> Option<&'static str> {
    TABLE.get(en).copied()
}

/// `schema` with every `title` and `description` in Simplified Chinese
/// (English where a text has no translation).
pub fn localize(schema: &Value) -> Value {
    let mut out = schema.clone();
    visit(&mut out, &mut |s| {
        if let Some(zh) = text(s) {
            *s = zh.to_owned();
        }
    });
    out
}

/// The non-empty English texts of `schema` that have no translation.
pub fn untranslated(schema: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    texts(schema, &mut |s| {
        if text(s).is_none() {
            missing.push(s.to_owned());
        }
    });
    missing
}

/// Calls `f` on every non-empty `title` / `description` string in `v`.
fn texts(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::String(s) if is_text(k) && !s.is_empty() => f(s),
                    _ => texts(x, f),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| texts(x, f)),
        _ => {}
    }
}

fn visit(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match x {
                    Value::String(s) if is_text(k) => f(s),
                    _ => visit(x, f),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| visit(x, f)),
        _ => {}
    }
}

fn is_text(key: &str) -> bool {
    key == "title" || key == "description"
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::{Registry, schema};

    /// Every schema the editor is served: the registry's and call-process.
    fn all_schemas() -> Vec<(String, Value)> {
        let mut v: Vec<(String, Value)> = Registry::with_defaults()
            .schemas()
            .into_iter()
            .map(|(k, s)| (k.to_owned(), s))
            .collect();
        v.push(("call-process".into(), schema::call_process()));
        v
    }

    #[test]
    fn every_node_type_and_property_has_a_chinese_title_and_description() {
        let mut missing = Vec::new();
        for (kind, s) in all_schemas() {
            assert!(
                s.get("title").and_then(Value::as_str).is_some(),
                "{kind} has no title"
            );
            let props = s.get("properties").and_then(Value::as_object);
            assert!(
                props.is_some_and(|p| !p.is_empty()),
                "{kind}: no properties"
            );
            for (name, p) in props.into_iter().flatten() {
                assert!(
                    p.get("title").and_then(Value::as_str).is_some(),
                    "{kind}.{name} has no title"
                );
            }
            for en in untranslated(&s) {
                missing.push(format!("{kind}: {en:?}"));
            }
        }
        assert!(
            missing.is_empty(),
            "texts without a zh-CN translation (add them to nodes/src/schema_zh.rs):\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn every_translation_is_used_and_written_once() {
        let mut used = BTreeSet::new();
        for (_, s) in all_schemas() {
            texts(&s, &mut |t| {
                used.insert(t.to_owned());
            });
        }
        let mut seen = BTreeSet::new();
        for (en, zh) in ZH {
            assert!(seen.insert(*en), "{en:?} is translated twice");
            assert!(!zh.trim().is_empty(), "{en:?} has an empty translation");
            assert!(
                used.contains(*en),
                "{en:?} is in schema_zh.rs but in no schema (was the English changed?)"
            );
        }
    }

    #[test]
    fn every_schema_orders_exactly_its_properties() {
        for (kind, s) in all_schemas() {
            let mut order: Vec<&str> = s["x-order"]
                .as_array()
                .unwrap_or_else(|| panic!("{kind} has no x-order"))
                .iter()
                .filter_map(Value::as_str)
                .collect();
            order.sort_unstable();
            let names: Vec<&str> = s["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(order, names, "{kind}");
        }
    }

    #[test]
    fn localize_changes_texts_only() {
        let s = schema::object(
            "Local command",
            vec![("title", schema::prop("string", "Command", "x-untranslated"))],
            &["title"],
        );
        let zh = localize(&s);
        assert_eq!(zh["title"], "本地命令");
        // A property *named* `title` is a name, not a text.
        assert_eq!(zh["properties"]["title"]["title"], "命令");
        assert_eq!(zh["properties"]["title"]["description"], "x-untranslated");
        assert_eq!(zh["properties"]["timeout"]["title"], "超时（秒）");
        assert_eq!(zh["required"], s["required"]);
        assert_eq!(zh["properties"]["title"]["type"], "string");
    }
}
