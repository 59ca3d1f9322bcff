"""Subcommands of the ``promwatch`` CLI: one module each, ``add_arguments`` + ``run``."""
