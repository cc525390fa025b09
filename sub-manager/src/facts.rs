//! The machine the relay runs on: its facts for `hello` (`${node.host.*}`)
//! and its load for heartbeats, read with `sysinfo` and, where sysinfo has
//! no answer (CPU family / model / stepping, the default gateway, the DNS
//! domain), from `/proc` and `/etc` on Linux. Blocking: call from
//! `spawn_blocking`.

use std::net::IpAddr;
use std::time::Instant;

use baton_relay_protocol::{HostFacts, Load};
use sysinfo::{
    CpuRefreshKind, DiskRefreshKind, Disks, MemoryRefreshKind, Product, RefreshKind, System,
};

/// Everything the machine can tell about itself. `host_address` is the
/// local address of the link to the server (the address the LAN knows the
/// relay by), when known.
pub fn gather(host_address: Option<IpAddr>) -> HostFacts {
    let mut sys = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing().with_frequency())
            .with_memory(MemoryRefreshKind::nothing().with_ram()),
    )
    .ok();
    if let Some(s) = &mut sys {
        s.refresh_cpu_list(CpuRefreshKind::nothing());
    }
    let cpu = sys
        .as_ref()
        .and_then(|s| s.cpus().first())
        .map(|c| (c.vendor_id().to_owned(), c.brand().trim().to_owned()));
    let info = CpuInfo::read();
    let vendor = cpu
        .as_ref()
        .map(|c| c.0.clone())
        .filter(|v| !v.is_empty())
        .or_else(|| info.vendor.clone());
    let arch = System::cpu_arch();
    let identifier = match (&info.family, &info.model, &info.stepping) {
        (Some(f), Some(m), Some(s)) => Some(format!(
            "{} Family {f} Model {m} Stepping {s}",
            identifier_prefix(&arch, vendor.as_deref())
        )),
        _ => None,
    };
    HostFacts {
        host_name: System::host_name().ok().filter(|s| !s.is_empty()),
        os_name: System::name().ok(),
        os_version: System::os_version().ok(),
        system_version: System::kernel_version().ok(),
        os_arch: Some(arch).filter(|a| !a.is_empty()),
        cpu_vendor: vendor,
        cpu_model: info.model.clone(),
        cpu_name: cpu
            .map(|c| c.1)
            .filter(|b| !b.is_empty())
            .or(info.name.clone()),
        cpu_family: info.family.clone(),
        cpu_stepping: info.stepping.clone(),
        cpu_identifier: identifier,
        processor_id: info.processor_id(),
        logical_processor_count: sys
            .as_ref()
            .map(|s| s.cpus().len() as u32)
            .filter(|n| *n > 0),
        memory_total: sys.as_ref().map(System::total_memory),
        memory_free: sys.as_ref().map(System::available_memory),
        ipv4_default_gateway: default_gateway(),
        host_address: host_address.map(|a| a.to_string()),
        domain_name: domain_name(),
        user_dir: std::env::current_dir()
            .ok()
            .map(|d| d.display().to_string()),
        manufacturer: Product::vendor_name().ok().filter(|s| !s.trim().is_empty()),
        model: Product::name().ok().filter(|s| !s.trim().is_empty()),
        serial_number: Product::serial_number()
            .ok()
            .filter(|s| !s.trim().is_empty()),
    }
}

/// As Windows and OSHI name the architecture in a CPU identifier.
fn identifier_prefix(arch: &str, vendor: Option<&str>) -> String {
    match arch {
        "x86_64" | "amd64" if vendor.is_some_and(|v| v.contains("Intel")) => "Intel64".into(),
        "x86_64" | "amd64" => "AMD64".into(),
        "x86" | "i386" | "i686" => "x86".into(),
        other => other.into(),
    }
}

/// The first CPU's entry in `/proc/cpuinfo` (x86 field names).
#[derive(Debug, Default)]
struct CpuInfo {
    vendor: Option<String>,
    name: Option<String>,
    family: Option<String>,
    model: Option<String>,
    stepping: Option<String>,
    flags: Vec<String>,
}

/// CPUID leaf 1 EDX, bit by bit, as Linux names the flags.
const EDX_FLAGS: [&str; 32] = [
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "", "sep", "mtrr", "pge",
    "mca", "cmov", "pat", "pse36", "pn", "clflush", "", "dts", "acpi", "mmx", "fxsr", "sse",
    "sse2", "ss", "ht", "tm", "ia64", "pbe",
];

impl CpuInfo {
    fn read() -> CpuInfo {
        std::fs::read_to_string("/proc/cpuinfo")
            .map(|t| Self::parse(&t))
            .unwrap_or_default()
    }

    fn parse(text: &str) -> CpuInfo {
        let mut info = CpuInfo::default();
        // The first processor's block.
        for line in text.lines().take_while(|l| !l.trim().is_empty()) {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim().to_owned();
            match k.trim() {
                "vendor_id" => info.vendor = Some(v),
                "model name" => info.name = Some(v),
                "cpu family" => info.family = Some(v),
                "model" => info.model = Some(v),
                "stepping" => info.stepping = Some(v),
                "flags" => info.flags = v.split_whitespace().map(str::to_owned).collect(),
                _ => {}
            }
        }
        info
    }

    /// OSHI's `processorID`: CPUID leaf 1 EDX (feature flags) then EAX
    /// (the signature rebuilt from family, model and stepping), 16 hex digits.
    fn processor_id(&self) -> Option<String> {
        let family: u32 = self.family.as_ref()?.parse().ok()?;
        let model: u32 = self.model.as_ref()?.parse().ok()?;
        let stepping: u32 = self.stepping.as_ref()?.parse().ok()?;
        let (base_family, ext_family) = if family >= 15 {
            (15, family - 15)
        } else {
            (family, 0)
        };
        let eax = (stepping & 0xf)
            | (model & 0xf) << 4
            | (base_family & 0xf) << 8
            | ((model >> 4) & 0xf) << 16
            | (ext_family & 0xff) << 20;
        let edx = EDX_FLAGS
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.is_empty() && self.flags.iter().any(|x| x == *f))
            .fold(0u32, |acc, (bit, _)| acc | 1 << bit);
        Some(format!("{edx:08X}{eax:08X}"))
    }
}

/// The IPv4 default route's gateway (`/proc/net/route`).
fn default_gateway() -> Option<String> {
    let text = std::fs::read_to_string("/proc/net/route").ok()?;
    parse_default_gateway(&text)
}

fn parse_default_gateway(text: &str) -> Option<String> {
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 3 || f[1] != "00000000" {
            return None;
        }
        let g = u32::from_str_radix(f[2], 16).ok().filter(|g| *g != 0)?;
        // Little-endian in the file.
        Some(std::net::Ipv4Addr::from(g.swap_bytes()).to_string())
    })
}

/// The DNS domain: the host name's domain part, else `domain` or the first
/// `search` entry of `/etc/resolv.conf`.
fn domain_name() -> Option<String> {
    if let Ok(h) = System::host_name()
        && let Some((_, d)) = h.split_once('.')
        && !d.is_empty()
    {
        return Some(d.to_owned());
    }
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    let word = |key: &str| {
        text.lines().find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(key)).then(|| w.next()).flatten()
        })
    };
    word("domain").or_else(|| word("search")).map(str::to_owned)
}

/// Reads the machine's load for heartbeats. CPU use and the I/O rate are
/// measured between two calls.
pub struct Sampler {
    sys: Option<System>,
    disks: Option<Disks>,
    last: Instant,
}

impl Default for Sampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Sampler {
    pub fn new() -> Sampler {
        let sys = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing().with_usage())
                .with_memory(MemoryRefreshKind::nothing().with_ram()),
        )
        .ok();
        let disks =
            Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_io_usage())
                .ok();
        Sampler {
            sys,
            disks,
            last: Instant::now(),
        }
    }

    pub fn sample(&mut self) -> Load {
        let (cpu_pct, mem_free, mem_total) = match &mut self.sys {
            Some(s) => {
                s.refresh_cpu_usage();
                s.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
                (
                    f64::from(s.global_cpu_usage()),
                    s.available_memory(),
                    s.total_memory(),
                )
            }
            None => (0.0, 0, 0),
        };
        if let Some(d) = &mut self.disks {
            d.refresh_specifics(false, DiskRefreshKind::nothing().with_io_usage());
        }
        let secs = self.last.elapsed().as_secs_f64().max(0.001);
        self.last = Instant::now();
        // A device mounted at several places is counted once.
        let mut seen = std::collections::HashSet::new();
        let io: u64 = self
            .disks
            .iter()
            .flat_map(|d| d.iter())
            .filter(|d| seen.insert(d.name().to_owned()))
            .map(|d| {
                let u = d.usage();
                u.read_bytes + u.written_bytes
            })
            .sum();
        Load {
            load1: System::load_average().map(|l| l.one).unwrap_or(0.0),
            cpu_pct,
            mem_free,
            mem_total,
            io_bytes_per_s: (io as f64 / secs) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_and_processor_id() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 207\n\
                    model name\t: Intel(R) Xeon(R) Processor\nstepping\t: 2\n\
                    flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat \
                    pse36 clflush mmx fxsr sse sse2 ss ht syscall nx lm\n\nprocessor\t: 1\nmodel\t: 1\n";
        let info = CpuInfo::parse(text);
        assert_eq!(info.model.as_deref(), Some("207"), "the first block only");
        // EDX: bits 0-9, 11-17, 19, 23-28 (the flags listed); EAX: 6/0xCF/2.
        assert_eq!(info.processor_id().unwrap(), "1F8BFBFF000C06F2");
        let amd = CpuInfo::parse("cpu family\t: 25\nmodel\t: 1\nstepping\t: 1\nflags\t: fpu\n");
        // Family 25 = 0xF + extended 0xA; model 1.
        assert_eq!(amd.processor_id().unwrap(), "0000000100A00F11");
        assert!(CpuInfo::parse("").processor_id().is_none());
    }

    #[test]
    fn gateway_from_the_route_table() {
        let t = "Iface\tDestination\tGateway \tFlags\n\
                 eth0\t000200C0\t00000000\t0001\n\
                 eth0\t00000000\t010200C0\t0003\n";
        assert_eq!(parse_default_gateway(t).as_deref(), Some("192.0.2.1"));
        assert_eq!(parse_default_gateway("Iface\n"), None);
    }

    #[test]
    fn identifier_prefixes() {
        assert_eq!(identifier_prefix("x86_64", Some("GenuineIntel")), "Intel64");
        assert_eq!(identifier_prefix("x86_64", Some("AuthenticAMD")), "AMD64");
        assert_eq!(identifier_prefix("aarch64", None), "aarch64");
    }
}
