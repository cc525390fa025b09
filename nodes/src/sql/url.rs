//! Data-source URLs, native (`postgres://`, `mysql://`, `sqlite:`,
//! `mssql://`) or JDBC-style (`jdbc:postgresql://…`, `jdbc:sqlserver://…;
//! databaseName=…`), read into one [`Target`]: the dialect, where the server
//! is, which database, the credentials and the driver options. Pure: no I/O.
//!
//! Errors name the part that is wrong, never the URL itself: it may hold a
//! password.

use percent_encoding::percent_decode_str;

use crate::secret::Secret;

/// Which database speaks at the other end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    /// MySQL and MariaDB.
    MySql,
    Sqlite,
    SqlServer,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::MySql => "MySQL/MariaDB",
            Dialect::Sqlite => "SQLite",
            Dialect::SqlServer => "SQL Server",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Dialect::Postgres => 5432,
            Dialect::MySql => 3306,
            Dialect::Sqlite => 0,
            Dialect::SqlServer => 1433,
        }
    }
}

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub dialect: Dialect,
    /// Empty for SQLite.
    pub host: String,
    pub port: u16,
    /// The database name; for SQLite the file (`:memory:` for a private
    /// in-memory database).
    pub database: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Driver options by their native name (sqlx's URL parameters:
    /// `sslmode`, `ssl-mode`, `mode`, ...; for SQL Server `encrypt`,
    /// `trustServerCertificate`, `instanceName`).
    pub options: Vec<(String, String)>,
    /// JDBC options that have no equivalent here and are left out.
    pub ignored: Vec<String>,
}

impl Target {
    /// `host:port` (the file for SQLite), for messages.
    pub fn address(&self) -> String {
        match self.dialect {
            Dialect::Sqlite => self.database.clone().unwrap_or_default(),
            _ if self.host.contains(':') => format!("[{}]:{}", self.host, self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }

    /// The data source's own username and password win over the URL's.
    pub fn with_credentials(mut self, username: Option<&str>, password: Option<&Secret>) -> Self {
        if let Some(u) = username.filter(|u| !u.trim().is_empty()) {
            self.username = Some(u.trim().to_owned());
        }
        if let Some(p) = password.filter(|p| !p.is_empty()) {
            self.password = Some(p.clone());
        }
        self
    }

    /// The last value of a driver option (names compare case-insensitively).
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, name: &str, value: &str) {
        self.options.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.options.push((name.to_owned(), value.to_owned()));
    }
}

/// What is wrong with a URL (never the URL: it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data source URL: {0}")]
pub struct UrlError(String);

fn err(m: impl Into<String>) -> UrlError {
    UrlError(m.into())
}

/// Reads a native or JDBC-style data-source URL.
pub fn parse(url: &str) -> Result<Target, UrlError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(err("is empty"));
    }
    let (jdbc, rest) = match strip_prefix_ci(url, "jdbc:") {
        Some(r) => (true, r),
        None => (false, url),
    };
    let Some(colon) = rest.find(':') else {
        return Err(err(
            "has no scheme: expected postgres://, mysql://, mariadb://, sqlite:, sqlserver:// or a jdbc: URL",
        ));
    };
    let scheme = rest[..colon].to_ascii_lowercase();
    let after = &rest[colon + 1..];
    let dialect = match (jdbc, scheme.as_str()) {
        (_, "postgresql") | (false, "postgres") => Dialect::Postgres,
        (_, "mysql" | "mariadb") => Dialect::MySql,
        (_, "sqlite") => Dialect::Sqlite,
        (_, "sqlserver") | (false, "mssql") => Dialect::SqlServer,
        _ => {
            // Shown only in `scheme://` form: in `user:password@…` the "scheme" is a user name.
            let shown = if after.starts_with("//")
                && scheme.len() <= 20
                && scheme.chars().all(|c| c.is_ascii_alphanumeric())
            {
                format!("`{}{scheme}:`", if jdbc { "jdbc:" } else { "" })
            } else {
                "this scheme".to_owned()
            };
            return Err(err(format!(
                "{shown} is not supported: expected postgres://, mysql://, mariadb://, sqlite:, sqlserver:// or the jdbc: forms of these"
            )));
        }
    };
    match dialect {
        Dialect::Sqlite => sqlite(after),
        Dialect::SqlServer if jdbc || (!after.contains('@') && after.contains(';')) => {
            sqlserver_jdbc(after)
        }
        _ => server(dialect, jdbc, after),
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // `get`: a prefix length inside a multi-byte character is no match, not a panic.
    s.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])
}

fn decode(s: &str, what: &str) -> Result<String, UrlError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| err(format!("the {what} is not valid percent-encoded UTF-8")))
}

/// `//[user[:password]@]host[:port][/database][?k=v&…]` (and JDBC's
/// `jdbc:postgresql:database`, which means localhost).
fn server(dialect: Dialect, jdbc: bool, after: &str) -> Result<Target, UrlError> {
    if jdbc && dialect == Dialect::MySql && !after.starts_with("//") && after.contains("://") {
        return Err(err(
            "`jdbc:mysql:<protocol>://` (load balancing, replication) is not supported: use jdbc:mysql://host:port/db",
        ));
    }
    let after = if !after.starts_with("//") {
        if !(jdbc && dialect == Dialect::Postgres) {
            return Err(err(format!(
                "expected `//` and a host after the {} scheme",
                dialect.name()
            )));
        }
        // jdbc:postgresql:database and jdbc:postgresql:/ mean localhost.
        &format!("//localhost/{}", after.trim_start_matches('/'))
    } else {
        after
    };
    let authority = after[2..].split(['/', '?']).next().unwrap_or("");
    let host_part = authority.rsplit('@').next().unwrap_or("");
    if host_part.contains(',') {
        return Err(err(
            "lists several hosts (failover or load balancing): give one host",
        ));
    }
    let parsed = ::url::Url::parse(&format!("x:{after}")).map_err(|e| err(e.to_string()))?;
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| err("has no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let mut t = Target {
        dialect,
        host: decode(&host, "host")?,
        port: parsed.port().unwrap_or(dialect.default_port()),
        database: None,
        username: None,
        password: None,
        options: Vec::new(),
        ignored: Vec::new(),
    };
    if !parsed.username().is_empty() {
        t.username = Some(decode(parsed.username(), "user name")?);
    }
    if let Some(p) = parsed.password() {
        t.password = Some(Secret::new(decode(p, "password")?));
    }
    let path = parsed.path().trim_start_matches('/');
    if !path.is_empty() {
        t.database = Some(decode(path, "database name")?);
    }
    for (k, v) in parsed.query_pairs() {
        if jdbc {
            jdbc_option(&mut t, &k, &v);
        } else {
            match k.as_ref() {
                "user" | "username" => t.username = Some(v.into_owned()),
                "password" => t.password = Some(Secret::new(v.into_owned())),
                _ if dialect == Dialect::SqlServer => sqlserver_option(&mut t, &k, &v)?,
                _ => t.options.push((k.into_owned(), v.into_owned())),
            }
        }
    }
    Ok(t)
}

/// A JDBC driver property, mapped to sqlx's name for it.
fn jdbc_option(t: &mut Target, key: &str, value: &str) {
    let k = key.to_ascii_lowercase();
    match (t.dialect, k.as_str()) {
        (_, "user") => t.username = Some(value.to_owned()),
        (_, "password") => t.password = Some(Secret::new(value)),
        (Dialect::Postgres, "ssl") => {
            if t.option("sslmode").is_none() {
                let mode = if value.eq_ignore_ascii_case("false") {
                    "disable"
                } else {
                    "require"
                };
                t.set("sslmode", mode);
            }
        }
        (Dialect::Postgres, "sslmode") => t.set("sslmode", value),
        (Dialect::Postgres, "sslrootcert") => t.set("sslrootcert", value),
        (Dialect::Postgres, "applicationname") => t.set("application_name", value),
        (Dialect::Postgres, "currentschema") => {
            t.set("options", &format!("-c search_path={value}"));
        }
        (Dialect::MySql, "usessl" | "requiressl") => {
            if t.option("ssl-mode").is_none() || k == "requiressl" {
                let on = matches!(value.to_ascii_lowercase().as_str(), "true" | "1" | "yes");
                t.set("ssl-mode", if on { "REQUIRED" } else { "DISABLED" });
            }
        }
        (Dialect::MySql, "sslmode") => {
            // Connector/J: DISABLED, PREFERRED, REQUIRED, VERIFY_CA,
            // VERIFY_IDENTITY; MariaDB Connector/J: disable, trust, verify-ca, verify-full.
            let mode = match value.to_ascii_lowercase().as_str() {
                "disable" | "disabled" => "DISABLED",
                "trust" | "required" => "REQUIRED",
                "verify-ca" | "verify_ca" => "VERIFY_CA",
                "verify-full" | "verify_identity" => "VERIFY_IDENTITY",
                _ => "PREFERRED",
            };
            t.set("ssl-mode", mode);
        }
        _ => t.ignored.push(key.to_owned()),
    }
}

/// `[/]path[?mode=ro|rw|rwc|memory]`, `:memory:`.
fn sqlite(after: &str) -> Result<Target, UrlError> {
    let (path, query) = match after.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (after, None),
    };
    // sqlite://data.db is relative, sqlite:///var/data.db absolute (sqlx's reading).
    let path = path.strip_prefix("//").unwrap_or(path);
    if path.is_empty() {
        return Err(err("names no SQLite file"));
    }
    let mut t = Target {
        dialect: Dialect::Sqlite,
        host: String::new(),
        port: 0,
        database: Some(decode(path, "file name")?),
        username: None,
        password: None,
        options: Vec::new(),
        ignored: Vec::new(),
    };
    for (k, v) in ::url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "mode" => {
                if !matches!(v.as_ref(), "ro" | "rw" | "rwc" | "memory") {
                    return Err(err(format!(
                        "SQLite `mode={v}` is not one of ro, rw, rwc, memory"
                    )));
                }
                t.set("mode", &v);
            }
            _ => t.ignored.push(k.into_owned()),
        }
    }
    Ok(t)
}

/// `//[server[\instance][:port]][;property=value…]`.
fn sqlserver_jdbc(after: &str) -> Result<Target, UrlError> {
    let rest = after
        .strip_prefix("//")
        .ok_or_else(|| err("expected `//` after `sqlserver:`"))?;
    let mut parts = split_properties(rest).into_iter();
    let server = parts.next().unwrap_or_default();
    let server = server.trim();
    let mut t = Target {
        dialect: Dialect::SqlServer,
        host: String::new(),
        port: Dialect::SqlServer.default_port(),
        database: None,
        username: None,
        password: None,
        options: Vec::new(),
        ignored: Vec::new(),
    };
    let (server, port) = split_port(server)?;
    if let Some(p) = port {
        t.port = p;
    }
    match server.split_once('\\') {
        Some((h, inst)) => {
            t.host = h.to_owned();
            t.set("instanceName", inst);
        }
        None => t.host = server.to_owned(),
    }
    for (n, part) in parts.enumerate() {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((k, v)) = part.split_once('=') else {
            return Err(err(format!(
                "SQL Server property {} (after `;`) has no `=value`",
                n + 1
            )));
        };
        let v = v.trim();
        let v = match v.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
            Some(inner) => inner.replace("}}", "}"),
            None => v.to_owned(),
        };
        let v = v.as_str();
        match k.trim().to_ascii_lowercase().as_str() {
            "user" | "username" => t.username = Some(v.to_owned()),
            "password" => t.password = Some(Secret::new(v)),
            "servername" => t.host = v.to_owned(),
            "portnumber" | "port" => t.port = port_number(v)?,
            "databasename" | "database" => t.database = Some(v.to_owned()),
            _ => sqlserver_option(&mut t, k.trim(), v)?,
        }
    }
    if t.host.is_empty() {
        return Err(err("has no SQL Server host"));
    }
    Ok(t)
}

/// Splits at `;` outside `{…}` (JDBC's quoting; `}}` is a literal `}`).
fn split_properties(s: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars().peekable();
    let mut braced = false;
    while let Some(c) = chars.next() {
        let Some(cur) = parts.last_mut() else { break };
        match c {
            ';' if !braced => parts.push(String::new()),
            '{' if !braced => {
                braced = true;
                cur.push(c);
            }
            '}' if braced && chars.peek() == Some(&'}') => {
                chars.next();
                cur.push_str("}}");
            }
            '}' if braced => {
                braced = false;
                cur.push(c);
            }
            _ => cur.push(c),
        }
    }
    parts
}

fn split_port(server: &str) -> Result<(&str, Option<u16>), UrlError> {
    if server.starts_with('[') {
        // [::1]:1433
        let end = server
            .find(']')
            .ok_or_else(|| err("unclosed `[` in host"))?;
        let host = &server[1..end];
        return match server[end + 1..].strip_prefix(':') {
            Some(p) => Ok((host, Some(port_number(p)?))),
            None => Ok((host, None)),
        };
    }
    match server.rsplit_once(':') {
        Some((h, p)) => Ok((h, Some(port_number(p)?))),
        None => Ok((server, None)),
    }
}

fn port_number(p: &str) -> Result<u16, UrlError> {
    p.trim()
        .parse()
        .map_err(|_| err("the port is not a number from 1 to 65535"))
}

fn sqlserver_option(t: &mut Target, key: &str, value: &str) -> Result<(), UrlError> {
    match key.to_ascii_lowercase().as_str() {
        "encrypt" => {
            let v = match value.to_ascii_lowercase().as_str() {
                "true" | "yes" | "mandatory" | "strict" => "true",
                "false" | "no" | "optional" => "false",
                _ => {
                    return Err(err(
                        "SQL Server `encrypt` must be true, false, mandatory, optional or strict",
                    ));
                }
            };
            t.set("encrypt", v);
        }
        "trustservercertificate" => {
            let on = matches!(value.to_ascii_lowercase().as_str(), "true" | "yes" | "1");
            t.set("trustServerCertificate", if on { "true" } else { "false" });
        }
        "instancename" => t.set("instanceName", value),
        "applicationname" => t.set("applicationName", value),
        "integratedsecurity" if value.eq_ignore_ascii_case("true") => {
            return Err(err(
                "SQL Server integrated (Windows) security is not supported: use a SQL login",
            ));
        }
        "authentication"
            if !value.eq_ignore_ascii_case("SqlPassword")
                && !value.eq_ignore_ascii_case("NotSpecified") =>
        {
            return Err(err(
                "SQL Server `authentication` other than SqlPassword is not supported: use a SQL login",
            ));
        }
        _ => t.ignored.push(key.to_owned()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> Target {
        parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn bad(url: &str) -> String {
        match parse(url) {
            Ok(t) => panic!("{url} parsed: {t:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// Found by schemathesis through the API: a multi-byte character where a
    /// scheme is compared used to panic.
    #[test]
    fn no_panic_on_any_text() {
        for url in [
            ".%65中&-6é9]\u{d7ff} ;;é",
            "中_é1&]0/#-/@51238b?",
            "\u{d7ff}1\u{d7ff}/",
            "jdbc:中",
            "é",
            "",
        ] {
            let _ = parse(url);
        }
        // Every prefix of every scheme, followed by multi-byte text.
        for scheme in [
            "postgres://",
            "jdbc:postgresql://",
            "sqlserver://",
            "jdbc:sqlserver://",
            "sqlite:",
        ] {
            for cut in 0..=scheme.len() {
                for tail in ["中", "é1", "\u{10ffff}/x"] {
                    let _ = parse(&format!("{}{tail}", &scheme[..cut]));
                }
            }
        }
    }

    #[test]
    fn native_postgres() {
        let t = ok("postgres://bob:s%40cret@db.example.com:6432/sales?sslmode=require");
        assert_eq!(t.dialect, Dialect::Postgres);
        assert_eq!(t.address(), "db.example.com:6432");
        assert_eq!(t.database.as_deref(), Some("sales"));
        assert_eq!(t.username.as_deref(), Some("bob"));
        assert_eq!(t.password.as_ref().map(Secret::expose), Some("s@cret"));
        assert_eq!(t.option("sslmode"), Some("require"));
        let t = ok("postgresql://[::1]/x");
        assert_eq!((t.host.as_str(), t.port), ("::1", 5432));
        assert_eq!(t.address(), "[::1]:5432");
    }

    #[test]
    fn native_mysql_and_mariadb() {
        let t = ok("mysql://root@127.0.0.1/test");
        assert_eq!(t.dialect, Dialect::MySql);
        assert_eq!(t.address(), "127.0.0.1:3306");
        assert_eq!(t.password, None);
        let t = ok("mariadb://u:p@h:3307/db?ssl-mode=DISABLED");
        assert_eq!((t.dialect, t.port), (Dialect::MySql, 3307));
        assert_eq!(t.option("ssl-mode"), Some("DISABLED"));
    }

    #[test]
    fn jdbc_postgres() {
        let t = ok(
            "jdbc:postgresql://pg:5433/app?user=svc&password=pw&ssl=true&ApplicationName=baton&currentSchema=ops&loginTimeout=5",
        );
        assert_eq!(t.dialect, Dialect::Postgres);
        assert_eq!(t.address(), "pg:5433");
        assert_eq!(t.username.as_deref(), Some("svc"));
        assert_eq!(t.password.as_ref().map(Secret::expose), Some("pw"));
        assert_eq!(t.option("sslmode"), Some("require"));
        assert_eq!(t.option("application_name"), Some("baton"));
        assert_eq!(t.option("options"), Some("-c search_path=ops"));
        assert_eq!(t.ignored, ["loginTimeout"]);
        // sslmode wins over ssl whatever the order.
        let t = ok("jdbc:postgresql://pg/app?sslmode=disable&ssl=true");
        assert_eq!(t.option("sslmode"), Some("disable"));
        let t = ok("jdbc:postgresql:app");
        assert_eq!(
            (t.host.as_str(), t.database.as_deref()),
            ("localhost", Some("app"))
        );
    }

    #[test]
    fn jdbc_mysql_and_mariadb() {
        let t = ok("jdbc:mysql://my:3310/shop?useSSL=false&serverTimezone=UTC&useUnicode=true");
        assert_eq!((t.dialect, t.address()), (Dialect::MySql, "my:3310".into()));
        assert_eq!(t.option("ssl-mode"), Some("DISABLED"));
        assert_eq!(t.ignored, ["serverTimezone", "useUnicode"]);
        let t = ok("jdbc:mariadb://m/shop?user=a&password=b&sslMode=verify-full");
        assert_eq!(t.option("ssl-mode"), Some("VERIFY_IDENTITY"));
        assert_eq!(t.username.as_deref(), Some("a"));
        assert!(bad("jdbc:mysql:loadbalance://a,b/db").contains("not supported"));
        assert!(bad("jdbc:mysql:replication://a/db").contains("not supported"));
    }

    #[test]
    fn sqlite_forms() {
        for (url, file) in [
            ("sqlite:/var/lib/x.db", "/var/lib/x.db"),
            ("sqlite:///var/lib/x.db", "/var/lib/x.db"),
            ("sqlite://data.db", "data.db"),
            ("sqlite::memory:", ":memory:"),
            ("jdbc:sqlite:/tmp/a b.db", "/tmp/a b.db"),
            ("jdbc:sqlite:rel.db", "rel.db"),
        ] {
            let t = ok(url);
            assert_eq!(t.dialect, Dialect::Sqlite, "{url}");
            assert_eq!(t.database.as_deref(), Some(file), "{url}");
        }
        assert_eq!(ok("sqlite:/x.db?mode=rwc").option("mode"), Some("rwc"));
        assert!(bad("sqlite:/x.db?mode=wat").contains("mode=wat"));
        assert!(bad("sqlite:").contains("names no SQLite file"));
    }

    #[test]
    fn sqlserver_forms() {
        let t = ok(
            "jdbc:sqlserver://sql1\\PROD:1444;databaseName=ops;user=sa;password={p;w};encrypt=true;trustServerCertificate=true;loginTimeout=30",
        );
        assert_eq!(t.dialect, Dialect::SqlServer);
        assert_eq!(t.address(), "sql1:1444");
        assert_eq!(t.option("instanceName"), Some("PROD"));
        assert_eq!(t.database.as_deref(), Some("ops"));
        assert_eq!(t.username.as_deref(), Some("sa"));
        assert_eq!(t.option("encrypt"), Some("true"));
        assert_eq!(t.option("trustServerCertificate"), Some("true"));
        assert_eq!(t.ignored, ["loginTimeout"]);
        let t = ok("jdbc:sqlserver://;serverName=s2;portNumber=1500;database=d");
        assert_eq!(
            (t.address(), t.database.as_deref()),
            ("s2:1500".into(), Some("d"))
        );
        let t = ok("mssql://sa:pw@s3/db?encrypt=false");
        assert_eq!(
            (t.address(), t.option("encrypt")),
            ("s3:1433".into(), Some("false"))
        );
        assert_eq!(t.password.as_ref().map(Secret::expose), Some("pw"));
        let t = ok("sqlserver://s4:1401;databaseName=x");
        assert_eq!(
            (t.address(), t.database.as_deref()),
            ("s4:1401".into(), Some("x"))
        );
        assert!(bad("jdbc:sqlserver://s;integratedSecurity=true").contains("integrated"));
        assert!(bad("jdbc:sqlserver://s;encrypt=maybe").contains("`encrypt` must be"));
        assert!(bad("jdbc:sqlserver://s:abc").contains("the port is not a number"));
        assert!(bad("jdbc:sqlserver://;databaseName=x").contains("no SQL Server host"));
        let t = ok("jdbc:sqlserver://s;password={a;b}}c};user=u");
        assert_eq!(t.password.as_ref().map(Secret::expose), Some("a;b}c"));
        assert_eq!(t.username.as_deref(), Some("u"));
    }

    #[test]
    fn data_source_credentials_win() {
        let t = ok("postgres://urluser:urlpw@h/db")
            .with_credentials(Some("dsuser"), Some(&Secret::new("dspw")));
        assert_eq!(t.username.as_deref(), Some("dsuser"));
        assert_eq!(t.password.as_ref().map(Secret::expose), Some("dspw"));
        let t = ok("postgres://urluser:urlpw@h/db").with_credentials(Some(" "), None);
        assert_eq!(t.username.as_deref(), Some("urluser"));
        assert_eq!(t.password.as_ref().map(Secret::expose), Some("urlpw"));
    }

    #[test]
    fn bad_urls_say_what_is_wrong_without_the_password() {
        assert_eq!(bad(""), "data source URL: is empty");
        assert!(bad("hunter22").contains("has no scheme"));
        assert!(bad("oracle://u:hunter22@h/db").contains("`oracle:` is not supported"));
        assert!(bad("postgres://u:hunter22@h:99999/db").contains("port"));
        assert!(
            bad("postgres://u:hunter22@/db").contains("no host")
                || bad("postgres://u:hunter22@/db").contains("host")
        );
        assert!(bad("postgres:h/db").contains("expected `//`"));
        assert!(bad("postgres://h1,h2/db").contains("several hosts"));
        for url in [
            "oracle://u:hunter22@h/db",
            "postgres://u:hunter22@h:99999/db",
            "postgres://u:hunter22@/db",
            "jdbc:sqlserver://s;password=hunter22;encrypt=hunter22",
            "jdbc:sqlserver://s:hunter22",
            "hunter22:x",
        ] {
            assert!(!bad(url).contains("hunter22"), "{url}: {}", bad(url));
        }
    }
}
