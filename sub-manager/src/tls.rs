//! TLS to the server: rustls with the ring provider, and a certificate
//! verifier that trusts exactly the pinned certificate(s).
//!
//! Why a pin and not the usual CA check: servers inside customer networks
//! often run with a self-signed certificate, and the relay holds terminal
//! credentials — it must never talk to anything but its own server. The
//! pin (SHA-256 of the certificate's DER, written into the config by the
//! server that offers the package) replaces the CA chain, host name and
//! validity checks; the handshake signatures are still verified, so only
//! the holder of the pinned certificate's key gets through. A new server
//! certificate needs a new pin (the config takes several, comma-separated,
//! for the change-over).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, OtherError, SignatureScheme};
use sha2::{Digest, Sha256};

/// Accepts a server certificate only if its SHA-256 is one of the pins.
#[derive(Debug)]
pub struct PinVerifier {
    pins: Vec<[u8; 32]>,
    provider: Arc<CryptoProvider>,
}

/// The hex SHA-256 of a certificate (as the config writes a pin).
pub fn fingerprint(der: &[u8]) -> String {
    hex(&Sha256::digest(der))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The pin did not match: named in the link's error so the operator sees it.
#[derive(Debug, thiserror::Error)]
#[error(
    "the server's certificate (SHA-256 {presented}) is not the pinned one ({pinned}): not connecting"
)]
pub struct PinMismatch {
    pub presented: String,
    pub pinned: String,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let digest: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if self.pins.contains(&digest) {
            return Ok(ServerCertVerified::assertion());
        }
        Err(Error::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(PinMismatch {
                presented: hex(&digest),
                pinned: self
                    .pins
                    .iter()
                    .map(|p| hex(p))
                    .collect::<Vec<_>>()
                    .join(", "),
            })),
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The client configuration for the link: ring, TLS 1.2/1.3, the pin verifier.
pub fn client_config(pins: &[[u8; 32]]) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = PinVerifier {
        pins: pins.to_vec(),
        provider: provider.clone(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}
