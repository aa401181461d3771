"""The REST API: the WSGI app (app.py), its middleware and controllers."""

import sys

# NOTE: pecan imports Mako, and Mako, when it is imported, imports Pygments
# if it is installed (python-heatclient's command-line dependencies bring
# it) to colour source code in HTML error pages: 4.6 MiB in every API
# worker, for pages this API, which answers JSON only, never renders. Mako
# does without when the import fails, so Pygments is hidden from it while
# Mako is first imported, and only then: whatever imports Pygments later
# (magnum-all's conductor, in the same process) gets it.
if 'mako.exceptions' not in sys.modules and 'pygments' not in sys.modules:
    sys.modules['pygments'] = None
    try:
        import mako.exceptions  # noqa: F401
    finally:
        del sys.modules['pygments']
