"""promwatch's tools: the ``promwatch`` command, the demo, the embedded AWS emulator, the preview.

They run on a workstation or in CI, never in Lambda: the layer ships :mod:`promwatch` alone
(``make build`` checks it), and no handler imports this package. ``pip install -e .``
installs both packages and the tools' dependencies (moto's server for the emulator).

:mod:`promwatch_tools.cli` (the console script) dispatches to one module of
:mod:`promwatch_tools.commands` per subcommand; :mod:`promwatch_tools.local` holds the
emulator, the in-process ``invoke``, the demo and its preview; :mod:`promwatch_tools.statefile`
the ``--state-file`` store of ``promwatch scrape``; :mod:`promwatch_tools.insights_sample`
the Container Insights events of the demo, the tests and the benchmarks.
"""
from __future__ import annotations

__all__: list[str] = []
