"""oslo.versionedobjects: the one shape that crosses RPC."""


def register_all():
    __import__('magnum.objects.action')
    __import__('magnum.objects.bay')
    __import__('magnum.objects.baymodel')
    __import__('magnum.objects.container')
    __import__('magnum.objects.magnum_service')
    __import__('magnum.objects.nodegroup')
