#!/usr/bin/env python3
"""The conductors' fault scenario at the issue's size, run by hand.

The suite runs it with nine bays (``test_conductors.py``); this runs
the same scenario (``magnum/tests/functional/faults.py``: its checks, its
figures) with 60 bays created at once over three conductors, ``kill -9``
of the busiest one while at least half are in progress, 30 creates around
a restart of the broker and a conductor joining. Real processes: Keystone
and Heat from their cached virtualenvs (``tools/keystone.sh``,
``tools/heat.sh``), a RabbitMQ of the run's own for Magnum and another for
Heat, the machine's PostgreSQL.

It prints the figures (the dead conductor's bays against the living ones',
how long the takeover took, how many creates were answered with the broker
down) and exits 0 once the scenario held; an AssertionError names what did
not.

    .venv/bin/python benchmarks/faults.py [--bays 60] [--broker-bays 30]
        [--legacy-engine] [--engine-threads N]

``--legacy-engine`` runs Heat's legacy engine (``convergence_engine =
false``, still supported), which built docker bays' stacks 1.5x faster
here than the convergence engine; the suite uses the default
(convergence).
"""

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
warnings.simplefilter('ignore')

from magnum.tests.functional import faults  # noqa: E402
from magnum.tests.functional import heat as heat_mod  # noqa: E402
from magnum.tests.functional import keystone as keystone_mod  # noqa: E402
from magnum.tests.functional import own_servers  # noqa: E402
from magnum.tests.functional import processes  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bays', type=int, default=60,
                        help='bays created at once (default 60)')
    parser.add_argument('--broker-bays', type=int, default=30,
                        help='bays created around the broker restart '
                             '(default 30)')
    parser.add_argument('--legacy-engine', action='store_true',
                        help="Heat's legacy engine instead of convergence")
    parser.add_argument('--engine-threads', type=int,
                        default=None,
                        help="RPC threads of each Heat engine worker "
                             "(default: 64 convergence, 16 legacy)")
    parser.add_argument('--settle', type=int, default=900,
                        help='seconds for the bays to settle')
    args = parser.parse_args()

    started = time.monotonic()
    with processes.running(keystone_mod.Keystone()) as keystone, \
            processes.running(heat_mod.Heat(
                keystone, convergence=not args.legacy_engine,
                threads=args.engine_threads)) as heat, \
            processes.running(own_servers.RabbitMQ()) as broker:
        print('Keystone, Heat (%s engine, %d threads a worker) and a broker '
              'up in %.0f s' % (
                  'legacy' if args.legacy_engine else 'convergence',
                  heat.threads, time.monotonic() - started))
        sys.stdout.flush()
        figures = faults.run(keystone, heat_mod.client(keystone), broker,
                             faults.member(keystone), args.bays,
                             args.broker_bays, settle=args.settle)
    print(faults.report(figures))
    return 0


if __name__ == '__main__':
    sys.exit(main())
