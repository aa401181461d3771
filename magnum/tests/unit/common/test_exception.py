"""Messages that tell the user what to do."""

import testtools

from magnum.common import exception


class TestContainerNotReady(testtools.TestCase):

    def test_creating_says_wait(self):
        self.assertEqual(
            'Container c is Creating; wait until it is created before '
            'acting on it.',
            str(exception.ContainerNotReady(container='c',
                                            status='Creating')))

    def test_a_failed_create_never_says_wait(self):
        message = str(exception.ContainerNotReady(container='c',
                                                  status='Error'))
        self.assertEqual(
            'Container c is Error: it was never created on the Docker '
            'Engine (its status_reason says why); delete it and create it '
            'again once the cause is fixed.', message)


class TestUnknownField(testtools.TestCase):

    def test_names_the_field_and_the_hint(self):
        error = exception.UnknownField(field='bay_uid',
                                       hint="; did you mean 'bay_uuid'?")
        self.assertEqual("Unknown field 'bay_uid'; did you mean 'bay_uuid'?",
                         str(error))
        self.assertEqual(400, error.code)
        self.assertEqual('bay_uid', error.kwargs['field'])
        self.assertIsInstance(error, exception.InvalidParameterValue)
