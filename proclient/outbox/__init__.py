"""The outbox: creations captured without network, kept encrypted until the service confirms.

Not wired into the App yet (issue 13 §3): the port (:mod:`.port`), what one entry holds and
how its consent record is signed (:mod:`.entry`), and the encrypted file adapter
(:mod:`.store`) with its key kept outside the data folder (:mod:`.keys`).
"""
