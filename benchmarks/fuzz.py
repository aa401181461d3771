#!/usr/bin/env python3
"""The suite's fuzzing (magnum/tests/functional/test_fuzz.py), for longer.

A real ``magnum-all`` with no configuration file on a free port of
127.0.0.1, seeded with a BayModel and a cluster; then ``--examples``
generated cases per operation of ``/v1/openapi.json``, per mode (fitting
the description and not) and per kind of path (the seeded names and
random ones), each sent and checked as the suite checks them: no 5xx, the
error form with a request id and no leak, a refused change leaves the
database as it was, a 2xx matches its operation.

Prints the requests, the answers by status, the time and the failures
(the first 50); exits 1 if there was any.

    .venv/bin/python benchmarks/fuzz.py [--examples 40]
"""

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
warnings.simplefilter('ignore')

from magnum.tests.functional import processes  # noqa: E402
from magnum.tests.functional import test_fuzz  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--examples', type=int, default=40,
                        help='cases per operation, mode and kind of path')
    args = parser.parse_args()
    with processes.running(processes.MagnumAll()) as magnum:
        target = test_fuzz.magnum_all_target(magnum)
        run = test_fuzz.Run(target, examples=args.examples)
        started = time.monotonic()
        try:
            run.fuzz()
        finally:
            target.close()
        took = time.monotonic() - started
    print('%s in %.0f s (%.0f requests/s)' % (run.report(), took,
                                               run.requests / took))
    print('%d failures' % len(run.failures))
    for failure in run.failures[:50]:
        print('  ' + failure)
    return 1 if run.failures else 0


if __name__ == '__main__':
    sys.exit(main())
