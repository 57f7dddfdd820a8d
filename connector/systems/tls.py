"""TLS trust for both systems, and what a failed certificate check tells the operator.

Which CAs are trusted:

- ``ca_bundle`` set: only the CAs in that PEM file (it replaces the system's store; a company proxy that
  re-signs traffic needs its CA there, the sandbox's CA file is one);
- ``ca_bundle`` unset: the system's trust store as OpenSSL finds it, which honours the standard
  ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` environment variables when they are set. Other variables
  (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, proxies) are ignored: every HTTP client is built with
  ``trust_env=False``.

A certificate that cannot be verified is a configuration problem, not an outage: it is never retried,
and the error names ``[<system>].ca_bundle``.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from ..errors import ConfigError, ConfigProblem

__all__ = ["make_ssl_context", "tls_config_error", "verify_failure"]


def make_ssl_context(ca_bundle: str | None, *, system: str = "") -> ssl.SSLContext:
    """Verify against `ca_bundle` when given (and only it), else the system store (``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR`` honoured, as OpenSSL does); raises ConfigError when the bundle cannot be loaded."""
    if not ca_bundle:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:  # missing, unreadable, or not PEM certificates
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError([ConfigProblem(system or "config", f"[{system}].ca_bundle" if system else "ca_bundle",
                                         f"cannot load the CA bundle {ca_bundle}: {reason}",
                                         "point it at a readable PEM file of CA certificates")]) from exc


def verify_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate-verification error behind a transport error (httpx wraps it twice), if that is what it was."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def tls_config_error(system: str, url: str, ca_bundle: str | None,
                     failure: ssl.SSLCertVerificationError) -> ConfigError:
    """A ConfigError naming ``[<system>].ca_bundle`` for a certificate `url` presented that did not verify."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else url
    reason = getattr(failure, "verify_message", None) or getattr(failure, "reason", None) or str(failure)
    trusted = (f"the CA bundle {ca_bundle}" if ca_bundle
               else "the system's trust store (SSL_CERT_FILE / SSL_CERT_DIR when set)")
    return ConfigError([ConfigProblem(
        system, f"[{system}].ca_bundle",
        f"the TLS certificate of {origin} cannot be verified against {trusted}: {reason}",
        f"set [{system}].ca_bundle (or CONNECTOR_{system.upper()}_CA_BUNDLE) to a PEM file with the CA that signs "
        "this server's certificate (a company proxy's CA, for instance), or correct the URL if it names the wrong "
        "host")])
