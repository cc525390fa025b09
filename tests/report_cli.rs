//! `baton report placeholders|fill` on the shipped LWAMS worked-example
//! template: the placeholders it lists, a fill from JSON read back with
//! calamine (lists expanded, rows below moved), and bad input that leaves
//! nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use calamine::{Data, Reader, Xlsx};

const TEMPLATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/templates/reports/lwams-example.xlsx"
);

fn baton(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .env("BATON_LOG", "warn")
        .output()
        .unwrap()
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-report-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn lists_the_placeholders_of_the_shipped_template() {
    let out = baton(&["report", "placeholders", TEMPLATE]);
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 13);
    assert_eq!(lines[3]["cell"], "A5");
    assert_eq!(lines[3]["expression"], "linuxInfo.terminal.hostName");
    assert_eq!(lines[0]["optional"], true);
}

#[test]
fn fills_the_shipped_template_from_json() {
    let d = dir("fill");
    let data = d.join("data.json");
    std::fs::write(
        &data,
        serde_json::json!({
            "LWAMS_INIT_DATE": "2026-11-21",
            "linuxInfo": {"terminal": {"hostName": "node1", "hostAddress": "10.0.0.11", "osName": "CentOS 7"}, "stdout": "Linux node1\n"},
            "windowsInfo": {"terminal": {"hostName": "node2", "hostAddress": "10.0.0.12", "osName": "Windows"}, "stdout": "OS Name: Windows\r\n"},
            "linuxDir": {"stdout": "alice\nbob\ncarol\n"},
            "windowsDir": {"stdout": "Program Files\r\nUsers\r\n"}
        })
        .to_string(),
    )
    .unwrap();
    let out = d.join("out.xlsx");
    let r = baton(&[
        "report",
        "fill",
        TEMPLATE,
        "--data",
        s(&data),
        "-o",
        s(&out),
    ]);
    assert!(r.status.success(), "{r:?}");
    let summary: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(
        summary["rowsAdded"], 3,
        "two extra Linux rows, one extra Windows row"
    );
    let mut book = Xlsx::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap())).unwrap();
    let range = book.worksheet_range("Report").unwrap();
    let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    // An optional placeholder with no value leaves only the text around it.
    assert_eq!(cell(1, 1), Data::String("2026-11-21 ".into()));
    assert_eq!(cell(4, 0), Data::String("node1".into()));
    assert_eq!(cell(5, 3), Data::String("OS Name: Windows".into()));
    assert_eq!(cell(8, 0), Data::String("alice".into()));
    assert_eq!(cell(10, 0), Data::String("carol".into()));
    assert_eq!(
        cell(12, 0),
        Data::String("Files in C:/ (Windows)".into()),
        "moved down by two"
    );
    assert_eq!(cell(13, 0), Data::String("Program Files".into()));
    assert_eq!(cell(14, 0), Data::String("Users".into()));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_input_says_where_and_leaves_nothing() {
    let d = dir("bad");
    let out = d.join("out.xlsx");
    let empty = d.join("empty.json");
    std::fs::write(&empty, "{}").unwrap();
    let not_xlsx = d.join("notes.xlsx");
    std::fs::write(&not_xlsx, "just text").unwrap();
    let not_object = d.join("list.json");
    std::fs::write(&not_object, "[1, 2]").unwrap();
    let cases: &[(&str, &Path, &str)] = &[
        (TEMPLATE, &empty, "sheet 'Report' cell A5"),
        (s(&not_xlsx), &empty, "not an xlsx workbook"),
        (TEMPLATE, &not_object, "list.json"),
    ];
    for (template, data, says) in cases {
        let r = baton(&["report", "fill", template, "--data", s(data), "-o", s(&out)]);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{template} {data:?} accepted");
        assert!(err.contains(says), "expected {says:?} in {err}");
        let left: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().into_string().unwrap())
            .filter(|n| n.starts_with("out"))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A process whose report node fills the template, with only one of the
/// nodes the template names.
const PROCESS: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="lw-defs" targetNamespace="t">
  <process id="lw" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="linuxInfo"/>
    <serviceTask id="linuxInfo" baton:type="local-command"><extensionElements><baton:property name="command" value="uname -a"/></extensionElements></serviceTask>
    <sequenceFlow id="f2" sourceRef="linuxInfo" targetRef="rep"/>
    <serviceTask id="rep" baton:type="report"><extensionElements><baton:property name="template" value="lwams"/></extensionElements></serviceTask>
    <sequenceFlow id="f3" sourceRef="rep" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"#;

#[test]
fn templates_in_a_store_upload_check_download_remove() {
    let d = dir("store");
    let db = format!("sqlite://{}?mode=rwc", d.join("baton.db").display());
    let bpmn = d.join("lw.bpmn");
    std::fs::write(&bpmn, PROCESS).unwrap();
    let with_store = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--store", &db]);
        baton(&all)
    };
    let r = with_store(&["start", s(&bpmn), "--instances", "0"]);
    assert!(r.status.success(), "{r:?}");

    let r = with_store(&["report", "template", "add", TEMPLATE, "--name", "lwams"]);
    assert!(r.status.success(), "{r:?}");
    let added: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(added["placeholders"].as_array().unwrap().len(), 13);
    let warnings: Vec<&str> = added["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    // windowsInfo (4 cells), linuxDir, windowsDir are no nodes of `lw`;
    // linuxInfo is, and the optional LWAMS_* cells are not checked.
    assert_eq!(warnings.len(), 6, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("Report!A9 ") && w.contains("`linuxDir`"))
    );
    assert!(!warnings.iter().any(|w| w.contains("`linuxInfo`")));

    let r = with_store(&["report", "template", "list"]);
    assert_eq!(String::from_utf8_lossy(&r.stdout).lines().count(), 1);
    let back = d.join("back.xlsx");
    let r = with_store(&["report", "template", "get", "lwams", "-o", s(&back)]);
    assert!(r.status.success(), "{r:?}");
    assert_eq!(
        std::fs::read(&back).unwrap(),
        std::fs::read(TEMPLATE).unwrap(),
        "the original back"
    );

    // Not an xlsx: refused, nothing stored.
    let r = with_store(&["report", "template", "add", s(&bpmn), "--name", "bad"]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("not an xlsx"));
    let r = with_store(&["report", "template", "list"]);
    assert_eq!(String::from_utf8_lossy(&r.stdout).lines().count(), 1);

    let id = added["id"].as_str().unwrap();
    assert!(
        with_store(&["report", "template", "rm", id])
            .status
            .success()
    );
    assert!(
        !with_store(&["report", "template", "rm", id])
            .status
            .success()
    );
    let r = with_store(&["report", "data", "list"]);
    assert!(r.status.success() && r.stdout.is_empty(), "{r:?}");
    let r = with_store(&["report", "data", "get", "nope", "-o", s(&back)]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("no report data `nope`"));
    let _ = std::fs::remove_dir_all(&d);
}
