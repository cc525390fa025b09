//! Secrets: passwords and keys that must never reach a log, an error or an
//! API response, and their encryption at rest under a master key.

use std::fmt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;

/// A secret value. `Debug` and `Display` print `******`; read it with
/// [`Secret::expose`] only where it is handed to a server.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(******)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("******")
    }
}

/// What replaces a secret in text.
pub const MASK: &str = "******";

/// Replaces every occurrence of each secret (longest first) with [`MASK`].
/// Secrets shorter than 3 characters are not masked (they would mask
/// ordinary text and reveal where they occur).
pub fn mask_all(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| s.len() >= 3).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in sorted {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    out
}

/// Why a secret could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the master key must be 32 bytes, base64-encoded (got {0} bytes)")]
    Length(usize),
    #[error("the master key is not base64: {0}")]
    Base64(String),
    #[error("cannot read or create the master key file {path}: {message}")]
    File { path: String, message: String },
    #[error(
        "a stored secret cannot be decrypted: it was written under another master key, or it is damaged"
    )]
    Decrypt,
}

/// AES-256-GCM key that encrypts secrets at rest. Stored text is
/// `v1:` + base64(12-byte nonce ‖ ciphertext ‖ tag). It also signs (HMAC-
/// SHA-256 under a key derived from it, never the key itself): approval
/// links and other tokens the server must recognise as its own.
#[derive(Clone)]
pub struct MasterKey(Aes256Gcm, ring::hmac::Key);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(******)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|_| KeyError::Length(bytes.len()))?;
        // The signing key: HMAC(master, label), so a signature never
        // exposes the encryption key.
        let derive = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, bytes);
        let signing = ring::hmac::sign(&derive, b"baton signing key v1");
        let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, signing.as_ref());
        Ok(MasterKey(cipher, mac))
    }

    /// HMAC-SHA-256 of `message` for `purpose` (different purposes never
    /// share a signature), base64url without padding.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        use base64::Engine as _;
        let tag = ring::hmac::sign(&self.1, &Self::signed(purpose, message));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// Whether `signature` is [`MasterKey::sign`]'s for them (constant time).
    pub fn verify(&self, purpose: &str, message: &str, signature: &str) -> bool {
        use base64::Engine as _;
        let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        ring::hmac::verify(&self.1, &Self::signed(purpose, message), &tag).is_ok()
    }

    fn signed(purpose: &str, message: &str) -> Vec<u8> {
        let mut m = Vec::with_capacity(purpose.len() + 1 + message.len());
        m.extend_from_slice(purpose.as_bytes());
        m.push(0);
        m.extend_from_slice(message.as_bytes());
        m
    }

    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|e| KeyError::Base64(e.to_string()))?;
        Self::from_bytes(&bytes)
    }

    /// A fresh random key, base64-encoded.
    pub fn generate() -> String {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        B64.encode(k)
    }

    /// Reads the key file, or creates it (mode 0600) with a fresh key.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let err = |e: std::io::Error| KeyError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                write_private(path, &key).map_err(err)?;
                Self::from_base64(&key)
            }
            Err(e) => Err(err(e)),
        }
    }

    pub fn encrypt(&self, plain: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        // Encryption with a valid key and a 12-byte nonce cannot fail.
        let ct = self
            .0
            .encrypt(&Nonce::from(nonce), plain.as_bytes())
            .unwrap_or_default();
        let mut all = nonce.to_vec();
        all.extend_from_slice(&ct);
        format!("v1:{}", B64.encode(all))
    }

    pub fn decrypt(&self, stored: &str) -> Result<Secret, KeyError> {
        let body = stored.strip_prefix("v1:").ok_or(KeyError::Decrypt)?;
        let all = B64.decode(body).map_err(|_| KeyError::Decrypt)?;
        if all.len() < 12 + 16 {
            return Err(KeyError::Decrypt);
        }
        let (nonce, ct) = all.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| KeyError::Decrypt)?;
        let plain = self
            .0
            .decrypt(&Nonce::from(nonce), ct)
            .map_err(|_| KeyError::Decrypt)?;
        String::from_utf8(plain)
            .map(Secret)
            .map_err(|_| KeyError::Decrypt)
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(0o600);
    o.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_per_key_and_purpose() {
        let k = MasterKey::from_base64(&MasterKey::generate()).unwrap();
        let other = MasterKey::from_base64(&MasterKey::generate()).unwrap();
        let sig = k.sign("approval", "task-1|user|99");
        assert!(k.verify("approval", "task-1|user|99", &sig));
        assert!(!k.verify("approval", "task-1|user|98", &sig));
        assert!(!k.verify("other", "task-1|user|99", &sig));
        assert!(!other.verify("approval", "task-1|user|99", &sig));
        assert!(!k.verify("approval", "task-1|user|99", "not base64 !"));
        assert_eq!(sig.len(), 43, "256 bits, base64url without padding");
    }

    #[test]
    fn round_trip_and_wrong_key() {
        let k = MasterKey::from_base64(&MasterKey::generate()).unwrap();
        let stored = k.encrypt("s3cret-pass");
        assert!(!stored.contains("s3cret"));
        assert_eq!(k.decrypt(&stored).unwrap().expose(), "s3cret-pass");
        assert_ne!(k.encrypt("s3cret-pass"), stored, "nonces differ");
        let other = MasterKey::from_base64(&MasterKey::generate()).unwrap();
        assert!(matches!(other.decrypt(&stored), Err(KeyError::Decrypt)));
        assert!(matches!(k.decrypt("v1:AAAA"), Err(KeyError::Decrypt)));
        assert!(matches!(
            MasterKey::from_base64("AAAA"),
            Err(KeyError::Length(3))
        ));
    }

    #[test]
    fn masking() {
        let s = Secret::new("hunter22");
        assert_eq!(format!("{s} {s:?}"), "****** Secret(******)");
        let text = "login hunter22 failed for hunter222";
        assert_eq!(
            mask_all(text, &["hunter22".into(), "hunter222".into(), "ab".into()]),
            "login ****** failed for ******"
        );
    }

    #[test]
    fn key_file_is_created_once() {
        let dir = std::env::temp_dir().join(format!("baton-key-{}", std::process::id()));
        let path = dir.join("master.key");
        let _ = std::fs::remove_file(&path);
        let a = MasterKey::load_or_create(&path).unwrap();
        let b = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(b.decrypt(&a.encrypt("x")).unwrap().expose(), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
