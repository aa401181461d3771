from oslo_versionedobjects import fixture
import testtools

from magnum import objects
from magnum.objects import base

objects.register_all()

# NOTE: a change to an object's fields changes its fingerprint. Bump the
# object's VERSION (and teach obj_make_compatible the old shape), then
# update the hash here: conductors and APIs of two releases share RPC.
EXPECTED = {
    'Action': '1.0-6e113051bc4f9ac75df3576927c0962c',
    'Bay': '1.3-5bd88b2e346e0c3c750196b7fa24c528',
    'BayModel': '1.2-efa49587241d45f4b81ab74fddca3e34',
    'Container': '1.0-da4b17fa213c39b311d0c415a853fabf',
    'MagnumService': '1.0-44f9fe3ccf850a217d33800ef083b682',
    'NodeGroup': '1.1-27760bf791a8b64857ad0f131a1dd5ae',
}


class TestObjectVersions(testtools.TestCase):

    def test_fingerprints_match_versions(self):
        checker = fixture.ObjectVersionChecker(
            base.MagnumObjectRegistry.obj_classes())
        expected, actual = checker.test_hashes(EXPECTED)
        self.assertEqual(expected, actual,
                         'An object changed: bump its version.')


class TestSerialisation(testtools.TestCase):

    def test_bay_round_trips_through_the_rpc_serializer(self):
        from magnum.objects import bay as bay_obj
        serializer = base.MagnumObjectSerializer()
        bay = bay_obj.Bay(uuid='f4d0b6e2-54a6-4a4b-b3a5-0a9c5a0b3c11',
                          name='b', node_addresses=['10.0.0.1'],
                          status=bay_obj.CREATE_IN_PROGRESS)
        primitive = serializer.serialize_entity(None, bay)
        back = serializer.deserialize_entity(None, primitive)
        self.assertEqual(bay.uuid, back.uuid)
        self.assertEqual(['10.0.0.1'], back.node_addresses)
        self.assertEqual('CREATE_IN_PROGRESS', back.status)
