//! TLS as `--tls-verify` sets it. Verified (the default): ureq's rustls configuration,
//! certificates checked against the Mozilla roots ureq ships (webpki-roots).
//! Not verified: any certificate is accepted, though the handshake's signatures are
//! still checked, so the connection is encrypted but not authenticated, as skopeo's
//! `--tls-verify=false`. Also here: telling a failed TLS handshake from other
//! connection failures.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// A rustls client configuration that accepts any server certificate.
pub fn unverified_config() -> Result<Arc<ClientConfig>, rustls::Error> {
    // *ring*, the provider ureq 2 builds its own (verifying) configuration with, and the
    // only one compiled in; rustls 0.23.48 deprecates it for lacking post-quantum key
    // exchange, which both configurations lack alike.
    #[allow(deprecated)]
    let provider = Arc::new(ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider }))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Accepts every certificate chain; checks handshake signatures with `provider`.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The rustls error behind a failed connection, if TLS is what failed (a plain-HTTP
/// server answering a `ClientHello`, an untrusted or expired certificate, a name
/// mismatch...).
pub fn tls_failure(error: &ureq::Transport) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(error);
    while let Some(error) = source {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // io::Error::source skips the error it wraps: look at it directly.
        if let Some(tls) = error.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(tls) = tls.downcast_ref::<rustls::Error>() {
                return Some(tls);
            }
        }
        source = error.source();
    }
    None
}
