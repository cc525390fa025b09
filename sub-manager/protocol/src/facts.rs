//! What a relay reports about the machine it runs on: the `host.*` names of
//! SPEC §5 a machine can know about itself (`host.id`, `host.name` and
//! `host.comments` are the server's own record, not facts).

use serde::{Deserialize, Serialize};

/// The relay's machine. Every field is optional: a platform that cannot
/// tell (no DMI table, no `/proc/cpuinfo`, not root) leaves it out. The
/// names and meanings follow LWAMS (which read them with OSHI), so
/// `${node.host.cpuIdentifier}` written for LWAMS reads the same here.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HostFacts {
    /// The machine's host name.
    pub host_name: Option<String>,
    /// Operating system, e.g. `Debian GNU/Linux`, `Windows`.
    pub os_name: Option<String>,
    /// Its release, e.g. `12`, `11 (22631)`.
    pub os_version: Option<String>,
    /// The kernel version, e.g. `6.1.0-18-amd64`.
    pub system_version: Option<String>,
    /// e.g. `x86_64`, `aarch64`.
    pub os_arch: Option<String>,
    /// e.g. `GenuineIntel`, `AuthenticAMD`.
    pub cpu_vendor: Option<String>,
    /// The CPU model number (CPUID), e.g. `85`.
    pub cpu_model: Option<String>,
    /// The marketing name, e.g. `AMD EPYC 7B13`.
    pub cpu_name: Option<String>,
    /// The CPU family number, e.g. `6`, `25`.
    pub cpu_family: Option<String>,
    /// The CPU stepping, e.g. `1`.
    pub cpu_stepping: Option<String>,
    /// e.g. `Intel64 Family 6 Model 85 Stepping 7` (as Windows and OSHI write it).
    pub cpu_identifier: Option<String>,
    /// 16 hex digits: CPUID leaf 1 EDX feature bits and EAX signature (as OSHI).
    #[serde(rename = "processorID")]
    pub processor_id: Option<String>,
    pub logical_processor_count: Option<u32>,
    /// Bytes.
    pub memory_total: Option<u64>,
    /// Bytes available to new work.
    pub memory_free: Option<u64>,
    /// The IPv4 default gateway.
    pub ipv4_default_gateway: Option<String>,
    /// The address the relay reaches the server from.
    pub host_address: Option<String>,
    /// The DNS domain of the machine.
    pub domain_name: Option<String>,
    /// The relay's working directory (Java's `user.dir`): where a local
    /// command without `workDir` runs.
    pub user_dir: Option<String>,
    /// The hardware maker, e.g. `Dell Inc.`, `QEMU`.
    pub manufacturer: Option<String>,
    /// The hardware model (product name).
    pub model: Option<String>,
    pub serial_number: Option<String>,
}
