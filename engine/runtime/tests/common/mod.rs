//! The test database harness shared by the store and engine tests: every case
//! runs on SQLite (a temp file) and PostgreSQL (a fresh database on
//! 127.0.0.1:5432, dropped afterwards; `BATON_TEST_POSTGRES_HOST` points
//! elsewhere). PostgreSQL unreachable: skipped loudly, unless `CI=true`.
#![allow(dead_code)]

pub mod rows;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use baton_runtime::store::Store;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

#[derive(Clone)]
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Clone)]
enum Cleanup {
    Dir(PathBuf),
    Postgres {
        admin: DatabaseConnection,
        name: String,
    },
}

fn unique_name() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "baton_test_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("baton.db").display());
        let store = Store::connect(&url).await.unwrap();
        TestDb {
            store,
            url,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// `None` (after a loud message) when PostgreSQL is unreachable outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let host = std::env::var("BATON_TEST_POSTGRES_HOST");
        let host = host.as_deref().unwrap_or("127.0.0.1:5432");
        let mut last_err = String::new();
        for user in ["postgres", "root"] {
            let mut options = ConnectOptions::new(format!("postgres://{user}@{host}/postgres"));
            options
                .max_connections(1)
                .connect_timeout(Duration::from_secs(3))
                .acquire_timeout(Duration::from_secs(3))
                .sqlx_logging(false);
            let admin = match Database::connect(options).await {
                Ok(admin) => admin,
                Err(err) => {
                    last_err = err.to_string();
                    continue;
                }
            };
            let name = unique_name();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let url = format!("postgres://{user}@{host}/{name}");
            let store = Store::connect(&url).await.unwrap();
            return Some(TestDb {
                store,
                url,
                cleanup: Cleanup::Postgres { admin, name },
            });
        }
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("PostgreSQL unreachable at {host} and CI=true: {last_err}");
        }
        eprintln!(
            "\n**********************************************************************\n\
             SKIPPED: PostgreSQL unreachable at {host} ({last_err}).\n\
             The PostgreSQL half of the store tests did NOT run.\n\
             **********************************************************************\n"
        );
        None
    }

    /// Another, independent connection to the same database.
    pub async fn second_store(&self) -> Store {
        Store::connect(&self.url).await.unwrap()
    }

    pub async fn dispose(self) {
        self.store.close().await.unwrap();
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin, name } => {
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .unwrap();
            }
        }
    }
}

/// Run `case` on `db`, clean up, then report the case's panic if any.
pub async fn run<F, Fut>(db: TestDb, case: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(case(db.clone())).await;
    db.dispose().await;
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

#[macro_export]
macro_rules! on_both_cases {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            pub async fn sqlite() {
                $crate::common::run($crate::common::TestDb::sqlite().await, super::$case).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            pub async fn postgres() {
                if let Some(db) = $crate::common::TestDb::postgres().await {
                    $crate::common::run(db, super::$case).await;
                }
            }
        }
    )*};
}

pub use on_both_cases as on_both;
