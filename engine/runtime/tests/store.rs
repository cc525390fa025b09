//! Store tests against real databases: every case runs on SQLite (a file in a
//! temp dir) and on PostgreSQL (a fresh database on 127.0.0.1:5432, dropped
//! afterwards; `BATON_TEST_POSTGRES_HOST` points elsewhere). PostgreSQL
//! unreachable: the PostgreSQL half is skipped loudly, unless `CI=true`,
//! where it fails.

mod common;

use std::collections::HashSet;
use std::time::Instant;

use baton_runtime::store::*;
use common::rows::*;
use common::{TestDb, on_both};

// ---------------------------------------------------------------- harness

on_both!(
    round_trip_of_every_row_type,
    version_conflict_rolls_back_the_whole_batch,
    finishing_a_missing_job_or_timer_is_a_conflict,
    concurrent_claimers_never_share_a_job,
    expired_job_leases_are_reclaimable,
    concurrent_claimers_never_share_a_timer,
    expired_timer_leases_are_reclaimable,
    history_comes_back_in_seq_order,
    large_batches_are_chunked,
    lists_and_counts,
);

// ---------------------------------------------------------------- cases

async fn round_trip_of_every_row_type(db: TestDb) {
    let s = &db.store;
    let inst = instance("i1", "orders:1", 50);
    let full = Batch {
        definitions: vec![definition("orders", 1)],
        instances: vec![insert(inst.clone())],
        history: vec![history("i1", 1), history("i1", 2)],
        jobs_new: vec![
            job("i1:3:1", "i1", 100, None),
            job("i1:5:1", "i1", 100, Some("h1")),
        ],
        timers_new: vec![timer("i1:7", "i1", 500)],
        subs_new: vec![subscription("i1:2", "i1", "paid")],
        tasks_new: vec![task("i1:4", "i1", Some("alice"))],
        incidents_new: vec![incident("i1:4", "i1")],
        ..Batch::default()
    };
    s.commit(&full).await.unwrap();

    assert_eq!(
        s.definition("orders:1").await.unwrap(),
        Some(definition("orders", 1))
    );
    assert_eq!(s.load_instance("i1").await.unwrap(), Some(inst.clone()));
    assert_eq!(s.load_instance("nope").await.unwrap(), None);
    assert_eq!(s.history("i1").await.unwrap(), full.history);
    let mut jobs = full.jobs_new.clone();
    jobs.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(s.jobs_of("i1").await.unwrap(), jobs);
    assert_eq!(s.timers_of("i1").await.unwrap(), full.timers_new);
    assert_eq!(
        s.subscriptions("message", "paid").await.unwrap(),
        full.subs_new
    );
    assert_eq!(s.subscriptions("signal", "paid").await.unwrap(), vec![]);
    assert_eq!(s.subscriptions_of("i1").await.unwrap(), full.subs_new);
    assert_eq!(s.tasks_of("i1").await.unwrap(), full.tasks_new);
    assert_eq!(
        s.task("i1:4").await.unwrap(),
        Some(full.tasks_new[0].clone())
    );
    assert_eq!(
        s.open_tasks(Some("alice"), Page::default()).await.unwrap(),
        full.tasks_new
    );
    assert_eq!(
        s.open_tasks(Some("bob"), Page::default()).await.unwrap(),
        vec![]
    );
    assert_eq!(s.incidents("i1").await.unwrap(), full.incidents_new);

    // The second batch updates or ends everything the first one made.
    let mut next = inst.clone();
    next.status = "completed".into();
    next.state = vec![9; 1000];
    next.ended_at = Some(99);
    next.version = 2;
    let ends = Batch {
        instances: vec![InstanceWrite {
            row: next.clone(),
            expected_version: Some(1),
        }],
        jobs_done: vec!["i1:3:1".into()],
        jobs_cancelled: vec!["i1:5:1".into(), "never-existed".into()],
        timers_cancelled: vec!["i1:7".into()],
        subs_done: vec!["i1:2".into()],
        tasks_ended: vec![("i1:4".into(), "completed".into(), 98)],
        incidents_resolved: vec![("i1:4".into(), 97)],
        ..Batch::default()
    };
    s.commit(&ends).await.unwrap();
    assert_eq!(s.load_instance("i1").await.unwrap(), Some(next));
    assert_eq!(s.jobs_of("i1").await.unwrap(), vec![]);
    assert_eq!(s.timers_of("i1").await.unwrap(), vec![]);
    assert_eq!(s.subscriptions_of("i1").await.unwrap(), vec![]);
    let ended = s.task("i1:4").await.unwrap().unwrap();
    assert_eq!(
        (ended.state.as_str(), ended.ended_at),
        ("completed", Some(98))
    );
    assert_eq!(s.open_tasks(None, Page::default()).await.unwrap(), vec![]);
    assert_eq!(s.incidents("i1").await.unwrap()[0].resolved_at, Some(97));
    // An empty batch is fine and touches nothing.
    s.commit(&Batch::default()).await.unwrap();
}

async fn version_conflict_rolls_back_the_whole_batch(db: TestDb) {
    let s = &db.store;
    let batch = Batch {
        instances: vec![
            insert(instance("a", "d:1", 1)),
            insert(instance("b", "d:1", 2)),
        ],
        ..Batch::default()
    };
    s.commit(&batch).await.unwrap();

    let mut a2 = instance("a", "d:1", 1);
    a2.status = "completed".into();
    a2.version = 2;
    let mut b2 = instance("b", "d:1", 2);
    b2.version = 2;
    let stale = Batch {
        definitions: vec![definition("d", 1)],
        // `a` is right and applied first inside the transaction; `b` is stale.
        instances: vec![
            InstanceWrite {
                row: a2.clone(),
                expected_version: Some(1),
            },
            InstanceWrite {
                row: b2,
                expected_version: Some(7),
            },
            insert(instance("c", "d:1", 3)),
        ],
        history: vec![history("a", 1)],
        jobs_new: vec![job("a:1:1", "a", 1, None)],
        timers_new: vec![timer("a:2", "a", 1)],
        subs_new: vec![subscription("a:3", "a", "m")],
        tasks_new: vec![task("a:4", "a", None)],
        incidents_new: vec![incident("a:5", "a")],
        ..Batch::default()
    };
    let what = conflict(s.commit(&stale).await);
    assert!(what.contains("instance b"), "{what}");

    assert_eq!(s.load_instance("a").await.unwrap().unwrap().version, 1);
    assert_eq!(s.load_instance("c").await.unwrap(), None);
    assert_eq!(s.definition("d:1").await.unwrap(), None);
    assert_eq!(s.history("a").await.unwrap(), vec![]);
    assert_eq!(s.jobs_of("a").await.unwrap(), vec![]);
    assert_eq!(s.timers_of("a").await.unwrap(), vec![]);
    assert_eq!(s.subscriptions_of("a").await.unwrap(), vec![]);
    assert_eq!(s.tasks_of("a").await.unwrap(), vec![]);
    assert_eq!(s.incidents("a").await.unwrap(), vec![]);

    // Two writes of one instance in one batch apply in order.
    let mut a3 = a2.clone();
    a3.version = 3;
    let chained = Batch {
        instances: vec![
            InstanceWrite {
                row: a2,
                expected_version: Some(1),
            },
            InstanceWrite {
                row: a3.clone(),
                expected_version: Some(2),
            },
        ],
        ..Batch::default()
    };
    s.commit(&chained).await.unwrap();
    assert_eq!(s.load_instance("a").await.unwrap(), Some(a3));

    // Inserting an existing instance is a conflict too (a unique key).
    let what = conflict(s.commit(&batch).await);
    assert!(what.contains("duplicate"), "{what}");
}

async fn finishing_a_missing_job_or_timer_is_a_conflict(db: TestDb) {
    let s = &db.store;
    let ids = seed_jobs(s, 2, None).await;
    s.commit(&Batch {
        timers_new: vec![timer("t1", "i1", 5)],
        ..Batch::default()
    })
    .await
    .unwrap();

    let missing = Batch {
        history: vec![history("i1", 1)],
        jobs_done: vec![ids[0].clone(), "gone".into()],
        ..Batch::default()
    };
    let what = conflict(s.commit(&missing).await);
    assert!(what.contains("job gone"), "{what}");
    assert_eq!(s.history("i1").await.unwrap(), vec![]);
    assert_eq!(
        s.jobs_of("i1").await.unwrap().len(),
        2,
        "the first delete rolled back"
    );

    // Exactly once: the first completion applies, a second one conflicts.
    let done = Batch {
        history: vec![history("i1", 1)],
        jobs_done: vec![ids[0].clone()],
        timers_done: vec!["t1".into()],
        ..Batch::default()
    };
    s.commit(&done).await.unwrap();
    let again = Batch {
        history: vec![history("i1", 2)],
        jobs_done: vec![ids[0].clone()],
        ..Batch::default()
    };
    conflict(s.commit(&again).await);
    let timer_again = Batch {
        history: vec![history("i1", 2)],
        timers_done: vec!["t1".into()],
        ..Batch::default()
    };
    let what = conflict(s.commit(&timer_again).await);
    assert!(what.contains("timer t1"), "{what}");
    let twice = Batch {
        jobs_done: vec![ids[1].clone(), ids[1].clone()],
        ..Batch::default()
    };
    conflict(s.commit(&twice).await);
    assert_eq!(s.history("i1").await.unwrap(), vec![history("i1", 1)]);
    assert_eq!(s.jobs_of("i1").await.unwrap().len(), 1);
}

async fn concurrent_claimers_never_share_a_job(db: TestDb) {
    let ids = seed_jobs(&db.store, 300, None).await;
    seed_host_jobs(&db.store).await;
    let other = db.second_store().await;
    let mut claimers = Vec::new();
    for n in 0..8 {
        let store = if n % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        claimers.push(tokio::spawn(async move {
            let worker = format!("w{n}");
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_jobs(&worker, None, 7, 10_000, 60_000)
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                assert!(
                    got.iter()
                        .all(|j| j.worker.as_deref() == Some(worker.as_str()))
                );
                assert!(got.iter().all(|j| j.lease_until == Some(70_000)));
                assert!(got.windows(2).all(|w| w[0].run_at <= w[1].run_at));
                mine.extend(got.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "a job was claimed twice");
    assert_eq!(unique, ids.iter().collect::<HashSet<_>>());
    other.close().await.unwrap();
}

/// Jobs routed to host `h1`: invisible to the server's own workers.
async fn seed_host_jobs(store: &Store) {
    let batch = Batch {
        jobs_new: vec![
            job("h:1", "i1", 1, Some("h1")),
            job("h:2", "i1", 2, Some("h1")),
        ],
        ..Batch::default()
    };
    store.commit(&batch).await.unwrap();
}

async fn expired_job_leases_are_reclaimable(db: TestDb) {
    let s = &db.store;
    let mut batch = Batch::default();
    batch.jobs_new.push(job("early", "i1", 1_000, None));
    batch.jobs_new.push(job("late", "i1", 5_000, None));
    s.commit(&batch).await.unwrap();
    seed_host_jobs(s).await;

    let got = s.claim_jobs("w1", None, 10, 1_000, 500).await.unwrap();
    assert_eq!(
        got.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        ["early"]
    );
    assert_eq!(got[0].lease_until, Some(1_500));
    assert_eq!(
        s.claim_jobs("w2", None, 10, 1_200, 500).await.unwrap(),
        vec![]
    );
    // The lease has run out: another worker takes the job over.
    let again = s.claim_jobs("w2", None, 10, 1_501, 500).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id.as_str(), again[0].worker.as_deref()),
        ("early", Some("w2"))
    );
    // Host routing, both ways.
    let host = s.claim_jobs("relay", Some("h1"), 1, 10, 500).await.unwrap();
    assert_eq!(
        host.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        ["h:1"]
    );
    assert_eq!(
        s.claim_jobs("relay", Some("h2"), 10, 10, 500)
            .await
            .unwrap(),
        vec![]
    );
    let both = s.claim_jobs("w3", None, 10, 9_000, 500).await.unwrap();
    assert_eq!(
        both.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        ["early", "late"]
    );
}

async fn concurrent_claimers_never_share_a_timer(db: TestDb) {
    let ids: Vec<String> = (0..300).map(|i| format!("t{i}")).collect();
    let batch = Batch {
        timers_new: ids
            .iter()
            .enumerate()
            .map(|(i, id)| timer(id, "i1", i as i64))
            .collect(),
        ..Batch::default()
    };
    db.store.commit(&batch).await.unwrap();
    let other = db.second_store().await;
    let mut claimers = Vec::new();
    for n in 0..8 {
        let store = if n % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        claimers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_timers(&format!("w{n}"), 7, 10_000, 60_000)
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                assert!(got.windows(2).all(|w| w[0].due_at <= w[1].due_at));
                mine.extend(got.into_iter().map(|t| t.id));
            }
        }));
    }
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "a timer was claimed twice");
    assert_eq!(unique, ids.iter().collect::<HashSet<_>>());
    other.close().await.unwrap();
}

async fn expired_timer_leases_are_reclaimable(db: TestDb) {
    let s = &db.store;
    let batch = Batch {
        timers_new: vec![timer("soon", "i1", 1_000), timer("later", "i1", 5_000)],
        ..Batch::default()
    };
    s.commit(&batch).await.unwrap();
    assert_eq!(s.claim_timers("w1", 10, 999, 500).await.unwrap(), vec![]);
    let got = s.claim_timers("w1", 10, 1_000, 500).await.unwrap();
    assert_eq!(
        got.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["soon"]
    );
    assert_eq!(got[0].lease_until, Some(1_500));
    assert_eq!(s.claim_timers("w2", 10, 1_500, 500).await.unwrap(), vec![]);
    let again = s.claim_timers("w2", 10, 1_501, 500).await.unwrap();
    assert_eq!(
        again.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["soon"]
    );
    let both = s.claim_timers("w3", 1, 9_000, 500).await.unwrap();
    assert_eq!(
        both.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["soon"]
    );
}

async fn history_comes_back_in_seq_order(db: TestDb) {
    let s = &db.store;
    let seqs = [7, 3, 10, 1, 2, 9, 4, 8, 6, 5];
    for chunk in seqs.chunks(3) {
        let batch = Batch {
            history: chunk.iter().map(|&n| history("i1", n)).collect(),
            ..Batch::default()
        };
        s.commit(&batch).await.unwrap();
    }
    let mut other = history("i2", 1);
    other.seq = 100;
    s.commit(&Batch {
        history: vec![other],
        ..Batch::default()
    })
    .await
    .unwrap();
    let got: Vec<i64> = s
        .history("i1")
        .await
        .unwrap()
        .iter()
        .map(|h| h.seq)
        .collect();
    assert_eq!(got, (1..=10).collect::<Vec<_>>());
    // A seq written twice is a conflict (the primary key).
    let dup = Batch {
        history: vec![history("i1", 4)],
        ..Batch::default()
    };
    conflict(s.commit(&dup).await);
}

async fn large_batches_are_chunked(db: TestDb) {
    let s = &db.store;
    let n_history = 10_007;
    let batch = Batch {
        instances: (0..1_001)
            .map(|i| insert(instance(&format!("i{i}"), "d:1", i)))
            .collect(),
        history: (1..=n_history).map(|seq| history("i0", seq)).collect(),
        jobs_new: (0..3_003)
            .map(|i| job(&format!("j{i}"), "i0", i, None))
            .collect(),
        ..Batch::default()
    };
    s.commit(&batch).await.unwrap();
    let got = s.history("i0").await.unwrap();
    assert_eq!(got.len(), n_history as usize);
    assert_eq!(got, batch.history);
    let ids: Vec<String> = (0..1_001).map(|i| format!("i{i}")).collect();
    assert_eq!(s.load_instances(&ids).await.unwrap().len(), 1_001);
    assert_eq!(s.running_instance_ids().await.unwrap().len(), 1_001);

    // 1,001 instance updates, 3,003 finished jobs in one batch.
    let done = Batch {
        instances: batch
            .instances
            .iter()
            .map(|w| {
                let mut row = w.row.clone();
                row.version = 2;
                row.status = "completed".into();
                InstanceWrite {
                    row,
                    expected_version: Some(1),
                }
            })
            .collect(),
        jobs_done: batch.jobs_new.iter().map(|j| j.id.clone()).collect(),
        ..Batch::default()
    };
    s.commit(&done).await.unwrap();
    assert_eq!(s.jobs_of("i0").await.unwrap(), vec![]);
    assert_eq!(
        s.running_instance_ids().await.unwrap(),
        Vec::<String>::new()
    );
    let by_status = s.count_instances_by_status().await.unwrap();
    assert_eq!(by_status, vec![("completed".to_owned(), 1_001)]);
}

async fn lists_and_counts(db: TestDb) {
    let s = &db.store;
    let mut batch = Batch {
        definitions: vec![
            definition("orders", 1),
            definition("orders", 2),
            definition("bills", 1),
        ],
        ..Batch::default()
    };
    for i in 0..10 {
        let def = ["orders:1", "orders:2", "bills:1"][i % 3];
        let mut row = instance(&format!("i{i}"), def, i as i64 * 10);
        if i % 4 == 0 {
            row.status = "failed".into();
        }
        if i % 5 == 0 {
            row.start_way = "schedule".into();
        }
        batch.instances.push(insert(row));
    }
    s.commit(&batch).await.unwrap();

    assert_eq!(
        s.latest_definition("orders").await.unwrap(),
        Some(definition("orders", 2))
    );
    assert_eq!(s.latest_definition("none").await.unwrap(), None);
    let by_hash = s
        .definition_by_hash("orders", "hash-orders-1")
        .await
        .unwrap();
    assert_eq!(by_hash, Some(definition("orders", 1)));
    assert_eq!(
        s.definition_by_hash("bills", "hash-orders-1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.next_version("orders").await.unwrap(), 3);
    assert_eq!(s.next_version("new").await.unwrap(), 1);
    let listed: Vec<String> = s
        .list_definitions()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, ["bills:1", "orders:1", "orders:2"]);
    // Same key and version again: a conflict, not a second row.
    conflict(
        s.commit(&Batch {
            definitions: vec![definition("orders", 2)],
            ..Batch::default()
        })
        .await,
    );

    let ids = |v: Vec<InstanceSummary>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let all = s
        .list_instances(&InstanceFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(
        ids(all),
        ["i9", "i8", "i7", "i6", "i5", "i4", "i3", "i2", "i1", "i0"]
    );
    let page = Page {
        offset: 2,
        limit: 3,
    };
    assert_eq!(
        ids(s
            .list_instances(&InstanceFilter::default(), page)
            .await
            .unwrap()),
        ["i7", "i6", "i5"]
    );
    let orders = InstanceFilter {
        definition_key: Some("orders".into()),
        status: Some("running".into()),
        ..InstanceFilter::default()
    };
    assert_eq!(
        ids(s.list_instances(&orders, Page::default()).await.unwrap()),
        ["i9", "i7", "i6", "i3", "i1"]
    );
    assert_eq!(s.count_instances(&orders).await.unwrap(), 5);
    let window = InstanceFilter {
        start_way: Some("schedule".into()),
        from: Some(0),
        to: Some(50),
        ..InstanceFilter::default()
    };
    assert_eq!(
        ids(s.list_instances(&window, Page::default()).await.unwrap()),
        ["i0"]
    );
    assert_eq!(
        s.count_instances_by_status().await.unwrap(),
        vec![("failed".to_owned(), 3), ("running".to_owned(), 7)]
    );
}

// ---------------------------------------------------------------- others

#[tokio::test]
async fn bad_urls_are_errors_not_panics() {
    for url in [
        "mysql://root@localhost/x",
        "",
        "nonsense",
        "postgres://u:secret@[::1",
    ] {
        match Store::connect(url).await {
            Err(Error::BadUrl { reason }) => assert!(!reason.contains("secret"), "{reason}"),
            other => panic!("{url:?}: expected BadUrl, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let s = Store::connect("sqlite::memory:").await.unwrap();
    let ids = seed_jobs(&s, 3, None).await;
    let got = s.claim_jobs("w", None, 10, 1_000, 10).await.unwrap();
    assert_eq!(got.len(), ids.len());
    assert_eq!(s.load_instance("i1").await.unwrap().unwrap().id, "i1");
}

/// Commit throughput on a SQLite file (WAL): batches of 500 instances, each
/// one instance insert + 5 history rows. Run with
/// `cargo test -p baton-runtime --test store -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn commit_throughput_sqlite() {
    let db = TestDb::sqlite().await;
    let (batches, per_batch) = (100, 500);
    let make = |b: usize| Batch {
        instances: (0..per_batch)
            .map(|i| insert(instance(&format!("{b}-{i}"), "d:1", 1)))
            .collect(),
        history: (0..per_batch)
            .flat_map(|i| (1..=5).map(move |seq| history(&format!("{b}-{i}"), seq)))
            .collect(),
        ..Batch::default()
    };
    // Built up front: only the commits are timed.
    let all: Vec<Batch> = (0..batches).map(make).collect();
    db.store.commit(&make(9_999)).await.unwrap(); // warm the statement cache
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    for batch in &all {
        db.store.commit(batch).await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let instances = (batches * per_batch) as f64;
    println!(
        "{{\"instances_per_s\": {:.0}, \"rows_per_s\": {:.0}, \"us_per_instance\": {:.1}, \"cpu_us_per_instance\": {:.1}, \"batches\": {batches}, \"batch\": {per_batch}, \"profile\": \"{}\"}}",
        instances / secs,
        instances * 6.0 / secs,
        secs * 1e6 / instances,
        cpu * 1e6 / instances,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
    db.dispose().await;
}

/// User + system CPU time of this process (all threads), from
/// `/proc/self/stat`; 0 where that does not exist. A loaded machine inflates
/// wall time, not this.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line, in clock ticks (100 per second).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
