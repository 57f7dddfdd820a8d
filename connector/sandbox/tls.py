"""A local certificate authority made at start, so both emulators speak real HTTPS.

simple-salesforce always builds ``https://`` URLs, and the connector must verify what it talks to:
its ``ca_bundle`` setting points at the CA file written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["TLSFiles", "make_tls"]


@dataclass(frozen=True)
class TLSFiles:
    """Paths of the CA certificate (for clients) and the server's key and certificate chain."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_tls(directory: Path) -> TLSFiles:
    """Create a fresh CA and a server certificate for 127.0.0.1 and localhost in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="connector sandbox CA")
    server = ca.issue_cert("127.0.0.1", "localhost", "::1")
    files = TLSFiles(
        ca_file=directory / "sandbox-ca.pem",
        cert_file=directory / "sandbox-server.pem",
        key_file=directory / "sandbox-server.key",
    )
    ca.cert_pem.write_to_path(str(files.ca_file))
    server.private_key_pem.write_to_path(str(files.key_file))
    # the server presents its certificate followed by the chain up to (not including) the CA
    with open(files.cert_file, "wb") as out:
        for blob in server.cert_chain_pems:
            out.write(blob.bytes())
    return files
