"""MessagePack through python-msgpack (Debian: python3-msgpack), imported
when RPC is first used, so that channels work without it."""
_msgpack = None


def _module():
    global _msgpack
    if _msgpack is None:
        try:
            import msgpack
        except ImportError as e:
            raise ImportError("xipc RPC needs the msgpack module (Debian: "
                              "apt-get install python3-msgpack; or pip "
                              "install msgpack)", name="msgpack") from e
        _msgpack = msgpack
    return _msgpack


def pack(obj):
    """bytes of @obj: str as str, bytes as bin."""
    return _module().packb(obj, use_bin_type=True)


def unpack(data):
    """The object in @data: str as str, bin as bytes, arrays as lists,
    maps as dicts (any key type)."""
    return _module().unpackb(data, raw=False, strict_map_key=False)
