//! Companies in the engine. Every company's processes live in one engine,
//! apart: a process key of a company other than the default one is
//! qualified `COMPANY/KEY` (a process id is an XML NCName, so it holds no
//! `/`), and signal and message names are qualified the same way where they
//! are stored and looked up. So a call activity, a signal, a message or a
//! start event only ever reaches processes of its own company, and the
//! default company's keys and names stay exactly as they are written.

/// The company of everything not qualified.
pub const DEFAULT_COMPANY: &str = "default";

/// Separates a company from a signal or message name (names are free text;
/// this character is not something people type).
const NAME_SEP: char = '\u{1f}';

/// The engine key of a company's process.
pub fn qualify(company: &str, key: &str) -> String {
    if company == DEFAULT_COMPANY || company.is_empty() {
        key.to_owned()
    } else {
        format!("{company}/{key}")
    }
}

/// The company an engine key belongs to.
pub fn company_of(key: &str) -> &str {
    key.split_once('/').map_or(DEFAULT_COMPANY, |(c, _)| c)
}

/// The process id inside an engine key.
pub fn bare(key: &str) -> &str {
    key.split_once('/').map_or(key, |(_, k)| k)
}

/// A signal or message name as stored for `company`.
pub fn qualify_name(company: &str, name: &str) -> String {
    if company == DEFAULT_COMPANY || company.is_empty() {
        name.to_owned()
    } else {
        format!("{company}{NAME_SEP}{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_company_keys_stay_bare() {
        assert_eq!(qualify(DEFAULT_COMPANY, "orders"), "orders");
        assert_eq!(qualify("acme", "orders"), "acme/orders");
        assert_eq!(company_of("acme/orders"), "acme");
        assert_eq!(company_of("orders"), DEFAULT_COMPANY);
        assert_eq!(bare("acme/orders"), "orders");
        assert_eq!(bare("orders"), "orders");
        assert_eq!(qualify_name(DEFAULT_COMPANY, "a/b"), "a/b");
        assert_ne!(qualify_name("acme", "go"), qualify_name("other", "go"));
        assert_ne!(qualify_name("acme", "go"), "go");
    }
}
