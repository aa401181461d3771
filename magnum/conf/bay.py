"""Options of the [bay] group: bay lifecycle."""

from oslo_config import cfg

group = cfg.OptGroup('bay', title='Options for bays')

opts = [
    cfg.IntOpt('create_timeout', default=60, min=0,
               help='Default bay_create_timeout in minutes for bays that '
                    'do not give one; 0 means no timeout.'),
    cfg.StrOpt('default_provisioner', default='static',
               help='Provisioner used for bays whose BayModel names none '
                    '(label "provisioner"). An entry point name in the '
                    'magnum.provisioners namespace.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
