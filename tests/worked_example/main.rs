//! The LWAMS worked example (SPEC.md §7, `templates/lwams-example/`) driven
//! end to end through the HTTP API of a real `baton serve` process, as an
//! operator with curl would:
//!
//! - sign in as the first-start admin, change the password, create an API
//!   token; create the group `ops-viewers` (view the system functions, manage
//!   tasks) with User1 and User2, who sign in and change their passwords; the
//!   group may view but not manage system settings;
//! - create a host, download its package, unzip it and run the `sub-manager`
//!   in it with the package's own configuration until the host is
//!   `connected`; two throw-away sshd servers become two terminals behind the
//!   host, with password accounts;
//! - create the shipped form, deploy the shipped process, upload the shipped
//!   report template (no placeholder left unknown), create the holiday
//!   calendar and the schedule (the preview skips the shipped three-hour
//!   range; the saved schedule's next fire skips a range around now);
//! - start an instance through the API; User1 sees the approval in its
//!   to-do list, claims it and delegates it to User2, who gets the notice
//!   mail (a real SMTP server) with a signed link; the link completes the
//!   task with the form's value (a value the form refuses is a 400 first);
//! - the instance completes; its report is listed and downloaded, and both
//!   terminals' outputs are in the workbook;
//! - no response body, no line of the server's or the relay's log and no
//!   file of the relay's data (or the server's database) holds the terminal
//!   password or a user's password.
//!
//! Needs sshd and python3 with aiosmtpd: without them the test is skipped,
//! except under `CI=true`, where it fails.

#[path = "../common/mod.rs"]
mod common;

#[path = "../../nodes/tests/common/smtp.rs"]
mod smtp;
#[path = "../../nodes/tests/common/sshd.rs"]
#[allow(dead_code)]
mod sshd;

mod end_to_end;
mod helpers;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/lwams-example");
const TEMPLATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/templates/reports/lwams-example.xlsx"
);

const ADMIN_PASSWORD: &str = "Admin-worked-example-7Kq2";
const USER1_FIRST: &str = "User1-first-pw-9Jd4";
const USER1_PASSWORD: &str = "User1-own-pw-3Xv8";
const USER2_FIRST: &str = "User2-first-pw-5Mb1";
const USER2_PASSWORD: &str = "User2-own-pw-6Tz0";
