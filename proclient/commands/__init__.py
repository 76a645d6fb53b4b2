"""Sub-commands of ``proclient``: one module each, listed here.

Each module defines ``NAME``, ``HELP``, ``configure(parser)`` and ``run(args, settings) -> int``
and keeps its imports light at module level (heavy ones go inside ``run``): every module is
imported to build the argument parser.
"""

COMMAND_MODULES = (
    "proclient.commands.demo",
    "proclient.commands.locate",
)

# Exit codes shared by every command (documented in the README).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_CONFIGURED = 3
