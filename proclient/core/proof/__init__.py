"""Proofs anyone can check offline: the service's signed statement (statement.py), the audit
journal's hash chain and signed heads (journal.py), and the verdict they share (verdict.py).
Pure: cryptography (and cbor2/base45 for the statement), no FastAPI, httpx or Textual."""
