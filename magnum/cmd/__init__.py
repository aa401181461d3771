"""Console entry points: api, conductor, db_manage, all-in-one, status."""

import os
import warnings

# NOTE: no Magnum process monkey-patches: they run on threads. eventlet is
# imported all the same (oslo.messaging loads oslo.service's default
# backend), and with it, unless told otherwise, its green DNS resolver:
# dnspython and, through it, cryptography, ~16 MiB in every process, which
# nothing here uses. Set before anything imports eventlet.
os.environ.setdefault('EVENTLET_NO_GREENDNS', 'yes')

# NOTE: importing eventlet warns, on every command's standard error, that
# eventlet is deprecated: a note to oslo.service, which imports it, not to
# an operator, who can do nothing about it (Magnum runs no green thread).
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
