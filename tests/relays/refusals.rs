//! Relays refused: revoked tokens, wrong companies, bad protocol versions
//! and hostile frames, while others are unaffected.

use std::time::{Duration, Instant};

use baton_runtime::nodes::DEFAULT_COMPANY;

use crate::cloud::{cloud, connected};
use crate::raw;
use crate::relay::Relay;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_tokens_and_wrong_companies_are_refused() {
    let c = cloud("revoke").await;
    let token = c.host("v", &[], None).await;
    let relay = Relay::start(&c, "v", &token, DEFAULT_COMPANY, 4);
    connected(&c, "v").await;
    // Revoked through the hub (the API's path): the link closes at once.
    c.store.set_host_token("v", None).await.unwrap();
    let at = Instant::now();
    c.hub.revoke("v", "revoked by the test");
    c.until_host("v", "disconnected", |h| h.server.is_none())
        .await;
    assert!(at.elapsed() < Duration::from_secs(1), "{:?}", at.elapsed());
    assert!(!c.hub.is_linked("v"));
    // It stays out.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(c.host_row("v").await.server.is_none(), "{}", relay.log());
    assert!(relay.log().contains("revoked"), "{}", relay.log());

    // Revoked in the store only (another server's API): the link notices
    // within its housekeeping second.
    let token = c.host("w", &[], None).await;
    let _w = Relay::start(&c, "w", &token, DEFAULT_COMPANY, 4);
    connected(&c, "w").await;
    c.store.set_host_token("w", None).await.unwrap();
    let h = c
        .until_host("w", "disconnected", |h| h.server.is_none())
        .await;
    assert!(!h.has_token);

    // A token of this company presented for another company: 403, never linked.
    let token = c.host("y", &[], None).await;
    let wrong = Relay::start(&c, "y", &token, "other-company", 4);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(c.host_row("y").await.state, "not-initialised");
    assert!(wrong.log().contains("403"), "{}", wrong.log());
    // An unknown token: 401.
    let bad = Relay::start(&c, "z", "bt_not-a-token", DEFAULT_COMPANY, 4);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(bad.log().contains("401"), "{}", bad.log());
}
/// A hello as the relay sends it, with this protocol number.
fn hello(protocol: u32) -> String {
    baton_relay_protocol::encode(&[baton_relay_protocol::ToServer::Hello(Box::new(
        baton_relay_protocol::Hello {
            protocol,
            agent_version: "raw".into(),
            company_code: DEFAULT_COMPANY.into(),
            facts: Default::default(),
            resumed: Vec::new(),
        },
    ))])
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_relays_are_refused_with_a_reason_and_others_are_unaffected() {
    let c = cloud("bad").await;
    let good_token = c.host("good", &[], None).await;
    let _good = Relay::start(&c, "good", &good_token, DEFAULT_COMPANY, 8);
    connected(&c, "good").await;
    let token = c.host("bad", &[], None).await;
    let (port, pin) = (c.port, c.pin.clone());
    let proto = baton_relay_protocol::PROTOCOL_VERSION;

    // Another protocol version in the upgrade: 426 with the reason.
    let Err((status, body)) = raw::connect(port, &pin, &token, DEFAULT_COMPANY, "999").await else {
        panic!("not refused");
    };
    assert_eq!(status, 426, "{body}");
    assert!(body.contains("protocol version `999`"), "{body}");
    // No token at all, a company of nobody: refused before any WebSocket.
    let Err((status, body)) =
        raw::connect(port, &pin, "", DEFAULT_COMPANY, &proto.to_string()).await
    else {
        panic!("not refused");
    };
    assert_eq!(status, 401, "{body}");
    let Err((status, body)) = raw::connect(port, &pin, &token, "nobody", &proto.to_string()).await
    else {
        panic!("not refused");
    };
    assert_eq!(status, 403, "{body}");

    // A first frame that does not parse: told why, closed, never linked.
    let mut ws = raw::connect(port, &pin, &token, DEFAULT_COMPANY, &proto.to_string())
        .await
        .unwrap();
    assert!(raw::send(&mut ws, "{this is not json".into()).await);
    let said = raw::until_closed(&mut ws, Duration::from_secs(5)).await;
    assert!(said.iter().any(|f| f.contains("\"error\"")), "{said:?}");
    assert_eq!(c.host_row("bad").await.state, "not-initialised");

    // A hello of another protocol version inside the link: told, closed.
    let mut ws = raw::connect(port, &pin, &token, DEFAULT_COMPANY, &proto.to_string())
        .await
        .unwrap();
    assert!(raw::send(&mut ws, hello(proto + 1)).await);
    let said = raw::until_closed(&mut ws, Duration::from_secs(5)).await;
    assert!(
        said.iter().any(|f| f.contains("protocol version")),
        "{said:?}"
    );

    // Linked, then garbage over and over: each answered with an error,
    // then the link is closed for it.
    let mut ws = raw::connect(port, &pin, &token, DEFAULT_COMPANY, &proto.to_string())
        .await
        .unwrap();
    assert!(raw::send(&mut ws, hello(proto)).await);
    connected(&c, "bad").await;
    for i in 0..200 {
        if !raw::send(&mut ws, format!("garbage {i}")).await {
            break;
        }
    }
    let said = raw::until_closed(&mut ws, Duration::from_secs(10)).await;
    assert!(
        said.iter().any(|f| f.contains("unreadable frames")),
        "{said:?}"
    );

    // Linked, then a flood of well-formed frames: closed as a flood.
    let mut ws = raw::connect(port, &pin, &token, DEFAULT_COMPANY, &proto.to_string())
        .await
        .unwrap();
    assert!(raw::send(&mut ws, hello(proto)).await);
    let ping = baton_relay_protocol::encode(&[baton_relay_protocol::ToServer::Accepted {
        jobs: Vec::new(),
    }])
    .unwrap();
    for _ in 0..5_000 {
        if !raw::send(&mut ws, ping.clone()).await {
            break;
        }
    }
    let said = raw::until_closed(&mut ws, Duration::from_secs(10)).await;
    assert!(said.iter().any(|f| f.contains("flood")), "{said:?}");

    // Meanwhile the good relay kept its link and still runs work.
    assert!(c.hub.is_linked("good"));
    c.deploy_local("still", "good", "echo ${n}").await;
    let ids = c.start("still", 3).await;
    for (status, out) in c.finished(&ids, Duration::from_secs(20)).await {
        assert_eq!(status, "completed", "{out}");
        assert_eq!(out["work"]["host"]["id"], "good", "{out}");
    }
}
