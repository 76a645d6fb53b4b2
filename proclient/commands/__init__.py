"""Sub-commands of ``proclient``: one module each, listed here.

Each module defines ``NAME``, ``HELP``, ``configure(parser)`` and ``run(args, settings) -> int``
and keeps its imports light at module level (heavy ones go inside ``run``): every module is
imported to build the argument parser.
"""

COMMAND_MODULES = (
    "proclient.commands.demo",
    "proclient.commands.locate",
    "proclient.commands.receipts",
    "proclient.commands.serve",
    "proclient.commands.card",
    "proclient.commands.ins",
    "proclient.commands.outbox",
    "proclient.commands.doctor",
    "proclient.commands.virtual_card",
    "proclient.commands.verify",
)

# Exit codes shared by every command (documented in docs/commands.md).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_CONFIGURED = 3
EXIT_NO_CARD = 4  # card read: no card in the reader
EXIT_CARD_UNREADABLE = 5  # card read: not a Vitale 2, Vitale 1, pulled, or unreadable data
EXIT_NO_READER = 6  # no reader, reader busy, or pcscd not running
EXIT_INSI_NONE = 7  # ins lookup: INSi found no identity (01)
EXIT_INSI_SEVERAL = 8  # ins lookup: INSi found several identities (02): refine the traits
EXIT_SERVICE = 9  # the DMP service unreachable, or it refused the request or the session
EXIT_CREDENTIAL = 10  # the professional's card or key: wrong or blocked code, card absent
EXIT_OUTBOX_UNKNOWN = 6  # outbox show/send ID: no such entry (done, or never there)
EXIT_OUTBOX_HELD = 11  # outbox send: some entries held (with a reason) or tampered
EXIT_OUTBOX_TAMPERED = 12  # outbox show: the entry was changed on disk, refused
EXIT_OUTBOX_KEY_MISSING = 13  # outbox: the key the entries were encrypted with is gone
# verify and serve audit verify: core/proof/verdict.py's EXIT_CODES, 20 altered, 21 signed by
# an unknown, revoked or expired key, 22 unreadable (the same numbers for every kind of proof)
