"""The request context that travels from the API to the conductor."""

from oslo_context import context


class RequestContext(context.RequestContext):
    """Identity of the caller plus Magnum's own flags.

    ``all_projects`` asks list calls to cross projects; it only has an effect
    for admins (policy decides who may set it).
    """

    def __init__(self, all_projects=False, **kwargs):
        super().__init__(**kwargs)
        self.all_projects = all_projects

    def to_dict(self):
        values = super().to_dict()
        values['all_projects'] = self.all_projects
        return values

    @classmethod
    def from_dict(cls, values, **kwargs):
        kwargs.setdefault('all_projects', values.get('all_projects', False))
        return super().from_dict(values, **kwargs)

    def to_policy_values(self):
        values = super().to_policy_values()
        values['is_admin'] = self.is_admin
        return values


def make_admin_context(all_projects=True):
    """A context for the conductor's own work (periodic tasks)."""
    return RequestContext(is_admin=True, all_projects=all_projects,
                          roles=['admin'], overwrite=False)
