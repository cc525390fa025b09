//! The wire format: every message round-trips, a few are pinned to their
//! exact JSON (the server is written against it), every decode fault is
//! reported with its code, and frames are packed under the size limit.

use baton_relay_protocol::*;
use serde_json::{Value, json};

fn map(v: Value) -> Map {
    v.as_object().expect("an object").clone()
}

fn facts() -> HostFacts {
    HostFacts {
        host_name: Some("relay-1".into()),
        os_name: Some("Debian GNU/Linux".into()),
        logical_processor_count: Some(2),
        memory_total: Some(24 << 30),
        processor_id: Some("178BFBFF00A00F11".into()),
        ..Default::default()
    }
}

fn job(id: &str) -> RelayJob {
    RelayJob {
        job_id: id.into(),
        attempt: 1,
        kind: "local-command".into(),
        element_id: "collect".into(),
        element_name: "Collect".into(),
        instance_id: "i1".into(),
        props: map(json!({"command": "echo ${who}"})),
        vars: map(json!({"who": "world", "n": 3})),
        outputs: map(json!({"prev": {"stdout": "x"}})),
        globals: map(json!({"env": "prod"})),
        timeout_ms: Some(30_000),
    }
}

fn all_to_server() -> Vec<ToServer> {
    vec![
        ToServer::Hello(Box::new(Hello {
            protocol: PROTOCOL_VERSION,
            agent_version: "0.1.0".into(),
            company_code: "acme".into(),
            facts: facts(),
            resumed: vec![JobRef::new("i1:1", 2)],
        })),
        ToServer::Heartbeat(Heartbeat {
            at_ms: 1_700_000_000_000,
            load1: 0.5,
            cpu_pct: 12.5,
            mem_free: 1 << 30,
            mem_total: 4 << 30,
            io_bytes_per_s: 4096,
            available: false,
            reason: Some("load 3.00 is above 2".into()),
            running: 3,
            queued: 7,
        }),
        ToServer::Accepted {
            jobs: vec![JobRef::new("i1:1", 1), JobRef::new("i2:4", 3)],
        },
        ToServer::Rejected {
            jobs: vec![JobRef::new("i3:1", 1)],
            reason: "queue full".into(),
        },
        ToServer::Log {
            job_id: "i1:1".into(),
            attempt: 1,
            stream: LogStream::Stderr,
            text: "oops ünïcode \"quoted\"\n".into(),
        },
        ToServer::Result {
            job_id: "i1:1".into(),
            attempt: 1,
            outcome: Outcome::Done {
                outputs: map(json!({"stdout": "hi\n", "exitCode": 0})),
                vars: map(json!({"r": [1, 2]})),
            },
        },
        ToServer::Result {
            job_id: "i1:2".into(),
            attempt: 2,
            outcome: Outcome::Failed {
                message: "no".into(),
                bpmn_code: Some("E42".into()),
            },
        },
        ToServer::LoginCheck {
            req_id: "r1".into(),
            username: "user1".into(),
            password: Secret::new("pw"),
        },
        ToServer::Error {
            code: codes::NOT_JSON.into(),
            message: "x".into(),
        },
        ToServer::Bye {
            reason: "shutdown".into(),
        },
    ]
}

fn all_to_relay() -> Vec<ToRelay> {
    vec![
        ToRelay::Welcome(Welcome {
            protocol: PROTOCOL_VERSION,
            host_id: "h1".into(),
            heartbeat_ms: 5000,
            thresholds: Thresholds {
                min_mem_free_bytes: Some(1 << 28),
                max_load1: Some(4.0),
                max_cpu_pct: Some(95.0),
                max_io_bytes_per_s: Some(1 << 30),
            },
        }),
        ToRelay::Jobs {
            jobs: vec![job("i1:1"), job("i1:2")],
        },
        ToRelay::Ack {
            results: vec![JobRef::new("i1:1", 1)],
        },
        ToRelay::Cancel {
            job_id: "i1:1".into(),
        },
        ToRelay::Terminals {
            terminals: vec![TerminalSpec {
                id: "t1".into(),
                name: "box".into(),
                host_name: "box".into(),
                host_address: "10.0.0.5".into(),
                port: 22,
                connection_type: "ssh".into(),
                os_name: "CentOS".into(),
                os_version: "7".into(),
                comments: "".into(),
                accounts: vec![AccountSpec {
                    id: "a1".into(),
                    username: "root".into(),
                    auth_kind: AuthKind::Key,
                    comments: "ops".into(),
                }],
            }],
        },
        ToRelay::SetSecret {
            account_id: "a1".into(),
            secret: Secret::new("-----BEGIN OPENSSH PRIVATE KEY-----"),
            passphrase: Some(Secret::new("pp")),
        },
        ToRelay::RemoveSecret {
            account_id: "a1".into(),
        },
        ToRelay::LoginResult {
            req_id: "r1".into(),
            ok: true,
            user: Some(LoginUser {
                id: "u1".into(),
                name: "User1".into(),
            }),
            reason: None,
        },
        ToRelay::Revoked {
            reason: "token disabled".into(),
        },
        ToRelay::Error {
            code: "x".into(),
            message: "y".into(),
        },
    ]
}

#[test]
fn every_message_round_trips_in_one_frame() {
    let up = all_to_server();
    let frame = encode(&up).unwrap();
    let d = decode::<ToServer>(&frame).unwrap();
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    assert_eq!(d.messages, up);

    let down = all_to_relay();
    let frame = encode(&down).unwrap();
    let d = decode::<ToRelay>(&frame).unwrap();
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    assert_eq!(d.messages, down);
}

#[test]
fn every_type_name_is_listed_and_camel_case() {
    let types = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m["type"].as_str().unwrap().to_owned())
            .collect()
    };
    let up = types(serde_json::to_value(all_to_server()).unwrap());
    for t in &up {
        assert!(
            <ToServer as WireMessage>::TYPES.contains(&t.as_str()),
            "{t}"
        );
    }
    let down = types(serde_json::to_value(all_to_relay()).unwrap());
    for t in &down {
        assert!(<ToRelay as WireMessage>::TYPES.contains(&t.as_str()), "{t}");
    }
    // Every listed type is produced by some message above.
    for t in <ToServer as WireMessage>::TYPES {
        assert!(up.iter().any(|u| u == t), "{t} not covered");
    }
    for t in <ToRelay as WireMessage>::TYPES {
        assert!(down.iter().any(|u| u == t), "{t} not covered");
    }
}

#[test]
fn the_wire_format_is_pinned() {
    let v = serde_json::to_value(all_to_server()).unwrap();
    assert_eq!(
        v[0],
        json!({
            "type": "hello", "protocol": 1, "agentVersion": "0.1.0", "companyCode": "acme",
            "facts": {
                "hostName": "relay-1", "osName": "Debian GNU/Linux", "osVersion": null,
                "systemVersion": null, "osArch": null, "cpuVendor": null, "cpuModel": null,
                "cpuName": null, "cpuFamily": null, "cpuStepping": null, "cpuIdentifier": null,
                "processorID": "178BFBFF00A00F11", "logicalProcessorCount": 2,
                "memoryTotal": 25769803776u64, "memoryFree": null, "ipv4DefaultGateway": null,
                "hostAddress": null, "domainName": null, "userDir": null,
                "manufacturer": null, "model": null, "serialNumber": null
            },
            "resumed": [{"jobId": "i1:1", "attempt": 2}]
        })
    );
    assert_eq!(
        v[1],
        json!({
            "type": "heartbeat", "atMs": 1_700_000_000_000i64, "load1": 0.5, "cpuPct": 12.5,
            "memFree": 1u64 << 30, "memTotal": 4u64 << 30, "ioBytesPerS": 4096,
            "available": false, "reason": "load 3.00 is above 2", "running": 3, "queued": 7
        })
    );
    assert_eq!(
        v[4],
        json!({"type": "log", "jobId": "i1:1", "attempt": 1, "stream": "stderr",
               "text": "oops ünïcode \"quoted\"\n"})
    );
    assert_eq!(
        v[5],
        json!({"type": "result", "jobId": "i1:1", "attempt": 1, "outcome": {
            "status": "done", "outputs": {"stdout": "hi\n", "exitCode": 0}, "vars": {"r": [1, 2]}}})
    );
    assert_eq!(
        v[6]["outcome"],
        json!({"status": "failed", "message": "no", "bpmnCode": "E42"})
    );
    assert_eq!(
        v[7],
        json!({"type": "loginCheck", "reqId": "r1", "username": "user1", "password": "pw"})
    );

    let v = serde_json::to_value(all_to_relay()).unwrap();
    assert_eq!(
        v[0],
        json!({"type": "welcome", "protocol": 1, "hostId": "h1", "heartbeatMs": 5000,
               "thresholds": {"minMemFreeBytes": 268435456, "maxLoad1": 4.0,
                              "maxCpuPct": 95.0, "maxIoBytesPerS": 1073741824}})
    );
    assert_eq!(
        v[1]["jobs"][0],
        json!({"jobId": "i1:1", "attempt": 1, "kind": "local-command", "elementId": "collect",
               "elementName": "Collect", "instanceId": "i1",
               "props": {"command": "echo ${who}"}, "vars": {"who": "world", "n": 3},
               "outputs": {"prev": {"stdout": "x"}}, "globals": {"env": "prod"},
               "timeoutMs": 30000})
    );
    assert_eq!(
        v[4]["terminals"][0]["accounts"][0],
        json!({"id": "a1", "username": "root", "authKind": "key", "comments": "ops"})
    );
    assert_eq!(
        v[5],
        json!({"type": "setSecret", "accountId": "a1",
               "secret": "-----BEGIN OPENSSH PRIVATE KEY-----", "passphrase": "pp"})
    );
}

#[test]
fn optional_fields_may_be_left_out_and_unknown_fields_are_ignored() {
    // What a minimal (or a newer, additive) server sends.
    let frame = r#"[
        {"type":"welcome","protocol":1,"hostId":"h","heartbeatMs":1000,"futureField":true},
        {"type":"jobs","jobs":[{"jobId":"j","attempt":1,"kind":"noop","elementId":"e","instanceId":"i"}]},
        {"type":"setSecret","accountId":"a","secret":"s"},
        {"type":"loginResult","reqId":"r","ok":false},
        {"type":"terminals","terminals":[{"id":"t","name":"n"}]}
    ]"#;
    let d = decode::<ToRelay>(frame).unwrap();
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    assert_eq!(d.messages.len(), 5);
    let ToRelay::Welcome(w) = &d.messages[0] else {
        panic!()
    };
    assert_eq!(w.thresholds, Thresholds::default());
    let ToRelay::Jobs { jobs } = &d.messages[1] else {
        panic!()
    };
    assert!(jobs[0].props.is_empty() && jobs[0].timeout_ms.is_none());
    let ToRelay::Terminals { terminals } = &d.messages[4] else {
        panic!()
    };
    assert_eq!(terminals[0].port, 0);
    assert!(terminals[0].accounts.is_empty());
}

#[test]
fn a_frame_too_large_is_refused_before_parsing() {
    let big = format!(
        "[{{\"type\":\"bye\",\"reason\":\"{}\"}}]",
        "x".repeat(MAX_FRAME_BYTES)
    );
    let e = decode::<ToServer>(&big).unwrap_err();
    assert_eq!(
        e,
        DecodeError::TooLarge {
            size: big.len(),
            max: MAX_FRAME_BYTES
        }
    );
    assert_eq!(e.code(), "frame_too_large");
    assert!(
        e.to_string()
            .contains("larger than the limit of 8388608 bytes")
    );
}

#[test]
fn not_json_and_not_a_batch() {
    let e = decode::<ToRelay>("[{\"type\":").unwrap_err();
    assert!(matches!(e, DecodeError::NotJson(_)), "{e:?}");
    assert_eq!(e.code(), "not_json");
    assert!(e.to_string().starts_with("frame is not JSON: "), "{e}");
    let e = decode::<ToRelay>("\u{0}\u{1}garbage").unwrap_err();
    assert_eq!(e.code(), "not_json");

    let e = decode::<ToRelay>(r#"{"type":"ack","results":[]}"#).unwrap_err();
    assert_eq!(e, DecodeError::NotABatch("an object"));
    assert_eq!(e.code(), "not_a_batch");
    assert_eq!(
        e.to_string(),
        "frame is JSON an object, not an array of messages"
    );
    for (text, what) in [
        ("\"x\"", "a string"),
        ("3", "a number"),
        ("true", "a boolean"),
        ("null", "null"),
    ] {
        assert_eq!(
            decode::<ToRelay>(text).unwrap_err(),
            DecodeError::NotABatch(what)
        );
    }
}

#[test]
fn bad_messages_are_reported_and_the_good_ones_kept() {
    let frame = r#"[
        {"type":"ack","results":[{"jobId":"a","attempt":1}]},
        {"type":"launchMissiles"},
        {"type":"cancel"},
        {"no":"type"},
        7,
        {"type":"hello","protocol":1},
        {"type":"cancel","jobId":"b"}
    ]"#;
    let d = decode::<ToRelay>(frame).unwrap();
    assert_eq!(
        d.messages,
        vec![
            ToRelay::Ack {
                results: vec![JobRef::new("a", 1)]
            },
            ToRelay::Cancel { job_id: "b".into() }
        ]
    );
    let codes: Vec<_> = d.errors.iter().map(|e| e.code()).collect();
    assert_eq!(
        codes,
        [
            "unknown_type",
            "invalid_message",
            "invalid_message",
            "invalid_message",
            // `hello` goes the other way: unknown to a relay.
            "unknown_type"
        ]
    );
    assert_eq!(
        d.errors[0].to_string(),
        "message 1: unknown type `launchMissiles`"
    );
    assert_eq!(
        d.errors[1].to_string(),
        "message 2 (`cancel`): missing field `jobId`"
    );
    assert_eq!(
        d.errors[2].to_string(),
        "message 3: a message is an object with a string `type`"
    );
    assert!(matches!(
        &d.errors[4],
        DecodeError::UnknownType { index: 5, ty } if ty == "hello"
    ));
}

#[test]
fn ill_typed_fields_are_invalid() {
    let d =
        decode::<ToServer>(r#"[{"type":"accepted","jobs":[{"jobId":"a","attempt":-1}]}]"#).unwrap();
    assert!(d.messages.is_empty());
    assert_eq!(d.errors[0].code(), "invalid_message");
    assert!(
        d.errors[0].to_string().contains("`accepted`"),
        "{}",
        d.errors[0]
    );
    let d = decode::<ToServer>(
        r#"[{"type":"log","jobId":"a","attempt":1,"stream":"stdin","text":""}]"#,
    )
    .unwrap();
    assert!(
        d.errors[0].to_string().contains("unknown variant `stdin`"),
        "{}",
        d.errors[0]
    );
}

#[test]
fn another_protocol_version_is_refused() {
    let frame = r#"[{"type":"welcome","protocol":2,"hostId":"h","heartbeatMs":1000},
                    {"type":"cancel","jobId":"b"}]"#;
    let d = decode::<ToRelay>(frame).unwrap();
    assert_eq!(d.messages, vec![ToRelay::Cancel { job_id: "b".into() }]);
    assert_eq!(
        d.errors,
        vec![DecodeError::VersionMismatch {
            index: 0,
            ours: 1,
            theirs: 2
        }]
    );
    assert_eq!(d.errors[0].code(), "protocol_version");
    assert_eq!(
        d.errors[0].to_string(),
        "message 0: protocol version 2, this side speaks 1"
    );

    let mut hello = all_to_server().remove(0);
    if let ToServer::Hello(h) = &mut hello {
        h.protocol = 0;
    }
    let d = decode::<ToServer>(&encode(&[hello]).unwrap()).unwrap();
    assert!(d.messages.is_empty());
    assert_eq!(d.errors[0].code(), "protocol_version");
}

#[test]
fn secrets_are_not_printed() {
    let m = &all_to_relay()[5];
    let dbg = format!("{m:?}");
    assert!(!dbg.contains("OPENSSH") && !dbg.contains("pp\""), "{dbg}");
    assert!(dbg.contains("Secret(******)"));
    let m = &all_to_server()[7];
    assert!(!format!("{m:?}").contains("\"pw\""));
    assert_eq!(Secret::new("x").to_string(), "******");
}

#[test]
fn frame_writer_packs_in_order_under_the_limit() {
    let msgs: Vec<ToServer> = (0..1000)
        .map(|i| ToServer::Log {
            job_id: format!("j{i}"),
            attempt: 1,
            stream: LogStream::Stdout,
            text: "x".repeat(i % 50),
        })
        .collect();
    let max = 4096;
    let mut w = FrameWriter::with_max(max);
    let mut frames = Vec::new();
    for m in &msgs {
        if let Some(f) = w.push(m).unwrap() {
            frames.push(f);
        }
        assert!(w.bytes() <= max);
    }
    frames.extend(w.finish());
    assert!(w.is_empty() && w.finish().is_none());
    assert!(frames.len() > 10, "{} frames", frames.len());
    let mut back = Vec::new();
    for f in &frames {
        assert!(f.len() <= max, "{}", f.len());
        let d = decode::<ToServer>(f).unwrap();
        assert!(d.errors.is_empty());
        back.extend(d.messages);
    }
    assert_eq!(back, msgs);
}

#[test]
fn a_message_larger_than_any_frame_is_an_error() {
    let mut w = FrameWriter::with_max(100);
    let small = ToServer::Bye { reason: "a".into() };
    assert!(w.push(&small).unwrap().is_none());
    let big = ToServer::Bye {
        reason: "x".repeat(200),
    };
    let e = w.push(&big).unwrap_err();
    assert!(matches!(e, EncodeError::TooLarge { max: 100, .. }), "{e:?}");
    // The pending frame is intact.
    assert_eq!(w.len(), 1);
    assert_eq!(
        decode::<ToServer>(&w.finish().unwrap()).unwrap().messages,
        vec![small]
    );

    let huge = vec![ToServer::Bye {
        reason: "x".repeat(MAX_FRAME_BYTES),
    }];
    assert!(matches!(encode(&huge), Err(EncodeError::TooLarge { .. })));
}

#[test]
fn heartbeat_availability_uses_its_numbers() {
    let ToServer::Heartbeat(hb) = &all_to_server()[1] else {
        panic!()
    };
    let t = Thresholds {
        min_mem_free_bytes: Some(2 << 30),
        ..Default::default()
    };
    let (ok, why) = available(&t, &hb.load());
    assert!(!ok);
    assert_eq!(why.unwrap(), "free memory 1.0 GiB is below 2.0 GiB");
    assert!(available(&Thresholds::default(), &hb.load()).0);
}
