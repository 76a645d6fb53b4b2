"""Proofs anyone can check offline: the service's signed statement (the accusé's 2D code),
the audit journal's chain, and the verdict both give. Pure: cryptography, cbor2 and base45,
no FastAPI, httpx or Textual."""
