"""Options of the [DEFAULT] group."""

import os
import socket

from oslo_config import cfg

opts = [
    cfg.StrOpt('host',
               default=socket.gethostname(),
               sample_default='<hostname>',
               help='Name of this host. Conductors identify themselves by it '
                    'in the heartbeat table and in bay reservations, so it '
                    'must be unique among the conductors of one deployment.'),
    cfg.StrOpt('state_path',
               default=os.path.join(os.path.expanduser('~'), '.magnum'),
               sample_default='$HOME/.magnum',
               help='Directory where Magnum keeps its local state (the '
                    'SQLite database of the all-in-one).'),
    cfg.StrOpt('auth_strategy',
               default='noauth',
               choices=[('noauth', 'identity from X-Project-Id, X-User-Id '
                                   'and X-Roles headers, for development '
                                   'and the all-in-one only'),
                        ('keystone', 'keystonemiddleware auth_token')],
               help='How API requests are authenticated.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
