"""Host side of the myoedge link: the wire protocol and the board client.

* :mod:`myoedge.host.protocol_spec` - the protocol, defined once (renders the
  firmware's C header and docs/PROTOCOL.md);
* :mod:`myoedge.host.protocol` - frame codec and typed payloads;
* :mod:`myoedge.host.client` - ``open_board`` and ``BoardClient`` (pyserial);
* :mod:`myoedge.host.fake_board` - the firmware's reply side in Python, for
  tests and benches without a board.
"""
