"""Base classes of Magnum's versioned objects."""

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields


class MagnumObjectRegistry(ovo_base.VersionedObjectRegistry):
    pass


class MagnumObject(ovo_base.VersionedObject,
                   ovo_base.VersionedObjectDictCompat):
    OBJ_SERIAL_NAMESPACE = 'magnum_object'
    OBJ_PROJECT_NAMESPACE = 'magnum'

    fields = {
        'created_at': fields.DateTimeField(nullable=True),
        'updated_at': fields.DateTimeField(nullable=True),
    }

    @classmethod
    def _from_db_object(cls, obj, row, context=None):
        """Fill ``obj`` from a database row (a Row or any mapping)."""
        values = getattr(row, '_mapping', row)
        for name in obj.fields:
            if name in values:
                obj[name] = values[name]
        obj._context = context
        obj.obj_reset_changes()
        return obj

    @classmethod
    def from_row(cls, context, row):
        return cls._from_db_object(cls(), row, context)

    def _refresh(self, row):
        self._from_db_object(self, row, self._context)


class MagnumObjectSerializer(ovo_base.VersionedObjectSerializer):
    OBJ_BASE_CLASS = MagnumObject
