"""The Pro Santé Connect stand-in as a process of its own, for benchmarks/ecps_signin.py.

It runs where the service runs (inside weak_network.py's namespace, or on the host's
loopback), serves HTTPS on 127.0.0.1:PORT with a certificate from the demo CA in PKI_DIR
(the one ``proclient serve --init-demo`` trusts), and is driven on stdin, one command a line:
``approve NATIONAL_ID`` or ``pending NATIONAL_ID`` (answers ``yes``/``no`` and the count),
``quit``. It prints ``ready DISCOVERY_URL CLIENT_ID SECRET_FILE`` once it accepts connections.

    python benchmarks/psc_standin_proc.py PKI_DIR MATERIAL_DIR PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

from proclient.psc_standin import PscStandIn, StandInUser, ensure_standin_material, start_standin
from proclient.server.demo import ensure_demo_pki, ensure_demo_tls


def main() -> None:
    pki_dir, material_dir, port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    pki = ensure_demo_pki(pki_dir)
    material = ensure_standin_material(material_dir)
    cert, key = material_dir / "tls.pem", material_dir / "tls.key"
    ensure_demo_tls(pki, cert, key, ["127.0.0.1"])
    users = [
        StandInUser(
            p.professional.id_nat,
            p.professional.last_name,
            p.professional.first_name,
            p.professional.profession_code,
            p.professional.structure,
        )
        for p in pki.professionals
    ]
    standin = PscStandIn(material, users)
    running = start_standin(standin, cert, key, port=port)
    try:
        print("ready", running.discovery_url, material.client_id, material.client_secret_path)
        sys.stdout.flush()
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "approve":
                print("yes" if standin.approve(argument) else "no", flush=True)
            elif command == "pending":
                print(len(standin.pending(argument)), flush=True)
            elif command == "quit":
                break
    finally:
        running.stop()


if __name__ == "__main__":
    main()
