"""Console entry points: api, conductor, db_manage, all-in-one, status."""

import os

# NOTE: no Magnum process monkey-patches: they run on threads. eventlet is
# imported all the same (oslo.messaging loads oslo.service's default
# backend), and with it, unless told otherwise, its green DNS resolver:
# dnspython and, through it, cryptography, ~16 MiB in every process, which
# nothing here uses. Set before anything imports eventlet.
os.environ.setdefault('EVENTLET_NO_GREENDNS', 'yes')
