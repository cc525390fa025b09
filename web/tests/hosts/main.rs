//! Hosts, terminals and the download package through the API (SQLite, a
//! real engine and relay hub): host groups and hosts CRUD per company; the
//! enrolment token shown once (create, reissue) and never in a read,
//! revoked at once; backups validated naming the bad entry; failovers
//! newest first; a terminal behind a host keeps no secret in the cloud
//! (queued for the host and each backup instead) while a cloud terminal's
//! is encrypted, and no secret comes back from any read; moving a terminal
//! carries its secrets; a host with terminals is not deleted, one without
//! leaves its peers' backup lists; the package is a zip whose configuration
//! loads as the relay reads it, whose binary is the one configured, and
//! whose scripts start and stop it.

#[path = "../common/mod.rs"]
mod common;

mod crud;
mod package;
mod secrets;
mod setup;

const CLOUD_PW: &str = "Cloud-terminal-pw-1";
const RELAY_KEY: &str =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nRELAY-KEY-SECRET\n-----END OPENSSH PRIVATE KEY-----\n";
const RELAY_PP: &str = "Relay-key-passphrase";
const RELAY_PW2: &str = "Relay-terminal-pw-2";
const CERT: &str = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89";
/// A stand-in for the relay binary: the scripts start and stop it.
const FAKE_BINARY: &[u8] = b"#!/bin/sh\n# fake sub-manager\nexec sleep 60\n";
